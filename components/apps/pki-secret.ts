/**
 * VaultPkiSecretApp: one app's TLS certificate as a VaultPKISecret (issue 21).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PkiCertificatePlan, pkiSecretSpec } from "../config/pki";
import { TYPE_PREFIX } from "../config/errors";
import { AdoptedObject, adoptedManifest } from "../config/adopt";
import { PATCH_FORCE, VSO_API_VERSION } from "../config/vso-types";

export interface VaultPkiSecretAppPlan {
    certificate: PkiCertificatePlan;
    /** The PKI engine's mount. */
    mount: string;
    /** The VaultAuth in the same namespace. */
    vaultAuthRef: string;
    /**
     * The VaultPKISecret exists (a hand-built setup, `npm run adopt`): imported exactly as it is and never
     * deleted by the stack. Without it (the convention step) it is updated in place. Default: none.
     */
    adopted?: AdoptedObject;
}

/**
 * A VaultPKISecret: VSO issues a certificate for the app's names from its role, writes a
 * `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`), issues the next one `expiryOffset` before
 * expiry and restarts `rolloutRestartTargets`.
 */
export class VaultPkiSecretApp extends pulumi.ComponentResource {
    public readonly pkiSecret: k8s.apiextensions.CustomResource;
    public readonly destination: string;

    constructor(name: string, plan: VaultPkiSecretAppPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultPkiSecretApp`, name, {}, opts);
        this.destination = plan.certificate.destination;
        if (plan.adopted) {
            this.pkiSecret = new k8s.apiextensions.CustomResource(
                `${name}-vps`,
                adoptedManifest("VaultPKISecret", VSO_API_VERSION, plan.adopted) as k8s.apiextensions.CustomResourceArgs,
                { parent: this, import: `${plan.adopted.namespace}/${plan.adopted.name}`, retainOnDelete: true },
            );
            this.registerOutputs({ destination: this.destination });
            return;
        }
        this.pkiSecret = new k8s.apiextensions.CustomResource(
            `${name}-vps`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultPKISecret",
                metadata: { name: plan.certificate.app, namespace: plan.certificate.namespace, annotations: PATCH_FORCE },
                spec: pkiSecretSpec(plan.certificate, plan.mount, plan.vaultAuthRef),
            },
            { parent: this },
        );
        this.registerOutputs({ destination: this.destination });
    }
}
