/**
 * What the stack writes into Vault, as args, checks and plans (pure): the KV v2 engine, the Kubernetes auth method, each namespace's policy and role (alone or as a set).
 */
import * as pulumi from "@pulumi/pulumi";
import { ComponentPlan, plainValue } from "./errors";
import { DEFAULTS, NamespacePlan, PlatformPlan, nameFor, renderReadPolicy } from "./plan";
import {
    ValidationProblem,
    checkKubernetesName,
    checkLoginServiceAccount,
    checkMountPath,
    checkRoleBinding,
    checkSecretPath,
    checkUrl,
    checkVaultName,
    checkTokenTtl,
    checkAudience,
} from "./validate";

// ---------------------------------------------------------------------------------------------------
// KV v2

export interface KvV2EngineArgs {
    /** Mount path. Default `"kv"`. */
    path?: string;
    /** Mount description. Default `"KV v2 secrets engine managed by pulumi-vault-vso"`. */
    description?: pulumi.Input<string>;
    /**
     * Protect the mount from `pulumi destroy` and from replacement: deleting a KV mount deletes every
     * secret in it. Default `true`. Set `false` for throwaway test stacks.
     */
    protect?: boolean;
    /**
     * The mount already exists (a hand-built setup, see `npm run adopt`): import it on the first `up`
     * instead of creating it. Its description is then left as it is. Default `false`.
     */
    importExisting?: boolean;
    /**
     * The mount belongs to another stack (one Vault serving several clusters): read it, never create,
     * change or delete it. Its absence fails the run ("create it in the first cluster's stack"). Default `false`.
     */
    shared?: boolean;
}

/** KvV2Engine's args after the validation pass: every default filled in. */
export interface KvV2EnginePlan extends ComponentPlan<"KvV2Engine"> {
    path: string;
    description: pulumi.Input<string>;
    protect: boolean;
    importExisting: boolean;
    shared: boolean;
}

/** Checks KvV2Engine's arguments (pure). */
export function validateKvV2EngineArgs(args: KvV2EngineArgs, prefix = ""): ValidationProblem[] {
    return [...checkMountPath(`${prefix}path`, args.path ?? DEFAULTS.kvPath), ...checkKvShared(`${prefix}shared`, args.shared, args.importExisting)];
}

/** A KV mount is either another stack's (`shared`) or imported into this one, not both (pure). */
export function checkKvShared(field: string, shared: unknown, imported: unknown): ValidationProblem[] {
    return shared === true && imported === true
        ? [
              {
                  field,
                  message:
                      "a shared mount is another stack's, and an imported (adopted) one becomes this stack's: choose one (adopt it in one stack, share it in the others)",
              },
          ]
        : [];
}

/** Plans KvV2Engine's checked args (pure). */
export function planKvV2Engine(args: KvV2EngineArgs = {}): KvV2EnginePlan {
    return {
        planned: "KvV2Engine",
        path: args.path ?? DEFAULTS.kvPath,
        description: args.description ?? "KV v2 secrets engine managed by pulumi-vault-vso",
        protect: args.protect ?? true,
        importExisting: args.importExisting ?? false,
        shared: args.shared ?? false,
    };
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes auth method

/** Vault outside the cluster needs a token reviewer; these options create one. */
export interface TokenReviewerArgs {
    /** Create the reviewer. Default `true` (give `{ enabled: false }` to configure Vault without one). */
    enabled?: boolean;
    /** Namespace of the reviewer ServiceAccount (must exist, or set `createNamespace`). Default `"vault-auth"`. */
    namespace?: string;
    /** Create the namespace. Default `true`. */
    createNamespace?: boolean;
    /** Name of the reviewer ServiceAccount. Default `"vault-token-reviewer"`. */
    serviceAccountName?: string;
}

/** Which parts of a Kubernetes auth method already exist and are imported. */
export interface ExistingAuthMethod {
    /** The auth mount exists. Default false. */
    mount?: boolean;
    /** Its config exists. Default false. */
    config?: boolean;
}

export interface KubernetesAuthMethodArgs {
    /** Mount path of the auth method. Default `"kubernetes"`. */
    path?: string;
    /**
     * Kubernetes API address as Vault reaches it. Default
     * `"https://kubernetes.default.svc.cluster.local:443"` (right for Vault running in the cluster).
     */
    kubernetesHost?: pulumi.Input<string>;
    /**
     * PEM CA of the Kubernetes API. Default: empty for in-cluster Vault (it reads its pod's CA); with
     * `tokenReviewer`, the CA from the reviewer's token Secret.
     */
    kubernetesCaCert?: pulumi.Input<string>;
    /** JWT Vault uses to call TokenReview (a secret). Default: empty in-cluster; with `tokenReviewer`, the reviewer's token. */
    tokenReviewerJwt?: pulumi.Input<string>;
    /**
     * Vault runs outside the cluster (e.g. on a NAS): create a reviewer ServiceAccount bound to
     * `system:auth-delegator` and a long-lived token for it, and configure Vault with that token and
     * the cluster CA. Default: not created (in-cluster Vault).
     */
    tokenReviewer?: TokenReviewerArgs;
    /** Expected `iss` of ServiceAccount tokens; empty skips the check (Vault's default). Default unset. */
    /**
     * Leave `iss` unchecked. Default: true unless `issuer` is given (Vault's own default since 1.9).
     */
    disableIssValidation?: boolean;
    /** Do not use Vault's own pod CA and token for reviews (Vault's `disable_local_ca_jwt`). Default: Vault's (false). */
    disableLocalCaJwt?: boolean;
    /**
     * The auth mount and/or its config already exist (a hand-built setup, see `npm run adopt`):
     * import them on the first `up`. The mount's description is then left as it is. Default: create both.
     */
    importExisting?: ExistingAuthMethod;
    issuer?: pulumi.Input<string>;
    /** Description of the auth mount, set when it is created (a later change is ignored: the provider would replace the method, deleting its roles). Default: "Kubernetes auth for the Vault Secrets Operator, managed by pulumi-vault-vso". */
    description?: pulumi.Input<string>;
}

/**
 * The reviewer to create, or undefined for none (pure). `true`/`false` (from YAML config written
 * for 0.1) mean `{}` and none; `{ enabled: false }` means none.
 */
export function tokenReviewerOf(r: TokenReviewerArgs | boolean | undefined): TokenReviewerArgs | undefined {
    if (r === true) {
        return {};
    }
    return typeof r === "object" && r !== null && r.enabled !== false ? r : undefined;
}

/** Checks KubernetesAuthMethod's arguments (pure). */
export function validateKubernetesAuthArgs(args: KubernetesAuthMethodArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    problems.push(...checkMountPath(`${prefix}path`, args.path ?? DEFAULTS.authPath));
    const host = plainValue(args.kubernetesHost);
    if (host !== undefined) {
        problems.push(...checkUrl(`${prefix}kubernetesHost`, host, ["https:", "http:"]));
    }
    const ca = plainValue(args.kubernetesCaCert);
    if (typeof ca === "string" && ca.length > 0 && !ca.includes("-----BEGIN CERTIFICATE-----")) {
        problems.push({
            field: `${prefix}kubernetesCaCert`,
            message: "is not a PEM certificate: give the cluster CA, starting with -----BEGIN CERTIFICATE-----",
        });
    }
    if (tokenReviewerOf(args.tokenReviewer) && args.tokenReviewerJwt !== undefined) {
        problems.push({ field: `${prefix}tokenReviewerJwt`, message: "is set together with tokenReviewer; give one: tokenReviewer creates the JWT for you" });
    }
    if (typeof args.tokenReviewer === "object" && args.tokenReviewer !== null) {
        problems.push(...checkKubernetesName(`${prefix}tokenReviewer.namespace`, args.tokenReviewer.namespace ?? "vault-auth", "label"));
        problems.push(
            ...checkKubernetesName(`${prefix}tokenReviewer.serviceAccountName`, args.tokenReviewer.serviceAccountName ?? "vault-token-reviewer", "subdomain"),
        );
    }
    return problems;
}

/** KubernetesAuthMethod's args after the validation pass: every default filled in, the reviewer resolved. */
export interface KubernetesAuthMethodPlan extends ComponentPlan<"KubernetesAuthMethod"> {
    path: string;
    description: pulumi.Input<string>;
    kubernetesHost: pulumi.Input<string>;
    kubernetesCaCert?: pulumi.Input<string>;
    tokenReviewerJwt?: pulumi.Input<string>;
    /** The reviewer to create (defaults filled in), or undefined for none. */
    tokenReviewer?: Required<Omit<TokenReviewerArgs, "enabled">>;
    issuer?: pulumi.Input<string>;
    disableIssValidation: boolean;
    disableLocalCaJwt?: boolean;
    importExisting: Required<ExistingAuthMethod>;
}

/** Plans KubernetesAuthMethod's checked args (pure). */
export function planKubernetesAuthMethod(args: KubernetesAuthMethodArgs = {}): KubernetesAuthMethodPlan {
    const r = tokenReviewerOf(args.tokenReviewer);
    return {
        planned: "KubernetesAuthMethod",
        path: args.path ?? DEFAULTS.authPath,
        description: args.description ?? "Kubernetes auth for the Vault Secrets Operator, managed by pulumi-vault-vso",
        kubernetesHost: args.kubernetesHost ?? "https://kubernetes.default.svc.cluster.local:443",
        kubernetesCaCert: args.kubernetesCaCert,
        tokenReviewerJwt: args.tokenReviewerJwt,
        tokenReviewer: r
            ? {
                  namespace: r.namespace ?? "vault-auth",
                  createNamespace: r.createNamespace ?? true,
                  serviceAccountName: r.serviceAccountName ?? "vault-token-reviewer",
              }
            : undefined,
        issuer: args.issuer,
        // Vault's own default since 1.9; validate `iss` only when an issuer is given.
        disableIssValidation: args.disableIssValidation ?? args.issuer === undefined,
        disableLocalCaJwt: args.disableLocalCaJwt,
        importExisting: { mount: args.importExisting?.mount ?? false, config: args.importExisting?.config ?? false },
    };
}

// ---------------------------------------------------------------------------------------------------
// Per-namespace access: policy + role

export interface VaultNamespaceAccessArgs {
    /** The Kubernetes namespace whose VSO logins this role accepts. */
    namespace: string;
    /** Secret paths (relative to `kvPath`) the namespace may read. */
    paths: string[];
    /** KV v2 mount path. Default `"kv"`. */
    kvPath?: string;
    /** Kubernetes auth mount path. Default `"kubernetes"`. */
    authPath?: pulumi.Input<string>;
    /** ServiceAccount VSO logs in with. Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Policy name. Default `"vso-<namespace>-read"`. */
    policyName?: string;
    /** Role name. Default `"vso-<namespace>"`. */
    roleName?: string;
    /** Token TTL in seconds. Default 3600. */
    tokenTtl?: number;
    /** Required audience of the ServiceAccount token. Default `"vault"` (an empty one is refused: it would accept tokens for any audience). */
    audience?: string;
    /** Allow `*` in `namespace` or `serviceAccountName` (binds every namespace or account). Default `false`. */
    allowWildcardBindings?: boolean;
    /** Database credential paths (with their mount, e.g. `database/creds/cnpg-app`) the namespace may read. Default none. */
    databasePaths?: string[];
    /** The role's token period in seconds (periodic tokens: no max TTL). Default none. */
    tokenPeriod?: number;
    /** PKI issue paths (with their mount, e.g. `pki/issue/cnpg-web`) the namespace may issue from. Default none. */
    pkiPaths?: string[];
}

/** Policy and role names of a VaultNamespaceAccess: given, else from DEFAULTS' templates (`*` becomes `all`). */
export function vaultNamespaceAccessNames(args: Pick<VaultNamespaceAccessArgs, "namespace" | "policyName" | "roleName">): {
    policyName: string;
    roleName: string;
} {
    const ns = typeof args.namespace === "string" ? args.namespace.replace(/\*/g, "all") : "";
    return {
        policyName: args.policyName ?? nameFor(DEFAULTS.policyNameTemplate, ns),
        roleName: args.roleName ?? nameFor(DEFAULTS.roleNameTemplate, ns),
    };
}

/** Checks VaultNamespaceAccess's arguments (pure). */
export function validateVaultNamespaceAccessArgs(args: VaultNamespaceAccessArgs, prefix = ""): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const wildcard = args.allowWildcardBindings ?? false;
    problems.push(...checkRoleBinding(`${prefix}namespace`, args.namespace, wildcard));
    problems.push(...checkRoleBinding(`${prefix}serviceAccountName`, args.serviceAccountName ?? DEFAULTS.serviceAccountName, wildcard));
    if (args.serviceAccountName === "default") {
        problems.push(...checkLoginServiceAccount(`${prefix}serviceAccountName`, "default"));
    }
    const kvPath = args.kvPath ?? DEFAULTS.kvPath;
    problems.push(...checkMountPath(`${prefix}kvPath`, kvPath));
    if (!Array.isArray(args.paths) || args.paths.length === 0) {
        problems.push({ field: `${prefix}paths`, message: "must list at least one secret path the namespace may read" });
    } else {
        args.paths.forEach((p, i) => problems.push(...checkSecretPath(`${prefix}paths[${i}]`, p, kvPath)));
    }
    const names = vaultNamespaceAccessNames(args);
    problems.push(...checkVaultName(`${prefix}policyName`, names.policyName));
    problems.push(...checkVaultName(`${prefix}roleName`, names.roleName));
    if (args.tokenTtl !== undefined) {
        problems.push(...checkTokenTtl(`${prefix}tokenTtl`, args.tokenTtl));
    }
    if (args.audience !== undefined) {
        problems.push(...checkAudience(`${prefix}audience`, args.audience));
    }
    return problems;
}

/** VaultNamespaceAccess's args after the validation pass: every default filled in, the policy rendered. */
export interface VaultNamespaceAccessPlan extends ComponentPlan<"VaultNamespaceAccess"> {
    namespace: string;
    paths: string[];
    kvPath: string;
    authPath: pulumi.Input<string>;
    serviceAccountName: string;
    policyName: string;
    roleName: string;
    /** The policy's HCL: `read` on exactly `paths`. */
    policyText: string;
    tokenTtl: number;
    /** "" = the role requires no audience (refused for args; an adopted setup's own). */
    audience: string;
    /** Database credential paths in the policy (absent when none). */
    databasePaths?: string[];
    /** The role's token period, seconds (absent: none). */
    tokenPeriod?: number;
    /** PKI issue paths in the policy (absent when none). */
    pkiPaths?: string[];
}

/** Plans VaultNamespaceAccess's checked args (pure): the defaults, the names, the policy text. */
export function planVaultNamespaceAccess(args: VaultNamespaceAccessArgs): VaultNamespaceAccessPlan {
    const kvPath = args.kvPath ?? DEFAULTS.kvPath;
    return {
        planned: "VaultNamespaceAccess",
        namespace: args.namespace,
        paths: [...args.paths],
        kvPath,
        authPath: args.authPath ?? DEFAULTS.authPath,
        serviceAccountName: args.serviceAccountName ?? DEFAULTS.serviceAccountName,
        ...vaultNamespaceAccessNames(args),
        policyText: renderReadPolicy(kvPath, args.paths, args.databasePaths ?? [], args.pkiPaths ?? []),
        tokenTtl: args.tokenTtl ?? DEFAULTS.tokenTtl,
        audience: args.audience ?? DEFAULTS.audience,
        ...(args.databasePaths?.length ? { databasePaths: [...args.databasePaths] } : {}),
        ...(args.tokenPeriod !== undefined ? { tokenPeriod: args.tokenPeriod } : {}),
        ...(args.pkiPaths?.length ? { pkiPaths: [...args.pkiPaths] } : {}),
    };
}

// ---------------------------------------------------------------------------------------------------
// Many namespaces' access under one component

/** The fields of VaultNamespaceAccessSetArgs that are defaults for every entry. */
const ACCESS_SET_SHARED = ["kvPath", "authPath", "serviceAccountName", "tokenTtl", "audience"] as const;

export interface VaultNamespaceAccessSetArgs {
    /**
     * One entry per namespace, with the fields of `VaultNamespaceAccess`'s args (`namespace` and `paths`
     * required; `policyName`, `roleName`, `allowWildcardBindings` per entry). A field an entry sets wins
     * over the shared default below. Each namespace appears once.
     */
    namespaces: VaultNamespaceAccessArgs[];
    /** KV v2 mount path of every entry that sets none. Default `"kv"`. */
    kvPath?: string;
    /** Kubernetes auth mount path of every entry that sets none. Default `"kubernetes"`. */
    authPath?: pulumi.Input<string>;
    /** ServiceAccount VSO logs in with, for every entry that sets none. Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Token TTL in seconds of every entry that sets none. Default 3600. */
    tokenTtl?: number;
    /** Required audience of the ServiceAccount token, for every entry that sets none. Default `"vault"`. */
    audience?: string;
    /**
     * Each entry's policy and role were made by a `VaultNamespaceAccess` named `<set name>-<namespace>`
     * under the set's parent (this package's platform before it used the set, or a program of yours):
     * they move under the set as they are (aliases; nothing is replaced or deleted in Vault). Default `false`.
     */
    fromVaultNamespaceAccess?: boolean;
}

/**
 * The args each entry of a VaultNamespaceAccessSet is created with (pure): the entry, with the set's shared
 * defaults for the fields it does not set (an `undefined` field counts as not set). What VaultNamespaceAccess
 * would create for these args is what the set creates for the entry. Entries that are not objects are
 * returned as they are (validation reports them).
 */
export function vaultNamespaceAccessSetEntries(args: VaultNamespaceAccessSetArgs): VaultNamespaceAccessArgs[] {
    const entries: unknown = args?.namespaces;
    if (!Array.isArray(entries)) {
        return [];
    }
    return entries.map((entry: VaultNamespaceAccessArgs) => {
        if (typeof entry !== "object" || entry === null) {
            return entry;
        }
        const merged: Record<string, unknown> = { ...entry };
        for (const k of ACCESS_SET_SHARED) {
            if (merged[k] === undefined && args[k] !== undefined) {
                merged[k] = args[k];
            }
        }
        return merged as unknown as VaultNamespaceAccessArgs;
    });
}

/** The part of a set's child resource names that stands for a namespace (`*` is written `all`, as in the default names). */
export function accessSetKey(namespace: string): string {
    return namespace.replace(/\*/g, "all");
}

/**
 * Problems of two entries of a set that would manage one thing (pure): one namespace twice (or two whose
 * resource names would be the same: `*` is written `all`), or one policy or role name twice. `entries` are
 * the merged entries (`vaultNamespaceAccessSetEntries`); an entry that is not an object is skipped.
 */
function accessSetDuplicates(entries: VaultNamespaceAccessArgs[]): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const byKey = new Map<string, number>();
    const byName = { policyName: new Map<string, number>(), roleName: new Map<string, number>() };
    entries.forEach((entry, i) => {
        if (typeof entry !== "object" || entry === null) {
            return;
        }
        const prefix = `namespaces[${i}].`;
        if (typeof entry.namespace === "string" && entry.namespace !== "") {
            const prev = byKey.get(accessSetKey(entry.namespace));
            if (prev !== undefined) {
                const other = entries[prev].namespace;
                problems.push({
                    field: `${prefix}namespace`,
                    message:
                        other === entry.namespace
                            ? `repeats namespaces[${prev}]'s namespace ${JSON.stringify(entry.namespace)}: give each namespace one entry (list all its paths there)`
                            : `${JSON.stringify(entry.namespace)} gives the same resource names as namespaces[${prev}]'s ${JSON.stringify(other)} ('*' is written 'all'): give each namespace one entry`,
                });
                return;
            }
            byKey.set(accessSetKey(entry.namespace), i);
        }
        const names = vaultNamespaceAccessNames(entry);
        for (const kind of ["policyName", "roleName"] as const) {
            const name = names[kind];
            const prev = typeof name === "string" && name !== "" ? byName[kind].get(name) : undefined;
            if (prev !== undefined) {
                const what = kind === "policyName" ? "policy" : "role";
                problems.push({
                    field: `${prefix}${kind}`,
                    message: `${JSON.stringify(name)} is also namespaces[${prev}]'s ${what} name: the two entries would write one Vault ${what} and overwrite each other. Give each its own ${kind}`,
                });
            } else if (typeof name === "string" && name !== "") {
                byName[kind].set(name, i);
            }
        }
    });
    return problems;
}

/**
 * Checks VaultNamespaceAccessSet's arguments (pure): each entry as VaultNamespaceAccess checks its args, with
 * fields named `namespaces[i].…` (a problem of a shared default the entry inherits is named by the shared
 * field, once); plus a missing or empty `namespaces`, and two entries for one namespace, policy or role
 * (`accessSetDuplicates`).
 */
export function validateVaultNamespaceAccessSetArgs(args: VaultNamespaceAccessSetArgs): ValidationProblem[] {
    const list: unknown = typeof args === "object" && args !== null ? args.namespaces : undefined;
    if (!Array.isArray(list)) {
        return [{ field: "namespaces", message: 'is required: list the namespaces, e.g. [{ namespace: "team", paths: ["team/db"] }]' }];
    }
    if (list.length === 0) {
        return [{ field: "namespaces", message: "is empty: list at least one namespace ({ namespace, paths })" }];
    }
    const shared = args as unknown as Record<string, unknown>;
    const problems: ValidationProblem[] = [];
    const seen = new Set<string>();
    const merged = vaultNamespaceAccessSetEntries(args);
    merged.forEach((entry, i) => {
        const prefix = `namespaces[${i}].`;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            problems.push({ field: `namespaces[${i}]`, message: "must be an object { namespace, paths }" });
            return;
        }
        const own = list[i] as Record<string, unknown>;
        for (const p of validateVaultNamespaceAccessArgs(entry, prefix)) {
            // a shared default's problem is named by the shared field, once, not by every entry that inherits it
            const field = p.field.slice(prefix.length).replace(/\[.*$/, "");
            const inherited = (ACCESS_SET_SHARED as readonly string[]).includes(field) && own[field] === undefined && shared[field] !== undefined;
            const problem = inherited ? { ...p, field: p.field.slice(prefix.length) } : p;
            const key = `${problem.field}\n${problem.message}`;
            if (!seen.has(key)) {
                seen.add(key);
                problems.push(problem);
            }
        }
    });
    return [...problems, ...accessSetDuplicates(merged)];
}

/** VaultNamespaceAccessSet's args after the validation pass: each entry's plan, the shared defaults in it. */
export interface VaultNamespaceAccessSetPlan extends ComponentPlan<"VaultNamespaceAccessSet"> {
    entries: VaultNamespaceAccessPlan[];
    /** See `VaultNamespaceAccessSetArgs.fromVaultNamespaceAccess`. */
    fromVaultNamespaceAccess: boolean;
}

/**
 * One namespace's VaultNamespaceAccessPlan from the platform's plan (pure): what planVaultNamespaceAccess
 * makes of the same args, with the policy text the platform's plan already rendered (the gate test holds
 * the two equal). `authPath`: the Kubernetes auth mount the platform created.
 */
export function namespaceAccessPlanOf(plan: PlatformPlan, nsPlan: NamespacePlan, authPath: pulumi.Input<string>): VaultNamespaceAccessPlan {
    return {
        planned: "VaultNamespaceAccess",
        namespace: nsPlan.namespace,
        paths: nsPlan.apps.map((a) => a.path),
        kvPath: plan.kvPath,
        authPath,
        serviceAccountName: nsPlan.serviceAccountName,
        policyName: nsPlan.policyName,
        roleName: nsPlan.roleName,
        policyText: nsPlan.policyText,
        tokenTtl: plan.tokenTtl,
        audience: plan.audience,
        ...(nsPlan.databasePaths ? { databasePaths: nsPlan.databasePaths } : {}),
        ...(nsPlan.tokenPeriod !== undefined ? { tokenPeriod: nsPlan.tokenPeriod } : {}),
        ...(nsPlan.pkiPaths ? { pkiPaths: nsPlan.pkiPaths } : {}),
    };
}

/** Plans VaultNamespaceAccessSet's checked args (pure): each merged entry as VaultNamespaceAccess plans it. */
export function planVaultNamespaceAccessSet(args: VaultNamespaceAccessSetArgs): VaultNamespaceAccessSetPlan {
    return {
        planned: "VaultNamespaceAccessSet",
        entries: vaultNamespaceAccessSetEntries(args).map(planVaultNamespaceAccess),
        fromVaultNamespaceAccess: args.fromVaultNamespaceAccess ?? false,
    };
}
