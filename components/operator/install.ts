/**
 * VaultSecretsOperatorInstall: the Vault Secrets Operator's Helm chart (controller and CRDs).
 */
import * as k8s from "@pulumi/kubernetes";
import { VaultSecretsOperatorInstallArgs, validateOperatorInstallArgs, VaultSecretsOperatorInstallPlan, planOperatorInstall } from "../config/operator-install";
import * as pulumi from "@pulumi/pulumi";
import { TYPE_PREFIX, planOf } from "../config/errors";
import { VSO_CHART_REPO, VSO_CHART_VERSION } from "../config/versions";
import { chartSource } from "../config/charts";

/** Installs the Vault Secrets Operator (controller and CRDs) with its Helm chart. */
export class VaultSecretsOperatorInstall extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: string;

    /** `args`: checked and planned here once; or its plan (`planOperatorInstall`, the platform's), used as it is. */
    constructor(name: string, args: VaultSecretsOperatorInstallArgs | VaultSecretsOperatorInstallPlan = {}, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultSecretsOperatorInstall`, name, {}, opts);
        const plan = planOf(
            "VaultSecretsOperatorInstall",
            args,
            (a: VaultSecretsOperatorInstallArgs) => validateOperatorInstallArgs(a),
            (a: VaultSecretsOperatorInstallArgs) => planOperatorInstall(a),
            this,
        );
        this.namespace = plan.namespace;
        this.release = new k8s.helm.v3.Release(
            `${name}-vso`,
            {
                name: plan.releaseName,
                ...chartSource("vault-secrets-operator", { version: VSO_CHART_VERSION, repo: VSO_CHART_REPO }, plan),
                namespace: this.namespace,
                createNamespace: true,
                values: plan.values,
            },
            { parent: this },
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}
