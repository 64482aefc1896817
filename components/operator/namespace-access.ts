/**
 * VsoNamespaceAccess: the per-namespace VSO objects (VaultConnection, VaultAuth, ServiceAccount) that let
 * an app namespace's VaultStaticSecrets log in to Vault.
 */
import * as k8s from "@pulumi/kubernetes";
import { VAULT_CA_SECRET, VsoNamespaceAccessArgs, validateVsoNamespaceAccessArgs, VsoNamespaceAccessPlan, planVsoNamespaceAccess } from "../config/vso-access";
import * as pulumi from "@pulumi/pulumi";
import { AdoptedObject, adoptedManifest } from "../config/adopt";
import { TYPE_PREFIX, planOf } from "../config/errors";
import { ACCESS_REVISION_HEADER, MANAGED_BY_LABEL, PATCH_FORCE, VSO_API_VERSION, VaultAuthSpec, VaultConnectionSpec } from "../config/vso-types";

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
