/**
 * VaultSecretsOperatorInstall: the Vault Secrets Operator's Helm chart (controller and CRDs).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TYPE_PREFIX, failOnProblems } from "../config/errors";
import { DEFAULTS } from "../config/plan";
import { ValidationProblem, checkKubernetesName, checkUrl } from "../config/validate";
import { VSO_CHART_REPO, VSO_CHART_VERSION } from "../config/versions";
import { chartSource, checkChartPath, checkReleaseName } from "../config/charts";

export interface VaultSecretsOperatorInstallArgs {
    /** Namespace of the operator (created if missing). Default `"vault-secrets-operator-system"`. */
    namespace?: string;
    /** Helm release name. Default `"vault-secrets-operator"`. */
    releaseName?: string;
    /** Chart version (= VSO version). Default: the pinned `VSO_CHART_VERSION`. */
    chartVersion?: pulumi.Input<string>;
    /** Chart repository, e.g. an air-gapped mirror or `oci://...`. Default `https://helm.releases.hashicorp.com`. */
    repository?: pulumi.Input<string>;
    /**
     * A chart directory (or `.tgz`) on this machine instead of a repository, e.g. the `chart/`
     * directory of a vault-secrets-operator release. `chartVersion` and `repository` are then ignored.
     * Default: none (the repository's chart).
     */
    chartPath?: string;
    /** Chart values, passed through unchanged. Default none. */
    values?: pulumi.Inputs;
}

/** Checks VaultSecretsOperatorInstall's arguments (pure). */
export function validateOperatorInstallArgs(args: VaultSecretsOperatorInstallArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    problems.push(...checkKubernetesName(`${prefix}namespace`, args.namespace ?? DEFAULTS.operatorNamespace, "label"));
    problems.push(...checkReleaseName(`${prefix}releaseName`, args.releaseName ?? "vault-secrets-operator"));
    if (typeof args.repository === "string") {
        problems.push(...checkUrl(`${prefix}repository`, args.repository, ["http:", "https:", "oci:"]));
    }
    problems.push(...checkChartPath(`${prefix}chartPath`, args.chartPath));
    return problems;
}

/** Installs the Vault Secrets Operator (controller and CRDs) with its Helm chart. */
export class VaultSecretsOperatorInstall extends pulumi.ComponentResource {
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: string;

    constructor(name: string, args: VaultSecretsOperatorInstallArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultSecretsOperatorInstall`, name, {}, opts);
        failOnProblems("VaultSecretsOperatorInstall", validateOperatorInstallArgs(args), this);
        this.namespace = args.namespace ?? DEFAULTS.operatorNamespace;
        this.release = new k8s.helm.v3.Release(
            `${name}-vso`,
            {
                name: args.releaseName ?? "vault-secrets-operator",
                ...chartSource("vault-secrets-operator", { version: VSO_CHART_VERSION, repo: VSO_CHART_REPO }, args),
                namespace: this.namespace,
                createNamespace: true,
                values: args.values ?? {},
            },
            { parent: this },
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}
