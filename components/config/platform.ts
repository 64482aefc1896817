/**
 * VaultSecretsPlatform's args: their types, their checks (every problem at once) and the plan they become (pure).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { plainValue } from "./errors";
import { VaultHelmInstallArgs, validateVaultHelmInstallArgs, vaultReplicas, DEFAULT_VAULT_MODE } from "./vault-install";
import { VaultSecretsOperatorInstallArgs, validateOperatorInstallArgs } from "./operator-install";
import { KubeCluster, ambientKubeconfigPath, kubeClusterOf, kubeconfigText } from "./kubeconfig";
import { AppFields, AppShape, DEFAULTS, nameFor, PlanOptions, PlatformPlan, planPlatform, validateApps, withPlatformTypeChecks } from "./plan";
import { ValidationProblem, checkUrl } from "./validate";
import { KubernetesAuthMethodArgs, TokenReviewerArgs, checkKvShared, tokenReviewerOf, validateKubernetesAuthArgs } from "./vault-access";
import { VAULT_CA_SECRET } from "./vso-access";
import { PULUMI_TOKEN_POLICY, UNSEAL_DEFAULTS, UnsealKeysIn, policyPrefixOf } from "./unseal";
import { AdoptedSetup, adoptedNamespace, adoptedPlan, validateAdoptedSetup } from "./adopt";
import { DATABASE_DEFAULTS, DatabaseArgs, databaseRoleName, planDatabase, validateDatabaseArgs } from "./database";
import { PKI_DEFAULTS, PkiArgs, pkiRoleName, planPki, validatePkiArgs } from "./pki";

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
    /**
     * The mount belongs to another stack (one Vault serving several clusters: the first cluster's
     * stack manages it): this stack only reads it and never changes or deletes it. Default `false`.
     */
    shared?: boolean;
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
    /**
     * The cluster this stack serves, when one Vault serves several (one stack per cluster; see
     * docs/multi-cluster.md). It gives the cluster its own auth mount (`kubernetes-<cluster>`) and
     * role and policy names (`vso-<cluster>-{namespace}`, `vso-<cluster>-{namespace}-read`), so two
     * clusters' namespaces of the same name never share a role. Explicit `kubernetesAuth.path` and
     * templates win; templates may say `{cluster}`. A DNS label. Default none: one cluster
     * (`kubernetes`, `vso-{namespace}`).
     */
    cluster?: string;
    /** ServiceAccount VSO logs in with, created in each app namespace. Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Create the app namespaces. Default `false` (they usually exist with their workloads). */
    createNamespaces?: boolean;
    /** The apps. */
    apps: AppArgs[];
    /**
     * Database credentials (Vault's database engine, Postgres): the connections and, per app, a dynamic
     * or static role synced by a VaultDynamicSecret into its namespace (docs/database.md). The
     * namespace's policy gains exactly the app's `creds`/`static-creds` path, and its role a token
     * period. Default: none.
     */
    database?: DatabaseArgs;
    /**
     * TLS certificates (Vault's PKI engine with a root CA of its own): per app, an issuing role allowing
     * exactly its names and a VaultPKISecret writing a `kubernetes.io/tls` Secret, renewed `expiryOffset`
     * before expiry (docs/pki.md). The namespace's policy gains exactly `<pki>/issue/<role>`. Default: none.
     */
    pki?: PkiArgs;
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
    return withPlatformTypeChecks(args, (a) => [...clusterProblems(a), ...validatePlatformValues(withClusterDefaults(a), providers)]);
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
    problems.push(...databaseProblems(args), ...pkiProblems(args), ...adoptedSecretsProblems(args));
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
/** The database section's checks, and what it must not share with the rest of the platform (pure). */
function databaseProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    if (args.database === undefined) {
        return [];
    }
    const apps = Array.isArray(args.apps) ? args.apps.filter((a) => a && typeof a.name === "string" && typeof a.namespace === "string") : [];
    const problems = validateDatabaseArgs(args.database, "database", {
        cluster: args.cluster,
        kvApps: apps.map((a) => ({ name: a.name, namespace: a.namespace, destination: a.destination })),
    });
    const dbPath = args.database?.path ?? DATABASE_DEFAULTS.path;
    const taken: [string, string][] = [
        [args.kv?.path ?? DEFAULTS.kvPath, "kv.path"],
        [`auth/${args.kubernetesAuth?.path ?? DEFAULTS.authPath}`, "kubernetesAuth.path"],
    ];
    for (const [p, field] of taken) {
        if (typeof dbPath === "string" && dbPath === p) {
            problems.push({
                field: "database.path",
                message: `${JSON.stringify(dbPath)} is already ${field}: give the database engine a mount of its own (default "database")`,
            });
        }
    }
    problems.push(...reservedNamespaceUse(args, args.database?.roles, "database.roles", "credentials belong in the workload's namespace"));
    return problems;
}

/**
 * A database credential or certificate in a namespace that is still adopted (pure): that namespace
 * logs in with its hand-built role and policy, which the platform never changes, so VSO could not read
 * the new path. Refused, naming the field and the way out.
 */
function adoptedSecretsProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const check = (list: unknown, field: string) =>
        (Array.isArray(list) ? list : []).forEach((x: { namespace?: unknown; name?: unknown }, i) => {
            // one that was adopted itself (its VaultDynamicSecret/VaultPKISecret imported as it is) logs in as it did
            const own = field === "database.roles" ? args.adopted?.dynamicSecrets : args.adopted?.pkiSecrets;
            if (Array.isArray(own) && own.some((o) => o?.namespace === x?.namespace && o?.name === x?.name)) {
                return;
            }
            if (x && typeof x.namespace === "string" && adoptedNamespace(args.adopted, x.namespace)) {
                problems.push({
                    field: `${field}[${i}].namespace`,
                    message: `${JSON.stringify(x.namespace)} is adopted (adopted.namespaces): it keeps its hand-built role and policy, which would not grant this path. Take the convention step for the namespace first (remove it from adopted, see docs/adopt.md)`,
                });
            }
        });
    check(args.database?.roles, "database.roles");
    check(args.pki?.certificates, "pki.certificates");
    return [...problems, ...adoptedEngineProblems(args)];
}

type Missing = (field: string, what: string, fix: string) => void;
const listOf = <T>(v: T[] | undefined): T[] => (Array.isArray(v) ? v : []);

/**
 * The adopted database and PKI objects must be ones the config has (each would otherwise be ignored
 * silently), and an adopted PKI mount has its CA already: the stack must not generate a root on it (pure).
 */
function adoptedEngineProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const a = args.adopted;
    if (!a || typeof a !== "object" || validateAdoptedSetup(a).length > 0) {
        return [];
    }
    const problems: ValidationProblem[] = [];
    const missing: Missing = (field, what, fix) => problems.push({ field, message: `${what}, which the config does not have: ${fix}` });
    adoptedDatabaseProblems(args, a, missing);
    adoptedPkiProblems(args, a, missing, problems);
    const db = args.database && typeof args.database === "object" ? args.database : undefined;
    const pki = args.pki && typeof args.pki === "object" ? args.pki : undefined;
    for (const [objs, entries, field, section] of [
        [a.dynamicSecrets, db?.roles, "dynamicSecrets", "database.roles"],
        [a.pkiSecrets, pki?.certificates, "pkiSecrets", "pki.certificates"],
    ] as const) {
        listOf(objs as AdoptedSetup["dynamicSecrets"]).forEach((o, i) => {
            if (!listOf(entries as { namespace?: string; name?: string }[] | undefined).some((e) => e?.namespace === o.namespace && e?.name === o.name)) {
                missing(
                    `adopted.${field}[${i}]`,
                    `imports ${o.namespace}/${o.name} for a ${section} entry of that namespace and name`,
                    `add it to ${section}, or remove the adopted entry`,
                );
            }
        });
    }
    return problems;
}

/** The adopted database mount, connections and roles against the database section (pure). */
function adoptedDatabaseProblems(args: VaultSecretsPlatformArgs, a: AdoptedSetup, missing: Missing): void {
    const db = args.database && typeof args.database === "object" ? args.database : undefined;
    if (a.databaseMount && !db) {
        missing(
            "adopted.databaseMount",
            "imports the database engine's mount for database",
            "add the database section (npm run adopt writes it), or remove adopted.databaseMount",
        );
    }
    const connections = new Set(listOf(db?.connections).map((c) => c?.name));
    listOf(a.databaseConnections).forEach((c, i) => {
        if (!connections.has(c.name)) {
            missing(
                `adopted.databaseConnections[${i}].name`,
                `imports the connection ${JSON.stringify(c.name)} for database.connections`,
                "add it there, or remove the entry",
            );
        }
    });
    const roleNames = new Set(
        listOf(db?.roles)
            .filter((r) => r && typeof r.namespace === "string" && typeof r.name === "string")
            .map((r) => r.roleName ?? databaseRoleName(r.namespace, r.name, args.cluster)),
    );
    listOf(a.databaseRoles).forEach((r, i) => {
        if (!roleNames.has(r)) {
            missing(
                `adopted.databaseRoles[${i}]`,
                `imports the Vault role ${JSON.stringify(r)} for a database.roles entry`,
                `give that entry roleName ${JSON.stringify(r)}, or remove the adopted entry`,
            );
        }
    });
}

/** The adopted PKI mount and roles against the pki section; an adopted mount keeps its CA (pure). */
function adoptedPkiProblems(args: VaultSecretsPlatformArgs, a: AdoptedSetup, missing: Missing, problems: ValidationProblem[]): void {
    const pki = args.pki && typeof args.pki === "object" ? args.pki : undefined;
    const certRoles = new Set(
        listOf(pki?.certificates)
            .filter((c) => c && typeof c.namespace === "string" && typeof c.name === "string")
            .map((c) => c.roleName ?? pkiRoleName(c.namespace, c.name, args.cluster)),
    );
    listOf(a.pkiRoles).forEach((r, i) => {
        if (!certRoles.has(r.name)) {
            missing(
                `adopted.pkiRoles[${i}].name`,
                `imports the issuing role ${JSON.stringify(r.name)} for a pki.certificates entry`,
                `give that entry roleName ${JSON.stringify(r.name)}, or remove the adopted entry`,
            );
        }
    });
    if (!a.pkiMount) {
        return;
    }
    if (!pki) {
        missing("adopted.pkiMount", "imports the PKI engine's mount for pki", "add the pki section (npm run adopt writes it), or remove adopted.pkiMount");
    } else if ((pki.ca?.type ?? "internal") !== "existing") {
        problems.push({
            field: "pki.ca.type",
            message: `the PKI mount is adopted (adopted.pkiMount) and has its CA already; the stack would generate another root on it and every certificate issued so far would stop verifying against the mount's CA. Set pki.ca: { type: "existing" }`,
        });
    }
}

/** The pki section's checks, and what it must not share with the rest of the platform (pure). */
function pkiProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    if (args.pki === undefined) {
        return [];
    }
    const taken = new Map<string, string>();
    for (const a of Array.isArray(args.apps) ? args.apps : []) {
        if (a && typeof a.name === "string" && typeof a.namespace === "string") {
            taken.set(`${a.namespace}/${a.name}`, `apps (the KV app ${JSON.stringify(a.name)})`);
            taken.set(`secret:${a.namespace}/${a.destination ?? a.name}`, `apps (the KV app ${JSON.stringify(a.name)})`);
        }
    }
    for (const r of Array.isArray(args.database?.roles) ? args.database.roles : []) {
        if (r && typeof r.name === "string" && typeof r.namespace === "string") {
            taken.set(`${r.namespace}/${r.name}`, `database.roles (${JSON.stringify(r.name)})`);
            taken.set(`secret:${r.namespace}/${r.destination ?? r.name}`, `database.roles (${JSON.stringify(r.name)})`);
        }
    }
    const problems = validatePkiArgs(args.pki, "pki", { taken, cluster: args.cluster });
    const pkiPath = args.pki?.path ?? PKI_DEFAULTS.path;
    for (const [p, field] of [
        [args.kv?.path ?? DEFAULTS.kvPath, "kv.path"],
        [args.database ? (args.database.path ?? DATABASE_DEFAULTS.path) : undefined, "database.path"],
    ] as const) {
        if (p !== undefined && pkiPath === p) {
            problems.push({
                field: "pki.path",
                message: `${JSON.stringify(pkiPath)} is already ${field}: give the PKI engine a mount of its own (default "pki")`,
            });
        }
    }
    problems.push(...reservedNamespaceUse(args, args.pki?.certificates, "pki.certificates", "certificates belong in the workload's namespace"));
    return problems;
}

/** Entries of `list` (apps, database roles, certificates) in Vault's or VSO's own namespace, each named by its field (pure). */
function reservedNamespaceUse(args: VaultSecretsPlatformArgs, list: unknown, field: string, why: string): ValidationProblem[] {
    const reserved = reservedNamespacesOf(args);
    const problems: ValidationProblem[] = [];
    (Array.isArray(list) ? list : []).forEach((x: { namespace?: unknown } | undefined, i) => {
        const r = reserved.find((n) => x && n.namespace === x.namespace);
        if (r) {
            problems.push({ field: `${field}[${i}].namespace`, message: `${JSON.stringify(r.namespace)} is ${r.who}'s own namespace (${r.source}): ${why}` });
        }
    });
    return problems;
}

function reservedNamespaceProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    return reservedNamespaceUse(
        args,
        args.apps,
        "apps",
        "apps must not live where Vault or VSO runs; VaultConnection, VaultAuth and VaultStaticSecret belong in the workload's namespace. Give the namespace the workload runs in",
    );
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
export function adoptedAuthMethodArgs(ac: NonNullable<AdoptedSetup["authConfig"]>, path: string, mount?: boolean): KubernetesAuthMethodArgs {
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

/**
 * The args with the cluster's defaults filled in (pure): `cluster` → auth mount `kubernetes-<cluster>`
 * and role/policy templates with the cluster in them; `{cluster}` in a given template replaced. Without
 * `cluster`, the args as they are. Validation, planning and the platform's children start from it (filling
 * twice changes nothing).
 */
export function withClusterDefaults(args: VaultSecretsPlatformArgs): VaultSecretsPlatformArgs {
    const c = args?.cluster;
    if (typeof c !== "string" || c === "" || (args.kubernetesAuth !== undefined && typeof args.kubernetesAuth !== "object")) {
        return args;
    }
    const ka = args.kubernetesAuth ?? {};
    const fill = (t: string | undefined, dflt: string): string => (t === undefined ? dflt : t.split("{cluster}").join(c));
    return {
        ...args,
        kubernetesAuth: {
            ...ka,
            path: ka.path ?? clusterAuthPath(c),
            roleNameTemplate: fill(ka.roleNameTemplate, `vso-${c}-{namespace}`),
            policyNameTemplate: fill(ka.policyNameTemplate, `vso-${c}-{namespace}-read`),
        },
    };
}

/** The auth mount of a named cluster (pure): `kubernetes-<cluster>`. */
export function clusterAuthPath(cluster: string): string {
    return `kubernetes-${cluster}`;
}

/** `cluster` is a DNS label short enough for the names it goes into; `{cluster}` only with a cluster (pure). */
function clusterProblems(args: VaultSecretsPlatformArgs): ValidationProblem[] {
    const c = args.cluster;
    const problems: ValidationProblem[] = [];
    if (c !== undefined && (typeof c !== "string" || !/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(c))) {
        problems.push({
            field: "cluster",
            message: `${JSON.stringify(c)} is not a cluster name: use lower-case letters, digits and "-" (at most 32, e.g. "nas"); it becomes part of the auth mount and of role and policy names`,
        });
    }
    problems.push(...checkKvShared("kv.shared", args.kv?.shared, args.adopted?.kvMount));
    if (c === undefined) {
        for (const k of ["roleNameTemplate", "policyNameTemplate"] as const) {
            const t = args.kubernetesAuth?.[k];
            if (typeof t === "string" && t.includes("{cluster}")) {
                problems.push({
                    field: `kubernetesAuth.${k}`,
                    message: `${JSON.stringify(t)} says {cluster} but no cluster is set: set cluster, or remove {cluster}`,
                });
            }
        }
    }
    return problems;
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
export function planPlatformArgs(given: VaultSecretsPlatformArgs): PlatformPlan {
    const args = withClusterDefaults(given);
    const database = args.database ? planDatabase(args.database, args.cluster) : undefined;
    const pki = args.pki ? planPki(args.pki, args.cluster) : undefined;
    return adoptedPlan(
        planPlatform(appShapes(args.apps), { ...planOptionsOf(args), ...(database ? { database } : {}), ...(pki ? { pki } : {}) }),
        args.adopted,
    );
}

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
