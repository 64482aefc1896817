/**
 * VaultHelmInstall: Vault's Helm chart, its modes (dev, standalone, ha) and their values.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";
import { DEFAULTS } from "../config/plan";
import { ValidationProblem, checkKubernetesName, checkUrl, describeType, isDeferred } from "../config/validate";
import { UNSEAL_KEYS_IN, UnsealOptions, withUnsealer } from "./unseal";
import { mergeValues } from "../config/values";
import { VAULT_CHART_REPO, VAULT_CHART_VERSION } from "../config/versions";
import { chartSource, checkChartPath, checkReleaseName } from "../config/charts";

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
     * (see README, Durable Vault). `dev` keeps nothing across a restart.
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
     * restart (see README, "Durable Vault"). Default: 5 shares, threshold 3, Secret `vault-unseal-keys`.
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
function checkDurableValues(prefix: string, values: unknown): ValidationProblem[] {
    const server = isPlainObject(values) ? values.server : undefined;
    if (!isPlainObject(server)) {
        return [];
    }
    return (["volumes", "extraContainers"] as const)
        .filter((k) => server[k] !== undefined && server[k] !== null && !Array.isArray(server[k]) && !isDeferred(server[k]))
        .map((k) => ({
            field: `${prefix}values.server.${k}`,
            message: `expected a list, found ${describeType(server[k])}: the unsealer adds its ${k === "volumes" ? "keys volume" : "sidecar"} to this list`,
        }));
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
        problems.push(...checkDurableValues(prefix, args.values));
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

/**
 * Installs HashiCorp Vault with its Helm chart. In `dev` mode Vault is unsealed and its root token
 * is `rootToken` (a secret). `standalone` and `ha` run raft storage with an unsealer sidecar in each
 * pod; `VaultSecretsPlatform` initialises them in the same `up` (alone, this component leaves them
 * uninitialised: initialise with `vault operator init` and put the shares into the keys Secret).
 */
export class VaultHelmInstall extends pulumi.ComponentResource {
    /** The Helm release. */
    public readonly release: k8s.helm.v3.Release;
    /** In-cluster address of Vault, e.g. `http://vault.vault.svc.cluster.local:8200`. */
    public readonly address: pulumi.Output<string>;
    /** Dev mode: the root token (secret). Otherwise undefined. */
    public readonly rootToken?: pulumi.Output<string>;
    public readonly namespace: string;
    /** Vault's Service name (the chart's fullname). */
    public readonly serviceName: string;

    /** `args`: checked and planned here once; or its plan (`planVaultHelmInstall`, the platform's), used as it is. */
    constructor(name: string, args: VaultHelmInstallArgs | VaultHelmInstallPlan = {}, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultHelmInstall`, name, {}, opts);
        const plan = planOf(
            "VaultHelmInstall",
            args,
            (a: VaultHelmInstallArgs) => validateVaultHelmInstallArgs(a),
            (a: VaultHelmInstallArgs) => planVaultHelmInstall(a),
            this,
        );
        const { mode, releaseName } = plan;
        const ns = plan.namespace;
        this.namespace = ns;
        this.serviceName = vaultServiceName(releaseName);
        let values: pulumi.Input<Record<string, unknown>> = vaultChartValues(mode, plan.haReplicas);
        if (mode === "dev") {
            this.rootToken = pulumi.secret(pulumi.output(plan.devRootToken));
            values = pulumi
                .all([this.rootToken, pulumi.output(plan.values)])
                .apply(([token, extra]) =>
                    mergeValues(mergeValues(vaultChartValues("dev"), { server: { dev: { devRootToken: token } } }), extra as Record<string, unknown>),
                );
            values = pulumi.secret(values);
        } else {
            const durable = { mode, serviceName: this.serviceName, replicas: plan.replicas, unseal: plan.unseal };
            values = pulumi
                .output(plan.values)
                .apply((extra) => withUnsealer(mergeValues(vaultChartValues(mode, plan.haReplicas), extra as Record<string, unknown>), durable));
        }
        this.release = new k8s.helm.v3.Release(
            `${name}-vault`,
            {
                name: releaseName,
                ...chartSource("vault", { version: VAULT_CHART_VERSION, repo: VAULT_CHART_REPO }, plan),
                namespace: ns,
                createNamespace: true,
                values,
                skipAwait: !plan.wait,
            },
            { parent: this },
        );
        this.address = pulumi.output(`http://${vaultServiceName(releaseName)}.${ns}.svc.cluster.local:8200`);
        this.registerOutputs({ address: this.address, rootToken: this.rootToken, namespace: ns, serviceName: this.serviceName });
    }
}
