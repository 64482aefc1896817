/**
 * VaultInit: the first `pulumi up` of a durable (standalone/ha) Vault initialises it through the
 * Kubernetes API server (the pods' proxy, with the access ServiceAccount's token), stores the
 * Shamir shares in the keys Secret (where the unsealer sidecars read them), unseals every pod,
 * creates the token Pulumi uses from then on (policy `pulumi-vault-vso`: exactly what the components
 * manage) and revokes the root token. Its only output is that token, a Pulumi secret.
 *
 * Nothing is lost on failure: if the Secret cannot be written after init, the shares are written to
 * a 0600 file under ~/.cache/pulumi-vault-vso/recovery and the error names it. Nothing is printed.
 */
/* eslint-disable max-lines-per-function -- create() runs in Pulumi's dynamic provider, serialised with its
   closure: its helpers (its own small HTTP client too) are defined inside it so that exactly what runs
   there is in one place */
import * as pulumi from "@pulumi/pulumi";

export interface VaultInitInputs {
    server: string;
    caPem?: string;
    insecure: boolean;
    /** `Bearer <token>` of the access ServiceAccount (secret). */
    authorization: string;
    namespace: string;
    /** Pod names, pod 0 first. */
    pods: string[];
    keyShares: number;
    keyThreshold: number;
    keysSecretName: string;
    /** Where the unseal keys live: the keys Secret, or only this resource's secret output `unsealKeys`. */
    keysIn: "secret" | "pulumi";
    /** HCL of the policy of the token Pulumi uses. */
    policy: string;
}

interface HttpResult {
    status: number;
    body: any;
}

/** The provider: runs inside Pulumi's Node.js process (serialised with its helpers). */
/**
 * Where the keys live cannot move after initialisation (pure): the unsealer would lose them, or the
 * state would never get them. The error to refuse a move with, or undefined.
 */
export function keysInMoveError(wasIn: string | undefined, nowIn: string | undefined): Error | undefined {
    const was = wasIn ?? "secret";
    const now = nowIn ?? "secret";
    if (was === now) {
        return undefined;
    }
    return new Error(
        `vault.helm.unseal.keysIn was "${was}" when this Vault was initialised and cannot change to "${now}" afterwards ` +
            `(the ${was === "secret" ? "keys Secret and the unsealer" : "stack's state"} hold${was === "secret" ? "" : "s"} its keys): set keysIn back to "${was}"`,
    );
}

/**
 * Records where a durable Vault's keys live, and refuses a move in its diff. The Helm release
 * depends on it, so a refused move stops before the release changes (VaultInit depends on the
 * release and would refuse only after the pods had rolled to the other unseal setup).
 */
export const keysInGuardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { keysIn?: string }): Promise<pulumi.dynamic.CreateResult> {
        return { id: "keys-in", outs: { keysIn: inputs.keysIn ?? "secret" } };
    },
    async diff(_id: string, olds: { keysIn?: string }, news: { keysIn?: string }): Promise<pulumi.dynamic.DiffResult> {
        const refused = keysInMoveError(olds?.keysIn, news?.keysIn);
        if (refused) {
            throw refused;
        }
        return { changes: false };
    },
};

/** See `keysInGuardProvider`. */
export class VaultKeysInGuard extends pulumi.dynamic.Resource {
    constructor(name: string, args: { keysIn: string }, opts?: pulumi.CustomResourceOptions) {
        super(keysInGuardProvider, name, { keysIn: args.keysIn }, opts, "pulumi-vault-vso", "VaultKeysInGuard");
    }
}

export const vaultInitProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: VaultInitInputs): Promise<pulumi.dynamic.CreateResult> {
        /* eslint-disable @typescript-eslint/no-require-imports */
        const https = require("https");
        const http = require("http");
        const fs = require("fs");
        const os = require("os");
        const path = require("path");
        /* eslint-enable @typescript-eslint/no-require-imports */
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        const kube = (method: string, p: string, body?: unknown, vaultToken?: string): Promise<HttpResult> =>
            new Promise((resolve, reject) => {
                const u = new URL(inputs.server + p);
                const data = body === undefined ? undefined : JSON.stringify(body);
                const mod = u.protocol === "https:" ? https : http;
                const headers: Record<string, string> = { Authorization: inputs.authorization, "Content-Type": "application/json", Accept: "application/json" };
                if (vaultToken !== undefined) {
                    headers["X-Vault-Token"] = vaultToken;
                }
                const req = mod.request(
                    {
                        method,
                        hostname: u.hostname,
                        port: u.port,
                        path: u.pathname + u.search,
                        headers,
                        ca: inputs.caPem,
                        rejectUnauthorized: !inputs.insecure,
                        agent: false,
                        timeout: 30000,
                    },
                    (res: any) => {
                        let text = "";
                        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
                        res.on("end", () => {
                            let parsed: any = undefined;
                            try {
                                parsed = text ? JSON.parse(text) : undefined;
                            } catch {
                                parsed = undefined;
                            }
                            resolve({ status: res.statusCode ?? 0, body: parsed });
                        });
                    },
                );
                req.on("timeout", () => req.destroy(new Error("timed out")));
                req.on("error", reject);
                if (data !== undefined) {
                    req.write(data);
                }
                req.end();
            });
        const ns = inputs.namespace;
        const vault = (pod: string, method: string, p: string, body?: unknown, token?: string) =>
            kube(method, `/api/v1/namespaces/${ns}/pods/${pod}:8200/proxy/v1/${p}`, body, token);
        const sealStatus = async (pod: string, waitMs: number): Promise<any> => {
            const end = Date.now() + waitMs;
            let last = "";
            for (;;) {
                try {
                    const r = await vault(pod, "GET", "sys/seal-status");
                    if (r.status === 200 && r.body && typeof r.body.sealed === "boolean") {
                        return r.body;
                    }
                    last = `HTTP ${r.status}`;
                } catch (e) {
                    last = (e as Error).message;
                }
                if (Date.now() > end) {
                    throw new Error(
                        `Vault pod ${ns}/${pod} did not answer within ${waitMs / 1000}s (${last}): check kubectl -n ${ns} get pods, and its events (a Pending pod: PersistentVolume or node affinity)`,
                    );
                }
                await sleep(2000);
            }
        };
        const unseal = async (pod: string, keys: string[], waitMs: number): Promise<boolean> => {
            const end = Date.now() + waitMs;
            for (;;) {
                for (const key of keys.slice(0, inputs.keyThreshold)) {
                    const r = await vault(pod, "PUT", "sys/unseal", { key }).catch(() => undefined);
                    if (r?.status === 200 && r.body?.sealed === false) {
                        return true;
                    }
                }
                if (Date.now() > end) {
                    return false;
                }
                await sleep(3000);
            }
        };

        const pod0 = inputs.pods[0];
        const status = await sealStatus(pod0, 300000);
        const inSecret = (inputs.keysIn ?? "secret") === "secret";
        if (status.initialized && !inSecret) {
            throw new Error(
                `Vault ${ns}/${pod0} is already initialised, by something other than this stack, so its unseal keys are not in this stack's state: ` +
                    `give Pulumi a token for it (vault.token, a secret) and unseal it yourself, or use keysIn "secret" and put its unseal keys into Secret ${ns}/${inputs.keysSecretName} (key-0, key-1, ...) for the unsealer; ` +
                    `if the keys are lost, the data cannot be unsealed: remove the release's PersistentVolumeClaims to start from an empty Vault`,
            );
        }
        const existing = status.initialized ? await kube("GET", `/api/v1/namespaces/${ns}/secrets/${inputs.keysSecretName}`) : { status: 0, body: undefined };
        if (status.initialized) {
            throw new Error(
                `Vault ${ns}/${pod0} is already initialised, by something other than this stack${existing.status === 200 ? "" : `, and Secret ${ns}/${inputs.keysSecretName} with its unseal keys does not exist`}: ` +
                    `give Pulumi a token for it (vault.token, a secret), and put its unseal keys into Secret ${ns}/${inputs.keysSecretName} (key-0, key-1, ...) for the unsealer; ` +
                    `if the keys are lost, the data cannot be unsealed: remove the release's PersistentVolumeClaims to start from an empty Vault`,
            );
        }
        const init = await vault(pod0, "PUT", "sys/init", { secret_shares: inputs.keyShares, secret_threshold: inputs.keyThreshold });
        if (init.status !== 200 || !Array.isArray(init.body?.keys_base64) || typeof init.body?.root_token !== "string") {
            throw new Error(`initialising Vault ${ns}/${pod0} failed: HTTP ${init.status} ${JSON.stringify(init.body?.errors ?? []).slice(0, 300)}`);
        }
        const keys: string[] = init.body.keys_base64;
        const root: string = init.body.root_token;
        // nothing lost on failure: the keys and root token go to a 0600 file and the error names it
        const rescue = (why: string): Error => {
            const dir = path.join(os.homedir(), ".cache", "pulumi-vault-vso", "recovery");
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            const file = path.join(dir, `${ns}-${Date.now()}.json`);
            fs.writeFileSync(file, JSON.stringify({ namespace: ns, keys_base64: keys, root_token: root }), { mode: 0o600 });
            return new Error(`${why}: its unseal keys and root token are in ${file} (mode 0600)`);
        };
        if (!inSecret) {
            // the keys live only in this resource's outputs (the stack's state, encrypted): if anything
            // below fails, the outputs are never recorded, so the keys are rescued to a file first
            try {
                return await bootstrap();
            } catch (e) {
                throw rescue(
                    `Vault ${ns}/${pod0} was initialised but its bootstrap failed (${(e as Error).message}); the stack's state does not have its keys. ` +
                        `Unseal it with them (vault operator unseal), run pulumi up with vault.token set to the root token, and keep the keys safe`,
                );
            }
        }
        const data: Record<string, string> = {};
        keys.forEach((k, i) => (data[`key-${i}`] = Buffer.from(k).toString("base64")));
        const secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: inputs.keysSecretName, namespace: ns, labels: { "app.kubernetes.io/managed-by": "pulumi-vault-vso" } },
            type: "Opaque",
            data,
        };
        let stored = false;
        for (let i = 0; i < 5 && !stored; i++) {
            const w = await kube("POST", `/api/v1/namespaces/${ns}/secrets`, secret).catch(() => undefined);
            const r = w?.status === 409 ? await kube("PUT", `/api/v1/namespaces/${ns}/secrets/${inputs.keysSecretName}`, secret).catch(() => undefined) : w;
            stored = r?.status === 200 || r?.status === 201;
            if (!stored) {
                await sleep(2000);
            }
        }
        if (!stored) {
            const e = rescue(`Vault ${ns}/${pod0} was initialised but Secret ${ns}/${inputs.keysSecretName} could not be written`);
            throw new Error(
                `${e.message}. Create the Secret from it (kubectl -n ${ns} create secret generic ${inputs.keysSecretName} --from-literal=key-0=...), then run pulumi up with vault.token`,
            );
        }
        return await bootstrap();

        // unseal every pod, create Pulumi's token, revoke root
        async function bootstrap(): Promise<pulumi.dynamic.CreateResult> {
            for (const [i, pod] of inputs.pods.entries()) {
                if (i > 0) {
                    await sealStatus(pod, 300000);
                }
                if (!(await unseal(pod, keys, i === 0 ? 60000 : 180000))) {
                    throw new Error(
                        i === 0
                            ? `Vault ${ns}/${pod} did not unseal with its new keys`
                            : `Vault ${ns}/${pod} did not join the raft cluster and unseal within 3 minutes: check its log (kubectl -n ${ns} logs ${pod} -c vault) for retry_join errors; its unsealer keeps trying`,
                    );
                }
            }
            // the token Pulumi uses from now on: only what the components manage; long-lived, so the
            // token mount's max TTL is raised first (a homelab stack may go untouched for months)
            const leader = pod0;
            const steps: [string, string, unknown][] = [
                ["POST", "sys/mounts/auth/token/tune", { max_lease_ttl: "87600h" }],
                ["PUT", "sys/policies/acl/pulumi-vault-vso", { policy: inputs.policy }],
            ];
            for (const [m, p, b] of steps) {
                // right after the unseal, raft may not have elected the node yet ("local node not active"):
                // the same write is retried for up to 2 minutes while Vault answers 5xx
                let r = await vault(leader, m, p, b, root).catch((e: Error) => ({ status: 599, body: { errors: [e.message] } }));
                for (const end = Date.now() + 120000; r.status >= 500 && Date.now() < end;) {
                    await sleep(2000);
                    r = await vault(leader, m, p, b, root).catch((e: Error) => ({ status: 599, body: { errors: [e.message] } }));
                }
                if (r.status >= 300) {
                    throw new Error(`bootstrapping Vault (${p}) failed: HTTP ${r.status} ${JSON.stringify(r.body?.errors ?? []).slice(0, 300)}`);
                }
            }
            const tok = await vault(
                leader,
                "POST",
                "auth/token/create-orphan",
                {
                    policies: ["pulumi-vault-vso"],
                    no_default_policy: true,
                    ttl: "87600h",
                    display_name: "pulumi-vault-vso",
                    renewable: true,
                },
                root,
            );
            const token = tok.body?.auth?.client_token;
            if (tok.status !== 200 || typeof token !== "string") {
                throw new Error(`creating Pulumi's Vault token failed: HTTP ${tok.status}`);
            }
            await vault(leader, "POST", "auth/token/revoke-self", {}, root).catch(() => undefined);
            return {
                id: `${ns}/${pod0}`,
                outs: {
                    token,
                    keysIn: inSecret ? "secret" : "pulumi",
                    keysSecretName: inputs.keysSecretName,
                    keyShares: inputs.keyShares,
                    keyThreshold: inputs.keyThreshold,
                    ...(inSecret ? {} : { unsealKeys: keys }),
                },
            };
        }
    },
    async diff(_id: string, olds: any, news: VaultInitInputs): Promise<pulumi.dynamic.DiffResult> {
        // initialisation happens once: changing the shares or the Secret's name later is a rekey
        // (`vault operator rekey`), never a new init, so nothing here ever changes or replaces it.
        // Where the keys live cannot move silently: the unsealer would lose them, or state would never get them.
        const refused = keysInMoveError(olds?.keysIn, news?.keysIn);
        if (refused) {
            throw refused;
        }
        return { changes: false };
    },
    async delete(id: string, props: any): Promise<void> {
        // never de-initialise: the data and the keys stay (remove the PVCs and the keys Secret on purpose).
        // keysIn "pulumi": the state that holds the keys is going away while the data stays in the
        // release's PersistentVolumeClaims, so the keys are saved to a 0600 file first (README says where)
        // (the provider gets its recorded outputs as they are: a secret arrives wrapped, { <sig>: …, value })
        const plain = (v: any): any => (v && typeof v === "object" && !Array.isArray(v) && "value" in v ? v.value : v);
        const keys = plain(props?.unsealKeys);
        if (plain(props?.keysIn) === "pulumi" && Array.isArray(keys)) {
            /* eslint-disable @typescript-eslint/no-require-imports */
            const fs = require("fs");
            const os = require("os");
            const path = require("path");
            /* eslint-enable @typescript-eslint/no-require-imports */
            const dir = path.join(os.homedir(), ".cache", "pulumi-vault-vso", "recovery");
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            const file = path.join(dir, `${String(id).replace(/[^A-Za-z0-9.-]/g, "_")}-deleted-${Date.now()}.json`);
            fs.writeFileSync(file, JSON.stringify({ vault: id, keys_base64: keys, keyThreshold: plain(props.keyThreshold) }), { mode: 0o600 });
        }
    },
};

/** Initialises, unseals and bootstraps a durable Vault once; `token` is what Pulumi uses afterwards (secret). */
export class VaultInit extends pulumi.dynamic.Resource {
    public readonly token!: pulumi.Output<string>;
    /** The unseal keys (base64), when they live in the stack's state (`keysIn: "pulumi"`); a secret. */
    public readonly unsealKeys!: pulumi.Output<string[] | undefined>;

    constructor(
        name: string,
        args: pulumi.Unwrap<VaultInitInputs> | { [K in keyof VaultInitInputs]: pulumi.Input<VaultInitInputs[K]> },
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(
            vaultInitProvider,
            name,
            { ...args, token: undefined, unsealKeys: undefined, keysSecretName: args.keysSecretName },
            { ...opts, additionalSecretOutputs: ["token", "unsealKeys"] },
            "pulumi-vault-vso",
            "VaultInit",
        );
    }
}
