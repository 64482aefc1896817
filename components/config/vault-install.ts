/**
 * VaultHelmInstall's args, their checks and their plan (pure): modes, chart values, the durable mode's unseal settings.
 */
import * as pulumi from "@pulumi/pulumi";
import { ComponentPlan } from "./errors";
import { DEFAULTS } from "./plan";
import { ValidationProblem, checkKubernetesName, checkUrl, describeType, isDeferred } from "./validate";
import { UNSEAL_KEYS_IN, UnsealOptions } from "./unseal";
import { checkChartPath, checkReleaseName } from "./charts";

/** How the Vault server runs (written as a const object so that other languages get it as an enum). */
export const VaultMode = { dev: "dev", standalone: "standalone", ha: "ha" } as const;

/**
 * The mode when none is given: durable (issue 9). `standalone` keeps its data on a PersistentVolume,
 * is initialised by the first `up` and unseals itself after a restart; `dev` is there by name for
 * quick experiments.
 */
export const DEFAULT_VAULT_MODE = "standalone";
export type VaultMode = (typeof VaultMode)[keyof typeof VaultMode];

export interface VaultHelmInstallArgs {
    /**
     * `dev` (in-memory, unsealed, root token known: homelab/learning), `standalone` (one server, raft
     * storage on a PersistentVolume) or `ha` (`haReplicas` raft servers, one PersistentVolume each).
     * Default `"standalone"`: durable, initialised by the first `up`, unsealed after any restart
     * (see docs/durable-vault.md). `dev` keeps nothing across a restart.
     */
    mode?: VaultMode;
    /** Namespace to install into (created if missing). Default `"vault"`. */
    namespace?: string;
    /** Helm release name; also the Service name. Default `"vault"`. */
    releaseName?: string;
    /** Chart version. Default: the pinned `VAULT_CHART_VERSION`. */
    chartVersion?: pulumi.Input<string>;
    /** Chart repository, e.g. an air-gapped mirror or `oci://...`. Default `https://helm.releases.hashicorp.com`. */
    repository?: pulumi.Input<string>;
    /**
     * A chart directory (or `.tgz`) on this machine instead of a repository, e.g. an unpacked
     * vault-helm release for air-gapped installs. `chartVersion` and `repository` are then ignored.
     * Default: none (the repository's chart).
     */
    chartPath?: string;
    /** Dev mode only: the root token. A Pulumi secret. Default `"root"` (the chart's default; fine for a lab, never for production). */
    devRootToken?: pulumi.Input<string>;
    /** HA mode only: number of raft replicas. Default 3. */
    haReplicas?: number;
    /**
     * Wait until the release's pods are Ready. Default: `true` in dev mode; `false` in standalone and
     * ha, whose pods are not Ready until Vault is initialised and unsealed.
     */
    wait?: boolean;
    /** Extra chart values, merged over the ones the mode sets. Default none. */
    values?: pulumi.Inputs;
    /**
     * `standalone`/`ha`: the unseal keys and the unsealer sidecar that unseals each pod after any
     * restart (see docs/durable-vault.md). Default: 5 shares, threshold 3, Secret `vault-unseal-keys`.
     */
    unseal?: UnsealOptions;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) && !isDeferred(v);
}

/**
 * The chart values the unsealer of a durable Vault adds to (`server.volumes`, `server.extraContainers`)
 * must be lists when given (pure): the unsealer appends its volume and sidecar to them.
 */
function checkDurableValues(prefix: string, values: unknown, mode: VaultMode): ValidationProblem[] {
    const server = isPlainObject(values) ? values.server : undefined;
    if (!isPlainObject(server)) {
        return [];
    }
    const service = isPlainObject(server.service) ? server.service : undefined;
    const active = service && isPlainObject(service.active) ? service.active : undefined;
    const noActive: ValidationProblem[] =
        mode === "ha" && active && (active.enabled === false || active.enabled === "false")
            ? [
                  {
                      field: `${prefix}values.server.service.active.enabled`,
                      message:
                          "must stay true in ha mode: Pulumi reaches Vault through the chart's active Service (a standby would redirect it to a plain-http pod address): remove this value",
                  },
              ]
            : [];
    return [
        ...noActive,
        ...(["volumes", "extraContainers"] as const)
            .filter((k) => server[k] !== undefined && server[k] !== null && !Array.isArray(server[k]) && !isDeferred(server[k]))
            .map((k) => ({
                field: `${prefix}values.server.${k}`,
                message: `expected a list, found ${describeType(server[k])}: the unsealer adds its ${k === "volumes" ? "keys volume" : "sidecar"} to this list`,
            })),
    ];
}

/** Checks VaultHelmInstall's arguments (pure). */
export function validateVaultHelmInstallArgs(args: VaultHelmInstallArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    if (args.mode !== undefined && !["dev", "standalone", "ha"].includes(args.mode)) {
        problems.push({ field: `${prefix}mode`, message: `${JSON.stringify(args.mode)} is not a Vault mode: use "dev", "standalone" or "ha"` });
    }
    problems.push(...checkKubernetesName(`${prefix}namespace`, args.namespace ?? DEFAULTS.vaultNamespace, "label"));
    problems.push(...checkReleaseName(`${prefix}releaseName`, args.releaseName ?? "vault"));
    if (typeof args.repository === "string") {
        problems.push(...checkUrl(`${prefix}repository`, args.repository, ["http:", "https:", "oci:"]));
    }
    problems.push(...checkChartPath(`${prefix}chartPath`, args.chartPath));
    if ((args.mode ?? DEFAULT_VAULT_MODE) !== "dev") {
        problems.push(...checkDurableValues(prefix, args.values, args.mode ?? DEFAULT_VAULT_MODE));
    }
    if (args.wait !== undefined && typeof args.wait !== "boolean") {
        problems.push({ field: `${prefix}wait`, message: `${JSON.stringify(args.wait)} must be true or false` });
    }
    const u = args.unseal ?? {};
    const shares = u.keyShares ?? 5;
    if (u.keyShares !== undefined && (!Number.isInteger(u.keyShares) || u.keyShares < 1 || u.keyShares > 10)) {
        problems.push({ field: `${prefix}unseal.keyShares`, message: `${u.keyShares} must be a whole number from 1 to 10 (5 is usual)` });
    }
    if (u.keyThreshold !== undefined && (!Number.isInteger(u.keyThreshold) || u.keyThreshold < 1 || u.keyThreshold > shares)) {
        problems.push({
            field: `${prefix}unseal.keyThreshold`,
            message: `${u.keyThreshold} must be a whole number from 1 to keyShares (${shares}); 3 of 5 is usual`,
        });
    }
    if (typeof u.unsealerImage === "string" && (u.unsealerImage === "" || /\s/.test(u.unsealerImage))) {
        problems.push({
            field: `${prefix}unseal.unsealerImage`,
            message: `${JSON.stringify(u.unsealerImage)} is not an image reference: give one such as "hashicorp/vault:1.17.0", or leave it out to run the server's image`,
        });
    }
    if (u.keysSecretName !== undefined) {
        problems.push(...checkKubernetesName(`${prefix}unseal.keysSecretName`, u.keysSecretName, "subdomain"));
    }
    problems.push(...checkKeysIn(prefix, u));
    if (args.haReplicas !== undefined && (!Number.isInteger(args.haReplicas) || args.haReplicas < 1)) {
        problems.push({ field: `${prefix}haReplicas`, message: `${args.haReplicas} must be a whole number ≥ 1 (3 or 5 for raft quorum)` });
    }
    return problems;
}

/** `unseal.keysIn` names a known place, and nothing is set that only the other place uses (pure). */
function checkKeysIn(prefix: string, u: UnsealOptions): ValidationProblem[] {
    if (u.keysIn === undefined) {
        return [];
    }
    if (!(UNSEAL_KEYS_IN as readonly unknown[]).includes(u.keysIn)) {
        return [
            {
                field: `${prefix}unseal.keysIn`,
                message: `${JSON.stringify(u.keysIn)} is not a place for the unseal keys: use "secret" (a Kubernetes Secret; Vault unseals itself after a restart) or "pulumi" (only in the stack's encrypted state; pulumi up unseals a restarted Vault)`,
            },
        ];
    }
    if (u.keysIn === "pulumi") {
        return (["keysSecretName", "unsealerImage"] as const)
            .filter((k) => u[k] !== undefined)
            .map((k) => ({
                field: `${prefix}unseal.${k}`,
                message: `is used only with keysIn "secret" (the keys Secret and its unsealer sidecar); with keysIn "pulumi" there is neither: remove ${k}, or set keysIn to "secret"`,
            }));
    }
    return [];
}

/** Number of Vault server pods of a mode (pure): 1 for dev and standalone, `haReplicas` (default 3) for ha. */
export function vaultReplicas(mode: VaultMode | undefined, haReplicas?: number): number {
    return mode === "ha" ? (haReplicas ?? 3) : 1;
}

/** The chart values for a mode (pure; the dev root token is added by the component as a secret). */
export function vaultChartValues(mode: VaultMode, haReplicas = 3): Record<string, unknown> {
    switch (mode) {
        case "dev":
            return { server: { dev: { enabled: true } }, injector: { enabled: false } };
        case "standalone":
            // one raft server: the same storage as ha, so growing to ha later is a raft join, not a migration
            return {
                server: { ha: { enabled: true, replicas: 1, raft: { enabled: true, setNodeId: true } }, dataStorage: { enabled: true } },
                injector: { enabled: false },
            };
        case "ha":
            return {
                server: { ha: { enabled: true, replicas: haReplicas, raft: { enabled: true, setNodeId: true } }, dataStorage: { enabled: true } },
                injector: { enabled: false },
            };
    }
}

/** The chart's Service name: its fullname, `<release>-vault` unless the release name contains "vault". */
export function vaultServiceName(releaseName: string): string {
    return releaseName.includes("vault") ? releaseName : `${releaseName}-vault`;
}

/**
 * The Service Pulumi talks to Vault through (pure): in `ha` mode the chart's `<fullname>-active`
 * Service, which selects only the active node (service_registration "kubernetes" labels it). A
 * standby answers a write it cannot forward with a redirect to the active node's plain-http pod
 * address, which the provider refuses behind the API server's https proxy ("redirect would cause
 * protocol downgrade"). One server (dev, standalone): the chart's Service, as before.
 */
export function vaultProviderServiceName(mode: VaultMode, releaseName: string): string {
    return mode === "ha" ? `${vaultServiceName(releaseName)}-active` : vaultServiceName(releaseName);
}

/** VaultHelmInstall's args after the validation pass: every default filled in. */
export interface VaultHelmInstallPlan extends ComponentPlan<"VaultHelmInstall"> {
    mode: VaultMode;
    namespace: string;
    releaseName: string;
    chartVersion?: pulumi.Input<string>;
    repository?: pulumi.Input<string>;
    chartPath?: string;
    devRootToken: pulumi.Input<string>;
    /** The number of Vault server pods (1 unless `ha`). */
    replicas: number;
    haReplicas?: number;
    wait: boolean;
    values: pulumi.Inputs;
    unseal?: UnsealOptions;
}

/** Plans VaultHelmInstall's checked args (pure). */
export function planVaultHelmInstall(args: VaultHelmInstallArgs = {}): VaultHelmInstallPlan {
    const mode = args.mode ?? DEFAULT_VAULT_MODE;
    return {
        planned: "VaultHelmInstall",
        mode,
        namespace: args.namespace ?? DEFAULTS.vaultNamespace,
        releaseName: args.releaseName ?? "vault",
        chartVersion: args.chartVersion,
        repository: args.repository,
        chartPath: args.chartPath,
        devRootToken: args.devRootToken ?? "root",
        replicas: vaultReplicas(mode, args.haReplicas),
        haReplicas: args.haReplicas,
        wait: args.wait ?? mode === "dev",
        values: args.values ?? {},
        unseal: args.unseal,
    };
}
