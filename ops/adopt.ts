/**
 * Adopt: read a hand-built Vault + VSO setup (the article's) and write the homelab stack config that
 * reproduces it, with an `adopted` section so that the first `pulumi up` imports what exists and
 * changes nothing. Secret values are never read: key names come from the synced Secrets' keys.
 *
 * `readLiveSetup` does the reading (Vault's HTTP API, the Kubernetes API); `planAdoption` is pure and
 * turns what was read into the config, the import plan, the problems found and what is left unmanaged.
 */
import type { AdoptedObject, AdoptedPolicy, AdoptedRole, AdoptedSetup } from "../components/config/adopt";
import { DEFAULTS, nameFor } from "../components/config/plan";
import { VSO_API_VERSION } from "../components/config/vso-types";
import { KubeTarget, kubeRequest, sanitizeText, vaultErrors, vaultRequest } from "./clients";
import {
    EngineGrant,
    LiveDatabaseMount,
    LiveMountInfo,
    LivePkiMount,
    adoptDatabase,
    adoptPki,
    databaseObjectProblems,
    policiesGrant,
    restartTargets,
} from "./adopt-engines";

export type { LiveDatabaseMount, LivePkiMount, LiveMountInfo } from "./adopt-engines";

/** A Kubernetes object as listed (the parts adopt reads). */
export interface LiveObject {
    kind: string;
    metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: Record<string, any>;
}

/** What Vault holds (names, texts and settings; no secret values). */
export interface LiveVault {
    /** `sys/mounts`: path (with trailing slash) → type, options, description and lease TTLs. */
    mounts: Record<string, LiveMountInfo>;
    /** `sys/auth`: path (with trailing slash) → type. */
    authMounts: Record<string, { type: string }>;
    /** `auth/<path>/config` of each Kubernetes auth mount, by path (no slash). */
    authConfigs: Record<string, Record<string, any>>;
    /** ACL policies, name → text. */
    policies: Record<string, string>;
    /** Kubernetes auth roles, by mount path (no slash), then name. */
    roles: Record<string, Record<string, Record<string, any>>>;
    /** Each `database` mount (path without slash): connections (never a password), roles, static roles. Default none. */
    databases?: Record<string, LiveDatabaseMount>;
    /** Each `pki` mount (path without slash): its roles (never a key or certificate). Default none. */
    pkis?: Record<string, LivePkiMount>;
}

/** What the cluster holds: VSO's objects and the key names of the Secrets they write. */
export interface LiveCluster {
    connections: LiveObject[];
    auths: LiveObject[];
    staticSecrets: LiveObject[];
    /** VaultDynamicSecrets (database credentials). Default none. */
    dynamicSecrets?: LiveObject[];
    /** VaultPKISecrets (certificates). Default none. */
    pkiSecrets?: LiveObject[];
    /** VSO objects of kinds the package does not manage (HCPVaultSecretsApp, ...). */
    others: LiveObject[];
    /** Key names of each destination Secret, by `namespace/name` (values are never kept). */
    secretKeys: Record<string, string[]>;
}

export interface AdoptionProblem {
    /** What was found, e.g. `role vso-role: bound_service_account_namespaces holds "\"*\""`. */
    what: string;
    /** How to fix it (and whether the convention step does). */
    fix: string;
}

export interface UnmanagedObject {
    kind: string;
    name: string;
    namespace?: string;
    /** Why it is not in the config, and how to take it in when that is possible. */
    why: string;
}

export interface ImportStep {
    /** Pulumi type token. */
    type: string;
    /** What it is, e.g. `policy rustfs-read`. */
    what: string;
    /** The import ID. */
    id: string;
}

/** The homelab `database` section adopt writes (the passwords are secret config, `databasePasswords.<name>`). */
export interface AdoptedDatabaseConfig {
    path: string;
    connections: Record<string, unknown>[];
    roles: Record<string, unknown>[];
}

/** The homelab `pki` section adopt writes: the mount's CA stays outside the stack. */
export interface AdoptedPkiConfig {
    path: string;
    ca: { type: "existing" };
    certificates: Record<string, unknown>[];
}

/** The homelab config adopt writes (keys under the project's namespace). */
export interface AdoptedConfig {
    vault: { install: false; address: string; providerAddress: string; allowInsecureHttp?: boolean; skipTLSVerify?: boolean };
    operator: { install: false };
    kv: { path: string; protect: true };
    kubernetesAuth: { path: string; kubernetesHost: string };
    apps: Record<string, unknown>[];
    database?: AdoptedDatabaseConfig;
    pki?: AdoptedPkiConfig;
    adopted: AdoptedSetup;
}

export interface AdoptionPlan {
    /** Errors that stop adopt (exit 1, nothing written). */
    errors: string[];
    config?: AdoptedConfig;
    imports: ImportStep[];
    problems: AdoptionProblem[];
    unmanaged: UnmanagedObject[];
    /** What the first `up` changes although it imports: where no zero-diff import is possible, and why. */
    firstUpChanges: string[];
    /** Commands to run before the first `preview` (secrets: `pulumi config set` prompts; no value is printed). */
    commands: string[];
}

export interface AdoptionOptions {
    /** The address adopt reached Vault at (the stack's providerAddress). */
    vaultAddr: string;
    /** Opt-ins for objects outside the apps' chain: `policy:NAME`, `role:NAME`. */
    include?: string[];
    /** The stack the config is for (named in the commands adopt prints). Default: none (the selected stack). */
    stack?: string;
}

const SYSTEM_MOUNTS = ["sys/", "identity/", "cubbyhole/"];
const SYSTEM_POLICIES = ["root", "default"];

function trimSlash(p: string): string {
    return p.replace(/\/$/, "");
}

/**
 * The labels/annotations of an adopted object, all of them, kubectl's last-applied-configuration
 * included: the import re-applies the object's metadata, and a dropped annotation would be removed.
 */
function kept(m: Record<string, string> | undefined): Record<string, string> | undefined {
    return m && Object.keys(m).length ? { ...m } : undefined;
}

function adoptedObject(o: LiveObject): AdoptedObject {
    const labels = kept(o.metadata.labels);
    const annotations = kept(o.metadata.annotations);
    return {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
        spec: o.spec ?? {},
    };
}

/** A role as the `adopted` section holds it: Vault's fields that differ from Vault's defaults. */
export function adoptedRoleOf(name: string, r: Record<string, any>): AdoptedRole {
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" && v ? v.split(",") : []);
    const role: AdoptedRole = {
        name,
        boundServiceAccountNames: list(r.bound_service_account_names),
        boundServiceAccountNamespaces: list(r.bound_service_account_namespaces),
    };
    const policies = list(r.token_policies ?? r.policies);
    if (policies.length) {
        role.tokenPolicies = policies;
    }
    if (Number(r.token_ttl ?? r.ttl) > 0) {
        role.tokenTtl = Number(r.token_ttl ?? r.ttl);
    }
    if (Number(r.token_max_ttl ?? r.max_ttl) > 0) {
        role.tokenMaxTtl = Number(r.token_max_ttl ?? r.max_ttl);
    }
    if (typeof r.audience === "string" && r.audience) {
        role.audience = r.audience;
    }
    if (typeof r.alias_name_source === "string" && r.alias_name_source && r.alias_name_source !== "serviceaccount_uid") {
        role.aliasNameSource = r.alias_name_source;
    }
    return role;
}

/** The KV paths a policy grants that look like secret paths of `kvPath`, with whether each is a glob (pure). */
export function policyPaths(text: string): { path: string; glob: boolean }[] {
    const out: { path: string; glob: boolean }[] = [];
    const re = /path\s+"([^"]*)"/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
        out.push({ path: m[1], glob: /[*+]/.test(m[1]) });
    }
    return out;
}

/** Problems of a role as the article's pitfalls describe them (pure). */
function roleProblems(role: AdoptedRole): AdoptionProblem[] {
    const problems: AdoptionProblem[] = [];
    for (const [field, values] of [
        ["bound_service_account_namespaces", role.boundServiceAccountNamespaces],
        ["bound_service_account_names", role.boundServiceAccountNames],
    ] as const) {
        for (const v of values) {
            if (/["']/.test(v)) {
                problems.push({
                    what: `role ${role.name}: ${field} holds ${JSON.stringify(v)}, with quote characters (the UI's quoted wildcard): no login ever matches it`,
                    fix: `the convention step replaces it with one role per namespace bound to exactly that namespace; to fix it now: vault write auth/<path>/role/${role.name} ${field}=...`,
                });
            } else if (v === "*") {
                problems.push({
                    what: `role ${role.name}: ${field} is "*": any ${field === "bound_service_account_namespaces" ? "namespace" : "ServiceAccount"} may log in with it`,
                    fix: "the convention step replaces it with one role per namespace bound to exactly that namespace and its vso-auth ServiceAccount",
                });
            }
        }
    }
    return problems;
}

type VsoKind = "VaultStaticSecret" | "VaultDynamicSecret" | "VaultPKISecret";

interface Chain {
    kind: VsoKind;
    obj: LiveObject;
    auth: LiveObject;
    connection: LiveObject;
}

/** Follows each VaultStaticSecret, VaultDynamicSecret and VaultPKISecret to its VaultAuth and VaultConnection; what cannot be adopted is reported (pure). */
function chains(cluster: LiveCluster, vault: LiveVault, unmanaged: UnmanagedObject[], problems: AdoptionProblem[]): Chain[] {
    const find = (list: LiveObject[], ns: string, name: string) => list.find((o) => o.metadata.namespace === ns && o.metadata.name === name);
    const out: Chain[] = [];
    const all: [VsoKind, LiveObject[]][] = [
        ["VaultStaticSecret", cluster.staticSecrets],
        ["VaultDynamicSecret", cluster.dynamicSecrets ?? []],
        ["VaultPKISecret", cluster.pkiSecrets ?? []],
    ];
    for (const [kind, list] of all) {
        for (const obj of list) {
            const { name, namespace: ns } = obj.metadata;
            const skip = (why: string) => unmanaged.push({ kind, name, namespace: ns, why });
            const spec = obj.spec ?? {};
            if (kind === "VaultStaticSecret" && (spec.type ?? "kv-v2") !== "kv-v2") {
                skip(`its type is ${JSON.stringify(spec.type)}; the package manages kv-v2 secrets only`);
                continue;
            }
            const engine = kind === "VaultDynamicSecret" ? "database" : kind === "VaultPKISecret" ? "pki" : undefined;
            const mountType = vault.mounts[`${String(spec.mount ?? "")}/`]?.type;
            if (engine && mountType !== engine) {
                skip(
                    `it reads mount ${JSON.stringify(spec.mount)}, ${mountType ? `a ${mountType} engine` : "which the token did not list or which does not exist"}; the package manages ${kind}s of Vault's ${engine} engine only`,
                );
                continue;
            }
            const ref = String(spec.vaultAuthRef ?? "");
            if (!ref) {
                skip("it uses VSO's default VaultAuth (no vaultAuthRef); give it a VaultAuth in its namespace and run adopt again");
                continue;
            }
            if (ref.includes("/") && ref.split("/")[0] !== ns) {
                problems.push({
                    what: `${kind} ${ns}/${name} uses the VaultAuth ${ref} of another namespace`,
                    fix: `give ${ns} its own VaultConnection and VaultAuth (the package keeps them next to the objects that use them) and run adopt again`,
                });
                skip(`its VaultAuth ${ref} is in another namespace`);
                continue;
            }
            const authName = ref.split("/").pop()!;
            const auth = find(cluster.auths, ns, authName);
            if (!auth) {
                skip(`its VaultAuth ${authName} does not exist in ${ns} ("VaultAuth not found"): create it, or fix vaultAuthRef, and run adopt again`);
                continue;
            }
            if ((auth.spec?.method ?? "") !== "kubernetes") {
                skip(`its VaultAuth ${authName} uses method ${JSON.stringify(auth.spec?.method)}; the package manages the kubernetes method only`);
                continue;
            }
            const connection = find(cluster.connections, ns, String(auth.spec?.vaultConnectionRef ?? ""));
            if (!connection) {
                skip(`its VaultAuth ${authName} names no VaultConnection in ${ns} (VSO's default connection is not adopted)`);
                continue;
            }
            out.push({ kind, obj, auth, connection });
        }
    }
    return out;
}

/** Picks one VaultAuth per namespace (the one most objects use); objects on another one are reported (pure). */
function onePerNamespace(all: Chain[], unmanaged: UnmanagedObject[]): Chain[] {
    const byNs = new Map<string, Map<string, number>>();
    for (const c of all) {
        const m = byNs.get(c.obj.metadata.namespace) ?? new Map<string, number>();
        m.set(c.auth.metadata.name, (m.get(c.auth.metadata.name) ?? 0) + 1);
        byNs.set(c.obj.metadata.namespace, m);
    }
    const chosen = new Map([...byNs].map(([ns, m]) => [ns, [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0]]));
    return all.filter((c) => {
        const want = chosen.get(c.obj.metadata.namespace);
        if (c.auth.metadata.name === want) {
            return true;
        }
        unmanaged.push({
            kind: c.kind,
            name: c.obj.metadata.name,
            namespace: c.obj.metadata.namespace,
            why: `it uses VaultAuth ${c.auth.metadata.name}, and the package keeps one VaultAuth per namespace (${want} here): point it at ${want} and run adopt again`,
        });
        return false;
    });
}

/** The app entry of one adopted VaultStaticSecret (pure). */
function appOf(c: Chain, cluster: LiveCluster, problems: AdoptionProblem[]): Record<string, unknown> {
    const { name, namespace: ns } = c.obj.metadata;
    const spec = c.obj.spec ?? {};
    const dest = String(spec.destination?.name ?? name);
    const app: Record<string, unknown> = { name, namespace: ns, path: String(spec.path ?? "") };
    if (dest !== name) {
        app.destination = dest;
    }
    if (typeof spec.refreshAfter === "string" && spec.refreshAfter) {
        app.refreshAfter = spec.refreshAfter;
    }
    const targets = restartTargets(spec.rolloutRestartTargets);
    if (targets.length) {
        app.rolloutRestartTargets = targets;
    }
    const keys = cluster.secretKeys[`${ns}/${dest}`];
    if (keys === undefined) {
        problems.push({
            what: `VaultStaticSecret ${ns}/${name}: its Secret ${dest} does not exist (never synced?), so its key names are unknown`,
            fix: `run the doctor (npm run doctor -- --namespace ${ns}) to see why VSO does not sync it; add keys: [...] to the app when you know them`,
        });
    } else {
        const real = keys.filter((k) => k !== "_raw").sort();
        if (real.length) {
            app.keys = real;
        }
    }
    if (spec.destination?.create === false) {
        problems.push({
            what: `VaultStaticSecret ${ns}/${name} writes into an existing Secret (destination.create: false)`,
            fix: "the convention step sets create: true; the Secret stays (VSO takes it over)",
        });
    }
    return app;
}

/** Vault-side problems: a quoted/any wildcard, a glob policy, paths in the `default` policy (pure). */
function vaultProblems(roles: AdoptedRole[], policies: AdoptedPolicy[], vault: LiveVault, kvPath: string): AdoptionProblem[] {
    const problems = roles.flatMap(roleProblems);
    for (const p of policies) {
        const globs = policyPaths(p.policy).filter((x) => x.glob);
        if (globs.length) {
            problems.push({
                what: `policy ${p.name} grants a glob (${globs.map((g) => JSON.stringify(g.path)).join(", ")}): every secret under it, present and future`,
                fix: "the convention step replaces it with one policy per namespace that grants exactly the apps' paths",
            });
        }
    }
    const inDefault = policyPaths(vault.policies.default ?? "").filter((x) => x.path.startsWith(`${kvPath}/`));
    if (inDefault.length) {
        problems.push({
            what: `the default policy grants ${inDefault.map((x) => JSON.stringify(x.path)).join(", ")}: every token in Vault can read it`,
            fix: "remove those path blocks from the default policy by hand (vault policy write default ...): adopt never takes the default policy, and the convention step does not change it",
        });
    }
    return problems;
}

/** What exists but is outside the config (pure). `engines`: the adopted database/PKI mounts and the Vault objects taken from them. */
function unmanagedVaultObjects(
    vault: LiveVault,
    kvPath: string,
    authPath: string,
    policies: string[],
    roles: string[],
    engines: { mounts: string[]; connections: Record<string, string[]>; dbRoles: Record<string, string[]>; pkiRoles: Record<string, string[]> },
): UnmanagedObject[] {
    const out: UnmanagedObject[] = [];
    for (const [p, m] of Object.entries(vault.mounts)) {
        if (!SYSTEM_MOUNTS.includes(p) && trimSlash(p) !== kvPath && !engines.mounts.includes(trimSlash(p))) {
            out.push({ kind: "secrets mount", name: trimSlash(p), why: `a ${m.type} mount no adopted object uses; left as it is` });
        }
    }
    for (const [p, m] of Object.entries(vault.authMounts)) {
        if (p !== "token/" && trimSlash(p) !== authPath) {
            out.push({ kind: "auth mount", name: trimSlash(p), why: `a ${m.type} auth method no VaultAuth uses; left as it is` });
        }
    }
    for (const name of Object.keys(vault.policies).sort()) {
        if (!SYSTEM_POLICIES.includes(name) && !policies.includes(name)) {
            out.push({ kind: "policy", name, why: `no adopted role uses it; to keep it in the stack anyway: --include policy:${name}` });
        }
    }
    for (const [mount, rs] of Object.entries(vault.roles)) {
        for (const name of Object.keys(rs).sort()) {
            if (mount !== authPath || !roles.includes(name)) {
                out.push({
                    kind: "role",
                    name: `${mount}/${name}`,
                    why: `no adopted VaultAuth uses it; to keep it in the stack anyway: --include role:${name}`,
                });
            }
        }
    }
    for (const [mount, db] of Object.entries(vault.databases ?? {})) {
        if (!engines.mounts.includes(mount)) {
            continue;
        }
        for (const c of Object.keys(db.connections).sort()) {
            if (!(engines.connections[mount] ?? []).includes(c)) {
                out.push({ kind: "database connection", name: `${mount}/config/${c}`, why: "no adopted database role uses it; left as it is" });
            }
        }
        for (const [kind, rs] of [
            ["roles", db.roles],
            ["static-roles", db.staticRoles],
        ] as const) {
            for (const r of Object.keys(rs).sort()) {
                if (!(engines.dbRoles[mount] ?? []).includes(r)) {
                    out.push({
                        kind: "database role",
                        name: `${mount}/${kind}/${r}`,
                        why: "no adopted VaultDynamicSecret reads it; left as it is (its connection's allowed_roles keep it usable until the convention step narrows them)",
                    });
                }
            }
        }
    }
    for (const [mount, pki] of Object.entries(vault.pkis ?? {})) {
        if (!engines.mounts.includes(mount)) {
            continue;
        }
        for (const r of Object.keys(pki.roles).sort()) {
            if (!(engines.pkiRoles[mount] ?? []).includes(r)) {
                out.push({ kind: "PKI role", name: `${mount}/roles/${r}`, why: "no adopted VaultPKISecret issues from it; left as it is" });
            }
        }
    }
    return out;
}

/** The most common value (ties: the first by name), or `dflt` (pure). */
function most(values: string[], dflt: string): string {
    return (
        [...values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>())].sort(
            (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
        )[0]?.[0] ?? dflt
    );
}

/**
 * The adopted chains: one auth mount, and one KV, one database and one PKI mount (the ones most objects
 * use), one VaultAuth per namespace (pure).
 */
function adoptableChains(
    cluster: LiveCluster,
    vault: LiveVault,
    unmanaged: UnmanagedObject[],
    problems: AdoptionProblem[],
): { chosen: Chain[]; kvPath: string; authPath: string; dbPath: string; pkiPath: string } {
    const all = chains(cluster, vault, unmanaged, problems);
    const mountOf = (kind: VsoKind, dflt: string) =>
        most(
            all.filter((c) => c.kind === kind).map((c) => String(c.obj.spec?.mount ?? "")),
            dflt,
        );
    const paths: Record<VsoKind, string> = {
        VaultStaticSecret: mountOf("VaultStaticSecret", DEFAULTS.kvPath),
        VaultDynamicSecret: mountOf("VaultDynamicSecret", "database"),
        VaultPKISecret: mountOf("VaultPKISecret", "pki"),
    };
    const authPath = most(
        all.map((c) => String(c.auth.spec?.mount ?? "")),
        DEFAULTS.authPath,
    );
    const sameMounts = all.filter((c) => {
        const want = paths[c.kind];
        const ok = String(c.obj.spec?.mount ?? "") === want && String(c.auth.spec?.mount ?? "") === authPath;
        if (!ok) {
            unmanaged.push({
                kind: c.kind,
                name: c.obj.metadata.name,
                namespace: c.obj.metadata.namespace,
                why: `it reads mount ${c.obj.spec?.mount} through auth mount ${c.auth.spec?.mount}; the stack manages one of each (${want}, ${authPath})`,
            });
        }
        return ok;
    });
    return {
        chosen: onePerNamespace(sameMounts, unmanaged),
        kvPath: paths.VaultStaticSecret,
        authPath,
        dbPath: paths.VaultDynamicSecret,
        pkiPath: paths.VaultPKISecret,
    };
}

/** Hard errors: two objects writing one Secret, one app name twice (pure). */
function chainErrors(chosen: Chain[]): string[] {
    const errors: string[] = [];
    const dests = new Map<string, string>();
    const names = new Map<string, string>();
    for (const c of chosen) {
        const { name, namespace: ns } = c.obj.metadata;
        const key = `${ns}/${String(c.obj.spec?.destination?.name ?? name)}`;
        if (dests.has(key)) {
            errors.push(
                `${dests.get(key)} and ${c.kind} ${ns}/${name} both write the Secret ${key}: each overwrites the other's keys. Give one of them another destination.name, then run adopt again`,
            );
        }
        dests.set(key, `${c.kind} ${ns}/${name}`);
        if (c.kind !== "VaultStaticSecret") {
            continue;
        }
        if (names.has(name)) {
            errors.push(
                `two VaultStaticSecrets are named ${name} (${names.get(name)}, ${ns}): the stack's apps need unique names. Rename one of them, then run adopt again`,
            );
        }
        names.set(name, ns);
    }
    return errors;
}

/** Turns what was read into the homelab config, the imports, the problems and the unmanaged rest (pure). */
export function planAdoption(vault: LiveVault, cluster: LiveCluster, opts: AdoptionOptions): AdoptionPlan {
    const problems: AdoptionProblem[] = [];
    const unmanaged: UnmanagedObject[] = [];
    const errors: string[] = [];
    const found = adoptableChains(cluster, vault, unmanaged, problems);
    const { kvPath, authPath, dbPath, pkiPath } = found;
    let chosen = found.chosen;
    errors.push(...chainErrors(chosen));
    const staticChains = chosen.filter((c) => c.kind === "VaultStaticSecret");
    const include = opts.include ?? [];
    for (const inc of include) {
        const [kind, name] = inc.split(":");
        const exists = kind === "policy" ? vault.policies[name] !== undefined : kind === "role" ? vault.roles[authPath]?.[name] !== undefined : false;
        if (!exists) {
            errors.push(
                `--include ${inc}: no such ${kind === "policy" || kind === "role" ? kind : "object"} in Vault (give policy:NAME or role:NAME of what adopt lists as unmanaged)`,
            );
        }
    }
    const firstUpChanges: string[] = [];
    if (!vault.mounts[`${kvPath}/`] && staticChains.length) {
        errors.push(
            `the VaultStaticSecrets read mount ${kvPath}, which does not exist in Vault: enable it (vault secrets enable -path=${kvPath} kv-v2) or fix their mount`,
        );
    } else if (vault.mounts[`${kvPath}/`] && (vault.mounts[`${kvPath}/`].type !== "kv" || String(vault.mounts[`${kvPath}/`].options?.version ?? "1") !== "2")) {
        errors.push(`mount ${kvPath} is not a KV version 2 engine; the package manages kv-v2 only`);
    } else if (!vault.mounts[`${kvPath}/`]) {
        firstUpChanges.push(`KV v2 mount ${kvPath}: created, empty (no VaultStaticSecret was adopted, and the platform always has a KV mount)`);
    }
    const authType = vault.authMounts[`${authPath}/`]?.type;
    if (chosen.length && authType !== "kubernetes") {
        errors.push(
            authType
                ? `auth mount ${authPath} is a ${authType} method, not kubernetes`
                : `the VaultAuths log in at auth mount ${authPath}, which is not enabled in Vault ("permission denied" on every login): vault auth enable -path=${authPath} kubernetes, then run adopt again`,
        );
    }
    // the KV apps first: the database credentials and certificates must not share their names or Secrets
    const apps = staticChains.map((c) => appOf(c, cluster, problems));
    const db = adoptDatabase(
        chosen.filter((c) => c.kind === "VaultDynamicSecret").map((c) => c.obj),
        vault.mounts,
        vault.databases?.[dbPath],
        dbPath,
        {
            stack: opts.stack,
            kvApps: apps.map((a) => ({ name: String(a.name), namespace: String(a.namespace), destination: a.destination as string | undefined })),
        },
        problems,
        unmanaged,
    );
    const taken = new Map<string, string>();
    for (const a of [...apps, ...(db.config?.roles ?? [])]) {
        taken.set(`${a.namespace}/${a.name}`, String(a.name));
        taken.set(`secret:${a.namespace}/${String(a.destination ?? a.name)}`, String(a.name));
    }
    const pki = adoptPki(
        chosen.filter((c) => c.kind === "VaultPKISecret").map((c) => c.obj),
        vault.mounts,
        vault.pkis?.[pkiPath],
        pkiPath,
        { taken },
        problems,
        unmanaged,
    );
    const adoptedEngineObjects = new Set([...db.adoptedObjects, ...pki.adoptedObjects]);
    // the database and PKI objects adopt could not take over are left as they are (listed unmanaged)
    chosen = chosen.filter((c) => c.kind === "VaultStaticSecret" || adoptedEngineObjects.has(c.obj));
    problems.push(...databaseObjectProblems(db.adoptedObjects, vault.databases?.[dbPath]));
    const roleNames = [
        ...new Set([...chosen.map((c) => String(c.auth.spec?.kubernetes?.role ?? "")), ...include.filter((i) => i.startsWith("role:")).map((i) => i.slice(5))]),
    ];
    const roles: AdoptedRole[] = [];
    for (const r of roleNames.sort()) {
        const live = vault.roles[authPath]?.[r];
        if (live) {
            roles.push(adoptedRoleOf(r, live));
        } else {
            problems.push({
                what: `role ${r} does not exist at auth/${authPath} ("invalid role name" on every login)`,
                fix: "the convention step creates one role per namespace; until then no VSO login works for the namespaces that use it",
            });
        }
    }
    const policyNames = [
        ...new Set([...roles.flatMap((r) => r.tokenPolicies ?? []), ...include.filter((i) => i.startsWith("policy:")).map((i) => i.slice(7))]),
    ].filter((p) => !SYSTEM_POLICIES.includes(p));
    const policies: AdoptedPolicy[] = policyNames
        .sort()
        .filter((p) => vault.policies[p] !== undefined)
        .map((p) => ({ name: p, policy: vault.policies[p] }));
    for (const p of policyNames.filter((x) => vault.policies[x] === undefined)) {
        problems.push({ what: `a role uses policy ${p}, which does not exist`, fix: "the convention step gives each namespace its own policy" });
    }
    problems.push(...vaultProblems(roles, policies, vault, kvPath));
    problems.push(...grantProblems([...db.grants, ...pki.grants], chosen, roles, vault));
    const namespaces = [...new Set(chosen.map((c) => c.obj.metadata.namespace))].sort();
    for (const c of chosen.filter((x, i, a) => a.findIndex((y) => y.auth === x.auth) === i)) {
        const ns = c.auth.metadata.namespace;
        if (String(c.auth.spec?.kubernetes?.serviceAccount ?? "default") === "default") {
            problems.push({
                what: `VaultAuth ${ns}/${c.auth.metadata.name} logs in as the namespace's default ServiceAccount, which every pod in ${ns} runs as`,
                fix: "the convention step moves it to a dedicated vso-auth ServiceAccount (no pod runs as it)",
            });
        }
    }
    const existingNames = new Set([...Object.keys(vault.policies), ...Object.keys(vault.roles[authPath] ?? {})]);
    for (const ns of namespaces) {
        for (const n of [nameFor(DEFAULTS.roleNameTemplate, ns), nameFor(DEFAULTS.policyNameTemplate, ns)]) {
            if (existingNames.has(n) && !roles.some((r) => r.name === n) && !policies.some((p) => p.name === n)) {
                problems.push({
                    what: `${n} already exists in Vault and is not adopted; the convention step would overwrite it`,
                    fix: "set kubernetesAuth.roleNameTemplate / policyNameTemplate (e.g. pvv-{namespace}) before the convention step",
                });
            }
        }
    }
    const engineMounts = [...(db.config ? [dbPath] : []), ...(pki.config ? [pkiPath] : [])];
    unmanaged.push(
        ...unmanagedVaultObjects(
            vault,
            kvPath,
            authPath,
            policies.map((p) => p.name),
            roles.map((r) => r.name),
            {
                mounts: engineMounts,
                connections: { [dbPath]: (db.config?.connections ?? []).map((c) => String(c.name)) },
                dbRoles: { [dbPath]: db.adopted.databaseRoles },
                pkiRoles: { [pkiPath]: pki.adopted.pkiRoles.map((r) => r.name) },
            },
        ),
    );
    if (pki.config) {
        unmanaged.push({
            kind: "PKI CA",
            name: `${pkiPath} (its issuers and keys)`,
            why: 'the Vault provider cannot import a CA, so pki.ca.type is "existing": the stack issues from the mount\'s CA but never creates, rotates or deletes one; renew it yourself before it expires',
        });
    }
    const usedConnections = new Set(chosen.map((c) => `${c.connection.metadata.namespace}/${c.connection.metadata.name}`));
    const usedAuths = new Set(chosen.map((c) => `${c.auth.metadata.namespace}/${c.auth.metadata.name}`));
    for (const [kind, list, used] of [
        ["VaultConnection", cluster.connections, usedConnections],
        ["VaultAuth", cluster.auths, usedAuths],
    ] as const) {
        for (const o of list) {
            if (!used.has(`${o.metadata.namespace}/${o.metadata.name}`)) {
                unmanaged.push({ kind, name: o.metadata.name, namespace: o.metadata.namespace, why: "no adopted object uses it; left as it is" });
            }
        }
    }
    for (const o of cluster.others) {
        unmanaged.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, why: `the package does not manage ${o.kind}s; left as it is` });
    }
    // an object left as it is that logs in through an adopted VaultAuth loses its login at the convention step
    const allObjects = [...cluster.staticSecrets, ...(cluster.dynamicSecrets ?? []), ...(cluster.pkiSecrets ?? []), ...cluster.others];
    for (const u of unmanaged) {
        const o = allObjects.find((x) => x.metadata.name === u.name && x.metadata.namespace === u.namespace && (x.kind === u.kind || !x.kind));
        const ref = String(o?.spec?.vaultAuthRef ?? "");
        if (o && u.namespace && usedAuths.has(`${u.namespace}/${ref}`)) {
            u.why += `. It uses the adopted VaultAuth ${ref}, whose role and ServiceAccount the convention step changes: give it its own VaultAuth first`;
        }
    }
    const connections = chosen.map((c) => c.connection);
    const address = String(connections[0]?.spec?.address ?? opts.vaultAddr);
    for (const c of connections.filter((x, i, a) => a.indexOf(x) === i)) {
        if (String(c.spec?.address ?? "") !== address) {
            problems.push({
                what: `VaultConnection ${c.metadata.namespace}/${c.metadata.name} points at ${c.spec?.address}, the others at ${address}`,
                fix: `the convention step points every VaultConnection at ${address} (vault.address)`,
            });
        }
    }
    if (/^http:/i.test(address)) {
        problems.push({
            what: `VSO reaches Vault over plain http (${address}): ServiceAccount tokens and secrets cross the network unencrypted`,
            fix: "fine inside one cluster you trust; otherwise serve Vault over TLS and set vault.address to https:// (vault.allowInsecureHttp is set so the config matches what runs)",
        });
    }
    if (!chosen.length) {
        errors.push(
            "no VaultStaticSecret, VaultDynamicSecret or VaultPKISecret could be adopted (see the unmanaged list for why): there is nothing to take over",
        );
    }
    if (errors.length) {
        return { errors, imports: [], problems, unmanaged, firstUpChanges: [], commands: [] };
    }
    const authConfig = vault.authConfigs[authPath];
    const adoptedOf = (kind: VsoKind) => chosen.filter((c) => c.kind === kind).map((c) => adoptedObject(c.obj));
    const adopted: AdoptedSetup = {
        kvMount: vault.mounts[`${kvPath}/`] !== undefined,
        authMount: true,
        ...(authConfig && authConfig.kubernetes_host
            ? {
                  authConfig: {
                      kubernetesHost: String(authConfig.kubernetes_host),
                      ...(authConfig.kubernetes_ca_cert ? { kubernetesCaCert: String(authConfig.kubernetes_ca_cert) } : {}),
                      disableIssValidation: authConfig.disable_iss_validation === true,
                      disableLocalCaJwt: authConfig.disable_local_ca_jwt === true,
                      ...(authConfig.issuer ? { issuer: String(authConfig.issuer) } : {}),
                  },
              }
            : {}),
        policies,
        roles,
        namespaces: namespaces.map((ns) => {
            const c = chosen.find((x) => x.obj.metadata.namespace === ns)!;
            return { namespace: ns, connection: adoptedObject(c.connection), auth: adoptedObject(c.auth) };
        }),
        staticSecrets: adoptedOf("VaultStaticSecret"),
        ...(db.config
            ? {
                  databaseMount: db.adopted.databaseMount,
                  databaseConnections: db.adopted.databaseConnections,
                  databaseRoles: db.adopted.databaseRoles,
                  dynamicSecrets: adoptedOf("VaultDynamicSecret"),
              }
            : {}),
        ...(pki.config ? { pkiMount: pki.adopted.pkiMount, pkiRoles: pki.adopted.pkiRoles, pkiSecrets: adoptedOf("VaultPKISecret") } : {}),
    };
    firstUpChanges.push(...db.changes, ...pki.changes);
    const config: AdoptedConfig = {
        vault: {
            install: false,
            address,
            providerAddress: opts.vaultAddr,
            ...(/^http:/i.test(address) ? { allowInsecureHttp: true } : {}),
            ...(connections[0]?.spec?.skipTLSVerify === true ? { skipTLSVerify: true } : {}),
        },
        operator: { install: false },
        kv: { path: kvPath, protect: true },
        kubernetesAuth: { path: authPath, kubernetesHost: String(authConfig?.kubernetes_host || "https://kubernetes.default.svc.cluster.local:443") },
        apps,
        ...(db.config ? { database: db.config } : {}),
        ...(pki.config ? { pki: pki.config } : {}),
        adopted,
    };
    return {
        errors,
        config,
        imports: importSteps(adopted, kvPath, authPath, { dbPath, pkiPath, staticRoles: staticRolesOf(db.config) }),
        problems,
        unmanaged,
        firstUpChanges,
        commands: [...db.commands, ...pki.commands],
    };
}

/** The Vault names of the static roles in a database section (pure). */
function staticRolesOf(d: AdoptedDatabaseConfig | undefined): string[] {
    // (adopt always writes roleName for the roles it takes over)
    return (d?.roles ?? []).filter((r) => r.kind === "static" && r.roleName !== undefined).map((r) => String(r.roleName));
}

/**
 * Whether each adopted VaultDynamicSecret / VaultPKISecret can do what it needs with its VaultAuth's
 * role's policies: read its credential path or update its issue path, and renew its leases (pure).
 */
function grantProblems(grants: EngineGrant[], chosen: Chain[], roles: AdoptedRole[], vault: LiveVault): AdoptionProblem[] {
    const problems: AdoptionProblem[] = [];
    for (const g of grants) {
        const c = chosen.find((x) => x.obj === (g.object as LiveObject));
        if (!c) {
            continue;
        }
        const roleName = String(c.auth.spec?.kubernetes?.role ?? "");
        const role = roles.find((r) => r.name === roleName);
        const names = role?.tokenPolicies ?? [];
        const texts = names.filter((p) => p !== "root").map((p) => vault.policies[p] ?? "");
        if (names.includes("root")) {
            continue;
        }
        const what = `${c.kind} ${c.obj.metadata.namespace}/${c.obj.metadata.name}`;
        if (!policiesGrant(texts, g.path, g.capability)) {
            problems.push({
                what: `${what}: its VaultAuth's role ${roleName} has no policy granting ${g.capability} on ${g.path} (policies: ${names.join(", ") || "none"}), so VSO's ${g.capability === "read" ? "read" : "issue"} is refused (403)`,
                fix: `the convention step's policy for ${c.obj.metadata.namespace} grants exactly ${g.path}; to fix it now: add path "${g.path}" { capabilities = ["${g.capability}"] } to ${names[0] ?? "a policy of the role"}`,
            });
        }
        if (g.leases && !policiesGrant(texts, "sys/leases/renew", "update")) {
            problems.push({
                what: `${what}: its VaultAuth's role ${roleName} may not renew leases (update on sys/leases/renew), so VSO takes a new database user at every renewal`,
                fix: "the convention step's policy grants sys/leases/renew and sys/leases/revoke",
            });
        }
    }
    return problems;
}

/** What the first `up` imports, in order (pure). */
export function importSteps(
    a: AdoptedSetup,
    kvPath: string,
    authPath: string,
    engines: { dbPath?: string; pkiPath?: string; staticRoles?: string[] } = {},
): ImportStep[] {
    const steps: ImportStep[] = [];
    if (a.kvMount) {
        steps.push({ type: "vault:index/mount:Mount", what: `KV v2 mount ${kvPath}`, id: kvPath });
    }
    if (a.authMount) {
        steps.push({ type: "vault:index/authBackend:AuthBackend", what: `auth mount ${authPath}`, id: authPath });
    }
    if (a.authConfig) {
        steps.push({ type: "vault:kubernetes/authBackendConfig:AuthBackendConfig", what: `auth config of ${authPath}`, id: `auth/${authPath}/config` });
    }
    for (const p of a.policies ?? []) {
        steps.push({ type: "vault:index/policy:Policy", what: `policy ${p.name}`, id: p.name });
    }
    for (const r of a.roles ?? []) {
        steps.push({ type: "vault:kubernetes/authBackendRole:AuthBackendRole", what: `role ${r.name}`, id: `auth/${authPath}/role/${r.name}` });
    }
    const k8sType = (kind: string) => `kubernetes:${VSO_API_VERSION}:${kind}`;
    for (const n of a.namespaces ?? []) {
        steps.push({
            type: k8sType("VaultConnection"),
            what: `VaultConnection ${n.namespace}/${n.connection.name}`,
            id: `${n.namespace}/${n.connection.name}`,
        });
        steps.push({ type: k8sType("VaultAuth"), what: `VaultAuth ${n.namespace}/${n.auth.name}`, id: `${n.namespace}/${n.auth.name}` });
    }
    for (const s of a.staticSecrets ?? []) {
        steps.push({ type: k8sType("VaultStaticSecret"), what: `VaultStaticSecret ${s.namespace}/${s.name}`, id: `${s.namespace}/${s.name}` });
    }
    const db = engines.dbPath ?? "database";
    if (a.databaseMount) {
        steps.push({ type: "vault:index/mount:Mount", what: `database mount ${db}`, id: db });
    }
    for (const c of a.databaseConnections ?? []) {
        steps.push({
            type: "vault:database/secretBackendConnection:SecretBackendConnection",
            what: `database connection ${c.name} (then written again with its password)`,
            id: `${db}/config/${c.name}`,
        });
    }
    for (const r of a.databaseRoles ?? []) {
        const isStatic = (engines.staticRoles ?? []).includes(r);
        steps.push({
            type: isStatic ? "vault:database/secretBackendStaticRole:SecretBackendStaticRole" : "vault:database/secretBackendRole:SecretBackendRole",
            what: `database ${isStatic ? "static role" : "role"} ${r}`,
            id: `${db}/${isStatic ? "static-roles" : "roles"}/${r}`,
        });
    }
    for (const s of a.dynamicSecrets ?? []) {
        steps.push({ type: k8sType("VaultDynamicSecret"), what: `VaultDynamicSecret ${s.namespace}/${s.name}`, id: `${s.namespace}/${s.name}` });
    }
    const pki = engines.pkiPath ?? "pki";
    if (a.pkiMount) {
        steps.push({ type: "vault:index/mount:Mount", what: `PKI mount ${pki} (its CA stays outside the stack)`, id: pki });
    }
    for (const r of a.pkiRoles ?? []) {
        steps.push({ type: "vault:pkiSecret/secretBackendRole:SecretBackendRole", what: `PKI role ${r.name}`, id: `${pki}/roles/${r.name}` });
    }
    for (const s of a.pkiSecrets ?? []) {
        steps.push({ type: k8sType("VaultPKISecret"), what: `VaultPKISecret ${s.namespace}/${s.name}`, id: `${s.namespace}/${s.name}` });
    }
    return steps;
}

/** Formats the report adopt prints (pure): what it writes, the imports, the problems with their fixes, the unmanaged rest. */
export function formatAdoptionReport(plan: AdoptionPlan, written?: string): string {
    const lines: string[] = [];
    if (plan.errors.length) {
        lines.push("adopt: nothing written:", ...plan.errors.map((e) => `  - ${e}`));
    } else {
        const c = plan.config!;
        const counts = [
            `${c.apps.length} app(s)`,
            ...(c.database ? [`${c.database.roles.length} database credential(s)`] : []),
            ...(c.pki ? [`${c.pki.certificates.length} certificate(s)`] : []),
        ];
        lines.push(`adopted ${counts.join(", ")}${written ? `; stack config written to ${written}` : ""}`);
        lines.push(
            "",
            `the first pulumi up imports (and changes nothing${plan.firstUpChanges.length ? " but what is listed after" : ""}):`,
            ...plan.imports.map((s) => `  import ${s.what}  (id ${s.id})`),
        );
        if (plan.firstUpChanges.length) {
            lines.push("", "the first pulumi up also changes (no import can match these as they are):", ...plan.firstUpChanges.map((x) => `  - ${x}`));
        }
        if (plan.commands.length) {
            lines.push(
                "",
                "before pulumi preview, set each connection's password (pulumi prompts for it; adopt never reads, prints or stores one):",
                ...plan.commands.map((x) => `  ${x}`),
            );
        }
    }
    if (plan.problems.length) {
        lines.push("", "problems found:", ...plan.problems.flatMap((p) => [`  - ${p.what}`, `    fix: ${p.fix}`]));
    }
    if (plan.unmanaged.length) {
        lines.push(
            "",
            "not managed by the stack (left as they are):",
            ...plan.unmanaged.map((u) => `  - ${u.kind} ${u.namespace ? `${u.namespace}/` : ""}${u.name}: ${u.why}`),
        );
    }
    if (!plan.errors.length) {
        lines.push(
            "",
            "next: pulumi preview (only imports), pulumi up; then the convention step: pulumi config rm adopted, pulumi preview, pulumi up (see docs/adopt.md)",
        );
    }
    return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Reading (the only part that talks to Vault and Kubernetes)

/** An error adopt stops on, with the fix (exit 1, nothing written). */
export class AdoptError extends Error {}

async function vaultGet(addr: string, token: string, path: string, what: string, list = false): Promise<any> {
    let r;
    try {
        r = await vaultRequest(addr, token, list ? "LIST" : "GET", path);
    } catch (e) {
        throw new AdoptError(`cannot reach Vault at ${addr}: ${sanitizeText((e as Error).message)}; check --vault-addr / VAULT_ADDR (a port-forward?)`);
    }
    if (r.status === 404 && list) {
        return { keys: [] };
    }
    if (r.status === 403) {
        throw new AdoptError(
            `the token cannot read ${what} (GET ${path}: permission denied): adopt needs a token that may read sys/mounts, sys/auth, sys/policies/acl and auth/<path>/role (e.g. an admin token; set VAULT_TOKEN)`,
        );
    }
    if (r.status !== 200) {
        throw new AdoptError(`reading ${what} from Vault failed (${path}): ${sanitizeText(vaultErrors(r))}`);
    }
    return r.body?.data ?? {};
}

/**
 * Reads what Vault holds: mounts, auth mounts and the Kubernetes ones' config and roles, ACL policies,
 * and each database mount's connections and roles and each PKI mount's roles (never a credential,
 * password or key: `creds/`, `static-creds/` and `issue/` are never called).
 */
export async function readLiveVault(addr: string, token: string): Promise<LiveVault> {
    const mounts = await vaultGet(addr, token, "sys/mounts", "the secrets mounts");
    const authMounts = await vaultGet(addr, token, "sys/auth", "the auth mounts");
    const names: string[] = (await vaultGet(addr, token, "sys/policies/acl", "the ACL policies", true)).keys ?? [];
    const policies: Record<string, string> = {};
    for (const n of names) {
        policies[n] = String((await vaultGet(addr, token, `sys/policies/acl/${encodeURIComponent(n)}`, `policy ${n}`)).policy ?? "");
    }
    const authConfigs: Record<string, Record<string, any>> = {};
    const roles: Record<string, Record<string, Record<string, any>>> = {};
    for (const [p, m] of Object.entries(authMounts as Record<string, { type: string }>)) {
        if (m.type !== "kubernetes") {
            continue;
        }
        const path = trimSlash(p);
        const cfg = await vaultRequest(addr, token, "GET", `auth/${path}/config`);
        authConfigs[path] = cfg.status === 200 ? (cfg.body?.data ?? {}) : {};
        roles[path] = {};
        for (const r of (await vaultGet(addr, token, `auth/${path}/role`, `the roles of auth/${path}`, true)).keys ?? []) {
            roles[path][r] = await vaultGet(addr, token, `auth/${path}/role/${encodeURIComponent(r)}`, `role ${r}`);
        }
    }
    const databases: Record<string, LiveDatabaseMount> = {};
    const pkis: Record<string, LivePkiMount> = {};
    for (const [p, m] of Object.entries(mounts as Record<string, LiveMountInfo>)) {
        const path = trimSlash(p);
        if (m.type === "database") {
            databases[path] = await readDatabaseMount(addr, token, path);
        } else if (m.type === "pki") {
            pkis[path] = await readPkiMount(addr, token, path);
        }
    }
    return { mounts, authMounts, authConfigs, policies, roles, databases, pkis };
}

/**
 * A read that may be refused: its data, or why not (`LIST database/roles: permission denied`). Only
 * an unreachable Vault throws. (adopt's token need not read every engine; what it cannot read is a problem line.)
 */
async function vaultTry(addr: string, token: string, method: "GET" | "LIST", path: string): Promise<{ data: any } | { error: string }> {
    let r;
    try {
        r = await vaultRequest(addr, token, method, path);
    } catch (e) {
        throw new AdoptError(`cannot reach Vault at ${addr}: ${sanitizeText((e as Error).message)}; check --vault-addr / VAULT_ADDR (a port-forward?)`);
    }
    if (r.status === 404 && method === "LIST") {
        return { data: { keys: [] } };
    }
    if (r.status !== 200) {
        return { error: `${method} ${path}: ${r.status === 403 ? "permission denied" : sanitizeText(vaultErrors(r))}` };
    }
    return { data: r.body?.data ?? {} };
}

/** Only these fields of what Vault returns are kept (never a password, a key or a certificate). */
function pick(o: Record<string, any>, fields: string[]): Record<string, any> {
    return Object.fromEntries(fields.filter((f) => o?.[f] !== undefined).map((f) => [f, o[f]]));
}

const DB_CONNECTION_FIELDS = [
    "plugin_name",
    "allowed_roles",
    "verify_connection",
    "password_policy",
    "root_credentials_rotate_statements",
    "root_rotation_statements",
];
const DB_CONNECTION_DETAILS = [
    "connection_url",
    "username",
    "max_open_connections",
    "max_idle_connections",
    "max_connection_lifetime",
    "username_template",
    "password_authentication",
    "disable_escaping",
];
/** TLS material of a connection: only whether it is set is kept, never the value. */
const DB_CONNECTION_TLS = ["private_key", "tls_ca", "tls_certificate"];
const DB_ROLE_FIELDS = ["db_name", "creation_statements", "revocation_statements", "renew_statements", "rollback_statements", "default_ttl", "max_ttl"];
const DB_STATIC_ROLE_FIELDS = ["db_name", "username", "rotation_period", "rotation_statements", "rotation_schedule"];
const PKI_ROLE_FIELDS = [
    "allowed_domains",
    "allow_bare_domains",
    "allow_subdomains",
    "allow_glob_domains",
    "allow_wildcard_certificates",
    "allow_any_name",
    "allow_ip_sans",
    "allow_localhost",
    "enforce_hostnames",
    "server_flag",
    "client_flag",
    "key_type",
    "key_bits",
    "key_usage",
    "ttl",
    "max_ttl",
    "no_store",
    "generate_lease",
    "require_cn",
    "use_csr_common_name",
    "use_csr_sans",
    "ext_key_usage",
    "ou",
    "organization",
    "country",
    "locality",
    "province",
    "street_address",
    "postal_code",
    "allowed_uri_sans",
    "allowed_other_sans",
    "code_signing_flag",
    "email_protection_flag",
    "basic_constraints_valid_for_non_ca",
    "allowed_domains_template",
    "allowed_serial_numbers",
    "policy_identifiers",
];

/** Lists `<mount>/<dir>` and reads each entry, keeping `fields` (pure apart from the reads). */
async function readEntries(
    addr: string,
    token: string,
    mount: string,
    dir: string,
    fields: string[],
    unreadable: string[],
): Promise<Record<string, Record<string, any>>> {
    const out: Record<string, Record<string, any>> = {};
    const listed = await vaultTry(addr, token, "LIST", `${mount}/${dir}`);
    if ("error" in listed) {
        unreadable.push(listed.error);
        return out;
    }
    const keys = listed.data?.keys ?? [];
    if (!Array.isArray(keys)) {
        unreadable.push(`LIST ${mount}/${dir}: the answer's keys is not a list`);
        return out;
    }
    for (const n of keys.filter((k): k is string => typeof k === "string" && k !== "")) {
        const got = await vaultTry(addr, token, "GET", `${mount}/${dir}/${encodeURIComponent(n)}`);
        if ("error" in got) {
            unreadable.push(got.error);
            continue;
        }
        out[n] = pick(got.data, fields);
        if (dir === "config") {
            const details = got.data.connection_details ?? {};
            out[n].connection_details = pick(details, DB_CONNECTION_DETAILS);
            // (whether it is set, the value dropped here)
            const tls = DB_CONNECTION_TLS.filter((f) => typeof details[f] === "string" && details[f] !== "");
            if (tls.length) {
                out[n].tls_set = tls;
            }
        }
    }
    return out;
}

/** A database mount's connections (Vault never returns their password), roles and static roles; never `creds/` or `static-creds/`. */
async function readDatabaseMount(addr: string, token: string, mount: string): Promise<LiveDatabaseMount> {
    const unreadable: string[] = [];
    const connections = await readEntries(addr, token, mount, "config", DB_CONNECTION_FIELDS, unreadable);
    const roles = await readEntries(addr, token, mount, "roles", DB_ROLE_FIELDS, unreadable);
    const staticRoles = await readEntries(addr, token, mount, "static-roles", DB_STATIC_ROLE_FIELDS, unreadable);
    return { connections, roles, staticRoles, unreadable };
}

/** A PKI mount's roles; never `issue/`, a certificate or a key. */
async function readPkiMount(addr: string, token: string, mount: string): Promise<LivePkiMount> {
    const unreadable: string[] = [];
    const roles = await readEntries(addr, token, mount, "roles", PKI_ROLE_FIELDS, unreadable);
    return { roles, unreadable };
}

const VSO_BASE = `/apis/${VSO_API_VERSION}`;
const OTHER_KINDS: [string, string][] = [["hcpvaultsecretsapps", "HCPVaultSecretsApp"]];

async function listVso(kube: KubeTarget, plural: string, required: boolean): Promise<LiveObject[]> {
    let r;
    try {
        r = await kubeRequest(kube, "GET", `${VSO_BASE}/${plural}`);
    } catch (e) {
        throw new AdoptError(`cannot reach the Kubernetes API at ${kube.server}: ${sanitizeText((e as Error).message)}; check --kubeconfig / KUBECONFIG`);
    }
    if (r.status === 404) {
        if (required) {
            throw new AdoptError(
                `the cluster has no ${plural} (VSO's CRDs are not installed): install the Vault Secrets Operator first; there is nothing to adopt without it`,
            );
        }
        return [];
    }
    if (r.status !== 200) {
        throw new AdoptError(`listing ${plural} failed: HTTP ${r.status} ${sanitizeText(r.text)} (the kubeconfig's user needs list on secrets.hashicorp.com)`);
    }
    return (r.body?.items ?? []) as LiveObject[];
}

/** Reads VSO's objects and the key names of the Secrets the VaultStaticSecrets write (values discarded at once). */
export async function readLiveCluster(kube: KubeTarget): Promise<LiveCluster> {
    const staticSecrets = await listVso(kube, "vaultstaticsecrets", true);
    const auths = await listVso(kube, "vaultauths", true);
    const connections = await listVso(kube, "vaultconnections", true);
    // the Secrets these two write (passwords, private keys) are never read
    const dynamicSecrets = (await listVso(kube, "vaultdynamicsecrets", false)).map((o) => ({ ...o, kind: "VaultDynamicSecret" }));
    const pkiSecrets = (await listVso(kube, "vaultpkisecrets", false)).map((o) => ({ ...o, kind: "VaultPKISecret" }));
    const others: LiveObject[] = [];
    for (const [plural, kind] of OTHER_KINDS) {
        others.push(...(await listVso(kube, plural, false)).map((o) => ({ ...o, kind })));
    }
    const secretKeys: Record<string, string[]> = {};
    for (const s of staticSecrets) {
        const ns = s.metadata.namespace;
        const dest = String(s.spec?.destination?.name ?? s.metadata.name);
        const r = await kubeRequest(kube, "GET", `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(dest)}`);
        if (r.status === 200) {
            // key names only: the values in the response are dropped here and never kept or printed
            secretKeys[`${ns}/${dest}`] = Object.keys(r.body?.data ?? {});
        }
    }
    return { connections, auths, staticSecrets, dynamicSecrets, pkiSecrets, others: others.map((o) => ({ ...o, kind: o.kind })), secretKeys };
}
