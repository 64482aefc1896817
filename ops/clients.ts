/**
 * Minimal Kubernetes and Vault HTTP clients for the doctor, the drift check and the integration tests.
 * Hand-written on purpose: they make a handful of REST calls, and the official Kubernetes client is
 * ESM-only with a dozen dependencies (see README, "Choices").
 */
import * as fs from "fs";
import * as https from "https";
import * as http from "http";
import * as yaml from "js-yaml";
import { redactUrlCredentials } from "../components/config/validate";

export { redactUrlCredentials };

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
    const doc = yaml.load(fs.readFileSync(p, "utf8")) as any;
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

export interface HttpResult<T = any> {
    status: number;
    body: T;
    text: string;
}

function request(url: string, method: string, headers: Record<string, string>, body: string | undefined, tls: https.RequestOptions): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const mod = u.protocol === "https:" ? https : http;
        // agent: false — no pooled keep-alive socket: one that outlived its server (a restarted API
        // server, an address that moved) would fail the next request with ETIMEDOUT/ECONNRESET
        const req = mod.request(
            u,
            {
                method,
                headers: { ...headers, ...(body !== undefined ? { "Content-Length": Buffer.byteLength(body).toString() } : {}) },
                ...tls,
                timeout: 30000,
                agent: false,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: any = undefined;
                    try {
                        parsed = text ? JSON.parse(text) : undefined;
                    } catch {
                        parsed = undefined;
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed, text });
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${u.origin}${u.pathname}: timed out`)));
        req.on("error", reject);
        if (body !== undefined) {
            req.write(body);
        }
        req.end();
    });
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
    return request(`${kc.server.replace(/\/$/, "")}${path}`, method, headers, body === undefined ? undefined : JSON.stringify(body), {
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
    return request(`${addr.replace(/\/$/, "")}/v1/${path.replace(/^\//, "")}`, method, headers, body === undefined ? undefined : JSON.stringify(body), {});
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

/** Things that look like credentials in free text, and what replaces them. */
const SECRET_PATTERNS: [RegExp, string][] = [
    [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, "$1 [redacted]"],
    [/\beyJ[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*){0,2}/g, "[redacted JWT]"],
    [/\bhv[sbr]\.[A-Za-z0-9_-]{8,}/g, "[redacted Vault token]"],
    [/\b[sbr]\.[A-Za-z0-9]{24,}\b/g, "[redacted Vault token]"],
    [/("?(?:client_token|token|jwt|password|secret_id|X-Vault-Token)"?\s*[:=]\s*)("[^"]*"|[^\s,;}]+)/gi, "$1[redacted]"],
    [/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]*@/g, "$1[redacted]@"],
];

/** Replaces anything that looks like a token, a JWT, an Authorization value or URL credentials (pure). */
export function redactSecrets(text: string): string {
    return SECRET_PATTERNS.reduce((s, [re, by]) => s.replace(re, by), text);
}

/**
 * Text from a server (or any other untrusted source) made safe to print on one line: ANSI escapes,
 * control and bidirectional-override characters removed, whitespace runs folded, credentials
 * redacted, and at most `max` characters (pure).
 */
export function sanitizeText(text: string, max = 300): string {
    const cleaned = text
        .slice(0, 16384)
        // eslint-disable-next-line no-control-regex
        .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?/g, "")
        .replace(/[\t\n\r\v\f]+/g, " ")
        // eslint-disable-next-line no-control-regex
        .replace(/[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
        .replace(/ {2,}/g, " ")
        .trim();
    const safe = redactSecrets(cleaned);
    return safe.length > max ? `${safe.slice(0, Math.max(0, max - 1))}…` : safe;
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
