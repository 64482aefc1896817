/**
 * Kubernetes and Vault calls for the doctor, the drift check and the integration tests, over the
 * package's one HTTP client (components/shared/http.ts; see docs/development.md, "Versions and choices").
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import { HttpResult, httpRequest } from "../components/shared/http";
import { redactSecrets, redactUrl, sanitizeText } from "../components/shared/text";

export { HttpResult, redactSecrets, redactUrl, sanitizeText };

/** Credentials and address of one Kubernetes API server, from a kubeconfig's current context. */
export interface KubeTarget {
    server: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
    insecure?: boolean;
}

function fileOrData(data: string | undefined, file: string | undefined): Buffer | undefined {
    if (data) {
        return Buffer.from(data, "base64");
    }
    return file ? fs.readFileSync(file) : undefined;
}

/** Loads the current context of a kubeconfig (path, default $KUBECONFIG or ~/.kube/config). */
export function loadKubeconfig(file?: string): KubeTarget {
    const p = file ?? process.env.KUBECONFIG?.split(":")[0] ?? `${process.env.HOME}/.kube/config`;
    return parseKubeconfig(fs.readFileSync(p, "utf8"), p);
}

/**
 * A kubeconfig given either as a path or as its contents, as the Kubernetes provider's
 * `kubernetes:kubeconfig` takes it (contents: a YAML/JSON document with `clusters`). `label` names it in errors.
 */
export function kubeconfigFromProviderConfig(value: string, label: string): KubeTarget {
    const inline = /\n/.test(value.trim()) || /^\s*\{/.test(value);
    return inline ? parseKubeconfig(value, label) : loadKubeconfig(value);
}

/** The current context of a kubeconfig's text; `p` names it in errors (never its contents). */
export function parseKubeconfig(text: string, p: string): KubeTarget {
    const doc = (yaml.load(text) ?? {}) as any;
    const ctxName = doc["current-context"];
    const ctx = (doc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
    if (!ctx) {
        throw new Error(`kubeconfig ${p} has no context`);
    }
    const cluster = (doc.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
    const user = (doc.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
    if (!cluster?.server) {
        throw new Error(`kubeconfig ${p}: cluster ${ctx.cluster} has no server`);
    }
    return {
        server: cluster.server,
        ca: fileOrData(cluster["certificate-authority-data"], cluster["certificate-authority"]),
        cert: fileOrData(user["client-certificate-data"], user["client-certificate"]),
        key: fileOrData(user["client-key-data"], user["client-key"]),
        token: user.token ?? (user.tokenFile ? fs.readFileSync(user.tokenFile, "utf8").trim() : undefined),
        insecure: cluster["insecure-skip-tls-verify"] === true,
    };
}

/** One Kubernetes API call. `body` objects are sent as JSON (or merge-patch for PATCH). */
export function kubeRequest(
    kc: KubeTarget,
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    extraHeaders: Record<string, string> = {},
): Promise<HttpResult> {
    const headers: Record<string, string> = { Accept: "application/json", ...extraHeaders };
    if (kc.token) {
        headers.Authorization = `Bearer ${kc.token}`;
    }
    if (body !== undefined) {
        headers["Content-Type"] = contentType ?? (method === "PATCH" ? "application/merge-patch+json" : "application/json");
    }
    return httpRequest(`${kc.server.replace(/\/$/, "")}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        ca: kc.ca,
        cert: kc.cert,
        key: kc.key,
        rejectUnauthorized: !kc.insecure,
    });
}

/** One Vault API call (`path` without `/v1/`). */
export function vaultRequest(addr: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<HttpResult> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) {
        headers["X-Vault-Token"] = token;
    }
    if (body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    return httpRequest(`${addr.replace(/\/$/, "")}/v1/${path.replace(/^\//, "")}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/** Vault's error strings from a response, joined. */
export function vaultErrors(r: HttpResult): string {
    const errs = (r.body?.errors ?? []) as string[];
    return errs.length ? errs.join("; ") : `HTTP ${r.status}`;
}

/** A Service inside the cluster, as named by an in-cluster URL. */
export interface InClusterService {
    scheme: "http" | "https";
    service: string;
    namespace: string;
    port: number;
}

/**
 * The Service an in-cluster address names (`http://vault.vault.svc.cluster.local:8200`,
 * `https://vault.sec.svc:8200`), or undefined for any other address (pure).
 */
export function inClusterServiceOf(addr: string): InClusterService | undefined {
    let u: URL;
    try {
        u = new URL(addr);
    } catch {
        return undefined;
    }
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/.exec(u.hostname);
    if (!m || (u.protocol !== "http:" && u.protocol !== "https:")) {
        return undefined;
    }
    const scheme = u.protocol === "https:" ? "https" : "http";
    return { scheme, service: m[1], namespace: m[3], port: u.port ? Number(u.port) : scheme === "https" ? 443 : 80 };
}

/** One Vault API call through the Kubernetes API server's Service proxy (for a Vault inside the cluster). */
export function vaultRequestViaKube(
    kc: KubeTarget,
    svc: InClusterService,
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
): Promise<HttpResult> {
    const headers: Record<string, string> = {};
    if (token) {
        headers["X-Vault-Token"] = token;
    }
    const proxy = `/api/v1/namespaces/${svc.namespace}/services/${svc.scheme}:${svc.service}:${svc.port}/proxy`;
    return kubeRequest(kc, method, `${proxy}/v1/${path.replace(/^\//, "")}`, body, body !== undefined ? "application/json" : undefined, headers);
}

/** True when two Vault addresses name the same endpoint (scheme, host, port and path; pure). */
export function sameVaultAddress(a: string, b: string): boolean {
    const norm = (s: string): string | undefined => {
        try {
            const u = new URL(s);
            const port = u.port || (u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "");
            return `${u.protocol}//${u.hostname.toLowerCase()}:${port}${u.pathname.replace(/\/+$/, "")}`;
        } catch {
            return undefined;
        }
    };
    const na = norm(a);
    return na !== undefined && na === norm(b);
}
