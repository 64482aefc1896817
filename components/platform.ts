/**
 * VaultSecretsPlatform: the whole setup of "Kubernetes secrets the GitOps way" from one typed config.
 */
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX, failOnProblems, markPlanned, plainValue } from "./common";
import { PlatformInventory, inventoryOf } from "./inventory";
import {
    VaultHelmInstall,
    VaultHelmInstallArgs,
    VaultSecretsOperatorInstall,
    VaultSecretsOperatorInstallArgs,
    validateOperatorInstallArgs,
    validateVaultHelmInstallArgs,
    vaultReplicas,
    DEFAULT_VAULT_MODE,
} from "./helm";
import { KubeCluster, VaultApiServerAccess, ambientKubeconfigPath, kubeClusterOf, kubeconfigText } from "./access";
import {
    AppFields,
    AppShape,
    DEFAULTS,
    NamespacePlan,
    accessRevision,
    nameFor,
    PlanOptions,
    PlatformPlan,
    planPlatform,
    validateApps,
    withPlatformTypeChecks,
} from "./plan";
import { ValidationProblem, checkUrl, redactUrlCredentials } from "./validate";
import {
    KubernetesAuthMethod,
    KubernetesAuthMethodArgs,
    KvV2Engine,
    TokenReviewerArgs,
    VaultNamespaceAccess,
    VaultNamespaceAccessArgs,
    tokenReviewerOf,
    validateKubernetesAuthArgs,
} from "./vault";
import { VAULT_CA_SECRET, VaultStaticSecretApp, VsoNamespaceAccess, VsoNamespaceAccessArgs } from "./vso";
import { PULUMI_TOKEN_POLICY, UNSEAL_DEFAULTS, UnsealKeysIn, policyPrefixOf, pulumiTokenPolicy } from "./unseal";
import { SealProbeTarget, podProxyAddress, probeSealStatus, sealedVaultMessage, unsealPods } from "./sealcheck";
import { VaultInit } from "./vault-init";
import { AdoptedSetup, AdoptedVaultAccess, adoptedNamespace, adoptedPlan, adoptedStaticSecret, validateAdoptedSetup } from "./adopt";

/** The token reviewer's namespace and ServiceAccount when not given (as KubernetesAuthMethod defaults them). */
const REVIEWER_DEFAULTS = { namespace: "vault-auth", serviceAccountName: "vault-token-reviewer" } as const;

/** One app whose secret VSO copies from Vault into its namespace. */
export interface AppArgs extends AppFields {
    /** Managed value, key → value; use secrets (`pulumi config set --secret`). Default: unmanaged (write it in Vault). */
    data?: Record<string, pulumi.Input<string>>;
}

/** The KV v2 engine's options. */
export interface KvOptions {
    /** Mount path. Default `"kv"`. */
    path?: string;
    /** Protect the mount from `destroy` and replacement (deleting it deletes every secret in it). Default `true`. */
    protect?: boolean;
    /** Mount description. Default `"KV v2 secrets engine managed by pulumi-vault-vso"`. */
    description?: pulumi.Input<string>;
}

export interface VaultOptions {
    /** Install Vault into the cluster with Helm. Default `true`. `false` = an external Vault at `address`. */
    install?: boolean;
    /**
     * Vault address as VSO reaches it (the VaultConnection's address). Required when `install` is
     * false; default with `install`: the in-cluster Service address (`vaultInstall.address`).
     */
    address?: pulumi.Input<string>;
    /**
     * Vault address Pulumi uses to configure Vault (e.g. an ingress or a port-forward). Default with
     * `install`: through the Kubernetes API server's Service proxy, in the same `up` that installs
     * Vault (see `VaultApiServerAccess`); without `install`: `address`.
     */
    providerAddress?: pulumi.Input<string>;
    /** Token Pulumi uses (a secret). Default: the dev root token with `install`, else `vault:token` / `VAULT_TOKEN`. */
    token?: pulumi.Input<string>;
    /** PEM CA VSO uses to verify Vault's TLS certificate (stored as Secret `vault-ca` in each app namespace). Default: the system CAs. */
    caCert?: pulumi.Input<string>;
    /** Let VSO skip TLS verification of Vault (labs only). Default `false`. */
    skipTLSVerify?: boolean;
    /**
     * Accept a plain-http `address` for an external Vault (VSO then sends ServiceAccount tokens and
     * receives secrets unencrypted). Default `false`: an external Vault needs `https://`.
     */
    allowInsecureHttp?: boolean;
    /** Helm options for the install (mode, namespace, chart version, repository, values). */
    helm?: VaultHelmInstallArgs;
}

export interface OperatorOptions {
    /** Install VSO with Helm. Default `true`. */
    install?: boolean;
    /** Helm options for the install (namespace, chart version, repository, values passthrough). */
    helm?: VaultSecretsOperatorInstallArgs;
    /**
     * VSO CRD YAML files to apply when VSO is not installed by this stack (e.g. from VSO's
     * `chart/crds`). Default none.
     */
    crdFiles?: string[];
}

export interface KubernetesAuthOptions {
    /** Auth mount path. Default `"kubernetes"`. */
    path?: string;
    /** API server address as Vault reaches it. Default `https://kubernetes.default.svc.cluster.local:443` (in-cluster Vault); required for external Vault. */
    kubernetesHost?: pulumi.Input<string>;
    /** Cluster CA (PEM). Default: empty in-cluster; the reviewer token's CA for external Vault. */
    kubernetesCaCert?: pulumi.Input<string>;
    /** Token reviewer JWT (secret). Default: empty in-cluster; created for external Vault. */
    tokenReviewerJwt?: pulumi.Input<string>;
    /** Reviewer ServiceAccount options. Default: created when `vault.install` is false and no `tokenReviewerJwt` is given. */
    tokenReviewer?: TokenReviewerArgs;
    /** Vault token TTL of the per-namespace roles, seconds. Default 3600. */
    tokenTtl?: number;
    /** Audience VSO's tokens carry and the roles require. Default `"vault"`. */
    audience?: string;
    /** Role name per namespace; `{namespace}` is replaced. Default `"vso-{namespace}"`. */
    roleNameTemplate?: string;
    /** Policy name per namespace; `{namespace}` is replaced. Default `"vso-{namespace}-read"`. */
    policyNameTemplate?: string;
}

/**
 * The platform's configuration. Explicit providers go in the resource options, not here:
 * `new VaultSecretsPlatform(name, args, { providers: { vault, kubernetes } })` (children inherit
 * them). Default: created from `vault.*`/`kubeconfig` when given, else the stack's default providers.
 */
export interface VaultSecretsPlatformArgs {
    /** Vault: installed with Helm (default, dev mode) or external. */
    vault?: VaultOptions;
    /** The Vault Secrets Operator: installed with Helm by default. */
    operator?: OperatorOptions;
    /** KV v2 engine. Default `{ path: "kv", protect: true }`. */
    kv?: KvOptions;
    /** Kubernetes auth method, its config, and the per-namespace roles. */
    kubernetesAuth?: KubernetesAuthOptions;
    /** ServiceAccount VSO logs in with, created in each app namespace. Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Create the app namespaces. Default `false` (they usually exist with their workloads). */
    createNamespaces?: boolean;
    /** The apps. */
    apps: AppArgs[];
    /** Kubeconfig (contents or path) for a Kubernetes provider. Default: the ambient kubeconfig. */
    kubeconfig?: pulumi.Input<string>;
    /**
     * A hand-built setup taken over as it is (the section `npm run adopt` writes): the first `up`
     * imports these objects and changes nothing. Remove the section to move to the package's
     * conventions (one policy and role and a `vso-auth` ServiceAccount per namespace); the adopted
     * policies, roles and VSO objects are then released from the stack, never deleted. Default: none.
     */
    adopted?: AdoptedSetup;
}

/**
 * The API server and its CA from the kubeconfig the Kubernetes provider uses: `kubeconfig` (contents
 * or path), else the `kubernetes:kubeconfig` config, else $KUBECONFIG / ~/.kube/config; the
 * `kubernetes:context` config picks the context.
 */
export function clusterOfKubeconfig(kubeconfig: pulumi.Input<string> | undefined): pulumi.Output<KubeCluster> {
    const k8sConfig = new pulumi.Config("kubernetes");
    const context = k8sConfig.get("context");
    return pulumi.output(kubeconfig ?? k8sConfig.get("kubeconfig")).apply((kc) => {
        if (kc !== undefined) {
            return kubeClusterOf(kubeconfigText(kc), context);
        }
        const file = ambientKubeconfigPath();
        if (!fs.existsSync(file)) {
            throw new pulumi.RunError(
                `no kubeconfig at ${file}: Pulumi reaches the in-cluster Vault through the API server your kubeconfig names. ` +
                    "Set KUBECONFIG (or the platform's kubeconfig), or give vault.providerAddress to reach Vault another way",
            );
        }
        return kubeClusterOf(fs.readFileSync(file, "utf8"), context);
    });
}

/** Turns apps into the shape the pure planner takes (secret values never go there). */
export function appShapes(apps: AppArgs[]): AppShape[] {
    return (Array.isArray(apps) ? apps : []).map((a) =>
        a && typeof a === "object"
            ? {
                  name: a.name,
                  namespace: a.namespace,
                  path: a.path,
                  keys: a.keys,
                  destination: a.destination,
                  refreshAfter: a.refreshAfter,
                  rolloutRestartTargets: a.rolloutRestartTargets,
                  dataKeys: a.data ? Object.keys(a.data) : undefined,
                  shareAcrossNamespaces: a.shareAcrossNamespaces,
              }
            : (a as unknown as AppShape),
    );
}

/** Which providers the platform is given in its resource options (`providers: { vault, kubernetes }`). */
export interface GivenProviders {
    vault?: boolean;
    kubernetes?: boolean;
}

/**
 * Validates the whole platform config (pure apart from reading the files it names and the ambient
 * kubeconfig's existence). Returns every problem found. `providers`: which providers the platform's
 * resource options give (the constructor says; default none, as in the homelab program).
 */
export function validatePlatformArgs(args: VaultSecretsPlatformArgs, providers: GivenProviders = {}): ValidationProblem[] {
    return withPlatformTypeChecks(args, (a) => validatePlatformValues(a, providers));
}

/** The value checks of validatePlatformArgs, on args whose fields have the right types. */
function validatePlatformValues(args: VaultSecretsPlatformArgs, providers: GivenProviders): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    if (!args || typeof args !== "object") {
        return [{ field: "args", message: "must be an object with at least apps" }];
    }
    const install = args.vault?.install ?? true;
    if (install) {
        problems.push(...validateVaultHelmInstallArgs(args.vault?.helm ?? {}, "vault.helm."));
    } else {
        const addr = plainValue(args.vault?.address);
        if (args.vault?.address === undefined) {
            problems.push({
                field: "vault.address",
                message: 'is required when vault.install is false: give the address VSO reaches Vault at, e.g. "https://vault.lan:8200"',
            });
        } else if (addr !== undefined) {
            const urlProblems = checkUrl("vault.address", addr);
            problems.push(...urlProblems);
            if (!urlProblems.length && typeof addr === "string" && /^http:/i.test(addr) && args.vault?.allowInsecureHttp !== true) {
                problems.push({
                    field: "vault.address",
                    message:
                        "uses plain http: VSO would send ServiceAccount tokens to Vault and receive every secret unencrypted. Use https://, or set vault.allowInsecureHttp: true for a lab on a network you trust",
                });
            }
        }
        if (args.kubernetesAuth?.kubernetesHost === undefined) {
            problems.push({
                field: "kubernetesAuth.kubernetesHost",
                message:
                    'is required when vault.install is false: Vault outside the cluster cannot resolve kubernetes.default.svc; give the API server address Vault can reach, e.g. "https://192.0.2.10:6443"',
            });
        }
    }
    const pa = plainValue(args.vault?.providerAddress);
    if (pa !== undefined) {
        problems.push(...checkUrl("vault.providerAddress", pa));
    }
    if (args.operator?.install ?? true) {
        problems.push(...validateOperatorInstallArgs(args.operator?.helm ?? {}, "operator.helm."));
    }
    problems.push(...validateKubernetesAuthArgs(args.kubernetesAuth ?? {}, "kubernetesAuth."));
    problems.push(...validateApps(appShapes(args.apps), planOptionsOf(args)));
    problems.push(...validateAdoptedSetup(args.adopted));
    problems.push(...reservedNamespaceProblems(args));
    problems.push(...reviewerProblems(args), ...secretNameProblems(args), ...kubeconfigProblems(args.kubeconfig), ...crdFileProblems(args));
    problems.push(...ambientKubeconfigProblems(args, providers));
    problems.push(...adoptedAuthConfigProblems(args), ...adoptedNameProblems(args), ...tokenPolicyPrefixProblems(args), ...keysInStateProblems(args));
    return problems;
}

/**
 * The token Pulumi uses on a durable Vault may write the policies whose names start with the policy
 * template's fixed part (`sys/policies/acl/<prefix>*`). That prefix must not cover its own policy or
 * Vault's `default` (which every token carries): with `{namespace}-read` the token could rewrite its
 * own policy and grant itself everything (pure).
 */
/**
 * keysIn "pulumi": the bootstrap (VaultInit) holds the keys in its state, so nothing may turn it off — a
 * given token or provider address would remove VaultInit and the keys with it (pure).
 */
function keysInStateProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const v = args.vault ?? {};
    if (v.helm?.unseal?.keysIn !== "pulumi") {
        return [];
    }
    return (["token", "providerAddress"] as const)
        .filter((k) => v[k] !== undefined)
        .map((k) => ({
            field: `vault.${k}`,
            message: `cannot be given with vault.helm.unseal.keysIn "pulumi": this stack's bootstrap holds the unseal keys in its state and uses its own token; giving ${k} would remove the bootstrap and the keys with it. Remove vault.${k}`,
        }));
}

function tokenPolicyPrefixProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const template = args.kubernetesAuth?.policyNameTemplate;
    if (typeof template !== "string" || !bootstrapOf(args, "vault")) {
        return [];
    }
    const prefix = policyPrefixOf(template);
    const covered = [PULUMI_TOKEN_POLICY, "default", "root"].filter((n) => n.startsWith(prefix));
    if (!covered.length) {
        return [];
    }
    return [
        {
            field: "kubernetesAuth.policyNameTemplate",
            message: `${JSON.stringify(template)} starts with ${prefix ? JSON.stringify(prefix) : "{namespace}"}: on a durable Vault, Pulumi's token may write every policy named ${JSON.stringify(`${prefix}*`)}, which would include ${covered.map((c) => JSON.stringify(c)).join(" and ")}. Start the template with a fixed prefix of your own, e.g. "vso-{namespace}-read"`,
        },
    ];
}

/** A namespace Vault or VSO runs in, as the config says, and the field (or default) that says so. */
export interface ReservedNamespace {
    namespace: string;
    who: "Vault" | "VSO";
    /** Where the namespace comes from, for messages, e.g. `vault.helm.namespace`. */
    source: string;
}

/** The Kubernetes namespace an in-cluster Service address names (`http://<svc>.<ns>.svc[.cluster.local][:port]`), else undefined (pure). */
export function serviceNamespaceOf(address: unknown): string | undefined {
    if (typeof address !== "string") {
        return undefined;
    }
    const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/@]*@)?[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?\.?(:\d+)?(\/|$)/i.exec(
        address,
    );
    return m ? m[2].toLowerCase() : undefined;
}

/**
 * The namespaces Vault and VSO run in (pure): Vault's is `vault.helm.namespace` (default `vault`) when
 * the platform installs it, else the one an in-cluster `vault.address` names (none for a Vault outside
 * the cluster); VSO's is `operator.helm.namespace` (default `vault-secrets-operator-system`, also where
 * a VSO installed outside this stack runs by default).
 */
export function reservedNamespacesOf(args: VaultSecretsPlatformArgs): ReservedNamespace[] {
    const out: ReservedNamespace[] = [];
    const v = args.vault ?? {};
    if (v.install ?? true) {
        const given = typeof v.helm?.namespace === "string";
        out.push({
            namespace: given ? v.helm!.namespace! : DEFAULTS.vaultNamespace,
            who: "Vault",
            source: given ? "vault.helm.namespace" : `vault.helm.namespace, default ${JSON.stringify(DEFAULTS.vaultNamespace)}`,
        });
    } else {
        const ns = serviceNamespaceOf(plainValue(v.address));
        if (ns !== undefined) {
            out.push({ namespace: ns, who: "Vault", source: "vault.address names a Service in it" });
        }
    }
    const o = args.operator ?? {};
    const given = typeof o.helm?.namespace === "string";
    out.push({
        namespace: given ? o.helm!.namespace! : DEFAULTS.operatorNamespace,
        who: "VSO",
        source: given
            ? "operator.helm.namespace"
            : `operator.helm.namespace, default ${JSON.stringify(DEFAULTS.operatorNamespace)}${(o.install ?? true) ? "" : ", where VSO installed outside this stack runs by default"}`,
    });
    return out;
}

/**
 * Apps stay out of the namespaces Vault and VSO run in (the configured ones; an app in a namespace
 * that is only named like a default, e.g. `vault` while Vault is installed in `secrets`, is fine) (pure).
 */
function reservedNamespaceProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const reserved = reservedNamespacesOf(args);
    const problems: ValidationProblem[] = [];
    (Array.isArray(args.apps) ? args.apps : []).forEach((a, i) => {
        const r = reserved.find((x) => a && x.namespace === a.namespace);
        if (r) {
            problems.push({
                field: `apps[${i}].namespace`,
                message: `${JSON.stringify(r.namespace)} is ${r.who}'s own namespace (${r.source}): apps must not live where Vault or VSO runs; VaultConnection, VaultAuth and VaultStaticSecret belong in the workload's namespace. Give the namespace the workload runs in`,
            });
        }
    });
    return problems;
}

/**
 * The token reviewer the platform creates (pure): `kubernetesAuth.tokenReviewer` when given, else a
 * default one for an external Vault without `tokenReviewerJwt`; none when the auth config is adopted.
 */
export function reviewerOf(args: VaultSecretsPlatformArgs): TokenReviewerArgs | undefined {
    const ka = args.kubernetesAuth ?? {};
    if (args.adopted?.authConfig) {
        return undefined;
    }
    if (ka.tokenReviewer !== undefined) {
        return tokenReviewerOf(ka.tokenReviewer);
    }
    return !(args.vault?.install ?? true) && ka.tokenReviewerJwt === undefined ? {} : undefined;
}

/** The reviewer's namespace and ServiceAccount must not be created twice, by the reviewer and for an app namespace (pure). */
function reviewerProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const r = reviewerOf(args);
    if (!r || !Array.isArray(args.apps)) {
        return [];
    }
    const ns = r.namespace ?? REVIEWER_DEFAULTS.namespace;
    const sa = r.serviceAccountName ?? REVIEWER_DEFAULTS.serviceAccountName;
    const i = args.apps.findIndex((a) => a?.namespace === ns);
    if (i < 0) {
        return [];
    }
    const problems: ValidationProblem[] = [];
    if ((r.createNamespace ?? true) && args.createNamespaces === true) {
        problems.push({
            field: `apps[${i}].namespace`,
            message: `${JSON.stringify(ns)} is also the token reviewer's namespace, which the reviewer creates (kubernetesAuth.tokenReviewer.createNamespace) while createNamespaces creates it too; give the reviewer its own namespace (kubernetesAuth.tokenReviewer.namespace)`,
        });
    }
    if ((args.serviceAccountName ?? DEFAULTS.serviceAccountName) === sa) {
        problems.push({
            field: "serviceAccountName",
            message: `${JSON.stringify(sa)} is also the token reviewer's ServiceAccount in namespace ${JSON.stringify(ns)}, where apps[${i}] is: two ServiceAccounts with one name. Give VSO's ServiceAccount another name`,
        });
    }
    return problems;
}

/**
 * An app's Secret must not be one the platform writes in the same namespace: `vault-ca` (the
 * VaultConnection's CA, with `vault.caCert`) or the token reviewer's token Secret; VSO would refuse
 * to write it, or overwrite it (pure).
 */
function secretNameProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const r = reviewerOf(args);
    const problems: ValidationProblem[] = [];
    (Array.isArray(args.apps) ? args.apps : []).forEach((a, i) => {
        const dest = a?.destination ?? a?.name;
        if (!a || typeof dest !== "string") {
            return;
        }
        const why =
            args.vault?.caCert !== undefined && dest === VAULT_CA_SECRET && !adoptedNamespace(args.adopted, a.namespace)
                ? "the Secret holding Vault's CA for the namespace's VaultConnection (vault.caCert)"
                : r &&
                    a.namespace === (r.namespace ?? REVIEWER_DEFAULTS.namespace) &&
                    dest === `${r.serviceAccountName ?? REVIEWER_DEFAULTS.serviceAccountName}-token`
                  ? "the token reviewer's token Secret"
                  : undefined;
        if (why) {
            problems.push({
                field: `apps[${i}].destination`,
                message: `${JSON.stringify(dest)} in namespace ${JSON.stringify(a.namespace)} is ${why}, which the platform writes; VSO would overwrite it. Give the app another destination`,
            });
        }
    });
    return problems;
}

/**
 * A kubeconfig given as a plain string (contents or path) must be readable, with a cluster in the
 * context Pulumi uses (`kubernetes:context`, else its current context): else the platform would fail
 * at deployment, after its resources were registered.
 */
function kubeconfigProblems(kubeconfig: pulumi.Input<string> | undefined): ValidationProblem[] {
    const kc = plainValue(kubeconfig);
    if (typeof kc !== "string") {
        return [];
    }
    try {
        kubeClusterOf(kubeconfigText(kc), new pulumi.Config("kubernetes").get("context"));
        return [];
    } catch (e) {
        const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
        return [{ field: "kubeconfig", message: `cannot be read (${why}): give a kubeconfig's contents or the path of one` }];
    }
}

/**
 * The kubeconfig nothing in the args names must exist where it is looked for, when something reads
 * it: Pulumi reaching the Vault it installs through the API server (`clusterOfKubeconfig`: no
 * `vault.providerAddress`, no Vault provider given), and the stack's default Kubernetes provider (no
 * Kubernetes provider given, not running in a pod). Else the run fails later, inside the engine,
 * after resources were registered. `kubernetes:kubeconfig` (stack config) must then be readable too.
 */
export function ambientKubeconfigProblems(args: VaultSecretsPlatformArgs, providers: GivenProviders = {}, env = process.env): ValidationProblem[] {
    if (args.kubeconfig !== undefined) {
        return []; // kubeconfigProblems checks it
    }
    const viaApiServer = (args.vault?.install ?? true) && args.vault?.providerAddress === undefined && !providers.vault;
    const defaultProvider = !providers.kubernetes && !env.KUBERNETES_SERVICE_HOST;
    if (!viaApiServer && !defaultProvider) {
        return [];
    }
    const readers = [
        ...(viaApiServer ? ["Pulumi reaches the Vault it installs through the Kubernetes API server it names"] : []),
        ...(defaultProvider ? ["the stack's Kubernetes provider creates VSO's objects with it"] : []),
    ].join(", and ");
    const k8sConfig = new pulumi.Config("kubernetes");
    const configured = k8sConfig.get("kubeconfig");
    if (configured !== undefined) {
        try {
            kubeClusterOf(kubeconfigText(configured), k8sConfig.get("context"));
            return [];
        } catch (e) {
            const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
            return [
                {
                    field: "kubernetes:kubeconfig",
                    message: `(stack config) cannot be read (${why}), and ${readers}: give a kubeconfig's contents or the path of one (pulumi config set kubernetes:kubeconfig <path>)`,
                },
            ];
        }
    }
    // the provider merges every file $KUBECONFIG lists; clusterOfKubeconfig reads the first
    const listed = (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f.length > 0);
    const file = ambientKubeconfigPath(env);
    const missing = (viaApiServer && !fs.existsSync(file)) || (defaultProvider && !(listed.length ? listed : [file]).some((f) => fs.existsSync(f)));
    if (!missing) {
        return [];
    }
    const source = listed.length ? "the first file $KUBECONFIG names" : "$KUBECONFIG is not set, so ~/.kube/config";
    const another = viaApiServer && !defaultProvider ? ", or give vault.providerAddress to reach Vault another way" : "";
    return [
        {
            field: "kubeconfig",
            message: `is not given and there is no kubeconfig at ${file} (${source}), yet ${readers}. Set KUBECONFIG to your kubeconfig file, or give the platform's kubeconfig (stack config: pulumi config set kubernetes:kubeconfig <path>)${another}`,
        },
    ];
}

/** Each `operator.crdFiles` entry that names a local file (no URL, no glob) must exist (pure apart from the file system). */
function crdFileProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    if (args.operator?.install ?? true) {
        return [];
    }
    return (args.operator?.crdFiles ?? [])
        .map((f, i): ValidationProblem | undefined =>
            typeof f === "string" && !/^[a-z][a-z0-9+.-]*:\/\//i.test(f) && !/[*?[]/.test(f) && !fs.existsSync(f)
                ? {
                      field: `operator.crdFiles[${i}]`,
                      message: `${JSON.stringify(f)} does not exist: give the path of a CRD YAML file (e.g. from VSO's chart/crds)`,
                  }
                : undefined,
        )
        .filter((p): p is ValidationProblem => p !== undefined);
}

/** The adopted auth config, checked as KubernetesAuthMethod checks the args the platform makes of it (pure). */
function adoptedAuthConfigProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const ac = args.adopted?.authConfig;
    if (!ac || typeof ac !== "object" || validateAdoptedSetup(args.adopted).length > 0) {
        return [];
    }
    const own = ["kubernetesHost", "kubernetesCaCert"];
    return validateKubernetesAuthArgs(adoptedAuthMethodArgs(ac, DEFAULTS.authPath))
        .filter((p) => own.includes(p.field))
        .map((p) => ({ ...p, field: `adopted.authConfig.${p.field}` }));
}

/**
 * An adopted policy or role must not have the name of one the package creates for a namespace that is
 * not adopted: two resources would manage one Vault object (pure).
 */
function adoptedNameProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const a = args.adopted;
    if (!a || !Array.isArray(args.apps) || validateAdoptedSetup(a).length > 0) {
        return [];
    }
    const ka = args.kubernetesAuth ?? {};
    const planned = new Map<string, string>();
    for (const ns of new Set(args.apps.map((x) => x?.namespace).filter((n): n is string => typeof n === "string"))) {
        if (!adoptedNamespace(a, ns)) {
            planned.set(`policy ${nameFor(ka.policyNameTemplate ?? DEFAULTS.policyNameTemplate, ns)}`, ns);
            planned.set(`role ${nameFor(ka.roleNameTemplate ?? DEFAULTS.roleNameTemplate, ns)}`, ns);
        }
    }
    const problems: ValidationProblem[] = [];
    for (const [list, kind] of [
        [a.policies ?? [], "policy"],
        [a.roles ?? [], "role"],
    ] as const) {
        list.forEach((x, i) => {
            const ns = planned.get(`${kind} ${x.name}`);
            if (ns !== undefined) {
                problems.push({
                    field: `adopted.${kind === "policy" ? "policies" : "roles"}[${i}].name`,
                    message: `${JSON.stringify(x.name)} is also the ${kind} the package creates for namespace ${JSON.stringify(ns)}: two resources would manage one ${kind}. Adopt that namespace too, or rename the ${kind} in Vault first`,
                });
            }
        });
    }
    return problems;
}

/** What KubernetesAuthMethod is given for an adopted auth config: the config as found, imported (pure). */
function adoptedAuthMethodArgs(ac: NonNullable<AdoptedSetup["authConfig"]>, path: string, mount?: boolean): KubernetesAuthMethodArgs {
    return {
        path,
        kubernetesHost: ac.kubernetesHost,
        kubernetesCaCert: ac.kubernetesCaCert || undefined,
        issuer: ac.issuer || undefined,
        disableIssValidation: ac.disableIssValidation,
        disableLocalCaJwt: ac.disableLocalCaJwt,
        importExisting: { mount, config: true },
    };
}

/**
 * What a user should hear at every preview about the config's security (pure): dev-mode Vault keeps
 * nothing and has a known root token; a plain-http Vault the user allowed on purpose.
 */
export function securityWarnings(args: VaultSecretsPlatformArgs): string[] {
    const out: string[] = [];
    const install = args.vault?.install ?? true;
    if (install && (args.vault?.helm?.mode ?? DEFAULT_VAULT_MODE) === "dev") {
        out.push(
            "Vault runs in dev mode: everything is in memory (a pod restart loses every secret) and the root token is " +
                (args.vault?.helm?.devRootToken === undefined ? 'the well-known "root"' : "a static dev token") +
                ', so anything that reaches Vault\'s Service can read every secret. Fine for a try-out; use vault.helm.mode "standalone" or "ha" for secrets you keep.',
        );
    }
    if (!install && args.vault?.allowInsecureHttp === true && /^http:/i.test(String(plainValue(args.vault?.address) ?? ""))) {
        out.push("vault.address is plain http (allowed by vault.allowInsecureHttp): ServiceAccount tokens and secrets cross the network unencrypted.");
    }
    return out;
}

/** The planner's options from the platform's args (pure). */
export function planOptionsOf(args: VaultSecretsPlatformArgs): PlanOptions {
    const ka = args.kubernetesAuth ?? {};
    return {
        kvPath: args.kv?.path,
        authPath: ka.path,
        serviceAccountName: args.serviceAccountName,
        roleNameTemplate: ka.roleNameTemplate,
        policyNameTemplate: ka.policyNameTemplate,
        tokenTtl: ka.tokenTtl,
        audience: ka.audience,
    };
}

/** Plans the platform from validated args (pure); an adopted namespace keeps its own names (see `adoptedPlan`). */
export function planPlatformArgs(args: VaultSecretsPlatformArgs): PlatformPlan {
    return adoptedPlan(planPlatform(appShapes(args.apps), planOptionsOf(args)), args.adopted);
}

type NamespaceOpts = { vaultOpts: ProviderOpts; k8sOpts: ProviderOpts; bothOpts: ProviderOpts; operatorDeps: pulumi.Resource[] };
type ProviderOpts = { parent: pulumi.Resource; dependsOn?: pulumi.Resource[]; providers?: Record<string, pulumi.ProviderResource> };

/**
 * What a durable Vault's bootstrap needs (pure): its pods and keys, when the platform installs a
 * standalone/ha Vault and reaches it through the API server without a token of the user's; else undefined.
 */
export function bootstrapOf(
    args: VaultSecretsPlatformArgs,
    serviceName: string,
): { pods: string[]; keysIn: UnsealKeysIn; keysSecretName: string; keyShares: number; keyThreshold: number } | undefined {
    const v = args.vault ?? {};
    const mode = v.helm?.mode ?? DEFAULT_VAULT_MODE;
    if (!(v.install ?? true) || mode === "dev" || v.token !== undefined || v.providerAddress !== undefined) {
        return undefined;
    }
    const replicas = vaultReplicas(mode, v.helm?.haReplicas);
    const u = v.helm?.unseal ?? {};
    return {
        pods: Array.from({ length: replicas }, (_, i) => `${serviceName}-${i}`),
        keysIn: u.keysIn ?? "secret",
        keysSecretName: u.keysSecretName ?? UNSEAL_DEFAULTS.keysSecretName,
        keyShares: u.keyShares ?? UNSEAL_DEFAULTS.keyShares,
        keyThreshold: u.keyThreshold ?? UNSEAL_DEFAULTS.keyThreshold,
    };
}

/** keysIn "pulumi": what `pulumi up` needs to unseal a restarted Vault with the keys in the stack's state. */
interface UnsealFromState {
    keys: pulumi.Output<string[] | undefined>;
    server: pulumi.Output<string>;
    pods: string[];
    threshold: number;
}

/** True under `pulumi.runtime.setMocks` (unit tests), where no server exists to be asked. */
function underMocks(): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (...a: never[]) => unknown };
    return pulumi.runtime.getMonitor() instanceof MockMonitor;
}

/** The platform's child components (kept off the class's fields: see `VaultSecretsPlatform`). */
interface PlatformParts {
    plan: PlatformPlan;
    vaultInstall?: VaultHelmInstall;
    operatorInstall?: VaultSecretsOperatorInstall;
    kv?: KvV2Engine;
    kubernetesAuth?: KubernetesAuthMethod;
    vaultAccess: Record<string, VaultNamespaceAccess>;
    vsoAccess: Record<string, VsoNamespaceAccess>;
    apps: Record<string, VaultStaticSecretApp>;
    adoptedVaultAccess?: AdoptedVaultAccess;
}
const PARTS = new WeakMap<VaultSecretsPlatform, PlatformParts>();

/**
 * The whole setup: Vault and VSO (Helm, optional), the KV v2 engine, the Kubernetes auth method with
 * its config, one policy + role + VaultConnection + VaultAuth + ServiceAccount per namespace, and one
 * VaultStaticSecret (and optional managed value) per app. Bad config fails here, before any API call,
 * with one `ValidationError` listing every problem. Validation and planning run once: the children
 * take their share of the plan.
 *
 * Its only fields are its outputs (`vaultAddress`, `managedVersions`, `inventory`); the children are
 * getters. That keeps the class's schema inferable, so other languages can use it through the
 * component provider (see README, "From other languages").
 */
export class VaultSecretsPlatform extends pulumi.ComponentResource {
    /** Vault address as VSO reaches it. */
    public readonly vaultAddress: pulumi.Output<string>;
    /** KV v2 version of each managed app value at the last `up`, by app name (for the drift check). */
    public readonly managedVersions: pulumi.Output<Record<string, string>>;
    /**
     * What the stack manages, for the ops tools (drift check, doctor): export it from the program as
     * `export const inventory = platform.inventory` (see `PlatformInventory`).
     */
    public readonly inventory: pulumi.Output<PlatformInventory>;

    /** What the config plans (pure data: namespaces, names, policy texts, apps). */
    get plan(): PlatformPlan {
        return this.parts.plan;
    }
    /** The Helm release of Vault, when `vault.install`. */
    get vaultInstall(): VaultHelmInstall | undefined {
        return this.parts.vaultInstall;
    }
    /** The Helm release of VSO, when `operator.install`. */
    get operatorInstall(): VaultSecretsOperatorInstall | undefined {
        return this.parts.operatorInstall;
    }
    get kv(): KvV2Engine {
        return this.parts.kv!;
    }
    get kubernetesAuth(): KubernetesAuthMethod {
        return this.parts.kubernetesAuth!;
    }
    /** The Vault half of each namespace's access (policy + role), by namespace. */
    get vaultAccess(): Record<string, VaultNamespaceAccess> {
        return this.parts.vaultAccess;
    }
    /** The cluster half of each namespace's access (ServiceAccount + VaultConnection + VaultAuth), by namespace. */
    get vsoAccess(): Record<string, VsoNamespaceAccess> {
        return this.parts.vsoAccess;
    }
    /** Each app's VaultStaticSecret (and managed value), by app name. */
    get apps(): Record<string, VaultStaticSecretApp> {
        return this.parts.apps;
    }
    private get parts(): PlatformParts {
        return PARTS.get(this)!;
    }

    constructor(name: string, args: VaultSecretsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultSecretsPlatform`, name, {}, opts);
        const given = { vault: this.getProvider("vault::") !== undefined, kubernetes: this.getProvider("kubernetes::") !== undefined };
        failOnProblems("VaultSecretsPlatform", validatePlatformArgs(args, given), this);
        for (const w of securityWarnings(args)) {
            pulumi.log.warn(w, this);
        }
        const parts: PlatformParts = { plan: planPlatformArgs(args), vaultAccess: {}, vsoAccess: {}, apps: {} };
        PARTS.set(this, parts);
        const k8sProvider =
            this.getProvider("kubernetes::") ??
            (args.kubeconfig !== undefined ? new k8s.Provider(`${name}-k8s`, { kubeconfig: pulumi.secret(args.kubeconfig) }, { parent: this }) : undefined);
        const k8sOpts: ProviderOpts = { parent: this, ...(k8sProvider ? { providers: { kubernetes: k8sProvider } } : {}) };
        if (args.vault?.install ?? true) {
            parts.vaultInstall = new VaultHelmInstall(name, args.vault?.helm ?? {}, k8sOpts);
        }
        this.vaultAddress = args.vault?.address !== undefined ? pulumi.output(args.vault.address) : parts.vaultInstall!.address;
        const vaultProvider = this.getProvider("vault::") ?? this.vaultProvider(name, args, k8sOpts);
        const vaultDeps: pulumi.Resource[] = parts.vaultInstall ? [parts.vaultInstall] : [];
        const vaultOpts: ProviderOpts = { parent: this, dependsOn: vaultDeps, providers: { vault: vaultProvider } };
        const bothOpts: ProviderOpts = { ...vaultOpts, providers: { ...vaultOpts.providers, ...k8sOpts.providers } };
        if (args.operator?.install ?? true) {
            parts.operatorInstall = new VaultSecretsOperatorInstall(name, args.operator?.helm ?? {}, k8sOpts);
        }
        const operatorDeps = parts.operatorInstall ? [parts.operatorInstall] : this.operatorCrds(name, args, k8sOpts);
        parts.kv = new KvV2Engine(
            name,
            { path: parts.plan.kvPath, protect: args.kv?.protect, description: args.kv?.description, importExisting: args.adopted?.kvMount },
            vaultOpts,
        );
        parts.kubernetesAuth = this.authMethod(name, args, bothOpts);
        if (args.adopted?.policies?.length || args.adopted?.roles?.length) {
            parts.adoptedVaultAccess = new AdoptedVaultAccess(
                `${name}-adopted`,
                { authPath: parts.plan.authPath, policies: args.adopted.policies, roles: args.adopted.roles },
                { ...vaultOpts, dependsOn: [...vaultDeps, parts.kubernetesAuth] },
            );
        }
        for (const nsPlan of parts.plan.namespaces) {
            this.namespace(name, args, nsPlan, { vaultOpts, k8sOpts, bothOpts, operatorDeps });
        }
        const versions = Object.entries(parts.apps).filter(([, a]) => a.managedVersion);
        this.managedVersions = pulumi
            .all(Object.fromEntries(versions.map(([n, a]) => [n, a.managedVersion!])))
            .apply((v) => Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")));
        const plan = parts.plan;
        this.inventory = pulumi.all([this.vaultAddress, this.managedVersions]).apply(([addr, v]) => inventoryOf(plan, addr, v));
        this.registerOutputs({ vaultAddress: this.vaultAddress, managedVersions: this.managedVersions, inventory: this.inventory });
    }

    /** The Vault provider the Vault resources use: through the API server to the installed Vault, or to `providerAddress`/`address`. */
    private vaultProvider(name: string, args: VaultSecretsPlatformArgs, k8sOpts: ProviderOpts): vault.Provider {
        const v = args.vault ?? {};
        const install = v.install ?? true;
        const vaultConfig = new pulumi.Config("vault");
        const token = v.token ?? this.vaultInstall?.rootToken ?? vaultConfig.getSecret("token");
        if (install && v.providerAddress === undefined) {
            return this.inClusterVaultProvider(name, args, k8sOpts, token);
        }
        const tokenArgs = token !== undefined ? { token: pulumi.secret(token) } : {};
        const given = v.providerAddress ?? (install ? undefined : v.address);
        const plain = pulumi.output(given ?? vaultConfig.get("address") ?? process.env.VAULT_ADDR ?? vaultConfig.require("address"));
        return new vault.Provider(
            `${name}-vault`,
            {
                address: this.unsealedAddress(
                    plain.apply((a) => ({ address: a })),
                    { installed: install, namespace: install ? (v.helm?.namespace ?? DEFAULTS.vaultNamespace) : undefined, shown: undefined },
                ),
                ...tokenArgs,
                skipChildToken: true,
            },
            { parent: this },
        );
    }

    /** Pulumi reaches the in-cluster Vault through the API server, in this same run (a durable one bootstrapped first). */
    private inClusterVaultProvider(
        name: string,
        args: VaultSecretsPlatformArgs,
        k8sOpts: ProviderOpts,
        givenToken: pulumi.Input<string> | undefined,
    ): vault.Provider {
        let token = givenToken;
        const vi = this.vaultInstall!;
        const boot = bootstrapOf(args, vi.serviceName);
        const cluster = clusterOfKubeconfig(args.kubeconfig);
        const access = new VaultApiServerAccess(
            `${name}-vault-access`,
            {
                namespace: vi.namespace,
                serviceName: vi.serviceName,
                cluster,
                // the keys Secret only when the keys live there
                bootstrap: boot && { pods: boot.pods, keysSecretName: boot.keysIn === "secret" ? boot.keysSecretName : undefined },
            },
            { ...k8sOpts, dependsOn: [vi] },
        );
        let unsealFromState: UnsealFromState | undefined;
        if (boot) {
            // a durable Vault: initialised, unsealed and given Pulumi's own token in this same run
            const init = this.vaultInit(name, args, { cluster, access, boot, vi });
            token = init.token;
            if (boot.keysIn === "pulumi") {
                // its keys live only in the state: a restarted Vault is unsealed by `pulumi up`, here
                unsealFromState = { keys: init.unsealKeys, server: cluster.apply((c) => c.server), pods: boot.pods, threshold: boot.keyThreshold };
            }
        }
        const tokenArgs = token !== undefined ? { token: pulumi.secret(token) } : {};
        // the address resolves after the bootstrap (token) and only when Vault is not sealed
        const address = this.unsealedAddress(
            pulumi
                .all([access.address, access.headers, access.caCertFile, access.skipTLSVerify, pulumi.unsecret(pulumi.output(token).apply(() => 0))])
                .apply(([a, h, ca, skip]) => ({
                    address: a,
                    headers: h,
                    caCertFile: ca,
                    skipTlsVerify: skip,
                })),
            {
                installed: true,
                namespace: vi.namespace,
                keysIn: boot?.keysIn,
                keysSecretName: boot?.keysSecretName,
                shown: "the Vault this stack installed",
                unseal: unsealFromState,
            },
        );
        return new vault.Provider(
            `${name}-vault`,
            {
                address,
                headers: access.headers,
                caCertFile: access.caCertFile as pulumi.Output<string>,
                skipTlsVerify: access.skipTLSVerify,
                ...tokenArgs,
                skipChildToken: true,
            },
            { parent: this },
        );
    }

    /**
     * The provider's address, once `sys/seal-status` (asked through the same route) says Vault is not
     * sealed: a sealed Vault stops the run here with what to do, before any Vault resource is read or
     * changed. Unknown (preview of a Vault not installed yet) or unreachable: the address as it is.
     */
    private unsealedAddress(
        target: pulumi.Output<SealProbeTarget>,
        c: {
            installed: boolean;
            namespace?: pulumi.Input<string>;
            keysIn?: "secret" | "pulumi";
            keysSecretName?: string;
            shown?: string;
            unseal?: UnsealFromState;
        },
    ): pulumi.Output<string> {
        // the address is not secret (the probe's inputs may be: the API server's bearer header, the keys)
        const checked = pulumi
            .all([target, pulumi.output(c.namespace), pulumi.output(c.unseal?.keys), pulumi.output(c.unseal?.server)])
            .apply(async ([t, ns, keys, server]) => {
                if (underMocks()) {
                    return t.address; // unit tests: there is no Vault to ask
                }
                let unsealTried = false;
                if (c.unseal && ns !== undefined && server !== undefined) {
                    const r = await this.unsealFromState(t, ns, server, c.unseal, keys);
                    if (r === "deferred") {
                        // a preview (also the one `pulumi up` runs first): the update unseals, so the
                        // provider's address stays unknown here instead of failing the preview
                        return pulumi.unknown as unknown as string;
                    }
                    unsealTried = r === "tried";
                }
                const message = sealedVaultMessage(await probeSealStatus(t), {
                    installed: c.installed,
                    namespace: ns,
                    keysIn: c.keysIn,
                    keysSecretName: c.keysSecretName,
                    shownAddress: c.shown ?? redactUrlCredentials(t.address),
                    unsealTried,
                });
                if (message) {
                    throw new pulumi.ResourceError(message, this);
                }
                return t.address;
            });
        return pulumi.unsecret(checked);
    }

    /**
     * keysIn "pulumi": every sealed pod gets the keys from the stack's state, in `pulumi up` only (a
     * preview changes nothing: it warns, "deferred"). "tried": keys were submitted. Never prints a key.
     */
    private async unsealFromState(
        t: SealProbeTarget,
        ns: string,
        server: string,
        u: UnsealFromState,
        keys: string[] | undefined,
    ): Promise<"none" | "deferred" | "tried"> {
        const pods = u.pods.map((p) => ({ name: p, address: podProxyAddress(server, ns, p) }));
        const route = { headers: t.headers, caCertFile: t.caCertFile, skipTlsVerify: t.skipTlsVerify };
        const sealed: string[] = [];
        for (const p of pods) {
            const st = await probeSealStatus({ ...route, address: p.address });
            if (st?.sealed && st.initialized) {
                sealed.push(p.name);
            }
        }
        if (sealed.length === 0 || keys === undefined || keys.length === 0) {
            return "none";
        }
        if (pulumi.runtime.isDryRun()) {
            pulumi.log.warn(
                `Vault pod(s) ${sealed.join(", ")} in ${ns} are sealed: pulumi up unseals them with the keys in this stack's state (this preview cannot read Vault)`,
                this,
            );
            return "deferred";
        }
        const still = await unsealPods(
            route,
            pods.filter((p) => sealed.includes(p.name)),
            keys,
            u.threshold,
        );
        const done = sealed.filter((p) => !still.includes(p));
        if (done.length > 0) {
            pulumi.log.info(`unsealed Vault pod(s) ${done.join(", ")} in ${ns} with the keys in this stack's state`, this);
            // the Service answers unsealed once a pod behind it is (a moment for its readiness)
            for (let i = 0; i < 30 && (await probeSealStatus(t))?.sealed !== false; i++) {
                await new Promise((r) => setTimeout(r, 2000));
            }
        }
        return "tried";
    }

    private vaultInit(
        name: string,
        args: VaultSecretsPlatformArgs,
        o: { cluster: pulumi.Output<KubeCluster>; access: VaultApiServerAccess; boot: NonNullable<ReturnType<typeof bootstrapOf>>; vi: VaultHelmInstall },
    ): VaultInit {
        const { cluster, access, boot, vi } = o;
        return new VaultInit(
            `${name}-vault-init`,
            {
                server: cluster.apply((c) => c.server),
                caPem: cluster.apply((c) => c.caPem),
                insecure: cluster.apply((c) => c.insecure),
                authorization: pulumi.secret(access.headers.apply((h) => h[0].value)),
                namespace: vi.namespace,
                pods: boot.pods,
                keyShares: boot.keyShares,
                keyThreshold: boot.keyThreshold,
                keysSecretName: boot.keysSecretName,
                keysIn: boot.keysIn,
                policy: pulumiTokenPolicy(
                    this.plan.kvPath,
                    this.plan.authPath,
                    policyPrefixOf(args.kubernetesAuth?.policyNameTemplate ?? DEFAULTS.policyNameTemplate),
                ),
            },
            { parent: this, dependsOn: [vi, access] },
        );
    }

    /** VSO's CRDs from files when VSO is not installed here; what the VSO objects must wait for. */
    private operatorCrds(name: string, args: VaultSecretsPlatformArgs, k8sOpts: ProviderOpts): pulumi.Resource[] {
        if (args.operator?.crdFiles && args.operator.crdFiles.length > 0) {
            // CRDs are cluster-wide and shared: deleting one deletes every VaultStaticSecret in the
            // cluster, and with them the Secrets VSO wrote. Removing the stack leaves them in place.
            const retain: pulumi.ResourceTransform = (a) => ({ props: a.props, opts: pulumi.mergeOptions(a.opts, { retainOnDelete: true }) });
            return [new k8s.yaml.v2.ConfigGroup(`${name}-vso-crds`, { files: args.operator.crdFiles }, { ...k8sOpts, transforms: [retain] })];
        }
        return [];
    }

    private authMethod(name: string, args: VaultSecretsPlatformArgs, bothOpts: ProviderOpts): KubernetesAuthMethod {
        const ka = args.kubernetesAuth ?? {};
        const ac = args.adopted?.authConfig;
        if (ac) {
            // the config as found, imported; the reviewer JWT Vault holds (it never returns it) is left alone
            return new KubernetesAuthMethod(name, adoptedAuthMethodArgs(ac, this.plan.authPath, args.adopted?.authMount), bothOpts);
        }
        const tokenReviewer = reviewerOf(args);
        return new KubernetesAuthMethod(
            name,
            {
                path: this.plan.authPath,
                kubernetesHost: ka.kubernetesHost,
                kubernetesCaCert: ka.kubernetesCaCert,
                tokenReviewerJwt: ka.tokenReviewerJwt,
                tokenReviewer,
                importExisting: { mount: args.adopted?.authMount },
            },
            bothOpts,
        );
    }

    /** One namespace: its Vault half, its cluster half, and its apps, each given its share of the plan. */
    private namespace(name: string, args: VaultSecretsPlatformArgs, nsPlan: NamespacePlan, o: NamespaceOpts): void {
        const ns = nsPlan.namespace;
        const vaultDeps = o.vaultOpts.dependsOn ?? [];
        const adopted = adoptedNamespace(args.adopted, ns);
        let vso: VsoNamespaceAccess;
        if (adopted) {
            // the namespace logs in as it did: its own VaultConnection/VaultAuth and the adopted role
            const vsoArgs: VsoNamespaceAccessArgs = {
                namespace: ns,
                vaultAddress: this.vaultAddress,
                roleName: nsPlan.roleName,
                adopted,
                reservedNamespaces: reservedNamespacesOf(args).map((r) => r.namespace),
            };
            const deps = [...o.operatorDeps, ...(this.parts.adoptedVaultAccess ? [this.parts.adoptedVaultAccess] : [])];
            vso = new VsoNamespaceAccess(`${name}-${ns}`, markPlanned(vsoArgs, nsPlan), { ...o.k8sOpts, dependsOn: deps });
        } else {
            const access = new VaultNamespaceAccess(`${name}-${ns}`, markPlanned(this.vaultAccessArgs(nsPlan), nsPlan), {
                ...o.vaultOpts,
                dependsOn: [...vaultDeps, this.kv, this.kubernetesAuth],
            });
            this.vaultAccess[ns] = access;
            vso = new VsoNamespaceAccess(`${name}-${ns}`, markPlanned(this.vsoAccessArgs(args, nsPlan, access), nsPlan), {
                ...o.k8sOpts,
                dependsOn: [...o.operatorDeps, access],
            });
        }
        this.vsoAccess[ns] = vso;
        for (const app of nsPlan.apps) {
            const appArgs = {
                secretName: app.name,
                namespace: ns,
                path: app.path,
                kvPath: this.plan.kvPath,
                vaultAuthRef: nsPlan.authName,
                data: args.apps[app.index].data,
                adopted: adoptedStaticSecret(args.adopted, ns, app.name),
            };
            this.apps[app.name] = new VaultStaticSecretApp(`${name}-${app.name}`, markPlanned(appArgs, app), {
                ...o.bothOpts,
                dependsOn: [...vaultDeps, this.kv, vso],
            });
        }
    }

    private vaultAccessArgs(nsPlan: NamespacePlan): VaultNamespaceAccessArgs {
        return {
            namespace: nsPlan.namespace,
            paths: nsPlan.apps.map((a) => a.path),
            kvPath: this.plan.kvPath,
            authPath: this.kubernetesAuth.path,
            serviceAccountName: nsPlan.serviceAccountName,
            policyName: nsPlan.policyName,
            roleName: nsPlan.roleName,
            tokenTtl: this.plan.tokenTtl,
            audience: this.plan.audience,
        };
    }

    private vsoAccessArgs(args: VaultSecretsPlatformArgs, nsPlan: NamespacePlan, access: VaultNamespaceAccess): VsoNamespaceAccessArgs {
        const plan = this.plan;
        return {
            namespace: nsPlan.namespace,
            vaultAddress: this.vaultAddress,
            roleName: access.role.roleName,
            authPath: this.kubernetesAuth.path,
            serviceAccountName: nsPlan.serviceAccountName,
            connectionName: nsPlan.connectionName,
            authName: nsPlan.authName,
            audiences: plan.audience ? [plan.audience] : undefined,
            createNamespace: args.createNamespaces ?? false,
            accessRevision: accessRevision({
                authPath: plan.authPath,
                roleName: nsPlan.roleName,
                policyName: nsPlan.policyName,
                policy: nsPlan.policyText,
                serviceAccountName: nsPlan.serviceAccountName,
                audience: plan.audience,
                tokenTtl: plan.tokenTtl,
            }),
            caCert: args.vault?.caCert,
            skipTLSVerify: args.vault?.skipTLSVerify,
            reservedNamespaces: reservedNamespacesOf(args).map((r) => r.namespace),
        };
    }
}
