/**
 * The doctor: for each namespace, do what VSO will do — find each VaultStaticSecret's VaultAuth and
 * VaultConnection in the same namespace, get a token for the VaultAuth's ServiceAccount (TokenRequest),
 * log in to Vault with its role, read the app's path and compare the key names found with the ones
 * declared. Values are never printed or kept. Reports ok, or the exact failure and its fix.
 */
import { HttpResult, KubeTarget, inClusterServiceOf, kubeRequest, vaultErrors, vaultRequest, vaultRequestViaKube } from "./clients";
import { VSO_API_VERSION } from "./versions";

const vaultRequestDirect = vaultRequest;

export type DoctorStep = "vaultauth" | "connection" | "token" | "login" | "read" | "keys" | "ok";

export interface DoctorCheck {
    namespace: string;
    /** The VaultStaticSecret checked. */
    app: string;
    ok: boolean;
    /** Where it failed (or "ok"). */
    step: DoctorStep;
    /** What happened, e.g. Vault's own error. Never contains secret values. */
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

export interface DoctorOptions {
    kube: KubeTarget;
    /** Namespaces to check. */
    namespaces: string[];
    /** Vault address to use instead of each VaultConnection's (e.g. a port-forward). Default: the VaultConnection's. */
    vaultAddr?: string;
    /** Declared keys by `namespace/app`; default: the VaultStaticSecret's `vault-vso.pulumi.io/keys` annotation. */
    declaredKeys?: Record<string, string[]>;
}

const KEYS_ANNOTATION = "vault-vso.pulumi.io/keys";

/** Turns a Vault login error into a cause and a fix (pure). */
export function explainLoginError(err: string, ctx: { namespace: string; serviceAccount: string; role: string; mount: string }): string {
    if (/namespace not authorized/i.test(err)) {
        return `the role ${JSON.stringify(ctx.role)} does not bind namespace ${JSON.stringify(ctx.namespace)}: set its bound_service_account_namespaces to exactly ${JSON.stringify(ctx.namespace)} (no quotes; a UI-entered "*" is stored literally) — run pulumi up --refresh to restore it`;
    }
    if (/service account name not authorized/i.test(err)) {
        return `the role ${JSON.stringify(ctx.role)} does not bind ServiceAccount ${JSON.stringify(ctx.serviceAccount)}: set bound_service_account_names to ${JSON.stringify(ctx.serviceAccount)}`;
    }
    if (/invalid role name/i.test(err)) {
        return `Vault has no role ${JSON.stringify(ctx.role)} on auth/${ctx.mount}: create it (NamespaceVaultAccess) or fix VaultAuth.spec.kubernetes.role`;
    }
    if (/aud|audience/i.test(err)) {
        return "the token's audience does not match the role's audience: make VaultAuth.spec.kubernetes.audiences include the role's audience";
    }
    if (/permission denied/i.test(err) || /no handler|unsupported path/i.test(err)) {
        return `the Kubernetes auth method at auth/${ctx.mount} is missing or cannot verify tokens: check vault auth list, and the config's kubernetes_host, CA and token reviewer JWT (the reviewer needs system:auth-delegator)`;
    }
    return "check the role and the auth method's config";
}

async function checkApp(opts: DoctorOptions, ns: string, vss: any): Promise<DoctorCheck> {
    const app = vss.metadata.name as string;
    const base = { namespace: ns, app };
    const fail = (step: DoctorStep, message: string, fix: string): DoctorCheck => ({ ...base, ok: false, step, message, fix });
    const ref = (vss.spec?.vaultAuthRef ?? "default") as string;
    if (ref.includes("/") && ref.split("/")[0] !== ns) {
        return fail("vaultauth", `vaultAuthRef ${JSON.stringify(ref)} points at a VaultAuth in namespace ${JSON.stringify(ref.split("/")[0])}`,
            `VaultAuth must be in the same namespace as the VaultStaticSecret: create one in ${JSON.stringify(ns)} (VsoNamespaceBinding) and set vaultAuthRef to its name`);
    }
    const authName = ref.includes("/") ? ref.split("/")[1] : ref;
    const authRes = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultauths/${authName}`);
    if (authRes.status === 404) {
        return fail("vaultauth", `VaultAuth ${JSON.stringify(authName)} not found in namespace ${JSON.stringify(ns)}`,
            `create the VaultAuth and VaultConnection in ${JSON.stringify(ns)} — they must be in the workload's namespace, not Vault's or VSO's`);
    }
    if (authRes.status !== 200) {
        return fail("vaultauth", `reading VaultAuth ${ns}/${authName}: HTTP ${authRes.status}`, "check the kubeconfig's permissions");
    }
    const auth = authRes.body;
    const mount = (auth.spec?.mount ?? "kubernetes") as string;
    const role = auth.spec?.kubernetes?.role as string;
    const sa = (auth.spec?.kubernetes?.serviceAccount ?? "default") as string;
    const audiences = (auth.spec?.kubernetes?.audiences ?? []) as string[];
    const connName = (auth.spec?.vaultConnectionRef ?? "default") as string;
    const connRes = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultconnections/${connName}`);
    if (connRes.status !== 200) {
        return fail("connection", `VaultConnection ${JSON.stringify(connName)} not found in namespace ${JSON.stringify(ns)} (HTTP ${connRes.status})`,
            `create it in ${JSON.stringify(ns)} next to the VaultAuth`);
    }
    // --vault-addr replaces only the address (e.g. a port-forward to an in-cluster Vault); an
    // in-cluster address is reached through the API server's Service proxy, as Pulumi does
    const addr = opts.vaultAddr ?? (connRes.body.spec?.address as string);
    const inCluster = opts.vaultAddr === undefined ? inClusterServiceOf(addr) : undefined;
    const vaultRequest = (a: string, token: string | undefined, method: string, p: string, body?: unknown): Promise<HttpResult> =>
        inCluster ? vaultRequestViaKube(opts.kube, inCluster, token, method, p, body) : vaultRequestDirect(a, token, method, p, body);
    const tr = await kubeRequest(opts.kube, "POST", `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
        { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: audiences.length ? audiences : undefined, expirationSeconds: 600 } });
    if (tr.status === 404) {
        return fail("token", `ServiceAccount ${JSON.stringify(sa)} not found in namespace ${JSON.stringify(ns)}`, `create it (VsoNamespaceBinding creates "vso-auth")`);
    }
    if (tr.status !== 201 && tr.status !== 200) {
        return fail("token", `TokenRequest for ${ns}/${sa}: HTTP ${tr.status} ${tr.body?.message ?? ""}`.trim(), "check the kubeconfig's permissions (create serviceaccounts/token)");
    }
    const jwt = tr.body.status.token as string;
    let login;
    try {
        login = await vaultRequest(addr, undefined, "POST", `auth/${mount}/login`, { role, jwt });
    } catch (e) {
        return fail("login", `cannot reach Vault at ${addr}${inCluster ? " (through the API server's Service proxy)" : ""}: ${(e as Error).message}`, "check VaultConnection.spec.address (or pass --vault-addr)");
    }
    if (login.status !== 200) {
        const err = vaultErrors(login);
        return fail("login", `login to auth/${mount} with role ${JSON.stringify(role)} as ${ns}/${sa}: ${err}`, explainLoginError(err, { namespace: ns, serviceAccount: sa, role, mount }));
    }
    const clientToken = login.body.auth.client_token as string;
    const policies = (login.body.auth.policies ?? []) as string[];
    const kvMount = vss.spec?.mount as string;
    const path = vss.spec?.path as string;
    const read = await vaultRequest(addr, clientToken, "GET", `${kvMount}/data/${path}`);
    // Revoke the short-lived token; failures here don't matter.
    await vaultRequest(addr, clientToken, "POST", "auth/token/revoke-self").catch(() => undefined);
    if (read.status === 403) {
        return fail("read", `permission denied reading ${kvMount}/data/${path} with policies ${JSON.stringify(policies)}`,
            `grant read on exactly "${kvMount}/data/${path}" in this namespace's policy (add the app's path to NamespaceVaultAccess/apps)`);
    }
    if (read.status === 404) {
        return fail("read", `no secret at ${kvMount}/${path}`, `write it: vault kv put -mount=${kvMount} ${path} key=value ... (or manage it with apps[].data)`);
    }
    if (read.status !== 200) {
        return fail("read", `reading ${kvMount}/data/${path}: ${vaultErrors(read)}`, "check the path and the KV mount (kv-v2)");
    }
    const found = Object.keys(read.body?.data?.data ?? {}).sort();
    const declared = opts.declaredKeys?.[`${ns}/${app}`] ?? (vss.metadata.annotations?.[KEYS_ANNOTATION]?.split(",").filter(Boolean) as string[] | undefined);
    if (declared && declared.length > 0) {
        const missing = declared.filter((k) => !found.includes(k));
        if (missing.length > 0) {
            return { ...fail("keys", `secret ${kvMount}/${path} lacks key(s) ${missing.map((k) => JSON.stringify(k)).join(", ")} (found: ${found.map((k) => JSON.stringify(k)).join(", ") || "none"})`,
                `add the missing key(s) in Vault, or fix the app's keys`), keysFound: found };
        }
    }
    const extra = declared ? found.filter((k) => !declared.includes(k)) : [];
    const note = extra.length ? ` (not declared, also copied into the Secret: ${extra.join(", ")})` : "";
    return { ...base, ok: true, step: "ok", message: `logged in as ${ns}/${sa} (role ${role}), read ${kvMount}/${path}: keys ${found.join(", ")}${note}`, keysFound: found };
}

/** Runs the doctor over the given namespaces. */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
    const checks: DoctorCheck[] = [];
    for (const ns of opts.namespaces) {
        const list = await kubeRequest(opts.kube, "GET", `/apis/${VSO_API_VERSION}/namespaces/${ns}/vaultstaticsecrets`);
        if (list.status !== 200) {
            checks.push({ namespace: ns, app: "*", ok: false, step: "vaultauth", message: `listing VaultStaticSecrets in ${ns}: HTTP ${list.status}`, fix: "are VSO's CRDs installed? is the namespace right?" });
            continue;
        }
        for (const vss of list.body.items ?? []) {
            checks.push(await checkApp(opts, ns, vss));
        }
    }
    return { ok: checks.every((c) => c.ok), checks };
}

/** Formats the report for a terminal (pure). */
export function formatDoctorReport(r: DoctorReport): string {
    if (r.checks.length === 0) {
        return "doctor: no VaultStaticSecret found in the given namespaces";
    }
    const lines = r.checks.map((c) => c.ok
        ? `ok    ${c.namespace}/${c.app}: ${c.message}`
        : `FAIL  ${c.namespace}/${c.app} [${c.step}]: ${c.message}\n      fix: ${c.fix}`);
    const bad = r.checks.filter((c) => !c.ok).length;
    lines.push("", bad === 0 ? `doctor: all ${r.checks.length} secret(s) ok` : `doctor: ${bad} of ${r.checks.length} secret(s) will fail in VSO`);
    return lines.join("\n");
}
