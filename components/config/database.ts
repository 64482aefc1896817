/**
 * Database credentials from Vault's database engine through VSO (issue 21): the args of a database
 * connection and of each app's dynamic or static role, their checks and their plan (pure).
 *
 * What it designs against (see docs/database.md):
 * - revocation fails while the user owns objects or has open sessions: the revocation statements end
 *   the user's sessions, hand its objects to a group role and drop it (`REASSIGN OWNED`/`DROP OWNED`);
 * - users never revoked pile up: each VaultDynamicSecret has `revoke: true`, so its lease is revoked
 *   when the app is removed;
 * - the superuser as Vault's connection user (and its one-way root rotation): refused; a dedicated
 *   admin role is what the connection uses, and the package never rotates it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, checkKubernetesName, checkMountPath, checkRolloutRestartTarget, checkVaultName, typeProblem } from "./validate";
import { RolloutRestartTarget } from "./vso-types";

/** One database Vault connects to (`<mount>/config/<name>`). Postgres only, for now. */
export interface DatabaseConnectionArgs {
    /** The connection's name in Vault; roles name it as their `database`. */
    name: string;
    /** The database plugin. Default and only value: `"postgresql"`. (A string, not a literal type: the YAML component provider infers the schema from these types.) */
    plugin?: string;
    /**
     * Where Vault connects, with `{{username}}` and `{{password}}` placeholders (Vault fills them in; never
     * write the credentials into the URL), e.g. `"postgresql://{{username}}:{{password}}@db.lan:5432/app?sslmode=require"`.
     */
    connectionUrl: string;
    /** The dedicated role Vault connects as (not the superuser; docs/database.md has its SQL). */
    username: string;
    /** Its password: a Pulumi secret (kept encrypted in state, never printed). */
    password: pulumi.Input<string>;
    /** Vault checks the connection when it is written. Default `true`. */
    verifyConnection?: boolean;
    /** Accept `postgres` (the superuser) as `username`. Default `false`: a dedicated role is what Vault should hold. */
    allowSuperuser?: boolean;
    /** Most connections Vault opens to the database. Default: the Vault provider's (2). `npm run adopt` keeps an existing connection's value. */
    maxOpenConnections?: number;
    /** Most idle connections Vault keeps. Default: the Vault provider's (0). `npm run adopt` keeps an existing connection's value. */
    maxIdleConnections?: number;
    /** Longest life of one of Vault's connections, seconds. Default: the Vault provider's (0, no limit). `npm run adopt` keeps an existing connection's value. */
    maxConnectionLifetime?: number;
}

/** One app's database credential: a Vault role and the VaultDynamicSecret that syncs it. */
export interface DatabaseRoleArgs {
    /** The app: its VaultDynamicSecret and (default) its Secret are called so. */
    name: string;
    /** Namespace of the app; its policy gains exactly this role's credential path. */
    namespace: string;
    /** The connection's name (`connections[].name`). */
    database: string;
    /** `"dynamic"` (default): a new user per lease. `"static"`: Vault rotates the password of the existing `username`. */
    kind?: string;
    /** dynamic: group roles the new user is made a member of (`GRANT "<role>" TO "{{name}}"`); its objects go to the first at revocation. */
    grantRoles?: string[];
    /** dynamic: your own creation statements instead of `grantRoles`; each must name `{{name}}`. */
    creationStatements?: string[];
    /**
     * dynamic: your own revocation statements. Default: end sessions, reassign owned objects, drop the
     * user. `[]`: none, the Postgres plugin's own revocation (`DROP ROLE`, which fails while the user owns
     * objects); `npm run adopt` writes a role's statements here verbatim.
     */
    revocationStatements?: string[];
    /** dynamic: statements Vault runs when a lease is renewed. Default none (`npm run adopt` keeps a role's own, verbatim). */
    renewStatements?: string[];
    /** dynamic: statements Vault runs when creating a user fails half-way. Default none (`npm run adopt` keeps a role's own, verbatim). */
    rollbackStatements?: string[];
    /** dynamic: lease TTL, a duration ("30s", "15m", "1h"; a bare number is seconds). Default `"1h"`. */
    defaultTtl?: string;
    /** dynamic: longest life of a user (then VSO gets a new one and restarts the targets). Default `"24h"`. */
    maxTtl?: string;
    /** static: the existing database user whose password Vault rotates. */
    username?: string;
    /** static: how often Vault rotates it, seconds or a duration (at least 5s). Default `"24h"`. */
    rotationPeriod?: string;
    /** static: statements that set the new password. Default: the Postgres plugin's (`ALTER ROLE ... PASSWORD`); `npm run adopt` keeps a role's own, verbatim. */
    rotationStatements?: string[];
    /**
     * The Vault role's name. Default `[<cluster>-]<namespace>-<name>`. `npm run adopt` sets it for an
     * existing role named otherwise, so the role keeps its name (and its users) after the convention step.
     */
    roleName?: string;
    /** Kubernetes Secret VSO writes (`username`, `password`). Default: `name`. */
    destination?: string;
    /** Workloads restarted when the credential changes. Default none. */
    rolloutRestartTargets?: RolloutRestartTarget[];
    /** dynamic: VSO renews the lease at this percentage of its TTL (1–90). Default `67`. */
    renewalPercent?: number;
}

/** Vault's database engine and the apps' credentials. */
export interface DatabaseArgs {
    /** Mount path of the database engine. Default `"database"`. */
    path?: string;
    /** The databases Vault connects to. */
    connections: DatabaseConnectionArgs[];
    /** The apps' credentials. */
    roles: DatabaseRoleArgs[];
}

export const DATABASE_DEFAULTS = {
    path: "database",
    defaultTtl: 3600,
    maxTtl: 24 * 3600,
    rotationPeriod: 24 * 3600,
    renewalPercent: 67,
} as const;

/** The field names of each object, for the unknown-field checks. */
export const DATABASE_FIELDS = ["path", "connections", "roles"];
export const DATABASE_CONNECTION_FIELDS = [
    "name",
    "plugin",
    "connectionUrl",
    "username",
    "password",
    "verifyConnection",
    "allowSuperuser",
    "maxOpenConnections",
    "maxIdleConnections",
    "maxConnectionLifetime",
];
export const DATABASE_ROLE_FIELDS = [
    "name",
    "namespace",
    "database",
    "kind",
    "grantRoles",
    "creationStatements",
    "revocationStatements",
    "renewStatements",
    "rollbackStatements",
    "defaultTtl",
    "maxTtl",
    "username",
    "rotationPeriod",
    "rotationStatements",
    "roleName",
    "destination",
    "rolloutRestartTargets",
    "renewalPercent",
];

/** One connection as planned (no password: that stays an Input, at `connections[index]`). */
export interface DatabaseConnectionPlan {
    name: string;
    pluginName: "postgresql-database-plugin";
    connectionUrl: string;
    username: string;
    verifyConnection: boolean;
    /** Exactly the Vault roles that name this connection. */
    allowedRoles: string[];
    /** Pool settings, when given (else the provider's defaults). */
    maxOpenConnections?: number;
    maxIdleConnections?: number;
    maxConnectionLifetime?: number;
    index: number;
}

/** One app's credential as planned. */
export interface DatabaseRolePlan {
    app: string;
    namespace: string;
    kind: "dynamic" | "static";
    /** Vault role name: `roleName`, else `[<cluster>-]<namespace>-<app>`. */
    roleName: string;
    connection: string;
    /** dynamic */
    creationStatements?: string[];
    revocationStatements?: string[];
    renewStatements?: string[];
    rollbackStatements?: string[];
    defaultTtl?: number;
    maxTtl?: number;
    /** static */
    username?: string;
    rotationPeriod?: number;
    rotationStatements?: string[];
    /** The path VSO reads, relative to the mount (`creds/<role>` or `static-creds/<role>`). */
    credsPath: string;
    /** The same with the mount: what the namespace's policy grants `read` on. */
    policyPath: string;
    destination: string;
    rolloutRestartTargets: RolloutRestartTarget[];
    renewalPercent: number;
}

export interface DatabasePlan {
    path: string;
    connections: DatabaseConnectionPlan[];
    roles: DatabaseRolePlan[];
}

const DURATION = /^([0-9]+)(s|m|h)?$/;

/** Seconds of a TTL given as seconds or "30s"/"15m"/"1h" (pure); undefined when it is neither. */
export function durationSeconds(v: unknown): number | undefined {
    if (typeof v === "number") {
        return Number.isInteger(v) && v > 0 ? v : undefined;
    }
    if (typeof v !== "string") {
        return undefined;
    }
    const m = DURATION.exec(v.trim());
    if (!m) {
        return undefined;
    }
    const n = parseInt(m[1], 10) * { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
    return n > 0 ? n : undefined;
}

function checkDuration(field: string, v: unknown, minSeconds: number): ValidationProblem[] {
    if (typeof v !== "number" && typeof v !== "string") {
        return [typeProblem(field, 'seconds or a duration such as "30s", "15m" or "1h"', v)];
    }
    const s = durationSeconds(v);
    if (s === undefined) {
        return [{ field, message: `${JSON.stringify(v)} is not a duration: give whole seconds or a number followed by s, m or h, e.g. "15m"` }];
    }
    if (s < minSeconds) {
        return [{ field, message: `${JSON.stringify(v)} is shorter than ${minSeconds}s, the least Vault accepts here` }];
    }
    return [];
}

/** A Postgres identifier we put inside double quotes: no quote, no NUL, at most 63 bytes. */
function checkPgIdentifier(field: string, v: unknown): ValidationProblem[] {
    if (typeof v !== "string" || v === "") {
        return [typeProblem(field, "a Postgres role name", v)];
    }
    if (/["\0]/.test(v) || Buffer.byteLength(v) > 63 || /\s/.test(v)) {
        return [{ field, message: `${JSON.stringify(v)} is not a role name this package quotes safely: no quotes or spaces, at most 63 bytes` }];
    }
    return [];
}

/** Vault role name of one app's credential (pure). */
export function databaseRoleName(namespace: string, app: string, cluster?: string): string {
    return [cluster, namespace, app].filter((p) => p !== undefined && p !== "").join("-");
}

/** The Postgres statements for a dynamic user that joins `grantRoles` (pure). */
export function postgresCreationStatements(grantRoles: string[]): string[] {
    return [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT;`,
        ...grantRoles.map((r) => `GRANT "${r}" TO "{{name}}";`),
    ];
}

/**
 * Revocation that succeeds when the user owns objects or is still connected (pure; Vault #1535,
 * #1857, #699): end its sessions, become a member so its objects can be reassigned, hand them to
 * `owner` (its first group role, else Vault's own role), drop what is left (its grants), drop it.
 */
export function postgresRevocationStatements(owner: string): string[] {
    return [
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{{name}}';`,
        `GRANT "{{name}}" TO CURRENT_USER;`,
        `REASSIGN OWNED BY "{{name}}" TO "${owner}";`,
        `DROP OWNED BY "{{name}}";`,
        `DROP ROLE IF EXISTS "{{name}}";`,
    ];
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function connectionProblems(p: string, c: unknown): ValidationProblem[] {
    if (!isObject(c)) {
        return [typeProblem(p, "an object { name, connectionUrl, username, password }", c)];
    }
    const problems: ValidationProblem[] = [...checkVaultName(`${p}.name`, c.name)];
    if (c.plugin !== undefined && c.plugin !== "postgresql") {
        problems.push({ field: `${p}.plugin`, message: `${JSON.stringify(c.plugin)} is not supported: only "postgresql" (the default)` });
    }
    if (typeof c.connectionUrl !== "string") {
        problems.push(typeProblem(`${p}.connectionUrl`, 'a URL such as "postgresql://{{username}}:{{password}}@db.lan:5432/app"', c.connectionUrl));
    } else {
        const url = c.connectionUrl;
        if (!/^postgres(ql)?:\/\//.test(url)) {
            problems.push({
                field: `${p}.connectionUrl`,
                message: 'must start with postgresql://, e.g. "postgresql://{{username}}:{{password}}@db.lan:5432/app"',
            });
        } else if (!url.includes("{{username}}") || !url.includes("{{password}}")) {
            // the URL is shown redacted: it may hold a literal password
            problems.push({
                field: `${p}.connectionUrl`,
                message:
                    'must carry the placeholders {{username}} and {{password}} (Vault fills them in from username/password; a password written into the URL would be in plain state), e.g. "postgresql://{{username}}:{{password}}@db.lan:5432/app"',
            });
        }
    }
    problems.push(...checkPgIdentifier(`${p}.username`, c.username));
    if (c.username === "postgres" && c.allowSuperuser !== true) {
        problems.push({
            field: `${p}.username`,
            message:
                '"postgres" is the superuser: give Vault a dedicated role (CREATEROLE, docs/database.md has the SQL), or set allowSuperuser: true. Rotating the superuser\'s password in Vault is one-way: nobody else would know it',
        });
    }
    if (c.password === undefined || c.password === "") {
        problems.push({ field: `${p}.password`, message: "is required: the password of username, as a Pulumi secret (pulumi config set --secret ...)" });
    } else if (typeof c.password !== "string" && !pulumi.Output.isInstance(c.password) && !(c.password instanceof Promise)) {
        problems.push(typeProblem(`${p}.password`, "a string (a Pulumi secret)", c.password));
    }
    if (c.verifyConnection !== undefined && typeof c.verifyConnection !== "boolean") {
        problems.push(typeProblem(`${p}.verifyConnection`, "true or false", c.verifyConnection));
    }
    for (const f of ["maxOpenConnections", "maxIdleConnections", "maxConnectionLifetime"]) {
        const v = c[f];
        if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 0)) {
            problems.push(typeProblem(`${p}.${f}`, "a whole number, 0 or more", v));
        }
    }
    for (const k of Object.keys(c)) {
        if (!DATABASE_CONNECTION_FIELDS.includes(k)) {
            problems.push({ field: `${p}.${k}`, message: `is not a field of a database connection (known: ${DATABASE_CONNECTION_FIELDS.join(", ")})` });
        }
    }
    return problems;
}

function statementsProblems(field: string, v: unknown): ValidationProblem[] {
    if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== "string" || s.trim() === "")) {
        return [typeProblem(field, "a non-empty list of SQL statements", v)];
    }
    return v.some((s: string) => s.includes("{{name}}"))
        ? []
        : [
              {
                  field,
                  message:
                      "none of the statements names {{name}}: Vault fills in the user it creates or revokes there; without it every lease would act on the same user",
              },
          ];
}

/** Statements kept verbatim (renew, rollback, rotation): a list of SQL strings, none empty (pure). */
function verbatimStatementsProblems(field: string, v: unknown): ValidationProblem[] {
    return Array.isArray(v) && v.every((s) => typeof s === "string" && s.trim() !== "") ? [] : [typeProblem(field, "a list of SQL statements", v)];
}

function roleProblems(p: string, r: unknown, connections: Set<string>): ValidationProblem[] {
    if (!isObject(r)) {
        return [typeProblem(p, "an object { name, namespace, database, ... }", r)];
    }
    const problems: ValidationProblem[] = [
        ...checkKubernetesName(`${p}.name`, r.name, "subdomain"),
        ...checkKubernetesName(`${p}.namespace`, r.namespace, "label"),
    ];
    if (typeof r.database !== "string" || !connections.has(r.database)) {
        problems.push({
            field: `${p}.database`,
            message: `${JSON.stringify(r.database)} is not one of the connections (${[...connections].map((c) => JSON.stringify(c)).join(", ") || "none given"}): name a database.connections[].name`,
        });
    }
    const kind = r.kind ?? "dynamic";
    if (kind !== "dynamic" && kind !== "static") {
        problems.push({
            field: `${p}.kind`,
            message: `${JSON.stringify(r.kind)} is not a kind: use "dynamic" (a user per lease) or "static" (Vault rotates an existing user's password)`,
        });
    }
    const onlyFor = (fields: string[], k: string) =>
        fields.filter((f) => r[f] !== undefined).map((f) => ({ field: `${p}.${f}`, message: `applies to kind "${k}" only; this role is "${kind}"` }));
    if (r.roleName !== undefined) {
        problems.push(...checkVaultName(`${p}.roleName`, r.roleName));
    }
    if (kind === "dynamic") {
        problems.push(...onlyFor(["username", "rotationPeriod", "rotationStatements"], "static"), ...dynamicRoleProblems(p, r));
    } else if (kind === "static") {
        problems.push(
            ...onlyFor(
                ["grantRoles", "creationStatements", "revocationStatements", "renewStatements", "rollbackStatements", "defaultTtl", "maxTtl", "renewalPercent"],
                "dynamic",
            ),
        );
        problems.push(...checkPgIdentifier(`${p}.username`, r.username));
        if (r.rotationPeriod !== undefined) {
            problems.push(...checkDuration(`${p}.rotationPeriod`, r.rotationPeriod, 5));
        }
        if (r.rotationStatements !== undefined) {
            problems.push(...verbatimStatementsProblems(`${p}.rotationStatements`, r.rotationStatements));
        }
    }
    problems.push(...deliveryProblems(p, r));
    return problems;
}

/** A dynamic role's statements, TTLs and renewal (pure). */
function dynamicRoleProblems(p: string, r: Record<string, unknown>): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    if (r.grantRoles !== undefined && r.creationStatements !== undefined) {
        problems.push({ field: `${p}.creationStatements`, message: "give grantRoles or creationStatements, not both" });
    } else if (r.creationStatements !== undefined) {
        problems.push(...statementsProblems(`${p}.creationStatements`, r.creationStatements));
    } else if (!Array.isArray(r.grantRoles) || r.grantRoles.length === 0) {
        problems.push({
            field: `${p}.grantRoles`,
            message: 'is required for a dynamic role (or creationStatements): the group roles holding the app\'s privileges, e.g. ["app_rw"]',
        });
    } else {
        r.grantRoles.forEach((g, i) => problems.push(...checkPgIdentifier(`${p}.grantRoles[${i}]`, g)));
    }
    // [] is none: the plugin's own revocation (what an adopted role without statements has)
    if (r.revocationStatements !== undefined && !(Array.isArray(r.revocationStatements) && r.revocationStatements.length === 0)) {
        problems.push(...statementsProblems(`${p}.revocationStatements`, r.revocationStatements));
    }
    for (const f of ["renewStatements", "rollbackStatements"]) {
        if (r[f] !== undefined) {
            problems.push(...verbatimStatementsProblems(`${p}.${f}`, r[f]));
        }
    }
    const ttlProblems = [
        ...(r.defaultTtl !== undefined ? checkDuration(`${p}.defaultTtl`, r.defaultTtl, 1) : []),
        ...(r.maxTtl !== undefined ? checkDuration(`${p}.maxTtl`, r.maxTtl, 1) : []),
    ];
    problems.push(...ttlProblems);
    if (ttlProblems.length === 0) {
        const d = durationSeconds(r.defaultTtl ?? DATABASE_DEFAULTS.defaultTtl)!;
        const m = durationSeconds(r.maxTtl ?? DATABASE_DEFAULTS.maxTtl)!;
        if (d > m) {
            problems.push({
                field: `${p}.defaultTtl`,
                message: `${d}s is longer than maxTtl (${m}s): a lease cannot outlive its user; make defaultTtl at most maxTtl`,
            });
        }
    }
    if (
        r.renewalPercent !== undefined &&
        (typeof r.renewalPercent !== "number" || !Number.isInteger(r.renewalPercent) || r.renewalPercent < 1 || r.renewalPercent > 90)
    ) {
        problems.push({
            field: `${p}.renewalPercent`,
            message: `${JSON.stringify(r.renewalPercent)} must be a whole number from 1 to 90 (VSO renews the lease at that share of its TTL)`,
        });
    }
    return problems;
}

/** Where the credential goes: the Secret's name, the restarted workloads, no unknown field (pure). */
function deliveryProblems(p: string, r: Record<string, unknown>): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    if (r.destination !== undefined) {
        problems.push(...checkKubernetesName(`${p}.destination`, r.destination, "subdomain"));
    }
    if (r.rolloutRestartTargets !== undefined) {
        if (!Array.isArray(r.rolloutRestartTargets)) {
            problems.push(typeProblem(`${p}.rolloutRestartTargets`, "a list of { kind, name }", r.rolloutRestartTargets));
        } else {
            r.rolloutRestartTargets.forEach((t, i) => problems.push(...checkRolloutRestartTarget(`${p}.rolloutRestartTargets[${i}]`, t)));
        }
    }
    for (const k of Object.keys(r)) {
        if (!DATABASE_ROLE_FIELDS.includes(k)) {
            problems.push({ field: `${p}.${k}`, message: `is not a field of a database role (known: ${DATABASE_ROLE_FIELDS.join(", ")})` });
        }
    }
    return problems;
}

/**
 * Checks the database args (pure), before any resource: shapes and types from YAML, unknown
 * connections, TTLs out of order, statements without `{{name}}`, the superuser, two apps with the
 * same name or Secret in a namespace (also against the KV apps, `kvApps`), one static user read from
 * two namespaces, and two roles with the same Vault name.
 */
export function validateDatabaseArgs(
    d: unknown,
    field = "database",
    opts: { cluster?: string; kvApps?: { name: string; namespace: string; destination?: string }[] } = {},
): ValidationProblem[] {
    if (d === undefined) {
        return [];
    }
    if (!isObject(d)) {
        return [typeProblem(field, "an object { path, connections, roles }", d)];
    }
    const problems: ValidationProblem[] = [];
    if (d.path !== undefined) {
        problems.push(...checkMountPath(`${field}.path`, d.path));
    }
    for (const k of Object.keys(d)) {
        if (!DATABASE_FIELDS.includes(k)) {
            problems.push({ field: `${field}.${k}`, message: `is not a field of database (known: ${DATABASE_FIELDS.join(", ")})` });
        }
    }
    if (!Array.isArray(d.connections) || d.connections.length === 0) {
        problems.push(typeProblem(`${field}.connections`, "a non-empty list of connections", d.connections));
    }
    if (!Array.isArray(d.roles)) {
        problems.push(typeProblem(`${field}.roles`, "a list of roles", d.roles));
    }
    const conns = Array.isArray(d.connections) ? d.connections : [];
    const names = new Set<string>();
    conns.forEach((c, i) => {
        problems.push(...connectionProblems(`${field}.connections[${i}]`, c));
        const n = isObject(c) ? c.name : undefined;
        if (typeof n === "string") {
            if (names.has(n)) {
                problems.push({ field: `${field}.connections[${i}].name`, message: `${JSON.stringify(n)} is given twice; each connection needs its own name` });
            }
            names.add(n);
        }
    });
    problems.push(...databaseRoleClashes(field, Array.isArray(d.roles) ? d.roles : [], names, opts));
    return problems;
}

/** Each role's own checks, and two roles (or a role and a KV app) that would share a name, a Secret or a static user (pure). */
function databaseRoleClashes(
    field: string,
    roles: unknown[],
    names: Set<string>,
    opts: { cluster?: string; kvApps?: { name: string; namespace: string; destination?: string }[] },
): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const seenApp = new Map<string, string>();
    const seenDest = new Map<string, string>();
    const seenRole = new Map<string, string>();
    const seenStatic = new Map<string, string>();
    for (const a of opts.kvApps ?? []) {
        seenApp.set(`${a.namespace}/${a.name}`, `apps (the KV app ${JSON.stringify(a.name)})`);
        seenDest.set(`${a.namespace}/${a.destination ?? a.name}`, `apps (the KV app ${JSON.stringify(a.name)})`);
    }
    roles.forEach((r, i) => {
        const p = `${field}.roles[${i}]`;
        const own = roleProblems(p, r, names);
        problems.push(...own);
        if (!isObject(r) || typeof r.name !== "string" || typeof r.namespace !== "string") {
            return;
        }
        const dup = (m: Map<string, string>, key: string, f: string, what: string) => {
            const first = m.get(key);
            if (first !== undefined) {
                problems.push({ field: `${p}.${f}`, message: `${what} is already taken by ${first}: give each its own` });
            } else {
                m.set(key, p);
            }
        };
        dup(seenApp, `${r.namespace}/${r.name}`, "name", `${JSON.stringify(r.name)} in namespace ${JSON.stringify(r.namespace)}`);
        const dest = typeof r.destination === "string" ? r.destination : r.name;
        dup(seenDest, `${r.namespace}/${dest}`, r.destination !== undefined ? "destination" : "name", `the Secret ${r.namespace}/${dest}`);
        const vaultRole = typeof r.roleName === "string" ? r.roleName : databaseRoleName(r.namespace, r.name, opts.cluster);
        dup(seenRole, vaultRole, r.roleName !== undefined ? "roleName" : "name", `the Vault role ${JSON.stringify(vaultRole)}`);
        if ((r.kind ?? "dynamic") === "static" && typeof r.username === "string" && typeof r.database === "string") {
            const key = `${r.database}/${r.username}`;
            const first = seenStatic.get(key);
            if (first !== undefined) {
                problems.push({
                    field: `${p}.username`,
                    message: `the database user ${JSON.stringify(r.username)} of ${JSON.stringify(r.database)} is already rotated for ${first}: one static user read from two places would be rotated under both; give each app its own user`,
                });
            } else {
                seenStatic.set(key, p);
            }
        }
    });
    return problems;
}

/** Plans validated database args (pure): the mount, each connection with exactly its roles, each app's role and paths. */
export function planDatabase(d: DatabaseArgs, cluster?: string): DatabasePlan {
    const path = d.path ?? DATABASE_DEFAULTS.path;
    const roles: DatabaseRolePlan[] = d.roles.map((r) => {
        const kind = (r.kind ?? "dynamic") as "dynamic" | "static";
        const roleName = r.roleName ?? databaseRoleName(r.namespace, r.name, cluster);
        const conn = d.connections.find((c) => c.name === r.database)!;
        const credsPath = `${kind === "static" ? "static-creds" : "creds"}/${roleName}`;
        const common = {
            app: r.name,
            namespace: r.namespace,
            kind,
            roleName,
            connection: r.database,
            credsPath,
            policyPath: `${path}/${credsPath}`,
            destination: r.destination ?? r.name,
            rolloutRestartTargets: (r.rolloutRestartTargets ?? []).map((t) => ({ kind: t.kind, name: t.name })),
            renewalPercent: r.renewalPercent ?? DATABASE_DEFAULTS.renewalPercent,
        };
        if (kind === "static") {
            return {
                ...common,
                username: r.username,
                rotationPeriod: durationSeconds(r.rotationPeriod ?? DATABASE_DEFAULTS.rotationPeriod),
                ...(r.rotationStatements?.length ? { rotationStatements: [...r.rotationStatements] } : {}),
            };
        }
        return {
            ...common,
            creationStatements: r.creationStatements ?? postgresCreationStatements(r.grantRoles ?? []),
            revocationStatements: r.revocationStatements ?? postgresRevocationStatements(r.grantRoles?.[0] ?? conn.username),
            ...(r.renewStatements?.length ? { renewStatements: [...r.renewStatements] } : {}),
            ...(r.rollbackStatements?.length ? { rollbackStatements: [...r.rollbackStatements] } : {}),
            defaultTtl: durationSeconds(r.defaultTtl ?? DATABASE_DEFAULTS.defaultTtl),
            maxTtl: durationSeconds(r.maxTtl ?? DATABASE_DEFAULTS.maxTtl),
        };
    });
    return {
        path,
        connections: d.connections.map((c, index) => ({
            name: c.name,
            pluginName: "postgresql-database-plugin",
            connectionUrl: c.connectionUrl,
            username: c.username,
            verifyConnection: c.verifyConnection ?? true,
            allowedRoles: roles.filter((r) => r.connection === c.name).map((r) => r.roleName),
            ...(c.maxOpenConnections !== undefined ? { maxOpenConnections: c.maxOpenConnections } : {}),
            ...(c.maxIdleConnections !== undefined ? { maxIdleConnections: c.maxIdleConnections } : {}),
            ...(c.maxConnectionLifetime !== undefined ? { maxConnectionLifetime: c.maxConnectionLifetime } : {}),
            index,
        })),
        roles,
    };
}

/**
 * What VSO needs for the leases of the credentials it reads: renew them (it renews at
 * `renewalPercent`; without it VSO takes a new user at every renewal) and revoke them (`revoke: true`,
 * when the app is removed). Vault checks these by lease ID, which only the reader of the credential gets.
 */
export const LEASE_POLICY = [
    "# VSO renews and revokes the leases of the credentials it reads",
    `path "sys/leases/renew" {\n  capabilities = ["update"]\n}`,
    `path "sys/leases/revoke" {\n  capabilities = ["update"]\n}\n`,
].join("\n");

/** The policy lines that let one namespace read exactly its apps' credentials, and handle their leases (pure). */
export function renderDatabasePolicy(paths: string[]): string {
    return Array.from(new Set(paths))
        .sort()
        .map((p) => `path "${p}" {\n  capabilities = ["read"]\n}\n`)
        .concat(LEASE_POLICY)
        .join("\n");
}

/** The VaultDynamicSecret spec for one app's credential (plain data). */
export function dynamicSecretSpec(r: DatabaseRolePlan, mount: string, vaultAuthRef: string): Record<string, unknown> {
    return {
        vaultAuthRef,
        mount,
        path: r.credsPath,
        destination: { name: r.destination, create: true },
        // dynamic: removal revokes the lease, no user is left behind in the database (false is not
        // written: the API server drops it, and a refresh would see drift)
        ...(r.kind === "static" ? { allowStaticCreds: true } : { revoke: true, renewalPercent: r.renewalPercent }),
        ...(r.rolloutRestartTargets.length ? { rolloutRestartTargets: r.rolloutRestartTargets } : {}),
    };
}
