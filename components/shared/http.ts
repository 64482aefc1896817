/**
 * The one small HTTP(S) client of the package: the drift check's, the doctor's and the tests' calls to
 * the Kubernetes API and Vault, and the seal check (Vault's first init runs in a dynamic provider with its
 * own copy, components/vault/init.ts). Hand-written on purpose: a
 * handful of REST calls, where the official Kubernetes client is ESM-only with a dozen dependencies.
 */
import * as http from "http";
import * as https from "https";

export interface HttpResult<T = any> {
    status: number;
    /** The body parsed as JSON, or undefined when it is not JSON. */
    body: T;
    /** The body as text (at most `maxBytes`). */
    text: string;
}

export interface HttpOptions {
    method: string;
    headers?: Record<string, string>;
    /** Sent as is (JSON-encode it first); its Content-Length is set. */
    body?: string;
    ca?: string | Buffer;
    cert?: Buffer;
    key?: Buffer;
    /** Default true. */
    rejectUnauthorized?: boolean;
    /** Default 30 s. */
    timeoutMs?: number;
    /** The most of the body kept. Default 16 MiB. */
    maxBytes?: number;
}

/**
 * One request. Rejects on a network error or timeout (the message names the method and the URL without
 * its query); resolves with any HTTP status. No pooled keep-alive socket (`agent: false`): one that
 * outlived its server (a restarted API server, an address that moved) would fail the next request.
 */
export function httpRequest(url: string, o: HttpOptions): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const mod = u.protocol === "https:" ? https : http;
        const headers = { ...(o.headers ?? {}), ...(o.body !== undefined ? { "Content-Length": Buffer.byteLength(o.body).toString() } : {}) };
        const tls = u.protocol === "https:" ? { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized ?? true } : {};
        const max = o.maxBytes ?? 16 * 1024 * 1024;
        const req = mod.request(u, { method: o.method, headers, ...tls, timeout: o.timeoutMs ?? 30000, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on("data", (c: Buffer) => {
                if (size < max) {
                    chunks.push(c);
                    size += c.length;
                }
            });
            res.on("error", reject);
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8").slice(0, max);
                let parsed: any = undefined;
                try {
                    parsed = text ? JSON.parse(text) : undefined;
                } catch {
                    parsed = undefined;
                }
                resolve({ status: res.statusCode ?? 0, body: parsed, text });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${o.method} ${u.origin}${u.pathname}: timed out`)));
        req.on("error", reject);
        if (o.body !== undefined) {
            req.write(o.body);
        }
        req.end();
    });
}
