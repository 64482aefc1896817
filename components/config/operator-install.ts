/**
 * VaultSecretsOperatorInstall's args, their checks and their plan (pure).
 */
import * as pulumi from "@pulumi/pulumi";
import { ComponentPlan } from "./errors";
import { DEFAULTS } from "./plan";
import { ValidationProblem, checkKubernetesName, checkUrl } from "./validate";
import { checkChartPath, checkReleaseName } from "./charts";

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

/** VaultSecretsOperatorInstall's args after the validation pass: every default filled in. */
export interface VaultSecretsOperatorInstallPlan extends ComponentPlan<"VaultSecretsOperatorInstall"> {
    namespace: string;
    releaseName: string;
    chartVersion?: pulumi.Input<string>;
    repository?: pulumi.Input<string>;
    chartPath?: string;
    values: pulumi.Inputs;
}

/** Plans VaultSecretsOperatorInstall's checked args (pure). */
export function planOperatorInstall(args: VaultSecretsOperatorInstallArgs = {}): VaultSecretsOperatorInstallPlan {
    return {
        planned: "VaultSecretsOperatorInstall",
        namespace: args.namespace ?? DEFAULTS.operatorNamespace,
        releaseName: args.releaseName ?? "vault-secrets-operator",
        chartVersion: args.chartVersion,
        repository: args.repository,
        chartPath: args.chartPath,
        values: args.values ?? {},
    };
}
