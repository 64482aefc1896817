/**
 * Adopt, the database and PKI engines (pure): from what Vault holds (mounts, connections without their
 * password, roles) and the VaultDynamicSecrets / VaultPKISecrets that read them, to the platform's
 * typed `database` / `pki` config, the `adopted` entries that import them, the problems with their fixes
 * and what the first `up` changes. Nothing here reads Vault: `readLiveVault` does, and never reads a
 * credential (`creds/`, `static-creds/`, `issue/`), a password or a private key.
 */
import type { AdoptedDatabaseConnection, AdoptedObject, AdoptedPkiRole } from "../components/config/adopt";
import { PROVIDER_CANNOT_WRITE } from "../components/config/adopt";
import { validateDatabaseArgs } from "../components/config/database";
import { validatePkiArgs } from "../components/config/pki";
import type { ValidationProblem } from "../components/config/validate";

/** What one database mount holds (no password: Vault never returns it). */
export interface LiveDatabaseMount {
    /** `<mount>/config/<name>`, by name: plugin_name, allowed_roles, verify_connection, connection_details (url, username, pool settings). */
    connections: Record<string, Record<string, any>>;
    /** `<mount>/roles/<name>` (dynamic roles), by name. */
    roles: Record<string, Record<string, any>>;
    /** `<mount>/static-roles/<name>`, by name. */
    staticRoles: Record<string, Record<string, any>>;
    /** What the token could not read, e.g. `LIST database/roles: permission denied`. */
    unreadable: string[];
}

/** What one PKI mount holds: its roles (never a key or a certificate). */
export interface LivePkiMount {
    /** `<mount>/roles/<name>`, by name. */
    roles: Record<string, Record<string, any>>;
    unreadable: string[];
}

/** A mount as `sys/mounts` lists it. */
export interface LiveMountInfo {
    type: string;
    options?: Record<string, string> | null;
    description?: string;
    config?: { default_lease_ttl?: number; max_lease_ttl?: number };
}

/** A VSO object adopt follows to its VaultAuth (the parts read here). */
export interface EngineObject {
    kind: string;
    metadata: { name: string; namespace: string };
    spec?: Record<string, any>;
}

export interface EngineProblem {
    what: string;
    fix: string;
}

export interface EngineUnmanaged {
    kind: string;
    name: string;
    namespace?: string;
    why: string;
}

/** One adopted object with what its namespace's login must be granted (for the policy check). */
export interface EngineGrant {
    object: EngineObject;
    /** The path VSO reads or writes, with the mount. */
    path: string;
    capability: "read" | "update";
    /** It renews leases (VaultDynamicSecret of a dynamic role). */
    leases: boolean;
}

export interface EngineAdoption<C> {
    /** The typed config section, when anything was adopted. */
    config?: C;
    /** The objects adopted (the others are in `unmanaged`). */
    adoptedObjects: EngineObject[];
    grants: EngineGrant[];
    /** What the first `up` changes although it imports (no zero-diff import is possible for these). */
    changes: string[];
    /** Commands the user runs before the first `up` (never with a value: `pulumi config set` prompts). */
    commands: string[];
}

/** Vault's system default lease TTL (768h), what a mount or role TTL of 0 means. */
export const VAULT_SYSTEM_TTL = 768 * 3600;

/** Seconds of a Go duration ("1h30m", "90s", "10m0s") or a number of seconds (pure); undefined when neither. */
export function goDurationSeconds(v: unknown): number | undefined {
    if (typeof v === "number") {
        return Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;
    }
    if (typeof v !== "string" || v.trim() === "") {
        return undefined;
    }
    const t = v.trim();
    if (/^[0-9]+$/.test(t)) {
        return parseInt(t, 10);
    }
    // (ms before m: an alternation takes the first that matches)
    const re = /([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)/g;
    let total = 0;
    let used = 0;
    for (let m = re.exec(t); m; m = re.exec(t)) {
        total += parseFloat(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as "h" | "m" | "s" | "ms"];
        used += m[0].length;
    }
    return used === t.length ? Math.floor(total) : undefined;
}

/** The `{ kind, name }` of each rollout restart target that is an object (pure; null and other odd entries skipped). */
export function restartTargets(v: unknown): { kind: string; name: string }[] {
    return (Array.isArray(v) ? v : [])
        .filter((t): t is Record<string, unknown> => typeof t === "object" && t !== null && !Array.isArray(t))
        .map((t) => ({ kind: String(t.kind ?? ""), name: String(t.name ?? "") }));
}

/** Whether an allowed_roles entry (Vault matches them as globs: `*`, `app-*`) allows `role` (pure). */
function globMatches(pattern: string, role: string): boolean {
    return new RegExp(
        `^${pattern
            .split("*")
            .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
    ).test(role);
}

function list(v: unknown): string[] {
    return Array.isArray(v) ? v.map(String) : typeof v === "string" && v ? v.split(",").map((x) => x.trim()) : [];
}

function key(o: EngineObject): string {
    return `${o.metadata.namespace}/${o.metadata.name}`;
}

/** The path blocks of a policy with their capabilities (pure; nested blocks such as `allowed_parameters = { ... }` are skipped over). */
export function policyRules(text: string): { path: string; capabilities: string[] }[] {
    const out: { path: string; capabilities: string[] }[] = [];
    const re = /path\s+"([^"]*)"\s*\{/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
        let depth = 1;
        let i = re.lastIndex;
        let inString = false;
        for (; i < text.length && depth > 0; i++) {
            const ch = text[i];
            if (inString) {
                if (ch === "\\") {
                    i++;
                } else if (ch === '"') {
                    inString = false;
                }
            } else if (ch === '"') {
                inString = true;
            } else if (ch === "{") {
                depth++;
            } else if (ch === "}") {
                depth--;
            }
        }
        const body = text.slice(re.lastIndex, i - 1);
        // capabilities at the block's own level only
        let top = "";
        let d = 0;
        for (const ch of body) {
            d += ch === "{" ? 1 : ch === "}" ? -1 : 0;
            top += d === 0 && ch !== "}" ? ch : " ";
        }
        const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(top);
        out.push({ path: m[1], capabilities: caps ? list(caps[1].replace(/"/g, "")) : [] });
        re.lastIndex = i;
    }
    return out;
}

/**
 * Whether policy path `a` is lower in priority than `b` when both match (pure), as Vault orders them:
 * the first `+` or `*` earlier, a trailing `*`, more `+` segments, shorter, then lexicographically smaller.
 */
function lowerPriority(a: string, b: string): boolean {
    const firstWild = (p: string) => {
        const i = p.search(/[+*]/);
        return i < 0 ? p.length : i;
    };
    if (firstWild(a) !== firstWild(b)) {
        return firstWild(a) < firstWild(b);
    }
    if (a.endsWith("*") !== b.endsWith("*")) {
        return a.endsWith("*");
    }
    const plus = (p: string) => p.split("/").filter((x) => x === "+").length;
    if (plus(a) !== plus(b)) {
        return plus(a) > plus(b);
    }
    if (a.length !== b.length) {
        return a.length < b.length;
    }
    return a < b;
}

/** Whether a policy path (with Vault's `*` suffix and `+` segment globs) matches `path` (pure). */
export function policyPathMatches(rule: string, path: string): boolean {
    const glob = rule.endsWith("*");
    const body = (glob ? rule.slice(0, -1) : rule)
        .split("/")
        .map((seg) => (seg === "+" ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
    return new RegExp(`^${body}${glob ? ".*" : ""}$`).test(path);
}

/**
 * Whether the policies grant `capability` on `path` (pure), as Vault decides: only the most specific
 * matching path counts (exact before glob, then the longest prefix), its capabilities merged across the
 * policies, and a `deny` among them wins.
 */
export function policiesGrant(texts: string[], path: string, capability: string): boolean {
    const rules = texts.flatMap(policyRules).filter((r) => policyPathMatches(r.path, path));
    if (!rules.length) {
        return false;
    }
    const best = rules.map((r) => r.path).reduce((a, b) => (lowerPriority(a, b) ? b : a));
    const caps = rules.filter((r) => r.path === best).flatMap((r) => r.capabilities);
    return !caps.includes("deny") && caps.includes(capability);
}

/** Field → its first problem, for the entries of a validated section (pure). */
function failing(problems: ValidationProblem[], section: string): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const p of problems) {
        const m = new RegExp(`^${section.replace(".", "\\.")}\\[(\\d+)\\]`).exec(p.field);
        if (m) {
            const i = parseInt(m[1], 10);
            out.set(i, [...(out.get(i) ?? []), `${p.field}: ${p.message}`]);
        }
    }
    return out;
}

/** Usernames that look like a superuser or a cloud's admin role. */
const SUPERUSER_NAMES = ["postgres", "root", "admin", "rdsadmin", "azure_superuser", "cloudsqlsuperuser", "supabase_admin", "master"];

/** Each role read by more than one object: the first (by namespace/name) keeps it, the others are reported (pure). */
function oneObjectPerRole<T extends { object: EngineObject; role: string }>(
    items: T[],
    what: string,
    problems: EngineProblem[],
    unmanaged: EngineUnmanaged[],
): T[] {
    const sorted = [...items].sort((a, b) => key(a.object).localeCompare(key(b.object)));
    const owner = new Map<string, T>();
    return sorted.filter((it) => {
        const first = owner.get(it.role);
        if (!first) {
            owner.set(it.role, it);
            return true;
        }
        const twoNs = first.object.metadata.namespace !== it.object.metadata.namespace;
        problems.push({
            what: `${what} ${it.role} is used by ${first.object.kind}s ${key(first.object)} and ${key(it.object)}${twoNs ? ", in two namespaces: each can read the other's credential" : ""}`,
            fix: `the package gives each app a role of its own: adopt takes it for ${key(first.object)}; create a role for ${key(it.object)} (e.g. ${it.object.metadata.namespace}-${it.object.metadata.name}) with the same settings, point its ${it.object.kind} at it and run adopt again`,
        });
        unmanaged.push({
            kind: it.object.kind,
            name: it.object.metadata.name,
            namespace: it.object.metadata.namespace,
            why: `its ${what} ${it.role} is adopted for ${key(first.object)} (one role per app); left as it is`,
        });
        return false;
    });
}

interface DbRoleItem {
    object: EngineObject;
    role: string;
    kind: "dynamic" | "static";
    live: Record<string, any>;
}

/**
 * The database engine's share of adopt (pure): the VaultDynamicSecrets reading `dbPath` (already
 * followed to an adopted VaultAuth), their roles and connections, as the platform's `database` config
 * (every statement verbatim, the connection's password left to `databasePasswords.<name>`) and the
 * `adopted` entries that import them. `kvApps` are the adopted KV apps (a credential must not share their name or Secret).
 */
export function adoptDatabase(
    objects: EngineObject[],
    vaultMounts: Record<string, LiveMountInfo>,
    live: LiveDatabaseMount | undefined,
    dbPath: string,
    opts: { stack?: string; kvApps: { name: string; namespace: string; destination?: string }[] },
    problems: EngineProblem[],
    unmanaged: EngineUnmanaged[],
): EngineAdoption<{ path: string; connections: Record<string, unknown>[]; roles: Record<string, unknown>[] }> & {
    adopted: { databaseMount: boolean; databaseConnections: AdoptedDatabaseConnection[]; databaseRoles: string[]; dynamicSecrets: AdoptedObject[] };
} {
    const empty = {
        adoptedObjects: [],
        grants: [],
        changes: [],
        commands: [],
        adopted: { databaseMount: false, databaseConnections: [], databaseRoles: [], dynamicSecrets: [] },
    };
    if (!objects.length) {
        return empty;
    }
    const skip = (o: EngineObject, why: string) => unmanaged.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, why });
    const mount = vaultMounts[`${dbPath}/`];
    const db = live ?? { connections: {}, roles: {}, staticRoles: {}, unreadable: [] };
    for (const u of db.unreadable) {
        problems.push({
            what: `the token cannot read the database mount's ${u}: what is behind it is not adopted`,
            fix: `give adopt a token that may list and read ${dbPath}/config/*, ${dbPath}/roles/* and ${dbPath}/static-roles/* (never creds/*), and run adopt again`,
        });
    }
    const items: DbRoleItem[] = [];
    for (const o of objects) {
        const m = /^(creds|static-creds)\/([^/]+)$/.exec(String(o.spec?.path ?? ""));
        if (!m) {
            skip(o, `it reads ${dbPath}/${o.spec?.path}; the package manages creds/<role> and static-creds/<role> of the database engine`);
            continue;
        }
        const kind = m[1] === "static-creds" ? "static" : "dynamic";
        const role = m[2];
        const found = (kind === "static" ? db.staticRoles : db.roles)[role];
        if (!found) {
            const listed = db.unreadable.length ? ` (the token could not list ${dbPath}'s roles)` : "";
            skip(o, `its role ${dbPath}/${kind === "static" ? "static-roles" : "roles"}/${role} was not found${listed}; VSO's reads of it fail`);
            continue;
        }
        items.push({ object: o, role, kind, live: found });
    }
    const owned = oneObjectPerRole(items, "database role", problems, unmanaged);
    const connections = new Map<string, Record<string, unknown>>();
    const connFound = new Map<string, Record<string, any>>();
    const roles: { item: DbRoleItem; args: Record<string, unknown>; notes: string[] }[] = [];
    for (const it of owned) {
        const connName = String(it.live.db_name ?? "");
        const c = db.connections[connName];
        if (!c) {
            skip(
                it.object,
                `its role ${it.role} names the connection ${JSON.stringify(connName)}, which ${db.unreadable.length ? "the token could not read" : "does not exist"}`,
            );
            continue;
        }
        if (!connections.has(connName)) {
            const conn = connectionArgs(connName, c, dbPath, problems);
            if (typeof conn === "string") {
                skip(it.object, conn);
                continue;
            }
            connections.set(connName, conn);
            connFound.set(connName, c);
        }
        roles.push({ item: it, ...roleArgs(it, connName, mount) });
    }
    // the package's own checks, on what would be written: an entry they refuse is left as it is
    let connList = [...connections.values()];
    let roleList = roles;
    for (let pass = 0; pass < 3; pass++) {
        const vp = validateDatabaseArgs(
            { path: dbPath, connections: connList.map((c) => ({ ...c, password: "(secret)" })), roles: roleList.map((r) => r.args) },
            "database",
            { kvApps: opts.kvApps },
        );
        const badConn = failing(vp, "database.connections");
        const badRole = failing(vp, "database.roles");
        if (!badConn.size && !badRole.size) {
            break;
        }
        const droppedConns = new Set([...badConn.keys()].map((i) => String(connList[i].name)));
        for (const [i, msgs] of badConn) {
            for (const r of roleList.filter((x) => String(x.args.database) === String(connList[i].name))) {
                skip(r.item.object, `its connection ${String(connList[i].name)} does not pass the package's checks: ${msgs.join("; ")}`);
            }
        }
        roleList.forEach((r, i) => {
            if (badRole.has(i) && !droppedConns.has(String(r.args.database))) {
                skip(r.item.object, `as a database.roles entry it does not pass the package's checks: ${badRole.get(i)!.join("; ")}`);
            }
        });
        connList = connList.filter((c) => !droppedConns.has(String(c.name)));
        roleList = roleList.filter((r, i) => !badRole.has(i) && !droppedConns.has(String(r.args.database)));
    }
    connList = connList.filter((c) => roleList.some((r) => r.args.database === c.name));
    if (!roleList.length) {
        return empty;
    }
    const changes: string[] = [];
    const commands: string[] = [];
    const adoptedConns: AdoptedDatabaseConnection[] = [];
    for (const c of connList) {
        const name = String(c.name);
        const found = connFound.get(name)!;
        const allowed = list(found.allowed_roles);
        const d = (found.connection_details ?? {}) as Record<string, unknown>;
        const extra: Omit<AdoptedDatabaseConnection, "name" | "allowedRoles"> = {};
        if (typeof found.password_policy === "string" && found.password_policy) {
            extra.passwordPolicy = found.password_policy;
        }
        const rootRot = list(found.root_credentials_rotate_statements ?? found.root_rotation_statements);
        if (rootRot.length) {
            extra.rootRotationStatements = rootRot;
        }
        if (typeof d.username_template === "string" && d.username_template) {
            extra.usernameTemplate = d.username_template;
        }
        if (typeof d.password_authentication === "string" && d.password_authentication && d.password_authentication !== "password") {
            extra.passwordAuthentication = d.password_authentication;
        }
        if (d.disable_escaping === true) {
            extra.disableEscaping = true;
        }
        adoptedConns.push({ name, allowedRoles: allowed, ...extra });
        const kept = Object.keys(extra);
        if (kept.length) {
            problems.push({
                what: `database connection ${name} has settings the package does not write (${kept.join(", ")})`,
                fix: `kept as found while adopted; the convention step writes the package's connection without them (Vault's defaults): put them back by hand after it if you need them`,
            });
        }
        const cannot = (PROVIDER_CANNOT_WRITE.databaseConnection as readonly string[]).filter((k) => (extra as Record<string, unknown>)[k] !== undefined);
        if (cannot.length) {
            changes.push(
                `database connection ${dbPath}/config/${name}: ${cannot.join(", ")} cannot be written by the Vault provider built here, and the first up writes the connection again (its password): Vault may reset them to its defaults; set them again after the up (vault write ${dbPath}/config/${name} ...)`,
            );
        }
        for (const f of list(found.tls_set)) {
            changes.push(
                `database connection ${dbPath}/config/${name}: ${f} is set (TLS material, never read by adopt): the connection is written without it, so Vault may drop it; write it again after the up (vault write ${dbPath}/config/${name} ${f}=@file)`,
            );
        }
        commands.push(`pulumi config set --secret --path 'databasePasswords.${name}'${opts.stack ? ` --stack ${opts.stack}` : ""}`);
        changes.push(
            `database connection ${dbPath}/config/${name}: written again with the password you set in databasePasswords.${name} (Vault never returns a connection's password, so no import can match it); Vault checks the connection with it${c.verifyConnection === false ? " (verify_connection is off: a wrong password shows at the next lease)" : ", so a wrong password fails the up and leaves the connection as it was"}`,
        );
        const mine = roleList.filter((r) => r.args.database === name).map((r) => r.item.role);
        const refused = mine.filter((r) => !allowed.some((a) => globMatches(a, r)));
        for (const r of refused) {
            const users = roleList.filter((x) => x.item.role === r).map((x) => `VaultDynamicSecret ${key(x.item.object)}`);
            problems.push({
                what: `database connection ${name}'s allowed_roles ${JSON.stringify(allowed)} do not include the role ${r}, which ${users.join(" and ")} reads: Vault refuses its credential ("is not an allowed role"), so that VaultDynamicSecret is failing now`,
                fix: `the first up adds ${r} to the connection's allowed_roles (the roles found plus the adopted ones); to mend it before, vault write ${dbPath}/config/${name} allowed_roles=${[...allowed, r].join(",")}`,
            });
            changes.push(`database connection ${dbPath}/config/${name}: allowed_roles gains ${r} (read by ${users.join(" and ")}, which Vault refuses now)`);
        }
        const others = allowed.filter((r) => !mine.includes(r));
        if (others.length) {
            problems.push({
                what: `database connection ${name} allows roles ${JSON.stringify(allowed)}, more than the adopted ${JSON.stringify(mine)}`,
                fix: `kept as found while adopted; the convention step narrows allowed_roles to exactly ${JSON.stringify(mine)}, and ${others.includes("*") ? "any other role" : JSON.stringify(others.filter((r) => r !== "*"))} then fails with "is not an allowed role": take the roles you still need in through a VaultDynamicSecret first, or delete them`,
            });
        }
    }
    for (const r of roleList) {
        changes.push(...r.notes);
    }
    const adoptedRoleNames = roleList.map((r) => r.item.role);
    const otherConns = Object.keys(db.connections).filter((n) => !connList.some((c) => c.name === n));
    const otherRoles = [...Object.keys(db.roles).map((r) => `roles/${r}`), ...Object.keys(db.staticRoles).map((r) => `static-roles/${r}`)].filter(
        (r) => !adoptedRoleNames.includes(r.split("/")[1]),
    );
    if (mount !== undefined && (otherConns.length || otherRoles.length)) {
        const held = [...otherConns.sort().map((c) => `config/${c}`), ...otherRoles.sort()].map((x) => `${dbPath}/${x}`);
        problems.push({
            what: `the database mount ${dbPath} also holds what the stack does not manage (${held.join(", ")}): after the convention step the mount is the stack's, so a pulumi destroy (or removing database from the config) unmounts it, and Vault revokes every lease of it, these roles' users too`,
            fix: `move or delete them before the convention step, or take them in through a VaultDynamicSecret each; to keep the mount when the stack goes, release it from the state (pulumi state delete <the mount's URN>) before a destroy (docs/adopt.md)`,
        });
    }
    const adoptedObjects = roleList.map((r) => r.item.object);
    return {
        config: { path: dbPath, connections: connList, roles: roleList.map((r) => r.args) },
        adoptedObjects,
        grants: roleList.map((r) => ({
            object: r.item.object,
            path: `${dbPath}/${r.item.kind === "static" ? "static-creds" : "creds"}/${r.item.role}`,
            capability: "read",
            leases: r.item.kind === "dynamic",
        })),
        changes,
        commands,
        adopted: {
            databaseMount: mount !== undefined,
            databaseConnections: adoptedConns,
            databaseRoles: roleList.map((r) => r.item.role).sort(),
            dynamicSecrets: [],
        },
    };
}

/** A connection as `database.connections[]` (no password), or why it cannot be adopted (pure). */
function connectionArgs(name: string, c: Record<string, any>, dbPath: string, problems: EngineProblem[]): Record<string, unknown> | string {
    const plugin = String(c.plugin_name ?? "");
    if (plugin !== "postgresql-database-plugin") {
        return `its connection ${name} uses the ${plugin || "unknown"} plugin; the package manages postgresql-database-plugin connections only`;
    }
    const d = (c.connection_details ?? {}) as Record<string, unknown>;
    const url = String(d.connection_url ?? "");
    if (!url.includes("{{username}}") || !url.includes("{{password}}")) {
        // (the URL is never echoed, not even redacted: without the placeholders it may hold the password in any form)
        return `its connection ${name} has a connection_url without the {{username}}/{{password}} placeholders (so it may hold a credential: not shown); the package writes the password through them: write the connection with them (vault write ${dbPath}/config/${name} connection_url=postgresql://{{username}}:{{password}}@...) and run adopt again`;
    }
    const username = String(d.username ?? "");
    const args: Record<string, unknown> = { name, connectionUrl: url, username };
    if (c.verify_connection === false) {
        args.verifyConnection = false;
    }
    if (SUPERUSER_NAMES.includes(username.toLowerCase())) {
        if (username === "postgres") {
            args.allowSuperuser = true;
        }
        problems.push({
            what: `database connection ${name} connects as ${JSON.stringify(username)}, a superuser: whoever holds Vault's database config holds the whole database, and Vault's root rotation would lock everyone else out`,
            fix: `create a dedicated role for Vault (CREATEROLE, docs/database.md has the SQL), set database.connections[].username to it${username === "postgres" ? " and remove allowSuperuser" : ""}, and its password with pulumi config set --secret --path 'databasePasswords.${name}'; the next up writes the connection with it`,
        });
    }
    for (const [f, k] of [
        ["max_open_connections", "maxOpenConnections"],
        ["max_idle_connections", "maxIdleConnections"],
        ["max_connection_lifetime", "maxConnectionLifetime"],
    ] as const) {
        const n = goDurationSeconds(d[f]);
        if (n !== undefined) {
            args[k] = n;
        }
    }
    return args;
}

/** A role as `database.roles[]` with what the first up changes about it (pure). */
function roleArgs(it: DbRoleItem, connName: string, mount: LiveMountInfo | undefined): { args: Record<string, unknown>; notes: string[] } {
    const o = it.object;
    const spec = o.spec ?? {};
    const { name, namespace: ns } = o.metadata;
    const notes: string[] = [];
    // the role's Vault name, always: a default name would follow a `cluster` set later (a new role, the old one deleted)
    const args: Record<string, unknown> = { name, namespace: ns, database: connName, roleName: it.role };
    const r = it.live;
    if (it.kind === "static") {
        args.kind = "static";
        args.username = String(r.username ?? "");
        const period = goDurationSeconds(r.rotation_period) ?? 0;
        args.rotationPeriod = `${period > 0 ? period : 24 * 3600}s`;
        if (period <= 0) {
            notes.push(
                `database static role ${it.role}: rotation_period is not set (a rotation schedule?); the package rotates by period, so the first up sets ${24 * 3600}s`,
            );
        }
        const rot = list(r.rotation_statements);
        if (rot.length) {
            args.rotationStatements = rot;
        }
    } else {
        args.creationStatements = list(r.creation_statements);
        // verbatim: none stays none ([]: the plugin's own revocation), never the package's default
        args.revocationStatements = list(r.revocation_statements);
        for (const [f, k] of [
            ["renew_statements", "renewStatements"],
            ["rollback_statements", "rollbackStatements"],
        ] as const) {
            const v = list(r[f]);
            if (v.length) {
                args[k] = v;
            }
        }
        const mountMax = goDurationSeconds(mount?.config?.max_lease_ttl) || VAULT_SYSTEM_TTL;
        const mountDefault = Math.min(goDurationSeconds(mount?.config?.default_lease_ttl) || VAULT_SYSTEM_TTL, mountMax);
        const rawMax = goDurationSeconds(r.max_ttl) ?? 0;
        const rawDefault = goDurationSeconds(r.default_ttl) ?? 0;
        const max = rawMax > 0 ? rawMax : mountMax;
        const dflt = Math.min(rawDefault > 0 ? rawDefault : mountDefault, max);
        args.defaultTtl = `${dflt}s`;
        args.maxTtl = `${max}s`;
        for (const [f, raw, v] of [
            ["default_ttl", rawDefault, dflt],
            ["max_ttl", rawMax, max],
        ] as const) {
            if (raw <= 0) {
                notes.push(`database role ${it.role}: ${f} 0 (the mount's default) is written out as ${v}s, the same length (the package always sets it)`);
            }
        }
        if (!list(r.revocation_statements).length) {
            notes.push(`database role ${it.role}: has no revocation statements; kept so (database.roles[].revocationStatements: [])`);
        }
    }
    const dest = String(spec.destination?.name ?? name);
    if (dest !== name) {
        args.destination = dest;
    }
    const targets = restartTargets(spec.rolloutRestartTargets);
    if (targets.length) {
        args.rolloutRestartTargets = targets;
    }
    if (
        it.kind === "dynamic" &&
        typeof spec.renewalPercent === "number" &&
        spec.renewalPercent >= 1 &&
        spec.renewalPercent <= 90 &&
        spec.renewalPercent !== 67
    ) {
        args.renewalPercent = spec.renewalPercent;
    }
    return { args, notes };
}

/** Database-side problems of the adopted objects, as VSO will meet them (pure). */
export function databaseObjectProblems(adopted: EngineObject[], live: LiveDatabaseMount | undefined): EngineProblem[] {
    const problems: EngineProblem[] = [];
    for (const o of adopted) {
        const spec = o.spec ?? {};
        const isStatic = String(spec.path ?? "").startsWith("static-creds/");
        const role = String(spec.path ?? "").split("/")[1];
        if (isStatic && spec.allowStaticCreds !== true) {
            problems.push({
                what: `VaultDynamicSecret ${key(o)} reads the static role ${role} without allowStaticCreds: VSO does not follow its rotations`,
                fix: "the convention step sets allowStaticCreds: true",
            });
        }
        if (!isStatic && spec.revoke !== true) {
            problems.push({
                what: `VaultDynamicSecret ${key(o)} does not revoke its lease when it goes (revoke unset): its users pile up until max_ttl`,
                fix: "the convention step sets revoke: true",
            });
        }
        const r = isStatic ? undefined : live?.roles[role];
        if (r && !list(r.revocation_statements).length) {
            problems.push({
                what: `database role ${role} has no revocation statements: Postgres's default DROP ROLE fails while the user owns objects or is connected (Vault #1535, #699), and the user stays`,
                fix: `kept verbatim (revocationStatements: []); remove revocationStatements from its database.roles entry to use the package's (end sessions, reassign owned objects, drop the user), or give your own`,
            });
        }
    }
    return problems;
}

interface PkiItem {
    object: EngineObject;
    role: string;
    live: Record<string, any>;
}

/** An issuing role exactly as found, in the `adopted` section's shape (pure). */
export function adoptedPkiRoleOf(name: string, r: Record<string, any>): AdoptedPkiRole {
    const out: AdoptedPkiRole = { name };
    const bools: [string, keyof AdoptedPkiRole][] = [
        ["allow_bare_domains", "allowBareDomains"],
        ["allow_subdomains", "allowSubdomains"],
        ["allow_glob_domains", "allowGlobDomains"],
        ["allow_any_name", "allowAnyName"],
        ["allow_ip_sans", "allowIpSans"],
        ["allow_localhost", "allowLocalhost"],
        ["enforce_hostnames", "enforceHostnames"],
        ["server_flag", "serverFlag"],
        ["client_flag", "clientFlag"],
        ["no_store", "noStore"],
        ["generate_lease", "generateLease"],
        ["require_cn", "requireCn"],
        ["allow_wildcard_certificates", "allowWildcardCertificates"],
        ["use_csr_common_name", "useCsrCommonName"],
        ["use_csr_sans", "useCsrSans"],
        ["code_signing_flag", "codeSigningFlag"],
        ["email_protection_flag", "emailProtectionFlag"],
        ["basic_constraints_valid_for_non_ca", "basicConstraintsValidForNonCa"],
        ["allowed_domains_template", "allowedDomainsTemplate"],
    ];
    const lists: [string, keyof AdoptedPkiRole][] = [
        ["ext_key_usage", "extKeyUsages"],
        ["ou", "organizationUnit"],
        ["organization", "organizations"],
        ["country", "countries"],
        ["locality", "localities"],
        ["province", "provinces"],
        ["street_address", "streetAddresses"],
        ["postal_code", "postalCodes"],
        ["allowed_uri_sans", "allowedUriSans"],
        ["allowed_other_sans", "allowedOtherSans"],
        ["allowed_serial_numbers", "allowedSerialNumbers"],
        ["policy_identifiers", "policyIdentifiers"],
    ];
    // (non-empty only: empty is the provider's default)
    for (const [f, k] of lists) {
        const v = list(r[f]).filter((x) => x !== "");
        if (v.length) {
            (out as unknown as Record<string, unknown>)[k] = v;
        }
    }
    if (r.allowed_domains !== undefined && r.allowed_domains !== null) {
        out.allowedDomains = list(r.allowed_domains);
    }
    for (const [f, k] of bools) {
        if (typeof r[f] === "boolean") {
            (out as unknown as Record<string, unknown>)[k] = r[f];
        }
    }
    if (typeof r.key_type === "string" && r.key_type) {
        out.keyType = r.key_type;
    }
    // (0 too: the key type's default, where the provider's default is 2048)
    if (typeof r.key_bits === "number" && r.key_bits >= 0) {
        out.keyBits = r.key_bits;
    }
    if (r.key_usage !== undefined && r.key_usage !== null) {
        out.keyUsages = list(r.key_usage);
    }
    for (const [f, k] of [
        ["ttl", "ttl"],
        ["max_ttl", "maxTtl"],
    ] as const) {
        const n = goDurationSeconds(r[f]);
        if (n !== undefined && n > 0) {
            out[k] = String(n);
        }
    }
    return out;
}

/** What an issuing role allows beyond the names its VaultPKISecret asks for (pure). */
export function pkiRoleWidth(role: AdoptedPkiRole, requested: string[]): string[] {
    const wider: string[] = [];
    if (role.allowAnyName) {
        wider.push("any name (allow_any_name)");
    }
    if (role.allowSubdomains) {
        wider.push(`every subdomain of ${JSON.stringify(role.allowedDomains ?? [])} (allow_subdomains)`);
    }
    if (role.allowGlobDomains) {
        wider.push("glob domains (allow_glob_domains)");
    }
    const wild = (role.allowedDomains ?? []).filter((d) => /[*]/.test(d));
    if (wild.length) {
        wider.push(`wildcard domains ${JSON.stringify(wild)}`);
    }
    const extra = (role.allowedDomains ?? []).filter((d) => !/[*]/.test(d) && !requested.includes(d));
    if (extra.length) {
        wider.push(`${JSON.stringify(extra)}, which no VaultPKISecret asks for`);
    }
    if (role.allowIpSans !== false) {
        wider.push("IP SANs (allow_ip_sans)");
    }
    if (role.allowLocalhost !== false) {
        wider.push("localhost (allow_localhost)");
    }
    return wider;
}

/**
 * The PKI engine's share of adopt (pure): the VaultPKISecrets issuing from `pkiPath`, as the platform's
 * `pki` config with `ca: { type: "existing" }` (the provider cannot import a CA: it stays outside the
 * stack), and the `adopted` entries that import the mount, the roles (kept exactly as found) and the objects.
 */
export function adoptPki(
    objects: EngineObject[],
    vaultMounts: Record<string, LiveMountInfo>,
    live: LivePkiMount | undefined,
    pkiPath: string,
    opts: { taken: Map<string, string> },
    problems: EngineProblem[],
    unmanaged: EngineUnmanaged[],
): EngineAdoption<{ path: string; ca: { type: "existing" }; certificates: Record<string, unknown>[] }> & {
    adopted: { pkiMount: boolean; pkiRoles: AdoptedPkiRole[]; pkiSecrets: AdoptedObject[] };
} {
    const empty = { adoptedObjects: [], grants: [], changes: [], commands: [], adopted: { pkiMount: false, pkiRoles: [], pkiSecrets: [] } };
    if (!objects.length) {
        return empty;
    }
    const skip = (o: EngineObject, why: string) => unmanaged.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, why });
    const pki = live ?? { roles: {}, unreadable: [] };
    for (const u of pki.unreadable) {
        problems.push({
            what: `the token cannot read the PKI mount's ${u}: what is behind it is not adopted`,
            fix: `give adopt a token that may list and read ${pkiPath}/roles/* (never issue/*), and run adopt again`,
        });
    }
    const items: PkiItem[] = [];
    for (const o of objects) {
        const role = String(o.spec?.role ?? "");
        const found = pki.roles[role];
        if (!found) {
            skip(
                o,
                `its role ${pkiPath}/roles/${role} was not found${pki.unreadable.length ? " (the token could not list the roles)" : ""}; VSO cannot issue from it`,
            );
            continue;
        }
        items.push({ object: o, role, live: found });
    }
    let owned = oneObjectPerRole(items, "PKI role", problems, unmanaged);
    const certOf = (it: PkiItem): Record<string, unknown> => {
        const spec = it.object.spec ?? {};
        const { name, namespace: ns } = it.object.metadata;
        const c: Record<string, unknown> = { name, namespace: ns, commonName: String(spec.commonName ?? "") };
        const alt = list(spec.altNames);
        if (alt.length) {
            c.altNames = alt;
        }
        const ttl = goDurationSeconds(spec.ttl) || goDurationSeconds(it.live.ttl) || goDurationSeconds(it.live.max_ttl);
        if (ttl) {
            c.ttl = `${ttl}s`;
        }
        const off = goDurationSeconds(spec.expiryOffset);
        if (off) {
            c.expiryOffset = `${off}s`;
        }
        const dest = String(spec.destination?.name ?? name);
        if (dest !== name) {
            c.destination = dest;
        }
        const targets = restartTargets(spec.rolloutRestartTargets);
        if (targets.length) {
            c.rolloutRestartTargets = targets;
        }
        // the role's Vault name, always: a default name would follow a `cluster` set later
        c.roleName = it.role;
        return c;
    };
    let certs = owned.map(certOf);
    for (let pass = 0; pass < 3; pass++) {
        const bad = failing(
            validatePkiArgs({ path: pkiPath, ca: { type: "existing" }, certificates: certs }, "pki", { taken: opts.taken }),
            "pki.certificates",
        );
        if (!bad.size) {
            break;
        }
        owned.forEach((it, i) => bad.has(i) && skip(it.object, `as a pki.certificates entry it does not pass the package's checks: ${bad.get(i)!.join("; ")}`));
        owned = owned.filter((_, i) => !bad.has(i));
        certs = certs.filter((_, i) => !bad.has(i));
    }
    if (!owned.length) {
        return empty;
    }
    const roles = owned.map((it) => adoptedPkiRoleOf(it.role, it.live));
    owned.forEach((it, i) => {
        const spec = it.object.spec ?? {};
        const wider = pkiRoleWidth(roles[i], [String(spec.commonName ?? ""), ...list(spec.altNames)]);
        if (wider.length) {
            problems.push({
                what: `PKI role ${it.role} (used by VaultPKISecret ${key(it.object)}) allows ${wider.join(", ")}: whoever can issue from it gets certificates for more than ${key(it.object)} asks for`,
                fix: `kept as found while adopted; the convention step narrows it to exactly ${JSON.stringify([String(spec.commonName ?? ""), ...list(spec.altNames)])} (no subdomains, globs, any-name, IP SANs or localhost; EC P-256 server certificates)`,
            });
        }
        for (const f of ["ipSans", "uriSans", "otherSans"]) {
            if (list(spec[f]).length) {
                problems.push({
                    what: `VaultPKISecret ${key(it.object)} asks for ${f}, which the package does not issue`,
                    fix: `kept while adopted; the convention step drops ${f} from it`,
                });
            }
        }
    });
    const changes: string[] = [];
    for (const r of roles) {
        const cannot = (PROVIDER_CANNOT_WRITE.pkiRole as readonly string[]).filter((k) => (r as unknown as Record<string, unknown>)[k] !== undefined);
        if (cannot.length) {
            changes.push(
                `PKI role ${pkiPath}/roles/${r.name}: ${cannot.join(", ")} (as found: ${cannot.map((k) => JSON.stringify((r as unknown as Record<string, unknown>)[k])).join(", ")}) cannot be written by the Vault provider built here: imported as they are, but an update of this role (the convention step, or any change) writes it without them, so Vault resets them to its defaults; set them again by hand after such an update`,
            );
        }
    }
    return {
        config: { path: pkiPath, ca: { type: "existing" }, certificates: certs },
        adoptedObjects: owned.map((it) => it.object),
        grants: owned.map((it) => ({ object: it.object, path: `${pkiPath}/issue/${it.role}`, capability: "update", leases: false })),
        changes,
        commands: [],
        adopted: { pkiMount: vaultMounts[`${pkiPath}/`] !== undefined, pkiRoles: roles, pkiSecrets: [] },
    };
}
