/**
 * Kubernetes-side building blocks: the per-namespace VSO binding (ServiceAccount + VaultConnection +
 * VaultAuth) and the per-app VaultStaticSecret with an optional managed value in Vault.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX, failOnProblems, plainValue } from "./common";
import { DEFAULTS, RestartTarget, planPlatform, staticSecretSpec } from "./plan";
import {
    ValidationProblem,
    checkKeysMatchData,
    checkLoginServiceAccount,
    checkKubernetesName,
    checkMountPath,
    checkRefreshAfter,
    checkRestartTarget,
    checkSecretKey,
    checkSecretPath,
    checkUrl,
    checkVaultName,
} from "./validate";
import { VSO_API_VERSION } from "./versions";

/**
 * Pulumi owns these objects: a field edited behind its back (kubectl edit, a UI) is reclaimed by the
 * next `pulumi up --refresh` instead of failing with a Server-Side Apply field conflict.
 */
export const PATCH_FORCE = { "pulumi.com/patchForce": "true" };

export interface VsoNamespaceBindingArgs {
    /** The workload namespace (never Vault's or VSO's own). */
    namespace: string;
    /** Vault address as VSO reaches it, e.g. `http://vault.vault.svc.cluster.local:8200`. */
    vaultAddress: pulumi.Input<string>;
    /** Vault Kubernetes auth role for this namespace. */
    roleName: pulumi.Input<string>;
    /** Kubernetes auth mount path. Default `"kubernetes"`. */
    authPath?: pulumi.Input<string>;
    /** Dedicated ServiceAccount VSO logs in with (created here). Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Name of the VaultConnection. Default `"vault-connection"`. */
    connectionName?: string;
    /** Name of the VaultAuth. Default `"vault-auth"`. */
    authName?: string;
    /** Audiences of the token VSO requests; must include the role's audience. Default `["vault"]`. */
    audiences?: string[];
    /** Skip TLS verification to Vault. Default `false`. */
    skipTlsVerify?: boolean;
    /** PEM CA of Vault's TLS certificate; stored as Secret `vault-ca` (key `ca.crt`) and referenced by the VaultConnection. Default: none. */
    caCert?: pulumi.Input<string>;
    /** Create the namespace itself. Default `false` (it usually exists with its workloads). */
    createNamespace?: boolean;
    /**
     * A fingerprint of what the namespace's role and policy grant (see `accessRevision`). It is sent
     * as the VaultAuth header `X-Vault-Vso-Access-Revision`, so a change of role or policy gives the
     * VaultAuth a new generation, and VSO (whose client cache is keyed on it) logs in again instead of
     * keeping a stale or failed login (VSO issue 1185). Default: none.
     */
    accessRevision?: pulumi.Input<string>;
}

/** Header that carries the access revision on the VaultAuth. */
export const ACCESS_REVISION_HEADER = "X-Vault-Vso-Access-Revision";

/** Checks VsoNamespaceBinding's arguments (pure). */
export function validateNamespaceBindingArgs(args: VsoNamespaceBindingArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    problems.push(...checkKubernetesName(`${prefix}namespace`, args.namespace, "label"));
    if ([DEFAULTS.vaultNamespace, DEFAULTS.operatorNamespace].includes(args.namespace as never)) {
        problems.push({ field: `${prefix}namespace`, message: `${JSON.stringify(args.namespace)} is Vault's or VSO's own namespace; VaultConnection and VaultAuth belong in the workload's namespace, next to its VaultStaticSecrets` });
    }
    const addr = plainValue(args.vaultAddress);
    if (addr !== undefined) {
        problems.push(...checkUrl(`${prefix}vaultAddress`, addr));
    }
    const role = plainValue(args.roleName);
    if (role !== undefined) {
        problems.push(...checkVaultName(`${prefix}roleName`, role));
    }
    problems.push(...checkLoginServiceAccount(`${prefix}serviceAccountName`, args.serviceAccountName ?? DEFAULTS.serviceAccountName));
    problems.push(...checkKubernetesName(`${prefix}connectionName`, args.connectionName ?? DEFAULTS.connectionName, "subdomain"));
    problems.push(...checkKubernetesName(`${prefix}authName`, args.authName ?? DEFAULTS.authName, "subdomain"));
    return problems;
}

/**
 * Everything VSO needs in one workload namespace: a dedicated ServiceAccount to log in with, a
 * VaultConnection (where Vault is) and a VaultAuth (how to log in), shared by all of the
 * namespace's VaultStaticSecrets.
 */
export class VsoNamespaceBinding extends pulumi.ComponentResource {
    public readonly namespace: string;
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;
    public readonly connection: k8s.apiextensions.CustomResource;
    public readonly auth: k8s.apiextensions.CustomResource;
    /** Name of the VaultAuth, for `vaultAuthRef`. */
    public readonly authName: string;
    public readonly namespaceResource?: k8s.core.v1.Namespace;

    constructor(name: string, args: VsoNamespaceBindingArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VsoNamespaceBinding`, name, {}, opts);
        failOnProblems("VsoNamespaceBinding", validateNamespaceBindingArgs(args), this);
        const ns = args.namespace;
        this.namespace = ns;
        this.authName = args.authName ?? DEFAULTS.authName;
        const connectionName = args.connectionName ?? DEFAULTS.connectionName;
        const deps: pulumi.Resource[] = [];
        if (args.createNamespace) {
            // never deleted by Pulumi: the namespace holds the user's workloads, which Pulumi did not create
            this.namespaceResource = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: ns } }, { parent: this, retainOnDelete: true });
            deps.push(this.namespaceResource);
        }
        this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, {
            metadata: {
                name: args.serviceAccountName ?? DEFAULTS.serviceAccountName,
                namespace: ns,
                labels: { "app.kubernetes.io/managed-by": "pulumi-vault-vso" },
                annotations: PATCH_FORCE,
            },
            automountServiceAccountToken: false,
        }, { parent: this, dependsOn: deps });
        const connDeps = [...deps];
        if (args.caCert !== undefined) {
            connDeps.push(new k8s.core.v1.Secret(`${name}-vault-ca`, {
                metadata: { name: "vault-ca", namespace: ns, annotations: PATCH_FORCE },
                stringData: { "ca.crt": args.caCert },
            }, { parent: this, dependsOn: deps }));
        }
        this.connection = new k8s.apiextensions.CustomResource(`${name}-connection`, {
            apiVersion: VSO_API_VERSION,
            kind: "VaultConnection",
            metadata: { name: connectionName, namespace: ns, annotations: PATCH_FORCE },
            spec: {
                address: args.vaultAddress,
                skipTLSVerify: args.skipTlsVerify ?? false,
                ...(args.caCert !== undefined ? { caCertSecretRef: "vault-ca" } : {}),
            },
        }, { parent: this, dependsOn: connDeps });
        this.auth = new k8s.apiextensions.CustomResource(`${name}-auth`, {
            apiVersion: VSO_API_VERSION,
            kind: "VaultAuth",
            metadata: { name: this.authName, namespace: ns, annotations: PATCH_FORCE },
            spec: {
                method: "kubernetes",
                mount: args.authPath ?? DEFAULTS.authPath,
                vaultConnectionRef: connectionName,
                kubernetes: {
                    role: args.roleName,
                    serviceAccount: this.serviceAccount.metadata.name,
                    audiences: args.audiences ?? [DEFAULTS.audience],
                },
                ...(args.accessRevision !== undefined ? { headers: { [ACCESS_REVISION_HEADER]: args.accessRevision } } : {}),
            },
        }, { parent: this, dependsOn: [this.connection, ...deps] });
        this.registerOutputs({ namespace: ns, authName: this.authName, connectionName });
    }
}

export interface VaultStaticSecretAppArgs {
    /** Namespace of the app (where the VaultAuth is and the Secret is written). */
    namespace: string;
    /** Secret path relative to the KV v2 mount, e.g. `rustfs/cloudnativepg`. */
    path: string;
    /** KV v2 mount. Default `"kv"`. */
    kvPath?: string;
    /** The VaultAuth in the same namespace. Default `"vault-auth"`. */
    vaultAuthRef?: string;
    /** Kubernetes Secret to write. Default: the resource name. */
    destination?: string;
    /** Key names expected. Default: the keys of `data`. */
    keys?: string[];
    /** How often VSO re-reads. Default `"60s"`. */
    refreshAfter?: string;
    /** Workloads restarted when the secret changes. Default none. */
    restartTargets?: RestartTarget[];
    /**
     * Optional managed value: key → value (Pulumi secrets). When given, the KV v2 secret is written
     * by Pulumi; values are stored as secrets in state. Default: not managed (write it in Vault).
     */
    data?: Record<string, pulumi.Input<string>>;
    /** Object name of the VaultStaticSecret. Default: the resource name. */
    secretName?: string;
}

/** Checks VaultStaticSecretApp's arguments (pure). */
export function validateStaticSecretArgs(name: string, args: VaultStaticSecretAppArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const kvPath = args.kvPath ?? DEFAULTS.kvPath;
    problems.push(...checkMountPath(`${prefix}kvPath`, kvPath));
    problems.push(...checkKubernetesName(`${prefix}name`, args.secretName ?? name, "subdomain"));
    problems.push(...checkKubernetesName(`${prefix}namespace`, args.namespace, "label"));
    problems.push(...checkSecretPath(`${prefix}path`, args.path, kvPath));
    problems.push(...checkKubernetesName(`${prefix}destination`, args.destination ?? args.secretName ?? name, "subdomain"));
    problems.push(...checkKubernetesName(`${prefix}vaultAuthRef`, args.vaultAuthRef ?? DEFAULTS.authName, "subdomain"));
    if (typeof args.vaultAuthRef === "string" && args.vaultAuthRef.includes("/")) {
        problems.push({ field: `${prefix}vaultAuthRef`, message: "points at another namespace; the VaultAuth must be in the same namespace as the VaultStaticSecret" });
    }
    problems.push(...checkRefreshAfter(`${prefix}refreshAfter`, args.refreshAfter ?? DEFAULTS.refreshAfter));
    (args.restartTargets ?? []).forEach((t, i) => problems.push(...checkRestartTarget(`${prefix}restartTargets[${i}]`, t)));
    (args.keys ?? []).forEach((k, i) => problems.push(...checkSecretKey(`${prefix}keys[${i}]`, k)));
    if (args.data !== undefined) {
        Object.keys(args.data).forEach((k) => problems.push(...checkSecretKey(`${prefix}data.${k}`, k)));
        if (Object.keys(args.data).length === 0) {
            problems.push({ field: `${prefix}data`, message: "is empty; give at least one key, or leave data out to manage the value outside Pulumi" });
        }
        problems.push(...checkKeysMatchData(`${prefix}keys`, args.keys, args.data));
    }
    return problems;
}

/**
 * One app's secret: a VaultStaticSecret that makes VSO copy `<kv>/<path>` into the Secret
 * `destination` (creating it), refresh it every `refreshAfter` and restart `restartTargets` when it
 * changes; plus, when `data` is given, the KV v2 secret itself (values are Pulumi secrets).
 */
export class VaultStaticSecretApp extends pulumi.ComponentResource {
    public readonly staticSecret: k8s.apiextensions.CustomResource;
    /** The managed KV v2 secret, when `data` was given. */
    public readonly kvSecret?: vault.kv.SecretV2;
    /** Name of the Kubernetes Secret VSO writes. */
    public readonly destination: string;
    /** KV v2 version of the managed value at the last `pulumi up` (for drift checks); undefined when unmanaged. */
    public readonly managedVersion?: pulumi.Output<string | undefined>;

    constructor(name: string, args: VaultStaticSecretAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultStaticSecretApp`, name, {}, opts);
        failOnProblems("VaultStaticSecretApp", validateStaticSecretArgs(name, args), this);
        const kvPath = args.kvPath ?? DEFAULTS.kvPath;
        const objectName = args.secretName ?? name;
        const plan = planPlatform([{
            name: objectName, namespace: args.namespace, path: args.path, destination: args.destination,
            keys: args.keys, refreshAfter: args.refreshAfter, restartTargets: args.restartTargets,
            dataKeys: args.data ? Object.keys(args.data) : undefined,
        }], { kvPath }).namespaces[0].apps[0];
        this.destination = plan.destination;
        const deps: pulumi.Resource[] = [];
        if (args.data !== undefined) {
            const data = args.data;
            const dataJson = pulumi.secret(pulumi.all(data).apply((d) => JSON.stringify(d)));
            this.kvSecret = new vault.kv.SecretV2(`${name}-value`, {
                mount: kvPath,
                name: args.path,
                dataJson,
            }, {
                parent: this, additionalSecretOutputs: ["dataJson", "data"],
                // the value outlives the app entry: removing or renaming the app, or `destroy`, leaves it
                // in Vault (the provider's delete would soft-delete the path's latest version, which after
                // a rename is the one just written). Delete it on purpose with `vault kv metadata delete`.
                retainOnDelete: true,
            });
            this.managedVersion = this.kvSecret.metadata.apply((m) => m?.["version"]);
            deps.push(this.kvSecret);
        }
        this.staticSecret = new k8s.apiextensions.CustomResource(`${name}-vss`, {
            apiVersion: VSO_API_VERSION,
            kind: "VaultStaticSecret",
            metadata: {
                name: objectName,
                namespace: args.namespace,
                annotations: plan.keys ? { ...PATCH_FORCE, "vault-vso.pulumi.io/keys": plan.keys.join(",") } : PATCH_FORCE,
            },
            spec: staticSecretSpec(plan, kvPath, args.vaultAuthRef ?? DEFAULTS.authName),
        }, { parent: this, dependsOn: deps });
        this.registerOutputs({ destination: this.destination, managedVersion: this.managedVersion });
    }
}
