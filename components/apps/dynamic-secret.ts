/**
 * VaultDynamicSecretApp: one app's database credential as a VaultDynamicSecret (issue 21).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DatabaseRolePlan, dynamicSecretSpec } from "../config/database";
import { TYPE_PREFIX } from "../config/errors";
import { AdoptedObject, adoptedManifest } from "../config/adopt";
import { PATCH_FORCE, VSO_API_VERSION } from "../config/vso-types";

/** VaultDynamicSecretApp's plan: the app's role as the database plan has it, the mount and the VaultAuth. */
export interface VaultDynamicSecretAppPlan {
    role: DatabaseRolePlan;
    /** The database engine's mount. */
    mount: string;
    /** The VaultAuth in the same namespace. */
    vaultAuthRef: string;
    /**
     * The VaultDynamicSecret exists (a hand-built setup, `npm run adopt`): imported exactly as it is and never
     * deleted by the stack. Without it (the convention step) it is updated in place. Default: none.
     */
    adopted?: AdoptedObject;
}

/**
 * A VaultDynamicSecret: VSO reads `<mount>/creds/<role>` (or `static-creds`), writes `username` and
 * `password` into the Secret `destination`, renews the lease at `renewalPercent`, takes a new user
 * when it ends, restarts `rolloutRestartTargets`, and revokes the lease when the object is deleted.
 */
export class VaultDynamicSecretApp extends pulumi.ComponentResource {
    public readonly dynamicSecret: k8s.apiextensions.CustomResource;
    /** Name of the Kubernetes Secret VSO writes. */
    public readonly destination: string;

    constructor(name: string, plan: VaultDynamicSecretAppPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultDynamicSecretApp`, name, {}, opts);
        this.destination = plan.role.destination;
        if (plan.adopted) {
            this.dynamicSecret = new k8s.apiextensions.CustomResource(
                `${name}-vds`,
                adoptedManifest("VaultDynamicSecret", VSO_API_VERSION, plan.adopted) as k8s.apiextensions.CustomResourceArgs,
                { parent: this, import: `${plan.adopted.namespace}/${plan.adopted.name}`, retainOnDelete: true },
            );
            this.registerOutputs({ destination: this.destination });
            return;
        }
        this.dynamicSecret = new k8s.apiextensions.CustomResource(
            `${name}-vds`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultDynamicSecret",
                metadata: { name: plan.role.app, namespace: plan.role.namespace, annotations: PATCH_FORCE },
                spec: dynamicSecretSpec(plan.role, plan.mount, plan.vaultAuthRef),
            },
            { parent: this },
        );
        this.registerOutputs({ destination: this.destination });
    }
}
