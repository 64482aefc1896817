/**
 * VaultHelmInstall: Vault's Helm chart, its modes (dev, standalone, ha) and their values.
 */
import * as k8s from "@pulumi/kubernetes";
import {
    VaultHelmInstallArgs,
    validateVaultHelmInstallArgs,
    vaultChartValues,
    vaultServiceName,
    vaultProviderServiceName,
    VaultHelmInstallPlan,
    planVaultHelmInstall,
} from "../config/vault-install";
import * as pulumi from "@pulumi/pulumi";
import { TYPE_PREFIX, planOf } from "../config/errors";
import { withUnsealer } from "../config/unseal";
import { mergeValues } from "../config/values";
import { VAULT_CHART_REPO, VAULT_CHART_VERSION } from "../config/versions";
import { chartSource } from "../config/charts";

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
    /** The Service Pulumi reaches Vault through: `serviceName`, or in ha mode its `-active` Service. */
    public readonly providerServiceName: string;

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
        this.providerServiceName = vaultProviderServiceName(mode, releaseName);
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
