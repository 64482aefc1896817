/**
 * PkiSecretsEngine: Vault's PKI engine with a root CA of its own and one issuing role per app (issue 21).
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { PkiArgs, PkiPlan, planPki, validatePkiArgs } from "../config/pki";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";

/** PkiSecretsEngine's args: the pki config and, when one Vault serves several clusters, the cluster. */
export interface PkiSecretsEngineArgs extends PkiArgs {
    /** This cluster's name (the platform's `cluster`): role names start with it. Default: none. */
    cluster?: string;
}

export interface PkiSecretsEnginePlan extends ComponentPlan<"PkiSecretsEngine"> {
    plan: PkiPlan;
}

/** Plans PkiSecretsEngine's checked args (pure). */
export function planPkiSecretsEngine(args: PkiSecretsEngineArgs): PkiSecretsEnginePlan {
    return { planned: "PkiSecretsEngine", plan: planPki(args, args.cluster) };
}

/**
 * The PKI engine at `path` with an internal root CA (its key never leaves Vault), and per app an issuing
 * role that allows exactly the app's names: no subdomains, globs, wildcards, IP SANs or any-name.
 */
export class PkiSecretsEngine extends pulumi.ComponentResource {
    public readonly mount: vault.Mount;
    public readonly rootCert: vault.pkisecret.SecretBackendRootCert;
    /** Each app's issuing role, by role name. */
    public readonly roles: Record<string, vault.pkisecret.SecretBackendRole> = {};
    /** The CA certificate (PEM), for clients that verify the apps' certificates. */
    public readonly caCertificate: pulumi.Output<string>;
    public readonly path: string;

    constructor(name: string, args: PkiSecretsEngineArgs | PkiSecretsEnginePlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}PkiSecretsEngine`, name, {}, opts);
        const { plan } = planOf(
            "PkiSecretsEngine",
            args,
            (a: PkiSecretsEngineArgs) => validatePkiArgs(a, "pki", { cluster: a.cluster }),
            planPkiSecretsEngine,
            this,
        );
        this.path = plan.path;
        this.mount = new vault.Mount(
            `${name}-pki`,
            { path: plan.path, type: "pki", description: "TLS certificates for VSO (pulumi-vault-vso)", maxLeaseTtlSeconds: Math.max(plan.caTtl, plan.maxTtl) },
            { parent: this },
        );
        this.rootCert = new vault.pkisecret.SecretBackendRootCert(
            `${name}-pki-root`,
            // (no issuerName: the provider built here predates it)
            { backend: this.mount.path, type: "internal", commonName: plan.caCommonName, ttl: `${plan.caTtl}s` },
            { parent: this },
        );
        this.caCertificate = this.rootCert.certificate;
        for (const c of plan.certificates) {
            this.roles[c.roleName] = new vault.pkisecret.SecretBackendRole(
                `${name}-pki-role-${c.roleName}`,
                {
                    backend: this.mount.path,
                    name: c.roleName,
                    allowedDomains: c.allowedDomains,
                    allowBareDomains: true,
                    allowSubdomains: false,
                    allowGlobDomains: false,
                    allowAnyName: false,
                    // (allow_wildcard_certificates: not in the provider built here; a wildcard cannot match these exact names anyway)
                    allowIpSans: false,
                    allowLocalhost: false,
                    enforceHostnames: true,
                    serverFlag: true,
                    clientFlag: false,
                    keyType: "ec",
                    keyBits: 256,
                    // seconds as Vault reads them back ("60", not "60s": a refresh would see drift)
                    ttl: String(c.ttl),
                    maxTtl: String(c.ttl),
                    keyUsages: ["DigitalSignature", "KeyAgreement", "KeyEncipherment"],
                },
                { parent: this, dependsOn: [this.rootCert] },
            );
        }
        this.registerOutputs({ path: this.path, caCertificate: this.caCertificate });
    }
}
