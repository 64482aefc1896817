/**
 * The doctor: for each namespace, do what VSO will do — find each VaultStaticSecret's VaultAuth and
 * VaultConnection in the same namespace, get a token for the VaultAuth's ServiceAccount (TokenRequest),
 * log in to Vault with its role, read the app's path and compare the key names found with the ones
 * declared. Values are never printed or kept. Reports ok, or the exact failure and its fix.
 *
 * What it prints is bounded and sanitised (servers' error bodies are untrusted), and it never sends a
 * ServiceAccount token in clear text to an address it only read from the cluster.
 */
import {
    HttpResult,
    KubeTarget,
    inClusterServiceOf,
    kubeRequest,
    redactUrl,
    sameVaultAddress,
    sanitizeText,
    vaultErrors,
    vaultRequest,
    vaultRequestViaKube,
} from "./clients";
import { DNS1123_LABEL, DNS1123_SUBDOMAIN } from "../components/config/validate";
import { quoteArg } from "./drift";
import type { PlatformInventory } from "../components/config/inventory";
import { KEYS_ANNOTATION, VSO_API_VERSION } from "../components/config/vso-types";

const vaultRequestDirect = vaultRequest;

export type DoctorStep = "vaultauth" | "connection" | "token" | "login" | "read" | "keys" | "creds" | "ok";

export interface DoctorCheck {
    namespace: string;
    /** The VaultStaticSecret (or VaultDynamicSecret, see `kind`) checked. */
    app: string;
    /** Set for a VaultDynamicSecret (database credentials); absent for a VaultStaticSecret. */
    kind?: "VaultDynamicSecret";
    ok: boolean;
    /** Where it failed (or "ok"). */
    step: DoctorStep;
    /** What happened, e.g. Vault's own error (sanitised, bounded). Never contains secret values. */
    message: string;
    /** How to fix it. */
    fix?: string;
    /** Key names found (names only). */
    keysFound?: string[];
}

export interface DoctorReport {
    ok: boolean;
    checks: DoctorCheck[];
}

/** Where the doctor may send a ServiceAccount token. */
export interface DoctorVaultTrust {
    /** Vault address to use instead of each VaultConnection's (e.g. a port-forward). Default: the VaultConnection's. */
    vaultAddr?: string;
    /**
     * The Vault address the stack configured (its `vaultAddress` output). A VaultConnection pointing
     * elsewhere was changed outside Pulumi: it gets no token, and the check fails with the fix.
     */
    stackVaultAddr?: string;
    /**
     * Addresses the user names as their Vault (`--trust-vault-addr`): a VaultConnection whose address is
     * one of these is used as it is (an in-cluster Service through the API server's proxy). Default:
     * `$VAULT_ADDR` when set.
     */
    trustedVaultAddrs?: string[];
    /**
     * Send tokens to whatever address a VaultConnection names, plain http included, without the
     * address being the stack's or a trusted one. Default false: anyone who can edit a VaultConnection
     * would otherwise receive a ServiceAccount token when an admin runs the doctor.
     */
    allowInsecureVault?: boolean;
}

export interface DoctorOptions extends DoctorVaultTrust {
    kube: KubeTarget;
    /** Namespaces to check (Kubernetes namespace names; anything else is rejected before any request). */
    namespaces: string[];
    /** Declared keys by `namespace/app`; default: the VaultStaticSecret's `vault-vso.pulumi.io/keys` annotation. */
    declaredKeys?: Record<string, string[]>;
    /**
     * The stack's inventory (`--stack`). A VaultAuth in one of its namespaces that names another
     * ServiceAccount, role, auth mount or audience than the stack created was changed outside Pulumi:
     * the doctor mints no token for it. Default: none (the cluster's objects are used as they are).
     */
    inventory?: PlatformInventory;
}

/** The repair of anything the stack manages: a plain `up` trusts the recorded state and would not see an out-of-band change. */
const REFRESH_HINT = "run pulumi up --refresh to restore what the stack manages (a plain pulumi up trusts its recorded state and repairs nothing)";
/** Longest part of a message taken from a server. */
const SERVER_TEXT_MAX = 300;
/** Longest message or fix printed. */
const MESSAGE_MAX = 1000;

/** Turns a Vault login error into a cause and a fix (pure). */
export function explainLoginError(err: string, ctx: { namespace: string; serviceAccount: string; role: string; mount: string }): string {
    if (/vault is sealed|\bsealed\b/i.test(err)) {
        return (
            "Vault is sealed, so no login or read works. A durable Vault installed by this package unseals itself within seconds " +
            "(the unsealer sidecar): check kubectl -n <vault namespace> logs <vault pod> -c unsealer, and that the keys Secret (vault-unseal-keys) exists. " +
            "A dev-mode Vault is never sealed: a sealed one is not the dev Vault. Lost unseal keys cannot be recovered: the data is gone (restore a raft snapshot, or delete the PVCs and start over)"
        );
    }
    if (/namespace not authorized/i.test(err)) {
        return `the role ${JSON.stringify(ctx.role)} does not bind namespace ${JSON.stringify(ctx.namespace)}: set its bound_service_account_namespaces to exactly ${JSON.stringify(ctx.namespace)} (no quotes; a UI-entered "*" is stored literally) — run pulumi up --refresh to restore it (a plain pulumi up repairs nothing)`;
    }
    if (/service account name not authorized/i.test(err)) {
        return `the role ${JSON.stringify(ctx.role)} does not bind ServiceAccount ${JSON.stringify(ctx.serviceAccount)}: set bound_service_account_names to ${JSON.stringify(ctx.serviceAccount)} — ${REFRESH_HINT}`;
    }
    if (/invalid role name/i.test(err)) {
        return `Vault has no role ${JSON.stringify(ctx.role)} on auth/${ctx.mount}: if the stack manages it, run pulumi up --refresh to recreate it; otherwise create it (VaultNamespaceAccess) or fix VaultAuth.spec.kubernetes.role`;
    }
    if (/aud|audience/i.test(err)) {
        return `the token's audience does not match the role's audience: make VaultAuth.spec.kubernetes.audiences include the role's audience — ${REFRESH_HINT}`;
    }
    if (/permission denied/i.test(err) || /no handler|unsupported path/i.test(err)) {
        return `the Kubernetes auth method at auth/${ctx.mount} is missing or cannot verify tokens: check vault auth list, and the config's kubernetes_host, CA and token reviewer JWT (the reviewer needs system:auth-delegator) — ${REFRESH_HINT}`;
    }
    return `check the role and the auth method's config — ${REFRESH_HINT}`;
}

/**
 * Why the doctor will not send a ServiceAccount token to a VaultConnection's address, or undefined
 * when it may (pure). An address the user gave (--vault-addr) is always used. Otherwise the address
 * comes from a cluster object, which anyone with edit rights in the namespace can point at a server of
 * theirs (https or an in-cluster Service of theirs as easily as plain http): it must be the stack's
 * own (`--stack`), an address the user names (`trustedVaultAddrs`: --trust-vault-addr, default
 * $VAULT_ADDR), or the user opts out with `allowInsecureVault`.
 */
export function vaultAddressProblem(
    address: string,
    conn: { namespace: string; name: string },
    trust: DoctorVaultTrust,
): { message: string; fix: string } | undefined {
    if (trust.vaultAddr !== undefined) {
        return undefined;
    }
    const shown = JSON.stringify(sanitizeText(redactUrl(address), 200));
    const what = `VaultConnection ${conn.namespace}/${conn.name}`;
    let u: URL | undefined;
    try {
        u = new URL(address);
    } catch {
        u = undefined;
    }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
        return {
            message: `${what} has the address ${shown}, which is not an http(s) URL`,
            fix: `set its spec.address to Vault's URL (${REFRESH_HINT}), or pass --vault-addr URL`,
        };
    }
    if (u.username !== "" || u.password !== "") {
        return { message: `${what} embeds credentials in its address ${shown}`, fix: `remove user:password@ from its spec.address (${REFRESH_HINT})` };
    }
    if (trust.stackVaultAddr !== undefined && !sameVaultAddress(address, trust.stackVaultAddr)) {
        return {
            message: `${what} points at ${shown}, not at the stack's Vault ${JSON.stringify(redactUrl(trust.stackVaultAddr))}: it was changed outside Pulumi, so the doctor sends no ServiceAccount token there`,
            fix: `${REFRESH_HINT}; or pass --vault-addr URL to check against a Vault you trust`,
        };
    }
    const trusted = [...(trust.trustedVaultAddrs ?? [process.env.VAULT_ADDR ?? ""]), trust.stackVaultAddr ?? ""].filter(Boolean);
    if (trusted.some((t) => sameVaultAddress(address, t)) || trust.allowInsecureVault) {
        return undefined;
    }
    const how = u.protocol === "http:" && !inClusterServiceOf(address) ? "plain http (no TLS) to an address" : "an address";
    return {
        message: `${what} points at ${shown}: ${how} read from the cluster that neither the stack nor you named, so the doctor does not send a ServiceAccount token there`,
        fix: `use --stack NAME to check against the stack's address; or, if it is your Vault, pass --trust-vault-addr ${shown} (or set VAULT_ADDR to it), or --vault-addr URL to reach it directly; --allow-insecure-vault sends the token to any address`,
    };
}

/**
 * Why the doctor will not mint a token for a VaultAuth in a namespace of the stack's inventory, or
 * undefined when it logs in exactly as the stack set up (pure).
 */
export function loginTargetProblem(
    t: { mount: string; role: string; sa: string; audiences: string[] },
    ns: string,
    inventory: PlatformInventory | undefined,
): string | undefined {
    const want = inventory?.namespaces.find((n) => n.namespace === ns);
    if (!inventory || !want) {
        return undefined;
    }
    const diffs: string[] = [];
    if (t.sa !== want.serviceAccount) {
        diffs.push(`serviceAccount ${JSON.stringify(t.sa)} (the stack's: ${JSON.stringify(want.serviceAccount)})`);
    }
    if (t.role !== want.role) {
        diffs.push(`role ${JSON.stringify(t.role)} (the stack's: ${JSON.stringify(want.role)})`);
    }
    if (t.mount !== inventory.authPath) {
        diffs.push(`mount ${JSON.stringify(t.mount)} (the stack's: ${JSON.stringify(inventory.authPath)})`);
    }
    // one audience, or an adopted VaultAuth's several (comma-separated, sorted)
    const wantAud = want.audience === undefined ? undefined : want.audience === "" ? [] : want.audience.split(",").sort();
    if (wantAud !== undefined && JSON.stringify([...t.audiences].sort()) !== JSON.stringify(wantAud)) {
        diffs.push(`audiences ${JSON.stringify(t.audiences)} (the stack's: ${JSON.stringify(wantAud)})`);
    }
    return diffs.length ? diffs.join(", ") : undefined;
}

type Fail = (step: DoctorStep, message: string, fix: string) => DoctorCheck;
type VaultCall = (token: string | undefined, method: string, path: string, body?: unknown) => Promise<HttpResult>;

/** What one VaultStaticSecret or VaultDynamicSecret (`kind`, for the messages) logs in with, from its VaultAuth and VaultConnection. */
interface LoginTarget {
    mount: string;
    role: string;
    sa: string;
    audiences: string[];
    connName: string;
    connAddress: string;
}

/** A Vault path read from a cluster object: no empty, `.` or `..` segment, no query, fragment or escape. */
function unsafeVaultPath(p: unknown): boolean {
    return typeof p !== "string" || p === "" || /[?#%\\\s]/.test(p) || p.split("/").some((s) => s === "." || s === "..");
}

function unsafeName(n: unknown): boolean {
    return typeof n !== "string" || n.length > 253 || !DNS1123_SUBDOMAIN.test(n);
}

async function findLoginTarget(opts: DoctorOptions, ns: string, vss: any, kind: string, fail: Fail): Promise<LoginTarget | DoctorCheck> {
    const ref = String(vss.spec?.vaultAuthRef ?? "default");
    if (ref.includes("/") && ref.split("/")[0] !== ns) {
        return fail(
            "vaultauth",
            `vaultAuthRef ${JSON.stringify(ref)} points at a VaultAuth in namespace ${JSON.stringify(ref.split("/")[0])}`,
            `VaultAuth must be in the same namespace as the ${kind}: create one in ${JSON.stringify(ns)} (VsoNamespaceAccess) and set vaultAuthRef to its name`,
        );
    }
    const authName = ref.includes("/") ? ref.split("/")[1] : ref;
    if (unsafeName(authName)) {
        return fail("vaultauth", `vaultAuthRef ${JSON.stringify(ref)} is not a Kubernetes object name`, "set spec.vaultAuthRef to the VaultAuth's name");
    }
    const authRes = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultauths/${authName}`);
    if (authRes.status === 404) {
        return fail(
            "vaultauth",
            `VaultAuth ${JSON.stringify(authName)} not found in namespace ${JSON.stringify(ns)}`,
            `create the VaultAuth and VaultConnection in ${JSON.stringify(ns)} — they must be in the workload's namespace, not Vault's or VSO's (if the stack created them, run pulumi up --refresh to recreate them)`,
        );
    }
    if (authRes.status !== 200) {
        return fail("vaultauth", `reading VaultAuth ${ns}/${authName}: HTTP ${authRes.status}`, "check the kubeconfig's permissions");
    }
    const k = authRes.body?.spec?.kubernetes ?? {};
    const t = {
        mount: String(authRes.body?.spec?.mount ?? "kubernetes"),
        role: String(k.role ?? ""),
        sa: String(k.serviceAccount ?? "default"),
        audiences: Array.isArray(k.audiences) ? (k.audiences as unknown[]).map(String) : [],
        connName: String(authRes.body?.spec?.vaultConnectionRef ?? "default"),
    };
    if (unsafeVaultPath(t.mount) || unsafeName(t.sa) || unsafeName(t.connName) || !t.role || /[\\/?#%]/.test(t.role)) {
        return fail(
            "vaultauth",
            `VaultAuth ${ns}/${authName} has an unusable mount, role, serviceAccount or vaultConnectionRef`,
            `fix its spec (${REFRESH_HINT})`,
        );
    }
    const connRes = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultconnections/${t.connName}`);
    if (connRes.status !== 200) {
        return fail(
            "connection",
            `VaultConnection ${JSON.stringify(t.connName)} not found in namespace ${JSON.stringify(ns)} (HTTP ${connRes.status})`,
            `create it in ${JSON.stringify(ns)} next to the VaultAuth (if the stack created it, run pulumi up --refresh to recreate it)`,
        );
    }
    return { ...t, connAddress: String(connRes.body?.spec?.address ?? "") };
}

/**
 * How to reach Vault for one VaultConnection: --vault-addr replaces only the address (e.g. a
 * port-forward to an in-cluster Vault); an in-cluster address is reached through the API server's
 * Service proxy, as Pulumi does.
 */
function vaultRoute(opts: DoctorOptions, address: string): { call: VaultCall; where: string } {
    const addr = opts.vaultAddr ?? address;
    const inCluster = opts.vaultAddr === undefined ? inClusterServiceOf(addr) : undefined;
    const shown = redactUrl(addr);
    if (inCluster) {
        return { call: (t, m, p, b) => vaultRequestViaKube(opts.kube, inCluster, t, m, p, b), where: `${shown} (through the API server's Service proxy)` };
    }
    return { call: (t, m, p, b) => vaultRequestDirect(addr, t, m, p, b), where: shown };
}

async function mintToken(opts: DoctorOptions, ns: string, t: LoginTarget, fail: Fail): Promise<string | DoctorCheck> {
    const tr = await kubeRequest(opts.kube, "POST", `/api/v1/namespaces/${ns}/serviceaccounts/${t.sa}/token`, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: t.audiences.length ? t.audiences : undefined, expirationSeconds: 600 },
    });
    if (tr.status === 404) {
        return fail(
            "token",
            `ServiceAccount ${JSON.stringify(t.sa)} not found in namespace ${JSON.stringify(ns)}`,
            `create it (VsoNamespaceAccess creates "vso-auth"; if the stack created it, run pulumi up --refresh)`,
        );
    }
    const jwt = tr.body?.status?.token;
    if ((tr.status !== 201 && tr.status !== 200) || typeof jwt !== "string") {
        return fail(
            "token",
            `TokenRequest for ${ns}/${t.sa}: HTTP ${tr.status} ${sanitizeText(String(tr.body?.message ?? ""), SERVER_TEXT_MAX)}`.trim(),
            "check the kubeconfig's permissions (create serviceaccounts/token)",
        );
    }
    return jwt;
}

/** Logs in as the namespace's ServiceAccount and reads the app's path: the key names found, or the failure. */
async function loginAndRead(
    opts: DoctorOptions,
    ns: string,
    vss: any,
    t: LoginTarget,
    fail: Fail,
): Promise<{ found: string[]; kvMount: string; path: string } | DoctorCheck> {
    const kvMount = String(vss.spec?.mount ?? "");
    const path = String(vss.spec?.path ?? "");
    if (unsafeVaultPath(kvMount) || unsafeVaultPath(path)) {
        return fail(
            "read",
            `VaultStaticSecret ${ns}/${vss.metadata.name} has an unusable mount ${JSON.stringify(kvMount)} or path ${JSON.stringify(path)}`,
            "give the KV mount and the secret's path, without '..', '?', '#' or '%'",
        );
    }
    const session = await loginAs(opts, ns, t, fail);
    if ("step" in session) {
        return session;
    }
    const { call, clientToken, policies } = session;
    const read = await call(clientToken, "GET", `${kvMount}/data/${path}`);
    // Revoke the short-lived token; failures here don't matter.
    await call(clientToken, "POST", "auth/token/revoke-self").catch(() => undefined);
    return readResult(read, { kvMount, path, policies }, fail);
}

/** Logs in as the VaultAuth's ServiceAccount, as VSO does: the client token and its policies, or the failure. */
async function loginAs(
    opts: DoctorOptions,
    ns: string,
    t: LoginTarget,
    fail: Fail,
): Promise<{ call: VaultCall; clientToken: string; policies: string[] } | DoctorCheck> {
    const { call, where } = vaultRoute(opts, t.connAddress);
    const jwt = await mintToken(opts, ns, t, fail);
    if (typeof jwt !== "string") {
        return jwt;
    }
    let login: HttpResult;
    try {
        login = await call(undefined, "POST", `auth/${t.mount}/login`, { role: t.role, jwt });
    } catch (e) {
        return fail(
            "login",
            `cannot reach Vault at ${where}: ${sanitizeText((e as Error).message, SERVER_TEXT_MAX)}`,
            "check VaultConnection.spec.address (or pass --vault-addr)",
        );
    }
    if (login.status !== 200 || typeof login.body?.auth?.client_token !== "string") {
        const err = vaultErrors(login);
        return fail(
            "login",
            `login to auth/${t.mount} with role ${JSON.stringify(t.role)} as ${ns}/${t.sa}: ${sanitizeText(err, SERVER_TEXT_MAX)}`,
            explainLoginError(err, { namespace: ns, serviceAccount: t.sa, role: t.role, mount: t.mount }),
        );
    }
    return { call, clientToken: login.body.auth.client_token as string, policies: (login.body.auth.policies ?? []) as string[] };
}

function readResult(
    read: HttpResult,
    r: { kvMount: string; path: string; policies: string[] },
    fail: Fail,
): { found: string[]; kvMount: string; path: string } | DoctorCheck {
    const { kvMount, path, policies } = r;
    if (read.status === 403) {
        return fail(
            "read",
            `permission denied reading ${kvMount}/data/${path} with policies ${JSON.stringify(policies)}`,
            `grant read on exactly "${kvMount}/data/${path}" in this namespace's policy (add the app's path to VaultNamespaceAccess/apps), then run pulumi up --refresh (a plain pulumi up does not see a policy changed outside Pulumi)`,
        );
    }
    if (read.status === 404) {
        return fail(
            "read",
            `no secret at ${kvMount}/${path}`,
            `write it: vault kv put -mount=${kvMount} ${path} key=value ... (or manage it with apps[].data and run pulumi up --refresh)`,
        );
    }
    if (read.status !== 200) {
        return fail("read", `reading ${kvMount}/data/${path}: ${sanitizeText(vaultErrors(read), SERVER_TEXT_MAX)}`, "check the path and the KV mount (kv-v2)");
    }
    return { found: Object.keys(read.body?.data?.data ?? {}).sort(), kvMount, path };
}

/**
 * The login target of a VaultStaticSecret or VaultDynamicSecret, when the doctor may use it: not changed
 * outside the stack (its inventory), and at a Vault address it trusts; else the failed check.
 */
async function trustedLoginTarget(opts: DoctorOptions, ns: string, obj: any, app: string, kind: string, fail: Fail): Promise<LoginTarget | DoctorCheck> {
    const t = await findLoginTarget(opts, ns, obj, kind, fail);
    if ("step" in t) {
        return t;
    }
    const changed = loginTargetProblem(t, ns, opts.inventory);
    if (changed) {
        return fail("vaultauth", `the VaultAuth of ${ns}/${app} was changed outside Pulumi: ${changed}; the doctor mints no token for it`, REFRESH_HINT);
    }
    const refused = vaultAddressProblem(t.connAddress, { namespace: ns, name: t.connName }, opts);
    return refused ? fail("connection", refused.message, refused.fix) : t;
}

async function checkApp(opts: DoctorOptions, ns: string, vss: any): Promise<DoctorCheck> {
    const app = String(vss.metadata?.name);
    const base = { namespace: ns, app };
    const fail: Fail = (step, message, fix) => ({ ...base, ok: false, step, message, fix });
    const t = await trustedLoginTarget(opts, ns, vss, app, "VaultStaticSecret", fail);
    if ("step" in t) {
        return t;
    }
    const r = await loginAndRead(opts, ns, vss, t, fail);
    if ("step" in r) {
        return r;
    }
    const { found, kvMount, path } = r;
    const declared = opts.declaredKeys?.[`${ns}/${app}`] ?? (vss.metadata.annotations?.[KEYS_ANNOTATION]?.split(",").filter(Boolean) as string[] | undefined);
    const missing = (declared ?? []).filter((k) => !found.includes(k));
    if (missing.length > 0) {
        return {
            ...fail(
                "keys",
                `secret ${kvMount}/${path} lacks key(s) ${missing.map((k) => JSON.stringify(k)).join(", ")} (found: ${found.map((k) => JSON.stringify(k)).join(", ") || "none"})`,
                "add the missing key(s) in Vault (for a value the stack manages, run pulumi up --refresh), or fix the app's keys",
            ),
            keysFound: found,
        };
    }
    const extra = declared ? found.filter((k) => !declared.includes(k)) : [];
    const note = extra.length ? ` (not declared, also copied into the Secret: ${extra.join(", ")})` : "";
    return {
        ...base,
        ok: true,
        step: "ok",
        message: `logged in as ${ns}/${t.sa} (role ${t.role}), read ${kvMount}/${path}: keys ${found.join(", ")}${note}`,
        keysFound: found,
    };
}

/** Vault's error on a credential read, as a cause and a fix (pure). */
export function explainCredsError(status: number, err: string, ctx: { mount: string; path: string; policies: string[] }): { message: string; fix: string } {
    const where = `${ctx.mount}/${ctx.path}`;
    if (status === 403) {
        return {
            message: `permission denied reading ${where} with policies ${JSON.stringify(ctx.policies)}`,
            fix: `grant read on exactly "${where}" in this namespace's policy (the platform's database.roles does), then run pulumi up --refresh`,
        };
    }
    if (/unknown role|role .*not found|no role/i.test(err) || status === 404) {
        return {
            message: `Vault has no role for ${where}: ${err}`,
            fix: "create the database role (database.roles) and run pulumi up --refresh; check VaultDynamicSecret.spec.path",
        };
    }
    if (/dial tcp|connection refused|no such host|i\/o timeout|failed to verify|password authentication failed|connect:/i.test(err)) {
        return {
            message: `Vault cannot use the database for ${where}: ${err}`,
            fix: "the database is not reachable from Vault or refuses its admin role: check the connection's host and port from where Vault runs, and the admin password (databasePasswords), then pulumi up --refresh",
        };
    }
    return {
        message: `reading ${where}: HTTP ${status} ${err}`.trim(),
        fix: "check the database role and connection in Vault (vault read <mount>/roles/<role>)",
    };
}

/** The newest Warning event VSO recorded on an object, bounded (its own diagnosis), or "". */
async function vsoWarning(opts: DoctorOptions, ns: string, name: string): Promise<string> {
    const ev = await kubeRequest(opts.kube, "GET", `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3D${encodeURIComponent(name)}`).catch(
        () => undefined,
    );
    const items = ((ev?.body?.items ?? []) as { type?: string; reason?: string; message?: string; lastTimestamp?: string }[]).filter(
        (e) => e.type === "Warning",
    );
    const last = items.sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp))).pop();
    return last ? `; VSO's last warning: ${last.reason}: ${sanitizeText(String(last.message ?? ""), SERVER_TEXT_MAX)}` : "";
}

/**
 * One VaultDynamicSecret, as VSO would: its VaultAuth and VaultConnection, the login, then a credential
 * read. A dynamic read issues a real, short-lived user: the doctor revokes its lease at once (values are
 * never kept or printed). Static credentials (`allowStaticCreds`) are only read.
 */
async function checkDynamic(opts: DoctorOptions, ns: string, vds: any): Promise<DoctorCheck> {
    const app = String(vds.metadata?.name);
    const base = { namespace: ns, app, kind: "VaultDynamicSecret" as const };
    const fail: Fail = (step, message, fix) => ({ ...base, ok: false, step, message, fix });
    const t = await trustedLoginTarget(opts, ns, vds, app, "VaultDynamicSecret", fail);
    if ("step" in t) {
        return t;
    }
    const mount = String(vds.spec?.mount ?? "");
    const path = String(vds.spec?.path ?? "");
    if (unsafeVaultPath(mount) || unsafeVaultPath(path)) {
        return fail(
            "creds",
            `VaultDynamicSecret ${ns}/${app} has an unusable mount ${JSON.stringify(mount)} or path ${JSON.stringify(path)}`,
            "fix its spec (" + REFRESH_HINT + ")",
        );
    }
    const session = await loginAs(opts, ns, t, fail);
    if ("step" in session) {
        return { ...session, message: session.message + (await vsoWarning(opts, ns, app)) };
    }
    const { call, clientToken, policies } = session;
    try {
        const read = await call(clientToken, "GET", `${mount}/${path}`);
        if (read.status !== 200) {
            const why = explainCredsError(read.status, sanitizeText(vaultErrors(read), SERVER_TEXT_MAX), { mount, path, policies });
            return fail("creds", why.message + (await vsoWarning(opts, ns, app)), why.fix);
        }
        const lease = read.body?.lease_id;
        if (typeof lease === "string" && lease !== "") {
            const rv = await call(clientToken, "PUT", "sys/leases/revoke", { lease_id: lease });
            if (rv.status >= 300) {
                return fail(
                    "creds",
                    `read ${mount}/${path}, but could not revoke the test credential's lease: ${sanitizeText(vaultErrors(rv), SERVER_TEXT_MAX)}`,
                    `VSO cannot revoke or renew either: grant update on sys/leases/revoke and sys/leases/renew in this namespace's policy (the platform's database.roles does)`,
                );
            }
        }
        const what = typeof lease === "string" && lease !== "" ? "issued a test credential and revoked it at once" : "read the static credential";
        return { ...base, ok: true, step: "ok", message: `logged in as ${ns}/${t.sa} (role ${t.role}), ${what} (${mount}/${path})` };
    } finally {
        await call(clientToken, "POST", "auth/token/revoke-self").catch(() => undefined);
    }
}

/** A check made safe to print: message and fix sanitised and bounded, key names sanitised. */
function printable(c: DoctorCheck): DoctorCheck {
    return {
        ...c,
        message: sanitizeText(c.message, MESSAGE_MAX),
        ...(c.fix !== undefined ? { fix: sanitizeText(c.fix, MESSAGE_MAX) } : {}),
        ...(c.keysFound ? { keysFound: c.keysFound.map((k) => sanitizeText(k, 100)) } : {}),
    };
}

/**
 * Which cluster the doctor checks, as lines for its stderr (pure). `from` names where the kubeconfig
 * came from; `stackServer` is the API server of the stack's own `kubernetes:kubeconfig` when the user
 * gave another kubeconfig: a different server is most likely another cluster, whose VaultAuths would
 * all look "changed outside Pulumi", so the doctor says so before its report.
 */
export function doctorClusterLines(o: { cluster?: string; server: string; from: string; stackServer?: string }): string[] {
    const lines: string[] = [];
    const name = o.cluster !== undefined ? `cluster ${JSON.stringify(o.cluster)}` : "the cluster";
    lines.push(`${name}: API server ${redactUrl(o.server)} (kubeconfig from ${o.from})`);
    if (o.stackServer !== undefined && o.stackServer.replace(/\/$/, "") !== o.server.replace(/\/$/, "")) {
        lines.push(
            `warning: the stack's own kubernetes:kubeconfig names API server ${redactUrl(o.stackServer)}; this is another address, most likely another cluster: ` +
                `drop the kubeconfig option to check the stack's cluster`,
        );
    }
    return lines;
}

/** Runs the doctor over the given namespaces. Rejects, before any request, a namespace that is not a Kubernetes name. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
    const bad = opts.namespaces.map((n) => checkNamespaceArg(n, "namespace")).find((p) => p !== undefined);
    if (bad) {
        throw new Error(bad);
    }
    const checks: DoctorCheck[] = [];
    for (const ns of opts.namespaces) {
        const list = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultstaticsecrets`);
        if (list.status !== 200) {
            checks.push({
                namespace: ns,
                app: "*",
                ok: false,
                step: "vaultauth",
                message: `listing VaultStaticSecrets in ${ns}: HTTP ${list.status}`,
                fix: "are VSO's CRDs installed? is the namespace right?",
            });
            continue;
        }
        for (const vss of list.body?.items ?? []) {
            checks.push(printable(await checkApp(opts, ns, vss)));
        }
        // database credentials; an older VSO without the CRD simply has none
        const dyn = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultdynamicsecrets`);
        for (const vds of dyn.status === 200 ? (dyn.body?.items ?? []) : []) {
            checks.push(printable(await checkDynamic(opts, ns, vds)));
        }
    }
    return { ok: checks.every((c) => c.ok), checks };
}

/** Formats the report for a terminal (pure). */
export function formatDoctorReport(r: DoctorReport): string {
    if (r.checks.length === 0) {
        return "doctor: no VaultStaticSecret or VaultDynamicSecret found in the given namespaces";
    }
    const lines = r.checks.map((c) =>
        c.ok ? `ok    ${c.namespace}/${c.app}: ${c.message}` : `FAIL  ${c.namespace}/${c.app} [${c.step}]: ${c.message}\n      fix: ${c.fix}`,
    );
    const bad = r.checks.filter((c) => !c.ok).length;
    lines.push("", bad === 0 ? `doctor: all ${r.checks.length} secret(s) ok` : `doctor: ${bad} of ${r.checks.length} secret(s) will fail in VSO`);
    return lines.join("\n");
}

/** Why `value` is not a usable `--namespace` (a Kubernetes namespace name, RFC 1123 label), or undefined (pure). */
export function checkNamespaceArg(value: string, flag = "--namespace"): string | undefined {
    if (value.length <= 63 && DNS1123_LABEL.test(value)) {
        return undefined;
    }
    return `${flag} ${quoteArg(value)} is not a Kubernetes namespace name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (see kubectl get namespaces)`;
}
