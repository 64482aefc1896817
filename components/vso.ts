/**
 * Kubernetes-side building blocks: the per-namespace VSO binding (ServiceAccount + VaultConnection +
 * VaultAuth) and the per-app VaultStaticSecret with an optional managed value in Vault.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { AdoptedNamespace, AdoptedObject, adoptedManifest } from "./adopt";
import { TYPE_PREFIX, failOnProblems, plainValue, plannedBy } from "./common";
import { AppPlan, DEFAULTS, planApp, staticSecretSpec, validateAppValues } from "./plan";
import { ValidationProblem, checkKubernetesName, checkLoginServiceAccount, checkMountPath, checkUrl, checkVaultName } from "./validate";
import {
    ACCESS_REVISION_HEADER,
    KEYS_ANNOTATION,
    MANAGED_BY_LABEL,
    PATCH_FORCE,
    RolloutRestartTarget,
    VSO_API_VERSION,
    VaultAuthSpec,
    VaultConnectionSpec,
    VaultStaticSecretSpec,
} from "./vso-types";

/** The Secret (key `ca.crt`) VsoNamespaceAccess writes `caCert` to, for the VaultConnection. */
export const VAULT_CA_SECRET = "vault-ca";

export interface VsoNamespaceAccessArgs {
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
    skipTLSVerify?: boolean;
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
    /**
     * The namespace's VaultConnection and VaultAuth already exist (a hand-built setup, see `npm run
     * adopt`): import them exactly as they are and create no ServiceAccount. Without it (the
     * convention step) they are updated in place to the package's conventions. Default: none.
     */
    adopted?: AdoptedNamespace;
    /**
     * The namespaces Vault and VSO run in, which this namespace must not be. Default: their default
     * namespaces (`vault`, `vault-secrets-operator-system`); the platform passes the ones it uses.
     */
    reservedNamespaces?: string[];
}

/** Checks VsoNamespaceAccess's arguments (pure). */
export function validateVsoNamespaceAccessArgs(args: VsoNamespaceAccessArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    problems.push(...checkKubernetesName(`${prefix}namespace`, args.namespace, "label"));
    const reserved = Array.isArray(args.reservedNamespaces) ? args.reservedNamespaces : [DEFAULTS.vaultNamespace, DEFAULTS.operatorNamespace];
    if (reserved.includes(args.namespace)) {
        problems.push({
            field: `${prefix}namespace`,
            message: `${JSON.stringify(args.namespace)} is Vault's or VSO's own namespace; VaultConnection and VaultAuth belong in the workload's namespace, next to its VaultStaticSecrets`,
        });
    }
    const addr = plainValue(args.vaultAddress);
    if (addr !== undefined) {
        problems.push(...checkUrl(`${prefix}vaultAddress`, addr));
    }
    const role = plainValue(args.roleName);
    // an adopted namespace keeps its VaultAuth as found: roleName is then not used (the adopted VaultAuth
    // names its own role, which may be any name Vault took, e.g. "default")
    if (role !== undefined && !args.adopted) {
        problems.push(...checkVaultName(`${prefix}roleName`, role));
    }
    problems.push(...checkLoginServiceAccount(`${prefix}serviceAccountName`, args.serviceAccountName ?? DEFAULTS.serviceAccountName));
    problems.push(...checkKubernetesName(`${prefix}connectionName`, args.connectionName ?? DEFAULTS.connectionName, "subdomain"));
    problems.push(...checkKubernetesName(`${prefix}authName`, args.authName ?? DEFAULTS.authName, "subdomain"));
    return problems;
}

/** Type token the per-namespace VSO half had before 0.2 (kept as an alias: no replacement on upgrade). */
const VSO_NAMESPACE_ACCESS_OLD_TYPE = `${TYPE_PREFIX}VsoNamespaceBinding`;

/**
 * The cluster half of one namespace's access (the Vault half is `VaultNamespaceAccess`): a dedicated
 * ServiceAccount VSO logs in with, a VaultConnection (where Vault is) and a VaultAuth (how to log
 * in), shared by all of the namespace's VaultStaticSecrets.
 */
export class VsoNamespaceAccess extends pulumi.ComponentResource {
    public readonly namespace: string;
    /** The ServiceAccount VSO logs in with; undefined while the namespace is adopted (it uses its own). */
    public readonly serviceAccount?: k8s.core.v1.ServiceAccount;
    public readonly connection: k8s.apiextensions.CustomResource;
    public readonly auth: k8s.apiextensions.CustomResource;
    /** Name of the VaultAuth, for `vaultAuthRef`. */
    public readonly authName: string;
    /** Name of the VaultConnection. */
    public readonly connectionName: string;
    /** The namespace, when `createNamespace` (never deleted by Pulumi). */
    public readonly namespaceResource?: k8s.core.v1.Namespace;

    constructor(name: string, args: VsoNamespaceAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VsoNamespaceAccess`, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: VSO_NAMESPACE_ACCESS_OLD_TYPE }] });
        if (!plannedBy(args)) {
            failOnProblems("VsoNamespaceAccess", validateVsoNamespaceAccessArgs(args), this);
        }
        this.namespace = args.namespace;
        this.authName = args.authName ?? DEFAULTS.authName;
        this.connectionName = args.connectionName ?? DEFAULTS.connectionName;
        const deps: pulumi.Resource[] = [];
        if (args.createNamespace) {
            // never deleted by Pulumi: the namespace holds the user's workloads, which Pulumi did not create
            this.namespaceResource = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, { parent: this, retainOnDelete: true });
            deps.push(this.namespaceResource);
        }
        if (args.adopted) {
            this.authName = args.adopted.auth.name;
            this.connectionName = args.adopted.connection.name;
            this.connection = this.adoptedObject(`${name}-connection`, "VaultConnection", args.adopted.connection, deps);
            this.auth = this.adoptedObject(`${name}-auth`, "VaultAuth", args.adopted.auth, [this.connection, ...deps]);
            this.registerOutputs({ namespace: this.namespace, authName: this.authName, connectionName: this.connectionName });
            return;
        }
        this.serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: args.serviceAccountName ?? DEFAULTS.serviceAccountName,
                    namespace: args.namespace,
                    labels: MANAGED_BY_LABEL,
                    annotations: PATCH_FORCE,
                },
                automountServiceAccountToken: false,
            },
            { parent: this, dependsOn: deps },
        );
        this.connection = this.vaultConnection(name, args, deps);
        this.auth = this.vaultAuth(name, args, deps);
        this.registerOutputs({ namespace: this.namespace, authName: this.authName, connectionName: this.connectionName });
    }

    /** An adopted object, imported as it is; the same resource the convention step later updates in place. */
    private adoptedObject(name: string, kind: string, o: AdoptedObject, deps: pulumi.Resource[]): k8s.apiextensions.CustomResource {
        return new k8s.apiextensions.CustomResource(name, adoptedManifest(kind, VSO_API_VERSION, o) as k8s.apiextensions.CustomResourceArgs, {
            parent: this,
            dependsOn: deps,
            import: `${o.namespace}/${o.name}`,
            retainOnDelete: true,
        });
    }

    private vaultConnection(name: string, args: VsoNamespaceAccessArgs, deps: pulumi.Resource[]): k8s.apiextensions.CustomResource {
        const connDeps = [...deps];
        if (args.caCert !== undefined) {
            connDeps.push(
                new k8s.core.v1.Secret(
                    `${name}-vault-ca`,
                    {
                        metadata: { name: VAULT_CA_SECRET, namespace: args.namespace, annotations: PATCH_FORCE },
                        stringData: { "ca.crt": args.caCert },
                    },
                    { parent: this, dependsOn: deps },
                ),
            );
        }
        const spec: pulumi.Input<pulumi.Inputs> & Omit<VaultConnectionSpec, "address"> & { address: pulumi.Input<string> } = {
            address: args.vaultAddress,
            skipTLSVerify: args.skipTLSVerify ?? false,
            ...(args.caCert !== undefined ? { caCertSecretRef: VAULT_CA_SECRET } : {}),
        };
        return new k8s.apiextensions.CustomResource(
            `${name}-connection`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultConnection",
                metadata: { name: this.connectionName, namespace: args.namespace, annotations: PATCH_FORCE },
                spec,
            },
            { parent: this, dependsOn: connDeps },
        );
    }

    private vaultAuth(name: string, args: VsoNamespaceAccessArgs, deps: pulumi.Resource[]): k8s.apiextensions.CustomResource {
        type AuthSpecInput = Omit<VaultAuthSpec, "mount" | "kubernetes" | "headers"> & {
            mount: pulumi.Input<string>;
            kubernetes: { role: pulumi.Input<string>; serviceAccount: pulumi.Input<string>; audiences: string[] };
            headers?: Record<string, pulumi.Input<string>>;
        };
        const spec: AuthSpecInput = {
            method: "kubernetes",
            mount: args.authPath ?? DEFAULTS.authPath,
            vaultConnectionRef: this.connectionName,
            kubernetes: { role: args.roleName, serviceAccount: this.serviceAccount!.metadata.name, audiences: args.audiences ?? [DEFAULTS.audience] },
            ...(args.accessRevision !== undefined ? { headers: { [ACCESS_REVISION_HEADER]: args.accessRevision } } : {}),
        };
        return new k8s.apiextensions.CustomResource(
            `${name}-auth`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultAuth",
                metadata: { name: this.authName, namespace: args.namespace, annotations: PATCH_FORCE },
                spec,
            },
            { parent: this, dependsOn: [this.connection, ...deps] },
        );
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
    rolloutRestartTargets?: RolloutRestartTarget[];
    /**
     * Optional managed value: key → value (Pulumi secrets). When given, the KV v2 secret is written
     * by Pulumi; values are stored as secrets in state. Default: not managed (write it in Vault).
     */
    data?: Record<string, pulumi.Input<string>>;
    /** Object name of the VaultStaticSecret. Default: the resource name. */
    secretName?: string;
    /**
     * The VaultStaticSecret already exists (a hand-built setup, see `npm run adopt`): import it exactly
     * as it is. Without it (the convention step) it is updated in place, so its Secret stays. Default: none.
     */
    adopted?: AdoptedObject;
}

/** The app as the planner sees it (pure; values never go there). */
function appShapeOf(name: string, args: VaultStaticSecretAppArgs) {
    return {
        name: args.secretName ?? name,
        namespace: args.namespace,
        path: args.path,
        destination: args.destination,
        keys: args.keys,
        refreshAfter: args.refreshAfter,
        rolloutRestartTargets: args.rolloutRestartTargets,
        dataKeys: args.data ? Object.keys(args.data) : undefined,
    };
}

/** Checks VaultStaticSecretApp's arguments (pure): the platform's per-app rules, plus the mount and the VaultAuth reference. */
export function validateStaticSecretArgs(name: string, args: VaultStaticSecretAppArgs, prefix = ""): ValidationProblem[] {
    const kvPath = args.kvPath ?? DEFAULTS.kvPath;
    const problems = [...checkMountPath(`${prefix}kvPath`, kvPath), ...validateAppValues(prefix, appShapeOf(name, args), kvPath)];
    problems.push(...checkKubernetesName(`${prefix}vaultAuthRef`, args.vaultAuthRef ?? DEFAULTS.authName, "subdomain"));
    if (typeof args.vaultAuthRef === "string" && args.vaultAuthRef.includes("/")) {
        problems.push({
            field: `${prefix}vaultAuthRef`,
            message: "points at another namespace; the VaultAuth must be in the same namespace as the VaultStaticSecret",
        });
    }
    return problems;
}

/**
 * One app's secret: a VaultStaticSecret that makes VSO copy `<kv>/<path>` into the Secret
 * `destination` (creating it), refresh it every `refreshAfter` and restart `rolloutRestartTargets`
 * when it changes; plus, when `data` is given, the KV v2 secret itself (values are Pulumi secrets).
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
        let plan = plannedBy<AppPlan>(args);
        if (!plan) {
            failOnProblems("VaultStaticSecretApp", validateStaticSecretArgs(name, args), this);
            plan = planApp(appShapeOf(name, args));
        }
        const kvPath = args.kvPath ?? DEFAULTS.kvPath;
        this.destination = plan.destination;
        const deps: pulumi.Resource[] = [];
        if (args.data !== undefined) {
            this.kvSecret = this.managedValue(name, kvPath, args.path, args.data);
            this.managedVersion = this.kvSecret.metadata.apply((m) => m?.["version"]);
            deps.push(this.kvSecret);
        }
        const spec: VaultStaticSecretSpec = staticSecretSpec(plan, kvPath, args.vaultAuthRef ?? DEFAULTS.authName);
        if (args.adopted) {
            this.staticSecret = new k8s.apiextensions.CustomResource(
                `${name}-vss`,
                adoptedManifest("VaultStaticSecret", VSO_API_VERSION, args.adopted) as k8s.apiextensions.CustomResourceArgs,
                // while adopted, the stack never deletes what it did not create (deleting it would delete its Secret)
                { parent: this, dependsOn: deps, import: `${args.adopted.namespace}/${args.adopted.name}`, retainOnDelete: true },
            );
            this.registerOutputs({ destination: this.destination, managedVersion: this.managedVersion });
            return;
        }
        this.staticSecret = new k8s.apiextensions.CustomResource(
            `${name}-vss`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultStaticSecret",
                metadata: {
                    name: plan.name,
                    namespace: args.namespace,
                    annotations: plan.keys ? { ...PATCH_FORCE, [KEYS_ANNOTATION]: plan.keys.join(",") } : PATCH_FORCE,
                },
                spec,
            },
            { parent: this, dependsOn: deps },
        );
        this.registerOutputs({ destination: this.destination, managedVersion: this.managedVersion });
    }

    private managedValue(name: string, kvPath: string, path: string, data: Record<string, pulumi.Input<string>>): vault.kv.SecretV2 {
        const dataJson = pulumi.secret(pulumi.all(data).apply((d) => JSON.stringify(d)));
        return new vault.kv.SecretV2(
            `${name}-value`,
            { mount: kvPath, name: path, dataJson },
            {
                parent: this,
                additionalSecretOutputs: ["dataJson", "data"],
                // the value outlives the app entry: removing or renaming the app, or `destroy`, leaves it
                // in Vault (the provider's delete would soft-delete the path's latest version, which after
                // a rename is the one just written). Delete it on purpose with `vault kv metadata delete`.
                retainOnDelete: true,
            },
        );
    }
}
