/**
 * VsoNamespaceAccess's args, their checks and their plan (pure): each namespace's VaultConnection, VaultAuth and ServiceAccount.
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptedNamespace } from "./adopt";
import { ComponentPlan, plainValue } from "./errors";
import { DEFAULTS } from "./plan";
import { ValidationProblem, checkKubernetesName, checkLoginServiceAccount, checkUrl, checkVaultName } from "./validate";

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
