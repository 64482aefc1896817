/**
 * PkiSecretsEngine: Vault's PKI engine with a root CA of its own and one issuing role per app (issue 21).
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { PkiArgs, PkiPlan, planPki, validatePkiArgs } from "../config/pki";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";
import { AdoptedPkiRole, PROVIDER_CANNOT_WRITE } from "../config/adopt";

/** What of the engine exists already (a hand-built setup, `npm run adopt`): imported, never deleted by the stack. */
export interface AdoptedPkiEngine {
    /** The mount exists: import it (with `ca.type` "existing": its CA stays outside the stack). Default `false`. */
    mount?: boolean;
    /** Issuing roles that exist: imported and kept exactly as found. Default none. */
    roles?: AdoptedPkiRole[];
}

/** PkiSecretsEngine's args: the pki config and, when one Vault serves several clusters, the cluster. */
export interface PkiSecretsEngineArgs extends PkiArgs {
    /** This cluster's name (the platform's `cluster`): role names start with it. Default: none. */
    cluster?: string;
    /** What exists already and is imported (the platform's `adopted`). Default: nothing. */
    adopted?: AdoptedPkiEngine;
}

export interface PkiSecretsEnginePlan extends ComponentPlan<"PkiSecretsEngine"> {
    plan: PkiPlan;
    adopted?: AdoptedPkiEngine;
    /** `ca.type` "imported": the CA's PEM bundle (an Input, kept secret; not part of the pure plan). */
    caPemBundle?: pulumi.Input<string>;
}

/** The first certificate of a PEM bundle (the CA's, for clients; never the key), "" when there is none (pure). */
export function firstPemCertificate(bundle: string): string {
    const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(bundle);
    return m ? `${m[0]}\n` : "";
}

/** Plans PkiSecretsEngine's checked args (pure). */
export function planPkiSecretsEngine(args: PkiSecretsEngineArgs): PkiSecretsEnginePlan {
    return {
        planned: "PkiSecretsEngine",
        plan: planPki(args, args.cluster),
        ...(args.adopted ? { adopted: args.adopted } : {}),
        ...(args.ca?.pemBundle !== undefined ? { caPemBundle: args.ca.pemBundle } : {}),
    };
}

/** The provider's args of an adopted role, exactly as found (pure; fields left out stay at the provider's defaults). */
export function adoptedPkiRoleArgs(r: AdoptedPkiRole): Omit<vault.pkisecret.SecretBackendRoleArgs, "backend"> {
    const { name, keyUsages, ...found } = r;
    // (not the fields the provider built here cannot write: PROVIDER_CANNOT_WRITE)
    const rest = Object.fromEntries(Object.entries(found).filter(([k]) => !(PROVIDER_CANNOT_WRITE.pkiRole as readonly string[]).includes(k))) as Omit<
        vault.pkisecret.SecretBackendRoleArgs,
        "backend"
    >;
    return { name, ...rest, ...(keyUsages !== undefined ? { keyUsages } : {}) };
}

/**
 * The PKI engine at `path` with an internal root CA (its key never leaves Vault; none with `ca.type`
 * "existing"), and per app an issuing role that allows exactly the app's names: no subdomains, globs,
 * wildcards, IP SANs or any-name. An adopted role is kept as found until the convention step.
 */
export class PkiSecretsEngine extends pulumi.ComponentResource {
    public readonly mount: vault.Mount;
    /** The root CA the stack generates; none with `ca.type` "existing" or "imported". */
    public readonly rootCert?: vault.pkisecret.SecretBackendRootCert;
    /** With `ca.type` "imported": the mount's CA set from `ca.pemBundle`. */
    public readonly importedCa?: vault.pkisecret.SecretBackendConfigCa;
    /** Each app's issuing role, by role name. */
    public readonly roles: Record<string, vault.pkisecret.SecretBackendRole> = {};
    /** The CA certificate (PEM) the stack generated, for clients that verify the apps' certificates; "" with `ca.type` "existing" (read `<pki>/ca/pem`). */
    public readonly caCertificate: pulumi.Output<string>;
    public readonly path: string;

    constructor(name: string, args: PkiSecretsEngineArgs | PkiSecretsEnginePlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}PkiSecretsEngine`, name, {}, opts);
        const { plan, adopted, caPemBundle } = planOf(
            "PkiSecretsEngine",
            args,
            (a: PkiSecretsEngineArgs) => validatePkiArgs(a, "pki", { cluster: a.cluster }),
            planPkiSecretsEngine,
            this,
        );
        this.path = plan.path;
        const existingCa = plan.ca !== "internal";
        // ca.type "existing": the mount holds a CA (and its keys) the stack does not own, also after the
        // convention step: never unmounted by the stack (a destroy would take the CA with it), and its
        // description and lease TTLs stay as found (a max lease TTL set from the certificates' would cap
        // a hand renewal of the CA)
        const foreignCa = plan.ca === "existing";
        this.mount = new vault.Mount(
            `${name}-pki`,
            {
                path: plan.path,
                type: "pki",
                description: "TLS certificates for VSO (pulumi-vault-vso)",
                maxLeaseTtlSeconds: existingCa ? plan.maxTtl : Math.max(plan.caTtl, plan.maxTtl),
            },
            {
                parent: this,
                // adopted: imported as it is (description and lease TTLs too) and never deleted by the stack
                ...(adopted?.mount || foreignCa
                    ? { retainOnDelete: true, ignoreChanges: ["description", "maxLeaseTtlSeconds", "defaultLeaseTtlSeconds"] }
                    : {}),
                ...(adopted?.mount ? { import: plan.path } : {}),
            },
        );
        if (!existingCa) {
            this.rootCert = new vault.pkisecret.SecretBackendRootCert(
                `${name}-pki-root`,
                // (no issuerName: the provider built here predates it)
                { backend: this.mount.path, type: "internal", commonName: plan.caCommonName, ttl: `${plan.caTtl}s` },
                { parent: this },
            );
        }
        if (plan.ca === "imported") {
            // the bundle holds the CA's private key: a secret end to end (Vault keeps the key, the state a ciphertext)
            this.importedCa = new vault.pkisecret.SecretBackendConfigCa(
                `${name}-pki-ca`,
                { backend: this.mount.path, pemBundle: pulumi.secret(caPemBundle ?? "") },
                { parent: this },
            );
        }
        this.caCertificate = this.rootCert
            ? this.rootCert.certificate
            : this.importedCa
              ? pulumi.unsecret(pulumi.output(caPemBundle ?? "").apply(firstPemCertificate))
              : pulumi.output("");
        for (const c of plan.certificates) {
            this.roles[c.roleName] = this.role(
                name,
                plan,
                c,
                (adopted?.roles ?? []).find((r) => r.name === c.roleName),
            );
        }
        this.registerOutputs({ path: this.path, caCertificate: this.caCertificate });
    }

    /** One certificate's issuing role: an adopted one imported exactly as found, else allowing exactly its names. */
    private role(name: string, plan: PkiPlan, c: PkiPlan["certificates"][number], found: AdoptedPkiRole | undefined): vault.pkisecret.SecretBackendRole {
        const ca = this.rootCert ?? this.importedCa;
        const deps = ca ? { dependsOn: [ca] } : {};
        if (found) {
            // kept exactly as found until the convention step narrows it to the certificate's names
            return new vault.pkisecret.SecretBackendRole(
                `${name}-pki-role-${c.roleName}`,
                { backend: this.mount.path, ...adoptedPkiRoleArgs(found) },
                { parent: this, ...deps, import: `${plan.path}/roles/${c.roleName}`, retainOnDelete: true },
            );
        }
        return new vault.pkisecret.SecretBackendRole(
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
            { parent: this, ...deps },
        );
    }
}
