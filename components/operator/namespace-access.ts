/**
 * VsoNamespaceAccess: the per-namespace VSO objects (VaultConnection, VaultAuth, ServiceAccount) that let
 * an app namespace's VaultStaticSecrets log in to Vault.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AdoptedNamespace, AdoptedObject, adoptedManifest } from "../config/adopt";
import { ComponentPlan, TYPE_PREFIX, plainValue, planOf } from "../config/errors";
import { DEFAULTS } from "../config/plan";
import { ValidationProblem, checkKubernetesName, checkLoginServiceAccount, checkUrl, checkVaultName } from "../config/validate";
import { ACCESS_REVISION_HEADER, MANAGED_BY_LABEL, PATCH_FORCE, VSO_API_VERSION, VaultAuthSpec, VaultConnectionSpec } from "../config/vso-types";

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

/** VsoNamespaceAccess's args after the validation pass: every default filled in. */
export interface VsoNamespaceAccessPlan extends ComponentPlan<"VsoNamespaceAccess"> {
    namespace: string;
    vaultAddress: pulumi.Input<string>;
    roleName: pulumi.Input<string>;
    authPath: pulumi.Input<string>;
    serviceAccountName: string;
    connectionName: string;
    authName: string;
    audiences: string[];
    skipTLSVerify: boolean;
    caCert?: pulumi.Input<string>;
    createNamespace: boolean;
    accessRevision?: pulumi.Input<string>;
    adopted?: AdoptedNamespace;
    /** The namespaces it was checked not to be (Vault's and VSO's own). */
    reservedNamespaces: string[];
}

/** Plans VsoNamespaceAccess's checked args (pure): the defaults; an adopted namespace keeps its objects' names. */
export function planVsoNamespaceAccess(args: VsoNamespaceAccessArgs): VsoNamespaceAccessPlan {
    return {
        planned: "VsoNamespaceAccess",
        namespace: args.namespace,
        vaultAddress: args.vaultAddress,
        roleName: args.roleName,
        authPath: args.authPath ?? DEFAULTS.authPath,
        serviceAccountName: args.serviceAccountName ?? DEFAULTS.serviceAccountName,
        connectionName: args.adopted?.connection.name ?? args.connectionName ?? DEFAULTS.connectionName,
        authName: args.adopted?.auth.name ?? args.authName ?? DEFAULTS.authName,
        audiences: args.audiences ?? [DEFAULTS.audience],
        skipTLSVerify: args.skipTLSVerify ?? false,
        caCert: args.caCert,
        createNamespace: args.createNamespace ?? false,
        accessRevision: args.accessRevision,
        adopted: args.adopted,
        reservedNamespaces: args.reservedNamespaces ?? [DEFAULTS.vaultNamespace, DEFAULTS.operatorNamespace],
    };
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

    /** `args`: checked and planned here once; or its plan (`planVsoNamespaceAccess`, the platform's), used as it is. */
    constructor(name: string, args: VsoNamespaceAccessArgs | VsoNamespaceAccessPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VsoNamespaceAccess`, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: VSO_NAMESPACE_ACCESS_OLD_TYPE }] });
        const plan = planOf("VsoNamespaceAccess", args, (a) => validateVsoNamespaceAccessArgs(a), planVsoNamespaceAccess, this);
        this.namespace = plan.namespace;
        this.authName = plan.authName;
        this.connectionName = plan.connectionName;
        const deps: pulumi.Resource[] = [];
        if (plan.createNamespace) {
            // never deleted by Pulumi: the namespace holds the user's workloads, which Pulumi did not create
            this.namespaceResource = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: plan.namespace } }, { parent: this, retainOnDelete: true });
            deps.push(this.namespaceResource);
        }
        if (plan.adopted) {
            this.connection = this.adoptedObject(`${name}-connection`, "VaultConnection", plan.adopted.connection, deps);
            this.auth = this.adoptedObject(`${name}-auth`, "VaultAuth", plan.adopted.auth, [this.connection, ...deps]);
            this.registerOutputs({ namespace: this.namespace, authName: this.authName, connectionName: this.connectionName });
            return;
        }
        this.serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: {
                    name: plan.serviceAccountName,
                    namespace: plan.namespace,
                    labels: MANAGED_BY_LABEL,
                    annotations: PATCH_FORCE,
                },
                automountServiceAccountToken: false,
            },
            { parent: this, dependsOn: deps },
        );
        this.connection = this.vaultConnection(name, plan, deps);
        this.auth = this.vaultAuth(name, plan, deps);
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

    private vaultConnection(name: string, plan: VsoNamespaceAccessPlan, deps: pulumi.Resource[]): k8s.apiextensions.CustomResource {
        const connDeps = [...deps];
        if (plan.caCert !== undefined) {
            connDeps.push(
                new k8s.core.v1.Secret(
                    `${name}-vault-ca`,
                    {
                        metadata: { name: VAULT_CA_SECRET, namespace: plan.namespace, annotations: PATCH_FORCE },
                        stringData: { "ca.crt": plan.caCert },
                    },
                    { parent: this, dependsOn: deps },
                ),
            );
        }
        const spec: pulumi.Input<pulumi.Inputs> & Omit<VaultConnectionSpec, "address"> & { address: pulumi.Input<string> } = {
            address: plan.vaultAddress,
            skipTLSVerify: plan.skipTLSVerify,
            ...(plan.caCert !== undefined ? { caCertSecretRef: VAULT_CA_SECRET } : {}),
        };
        return new k8s.apiextensions.CustomResource(
            `${name}-connection`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultConnection",
                metadata: { name: this.connectionName, namespace: plan.namespace, annotations: PATCH_FORCE },
                spec,
            },
            { parent: this, dependsOn: connDeps },
        );
    }

    private vaultAuth(name: string, plan: VsoNamespaceAccessPlan, deps: pulumi.Resource[]): k8s.apiextensions.CustomResource {
        type AuthSpecInput = Omit<VaultAuthSpec, "mount" | "kubernetes" | "headers"> & {
            mount: pulumi.Input<string>;
            kubernetes: { role: pulumi.Input<string>; serviceAccount: pulumi.Input<string>; audiences: string[] };
            headers?: Record<string, pulumi.Input<string>>;
        };
        const spec: AuthSpecInput = {
            method: "kubernetes",
            mount: plan.authPath,
            vaultConnectionRef: this.connectionName,
            kubernetes: { role: plan.roleName, serviceAccount: this.serviceAccount!.metadata.name, audiences: plan.audiences },
            ...(plan.accessRevision !== undefined ? { headers: { [ACCESS_REVISION_HEADER]: plan.accessRevision } } : {}),
        };
        return new k8s.apiextensions.CustomResource(
            `${name}-auth`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultAuth",
                metadata: { name: this.authName, namespace: plan.namespace, annotations: PATCH_FORCE },
                spec,
            },
            { parent: this, dependsOn: [this.connection, ...deps] },
        );
    }
}
