/**
 * A sealed Vault, named before any Vault resource is read or changed (issue 9, item 7).
 *
 * Without this, `pulumi preview`/`up` against a sealed Vault fails inside the Vault provider with
 * "Vault is sealed" (or a 503) on every resource, and nothing says why it is sealed or what to do. The
 * platform probes `sys/seal-status` (unauthenticated) through the same address, headers and CA as its
 * Vault provider, and the provider's address resolves only when Vault is unsealed or unreachable: a
 * sealed Vault stops the run with one message that says where to look.
 */
import * as fs from "fs";
import { httpRequest } from "../shared/http";

/** What `sys/seal-status` says (the fields the message needs). */
export interface SealStatus {
    sealed: boolean;
    initialized: boolean;
    /** Unseal keys submitted so far / needed. */
    progress?: number;
    threshold?: number;
}

/** How to reach Vault: the provider's own address, headers and CA. */
export interface SealProbeTarget {
    address: string;
    headers?: { name: string; value: string }[];
    caCertFile?: string;
    skipTlsVerify?: boolean;
}

/** How the user runs Vault, for the hint. */
export interface SealContext {
    /** The stack installed Vault (Helm) with the in-cluster unsealer. */
    installed: boolean;
    /** Where an installed Vault's unseal keys live (`vault.helm.unseal.keysIn`). Default `"secret"`. */
    keysIn?: "secret" | "pulumi";
    /** `pulumi up` submitted the keys from the stack's state and Vault is still sealed. */
    unsealTried?: boolean;
    /** Vault's namespace and the unsealer's keys Secret, when installed. */
    namespace?: string;
    keysSecretName?: string;
    /** The address shown to the user (no credentials). */
    shownAddress: string;
}

/** The `sys/seal-status` body → status, or undefined when it is not one (pure). */
export function parseSealStatus(status: number, body: string): SealStatus | undefined {
    if (status !== 200) {
        return undefined;
    }
    let o: unknown;
    try {
        o = JSON.parse(body);
    } catch {
        return undefined;
    }
    if (typeof o !== "object" || o === null) {
        return undefined;
    }
    const r = o as Record<string, unknown>;
    if (typeof r.sealed !== "boolean") {
        return undefined;
    }
    return {
        sealed: r.sealed,
        initialized: r.initialized !== false,
        ...(typeof r.progress === "number" ? { progress: r.progress } : {}),
        ...(typeof r.t === "number" ? { threshold: r.t } : {}),
    };
}

/** The message for a sealed or uninitialised Vault, or undefined when Vault can be used (pure). */
export function sealedVaultMessage(s: SealStatus | undefined, c: SealContext): string | undefined {
    if (!s || !s.sealed) {
        return undefined;
    }
    const where = `Vault at ${c.shownAddress}`;
    if (!s.initialized) {
        return c.installed
            ? `${where} is not initialised: the stack's bootstrap (VaultInit) has not run to its end. Run \`pulumi up\` again; if it fails, \`kubectl -n ${c.namespace ?? "vault"} logs vault-0 -c unsealer\` and the Vault pod's log say why.`
            : `${where} is not initialised: initialise it (\`vault operator init\`) and unseal it, then run again.`;
    }
    const progress = s.threshold !== undefined ? ` (${s.progress ?? 0} of ${s.threshold} unseal keys given)` : "";
    if (c.installed && c.keysIn === "pulumi") {
        return c.unsealTried
            ? `${where} is still sealed${progress} after \`pulumi up\` gave it the unseal keys kept in this stack's state: ` +
                  `they do not fit this Vault (was it re-initialised or rekeyed outside the stack?). Unseal it with its keys (\`vault operator unseal\`), then run again.`
            : `${where} is sealed${progress}. Its unseal keys live only in this stack's state (vault.helm.unseal.keysIn "pulumi"), ` +
                  `so it does not unseal itself after a restart: \`pulumi up\` unseals it before it reads or changes anything (a preview cannot).`;
    }
    if (c.installed) {
        const ns = c.namespace ?? "vault";
        const secret = c.keysSecretName ?? "vault-unseal-keys";
        return (
            `${where} is sealed${progress}, so no Vault resource can be read or changed. The stack's unsealer ` +
            `unseals it after a restart by itself, usually within a minute: wait and run again. If it stays sealed, ` +
            `look at the unsealer's log (\`kubectl -n ${ns} logs vault-0 -c unsealer\`) and check that the keys ` +
            `Secret ${ns}/${secret} still exists; if the keys are lost, the data cannot be unsealed (docs/troubleshooting.md, "standalone/ha Vault stays sealed").`
        );
    }
    return (
        `${where} is sealed${progress}, so no Vault resource can be read or changed. Unseal it ` +
        `(\`vault operator unseal\` with the threshold of key shares, or your auto-unseal), then run again.`
    );
}

/**
 * Asks `sys/seal-status` through the provider's own route. Undefined when Vault cannot be reached or
 * answers something else: then the provider's own error says more, and this check stays out of the way.
 * Never sends a Vault token (the endpoint is unauthenticated); headers are the API server's, for its proxy.
 */
export async function probeSealStatus(t: SealProbeTarget, timeoutMs = 5000): Promise<SealStatus | undefined> {
    const r = await sealRequest(t, "GET", "sys/seal-status", undefined, timeoutMs);
    return r && parseSealStatus(r.status, r.body);
}

/** The API server's proxy address of one Vault pod's port (pure). */
export function podProxyAddress(server: string, namespace: string, pod: string, port = 8200): string {
    return `${server.replace(/\/+$/, "")}/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy`;
}

/**
 * `pulumi up` of a Vault whose keys live in the stack's state (`keysIn: "pulumi"`): gives every sealed pod
 * the keys (up to the threshold) through the API server's pod proxy. Returns the pods still sealed (those
 * that answered; an unreachable pod is left to the seal check that follows). Never prints a key.
 */
export async function unsealPods(
    t: Omit<SealProbeTarget, "address">,
    pods: { name: string; address: string }[],
    keys: string[],
    threshold: number,
): Promise<string[]> {
    const stillSealed: string[] = [];
    for (const pod of pods) {
        const target = { ...t, address: pod.address };
        let status = await probeSealStatus(target);
        if (!status?.sealed || !status.initialized) {
            continue;
        }
        for (const key of keys.slice(0, threshold)) {
            const r = await sealRequest(target, "PUT", "sys/unseal", { key });
            status = r && parseSealStatus(r.status, r.body);
            if (status && !status.sealed) {
                break;
            }
        }
        if (status?.sealed) {
            stillSealed.push(pod.name);
        }
    }
    return stillSealed;
}

/** One unauthenticated request to Vault's sys/ endpoints through the given route; undefined when unreachable. */
async function sealRequest(
    t: SealProbeTarget,
    method: "GET" | "PUT",
    p: string,
    payload?: unknown,
    timeoutMs = 5000,
): Promise<{ status: number; body: string } | undefined> {
    let ca: Buffer | undefined;
    try {
        ca = t.caCertFile && /^https:/i.test(t.address) ? fs.readFileSync(t.caCertFile) : undefined;
    } catch {
        return undefined;
    }
    const headers: Record<string, string> = {};
    for (const h of t.headers ?? []) {
        headers[h.name] = h.value;
    }
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    if (body !== undefined) {
        headers["Content-Type"] = "application/json";
    }
    try {
        const r = await httpRequest(`${t.address.replace(/\/+$/, "")}/v1/${p}`, {
            method,
            headers,
            body,
            ca,
            rejectUnauthorized: !t.skipTlsVerify,
            timeoutMs,
            maxBytes: 65536,
        });
        return { status: r.status, body: r.text };
    } catch {
        return undefined; // unreachable, a bad address, or a timeout
    }
}
