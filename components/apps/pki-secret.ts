/**
 * VaultPkiSecretApp: one app's TLS certificate as a VaultPKISecret (issue 21).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PkiCertificatePlan, pkiSecretSpec } from "../config/pki";
import { TYPE_PREFIX } from "../config/errors";
import { PATCH_FORCE, VSO_API_VERSION } from "../config/vso-types";

export interface VaultPkiSecretAppPlan {
    certificate: PkiCertificatePlan;
    /** The PKI engine's mount. */
    mount: string;
    /** The VaultAuth in the same namespace. */
    vaultAuthRef: string;
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
