/**
 * Durable Vault (standalone/ha on raft) that initialises and unseals itself: the chart values for
 * the unsealer sidecar, and the policy of the token Pulumi uses once Vault is bootstrapped (pure).
 *
 * Mechanism: every Vault pod runs a sidecar (the server's own image, busybox sh + wget) that reads
 * the Shamir key shares from the Secret `vault-unseal-keys` (mounted read-only, mode 0400) and
 * submits them whenever its server is sealed — after a pod restart, a node reboot, a crash. The
 * first `pulumi up` initialises Vault through the API server (VaultInit), stores the shares in that
 * Secret, unseals, creates a token with `pulumiTokenPolicy` and revokes the root token.
 */
import * as fs from "fs";
import * as path from "path";
import { mergeValues } from "./values";

/**
 * Where the unseal keys live (see docs/durable-vault.md, "where the keys live"):
 * - `"secret"`: a Kubernetes Secret in Vault's namespace, read by the unsealer sidecar of every
 *   Vault pod, which unseals it after any restart without a human. As safe as the cluster (etcd,
 *   RBAC on that namespace, node disks): whoever can read the Secret can unseal Vault.
 * - `"pulumi"`: only in this stack's state, as a secret output (encrypted by the stack's secrets
 *   provider); no Secret, no sidecar. A restarted Vault stays sealed until the next `pulumi up`,
 *   which unseals it before it touches anything (`pulumi preview` says so). Someone with the
 *   cluster but not the stack's secrets cannot unseal a restarted Vault.
 */
export const UnsealKeysIn = { secret: "secret", pulumi: "pulumi" } as const;
/** (an enum to Pulumi's component schema, like `VaultMode`: the YAML/other-language path has no string unions) */
export type UnsealKeysIn = (typeof UnsealKeysIn)[keyof typeof UnsealKeysIn];

/** The places `keysIn` accepts. */
export const UNSEAL_KEYS_IN: readonly UnsealKeysIn[] = ["secret", "pulumi"];

/** Where the unseal keys live and how many there are. */
export interface UnsealOptions {
    /**
     * Where the unseal keys live: `"secret"` (a Kubernetes Secret; Vault unseals itself after any
     * restart) or `"pulumi"` (only in the stack's state, encrypted; `pulumi up` unseals a restarted
     * Vault). Fixed at initialisation: changing it later is refused. Default `"secret"`.
     */
    keysIn?: UnsealKeysIn;
    /** Number of Shamir key shares Vault is initialised with. Default 5. */
    keyShares?: number;
    /** Shares needed to unseal. Default 3. */
    keyThreshold?: number;
    /**
     * Secret in Vault's namespace that holds the shares (`key-0`..`key-N`). Anyone who can read it
     * can unseal Vault: it is as safe as the cluster's etcd and RBAC (`keysIn: "secret"` only).
     * Default `"vault-unseal-keys"`.
     */
    keysSecretName?: string;
    /** Image of the unsealer sidecar (`keysIn: "secret"` only). Default: the Vault server's image. */
    unsealerImage?: string;
}

export const UNSEAL_DEFAULTS = {
    keyShares: 5,
    keyThreshold: 3,
    keysSecretName: "vault-unseal-keys",
    vaultImage: "hashicorp/vault",
    vaultTag: "1.21.4",
} as const;

/** The name of the policy of the token Pulumi uses after bootstrap. */
export const PULUMI_TOKEN_POLICY = "pulumi-vault-vso";

/** The unsealer's shell script (components/unsealer.sh). */
export function unsealerScript(): string {
    for (const dir of [__dirname, path.join(__dirname, "..", "..", "components")]) {
        const f = path.join(dir, "unsealer.sh");
        if (fs.existsSync(f)) {
            return fs.readFileSync(f, "utf8");
        }
    }
    throw new Error(`unsealer.sh not found next to ${__dirname}: reinstall pulumi-vault-vso`);
}

/** The raft config of an ha release: every pod may join any other through the headless Service. */
export function haRaftConfig(serviceName: string, replicas: number): string {
    const joins = Array.from(
        { length: replicas },
        (_, i) => `  retry_join {\n    leader_api_addr = "http://${serviceName}-${i}.${serviceName}-internal:8200"\n  }`,
    ).join("\n");
    return [
        "ui = true",
        'listener "tcp" {\n  tls_disable = 1\n  address = "[::]:8200"\n  cluster_address = "[::]:8201"\n}',
        `storage "raft" {\n  path = "/vault/data"\n  performance_multiplier = 1\n${joins}\n}`,
        'service_registration "kubernetes" {}',
    ].join("\n\n");
}

/**
 * Adds the unsealer sidecar (and, for ha, the raft join config) to the chart values of a durable
 * mode (pure). The sidecar runs the server's image (from `values.server.image`) unless told otherwise.
 * With `keysIn: "pulumi"` there is no sidecar (the keys are not in the cluster).
 */
export function withUnsealer(
    values: Record<string, any>,
    o: { mode: "standalone" | "ha"; serviceName: string; replicas: number; unseal?: UnsealOptions },
): Record<string, any> {
    const image = values.server?.image ?? {};
    const sidecarImage = o.unseal?.unsealerImage ?? `${image.repository ?? UNSEAL_DEFAULTS.vaultImage}:${image.tag ?? UNSEAL_DEFAULTS.vaultTag}`;
    const secretName = o.unseal?.keysSecretName ?? UNSEAL_DEFAULTS.keysSecretName;
    const sidecar = {
        name: "unsealer",
        image: sidecarImage,
        imagePullPolicy: image.pullPolicy ?? "IfNotPresent",
        command: ["/bin/sh", "-c", unsealerScript()],
        env: [
            { name: "VAULT_ADDR", value: "http://127.0.0.1:8200" },
            { name: "UNSEAL_KEYS_DIR", value: "/vault/unseal" },
            { name: "UNSEAL_INTERVAL", value: "3" },
        ],
        volumeMounts: [{ name: "unseal-keys", mountPath: "/vault/unseal", readOnly: true }],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "32Mi" } },
    };
    const server = values.server ?? {};
    // the chart's default image is older than the one the sidecar runs; both use this one
    const serverImage = { repository: image.repository ?? UNSEAL_DEFAULTS.vaultImage, tag: image.tag ?? UNSEAL_DEFAULTS.vaultTag };
    const added: Record<string, any> =
        (o.unseal?.keysIn ?? "secret") === "pulumi"
            ? // keys only in the stack's state: no Secret, no sidecar; the chart's OnDelete stays, so an
              // upgrade never restarts a pod that nobody but the next `pulumi up` could unseal
              { server: { image: serverImage } }
            : {
                  server: {
                      image: serverImage,
                      // pods unseal themselves, so an upgrade may restart them one by one (the chart's OnDelete never does)
                      updateStrategyType: server.updateStrategyType ?? "RollingUpdate",
                      // optional: the pods start before the first `up` has initialised Vault and written the keys
                      volumes: [...(server.volumes ?? []), { name: "unseal-keys", secret: { secretName, optional: true, defaultMode: 0o400 } }],
                      extraContainers: [...(server.extraContainers ?? []), sidecar],
                  },
              };
    if (o.mode === "ha") {
        added.server.ha = { raft: { config: haRaftConfig(o.serviceName, o.replicas) } };
    } else {
        // one replica: the chart's budget (maxUnavailable 0) would block every node drain
        added.server.ha = { disruptionBudget: { enabled: false } };
    }
    return mergeValues(values, added);
}

/**
 * The policy of the token Pulumi configures Vault with after bootstrap (pure): exactly what the
 * components manage — the KV mount, the Kubernetes auth method, its config and roles, the
 * per-namespace policies (by their name prefix), the managed values — and its own token.
 */
export function pulumiTokenPolicy(kvPath: string, authPath: string, policyPrefix: string): string {
    const rules: [string, string[]][] = [
        [`sys/mounts/${kvPath}`, ["create", "read", "update", "delete"]],
        [`sys/mounts/${kvPath}/tune`, ["read", "update"]],
        ["sys/mounts", ["read"]],
        [`sys/auth/${authPath}`, ["create", "read", "update", "delete", "sudo"]],
        [`sys/auth/${authPath}/tune`, ["read", "update", "sudo"]],
        [`sys/mounts/auth/${authPath}/tune`, ["read", "update"]],
        ["sys/auth", ["read"]],
        [`auth/${authPath}/config`, ["create", "read", "update", "delete"]],
        [`auth/${authPath}/role/*`, ["create", "read", "update", "delete"]],
        [`auth/${authPath}/role`, ["list"]],
        [`sys/policies/acl/${policyPrefix}*`, ["create", "read", "update", "delete"]],
        [`${kvPath}/data/*`, ["create", "read", "update", "delete"]],
        [`${kvPath}/metadata/*`, ["create", "read", "update", "delete", "list"]],
        [`${kvPath}/config`, ["read"]],
        ["auth/token/lookup-self", ["read"]],
        ["auth/token/renew-self", ["update"]],
        ["auth/token/revoke-self", ["update"]],
    ];
    return rules.map(([p, caps]) => `path "${p}" {\n  capabilities = [${caps.map((c) => `"${c}"`).join(", ")}]\n}`).join("\n\n") + "\n";
}

/** The fixed prefix of a policy name template (`"vso-{namespace}-read"` → `"vso-"`). */
export function policyPrefixOf(template: string): string {
    return template.split("{namespace}")[0];
}
