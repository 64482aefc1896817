/**
 * AdoptedVaultAccess: imports an existing setup's policies and roles as they are.
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX } from "../config/errors";
import { AdoptedPolicy, AdoptedRole } from "../config/adopt";

export interface AdoptedVaultAccessArgs {
    /** Kubernetes auth mount path the roles live under (a plain string: it is part of the import ID). */
    authPath: string;
    /** Policies to import verbatim. Default none. */
    policies?: AdoptedPolicy[];
    /** Roles to import verbatim. Default none. */
    roles?: AdoptedRole[];
}

/**
 * The Vault policies and roles of a hand-built setup, imported as they are and never deleted by the
 * stack (`retainOnDelete`): removing them from config releases them, and they stay in Vault until
 * you delete them yourself (`vault policy delete`, `vault delete auth/<path>/role/<name>`).
 */
export class AdoptedVaultAccess extends pulumi.ComponentResource {
    public readonly policies: Record<string, vault.Policy> = {};
    public readonly roles: Record<string, vault.kubernetes.AuthBackendRole> = {};

    constructor(name: string, args: AdoptedVaultAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}AdoptedVaultAccess`, name, {}, opts);
        for (const p of args.policies ?? []) {
            this.policies[p.name] = new vault.Policy(
                `${name}-policy-${p.name}`,
                { name: p.name, policy: p.policy },
                { parent: this, import: p.name, retainOnDelete: true },
            );
        }
        for (const r of args.roles ?? []) {
            const policies = (r.tokenPolicies ?? []).filter((p) => this.policies[p]).map((p) => this.policies[p]);
            this.roles[r.name] = new vault.kubernetes.AuthBackendRole(
                `${name}-role-${r.name}`,
                {
                    backend: args.authPath,
                    roleName: r.name,
                    boundServiceAccountNames: r.boundServiceAccountNames,
                    boundServiceAccountNamespaces: r.boundServiceAccountNamespaces,
                    ...(r.tokenPolicies?.length ? { tokenPolicies: r.tokenPolicies } : {}),
                    ...(r.tokenTtl ? { tokenTtl: r.tokenTtl } : {}),
                    ...(r.tokenMaxTtl ? { tokenMaxTtl: r.tokenMaxTtl } : {}),
                    ...(r.audience ? { audience: r.audience } : {}),
                    ...(r.aliasNameSource ? { aliasNameSource: r.aliasNameSource } : {}),
                },
                { parent: this, import: `auth/${args.authPath}/role/${r.name}`, retainOnDelete: true, dependsOn: policies },
            );
        }
        this.registerOutputs({});
    }
}
