/**
 * Vault-side building blocks: the KV v2 engine, the Kubernetes auth method with its config, and the
 * per-namespace access (policy + role).
 */
import type * as k8s from "@pulumi/kubernetes";
import {
    KvV2EngineArgs,
    KvV2EnginePlan,
    validateKvV2EngineArgs,
    planKvV2Engine,
    KubernetesAuthMethodArgs,
    validateKubernetesAuthArgs,
    KubernetesAuthMethodPlan,
    planKubernetesAuthMethod,
    VaultNamespaceAccessArgs,
    validateVaultNamespaceAccessArgs,
    VaultNamespaceAccessPlan,
    planVaultNamespaceAccess,
    VaultNamespaceAccessSetArgs,
    accessSetKey,
    validateVaultNamespaceAccessSetArgs,
    VaultNamespaceAccessSetPlan,
    planVaultNamespaceAccessSet,
} from "../config/vault-access";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX, planOf } from "../config/errors";
import { GuardedObject, takeoverGuardOptions, takeoverGuardOptionsForMany } from "./takeover";

/** Enables a KV version 2 secrets engine (`vault secrets enable -path=kv kv-v2`). */
export class KvV2Engine extends pulumi.ComponentResource {
    public readonly mount: vault.Mount;
    /** The mount path, e.g. `kv`. */
    public readonly path: pulumi.Output<string>;

    /** `args`: checked and planned here once; or its plan (`planKvV2Engine`, the platform's), used as it is. */
    constructor(name: string, args: KvV2EngineArgs | KvV2EnginePlan = {}, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}KvV2Engine`, name, {}, opts);
        const plan = planOf(
            "KvV2Engine",
            args,
            (a: KvV2EngineArgs) => validateKvV2EngineArgs(a),
            (a: KvV2EngineArgs) => planKvV2Engine(a),
            this,
        );
        const path = plan.path;
        // another stack's mount (a second cluster on one Vault): read, never written; a URN of its own,
        // so a stack that managed the mount before cannot turn it into a read (the old one is protected)
        this.mount = plan.shared
            ? vault.Mount.get(`${name}-kv-shared`, path, undefined, { parent: this })
            : new vault.Mount(
                  `${name}-kv`,
                  { path, type: "kv", options: { version: "2" }, description: plan.description },
                  {
                      parent: this,
                      protect: plan.protect,
                      ...(plan.importExisting ? { import: path, ignoreChanges: ["description"] } : {}),
                  },
              );
        this.path = this.mount.path;
        this.registerOutputs({ path: this.path });
    }
}

/**
 * Enables Vault's Kubernetes auth method and configures it (`vault auth enable kubernetes` +
 * `vault write auth/kubernetes/config ...`), optionally with a token reviewer for external Vault.
 */
export class KubernetesAuthMethod extends pulumi.ComponentResource {
    public readonly backend: vault.AuthBackend;
    public readonly config: vault.kubernetes.AuthBackendConfig;
    /** The mount path, e.g. `kubernetes`. */
    public readonly path: pulumi.Output<string>;
    /**
     * The reviewer's ServiceAccount (a `k8s.core.v1.ServiceAccount`), when `tokenReviewer` is set. Typed as
     * a plain custom resource so that a Vault-only program does not load or type-check
     * `@pulumi/kubernetes`.
     */
    public readonly reviewerServiceAccount?: pulumi.CustomResource;

    /** `args`: checked and planned here once; or its plan (`planKubernetesAuthMethod`, the platform's), used as it is. */
    constructor(name: string, args: KubernetesAuthMethodArgs | KubernetesAuthMethodPlan = {}, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}KubernetesAuthMethod`, name, {}, opts);
        const plan = planOf(
            "KubernetesAuthMethod",
            args,
            (a: KubernetesAuthMethodArgs) => validateKubernetesAuthArgs(a),
            (a: KubernetesAuthMethodArgs) => planKubernetesAuthMethod(a),
            this,
        );
        const path = plan.path;
        this.backend = new vault.AuthBackend(
            `${name}-kubernetes`,
            { type: "kubernetes", path, description: plan.description },
            // The description is set when the method is created and never changed afterwards: the
            // provider would replace the auth method for a new one, which disables it and deletes every
            // role and its config. (An imported method keeps its own description.)
            { parent: this, ignoreChanges: ["description"], ...(plan.importExisting.mount ? { import: path } : {}) },
        );

        let caCert: pulumi.Input<string> | undefined = plan.kubernetesCaCert;
        let reviewerJwt: pulumi.Input<string> | undefined = plan.tokenReviewerJwt;
        if (plan.tokenReviewer) {
            const reviewer = this.tokenReviewer(name, plan.tokenReviewer);
            reviewerJwt = reviewer.jwt;
            this.reviewerServiceAccount = reviewer.sa;
            caCert = plan.kubernetesCaCert ?? reviewer.ca;
        }
        this.config = new vault.kubernetes.AuthBackendConfig(
            `${name}-config`,
            {
                backend: this.backend.path,
                kubernetesHost: plan.kubernetesHost,
                kubernetesCaCert: caCert,
                tokenReviewerJwt: reviewerJwt === undefined ? undefined : pulumi.secret(reviewerJwt),
                issuer: plan.issuer,
                disableIssValidation: plan.disableIssValidation,
                ...(plan.disableLocalCaJwt !== undefined ? { disableLocalCaJwt: plan.disableLocalCaJwt } : {}),
            },
            {
                parent: this,
                additionalSecretOutputs: ["tokenReviewerJwt"],
                ...(plan.importExisting.config ? { import: `auth/${path}/config` } : {}),
            },
        );
        this.path = this.backend.path;
        this.registerOutputs({ path: this.path });
    }

    /** A reviewer ServiceAccount bound to `system:auth-delegator` and its long-lived token (JWT and cluster CA). */
    private tokenReviewer(
        name: string,
        r: NonNullable<KubernetesAuthMethodPlan["tokenReviewer"]>,
    ): { sa: k8s.core.v1.ServiceAccount; jwt: pulumi.Output<string>; ca: pulumi.Output<string> } {
        // Loaded here, not at the top: a Vault-only program never pays for @pulumi/kubernetes.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const k8s = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
        const ns = r.namespace;
        const saName = r.serviceAccountName;
        const nsRes = r.createNamespace ? new k8s.core.v1.Namespace(`${name}-reviewer-ns`, { metadata: { name: ns } }, { parent: this }) : undefined;
        const sa = new k8s.core.v1.ServiceAccount(
            `${name}-reviewer`,
            { metadata: { name: saName, namespace: ns }, automountServiceAccountToken: false },
            { parent: this, dependsOn: nsRes ? [nsRes] : [] },
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-reviewer-auth-delegator`,
            {
                metadata: { name: `${ns}-${saName}-auth-delegator` },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
                subjects: [{ kind: "ServiceAccount", name: saName, namespace: ns }],
            },
            { parent: this, dependsOn: [sa] },
        );
        const tokenSecret = new k8s.core.v1.Secret(
            `${name}-reviewer-token`,
            {
                metadata: { name: `${saName}-token`, namespace: ns, annotations: { "kubernetes.io/service-account.name": saName } },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, dependsOn: [sa], additionalSecretOutputs: ["data"] },
        );
        const decoded = tokenSecret.data.apply((d) => ({
            token: Buffer.from(d?.["token"] ?? "", "base64").toString("utf8"),
            ca: Buffer.from(d?.["ca.crt"] ?? "", "base64").toString("utf8"),
        }));
        return { sa, jwt: pulumi.secret(decoded.apply((d) => d.token)), ca: decoded.apply((d) => d.ca) };
    }
}

/** Type token the per-namespace Vault half had before 0.2 (kept as an alias: no replacement on upgrade). */
const VAULT_NAMESPACE_ACCESS_OLD_TYPE = `${TYPE_PREFIX}NamespaceVaultAccess`;

/** The policy and role of one namespace's access (a VaultNamespaceAccess has them; a set has one per namespace). */
export interface NamespaceAccessChildren {
    policy: vault.Policy;
    role: vault.kubernetes.AuthBackendRole;
    policyName: string;
    roleName: string;
}

/** The takeover guard's claim of one namespace's policy and role (what the stack would write). */
function accessGuarded(base: string, plan: VaultNamespaceAccessPlan): { policy: GuardedObject; role: GuardedObject } {
    return {
        policy: { kind: "policy", hookName: `vault-vso-takeover-${base}-policy`, claim: { name: plan.policyName, desired: { policy: plan.policyText } } },
        role: {
            kind: "role",
            hookName: `vault-vso-takeover-${base}-role`,
            claim: {
                name: plan.roleName,
                authPath: plan.authPath,
                desired: {
                    boundServiceAccountNames: [plan.serviceAccountName],
                    boundServiceAccountNamespaces: [plan.namespace],
                    tokenPolicies: [plan.policyName],
                },
            },
        },
    };
}

type GuardOptions = Pick<pulumi.CustomResourceOptions, "hooks" | "dependsOn">;

/**
 * Creates one namespace's policy and role as children of `parent`, named `${base}-policy` and
 * `${base}-role`, each with the takeover guard (components/vault-config/takeover.ts): `guard` when the
 * caller made it (a set: one claim for all), else one of its own each. VaultNamespaceAccess and
 * VaultNamespaceAccessSet both create their children here from the namespace's plan, so the two create
 * the same resources for the same args.
 */
function createNamespaceAccessChildren(
    parent: pulumi.ComponentResource,
    base: string,
    plan: VaultNamespaceAccessPlan,
    formerParents: pulumi.Input<string>[] = [],
    guard?: { policy: GuardOptions; role: GuardOptions },
): NamespaceAccessChildren {
    const { policyName, roleName, policyText } = plan;
    // each child was once the child of another component (same name): the alias keeps it, nothing is replaced
    const aliases: pulumi.Input<pulumi.Alias>[] = formerParents.map((p) => ({ parent: p }));
    const moved = aliases.length ? { aliases } : {};
    const g = accessGuarded(base, plan);
    const own = (o: GuardedObject) => takeoverGuardOptions(o.kind, o.hookName, parent, o.claim, aliases);
    // refuses to create the policy or role over one that already exists in Vault (components/vault-config/takeover.ts)
    const policy = new vault.Policy(`${base}-policy`, { name: policyName, policy: policyText }, { parent, ...moved, ...(guard?.policy ?? own(g.policy)) });
    const role = new vault.kubernetes.AuthBackendRole(
        `${base}-role`,
        {
            backend: plan.authPath,
            roleName,
            boundServiceAccountNames: [plan.serviceAccountName],
            boundServiceAccountNamespaces: [plan.namespace],
            tokenPolicies: [policy.name],
            tokenTtl: plan.tokenTtl,
            ...(plan.tokenPeriod !== undefined ? { tokenPeriod: plan.tokenPeriod } : {}),
            // tokens carry only the namespace's policy: nothing someone adds to `default` reaches them
            tokenNoDefaultPolicy: true,
            ...(plan.audience ? { audience: plan.audience } : {}),
        },
        { parent, ...moved, ...(guard?.role ?? own(g.role)) },
    );
    return { policy, role, policyName, roleName };
}

/**
 * The Vault half of one namespace's access (the cluster half is `VsoNamespaceAccess`): a policy
 * granting `read` on exactly its secret paths, and a Kubernetes auth role bound to exactly its VSO
 * ServiceAccount and namespace, with that policy only. For many namespaces, `VaultNamespaceAccessSet`
 * creates the same policies and roles under one component.
 */
export class VaultNamespaceAccess extends pulumi.ComponentResource {
    public readonly policy: vault.Policy;
    public readonly role: vault.kubernetes.AuthBackendRole;
    public readonly policyName: string;
    public readonly roleName: string;

    /** `args`: checked and planned here once; or its plan (`planVaultNamespaceAccess`, the platform's), used as it is. */
    constructor(name: string, args: VaultNamespaceAccessArgs | VaultNamespaceAccessPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultNamespaceAccess`, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: VAULT_NAMESPACE_ACCESS_OLD_TYPE }] });
        const plan = planOf("VaultNamespaceAccess", args, (a) => validateVaultNamespaceAccessArgs(a), planVaultNamespaceAccess, this);
        ({ policy: this.policy, role: this.role, policyName: this.policyName, roleName: this.roleName } = createNamespaceAccessChildren(this, name, plan));
        this.registerOutputs({ policyName: this.policyName, roleName: this.roleName });
    }
}

/**
 * The Vault half of many namespaces' access under one component: for each entry of `namespaces`, the same
 * policy and role as a `VaultNamespaceAccess` with that entry's args (plus the shared defaults) creates,
 * named `<name>-<namespace>-policy` / `<name>-<namespace>-role` (`*` written `all`). One component for N
 * namespaces instead of N: each component costs about 23 ms of every preview (bench/results/component-overhead).
 * An existing stack's `VaultNamespaceAccess` resources are not moved here by themselves (their URNs differ).
 */
export class VaultNamespaceAccessSet extends pulumi.ComponentResource {
    /** Each namespace's policy, keyed by namespace. */
    public readonly policies: Record<string, vault.Policy> = {};
    /** Each namespace's role, keyed by namespace. */
    public readonly roles: Record<string, vault.kubernetes.AuthBackendRole> = {};
    /** Each namespace's policy name, keyed by namespace. */
    public readonly policyNames: Record<string, string> = {};
    /** Each namespace's role name, keyed by namespace. */
    public readonly roleNames: Record<string, string> = {};

    /** `args`: checked and planned here once; or its plan (`planVaultNamespaceAccessSet`), used as it is. */
    constructor(name: string, args: VaultNamespaceAccessSetArgs | VaultNamespaceAccessSetPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultNamespaceAccessSet`, name, {}, opts);
        const plan = planOf("VaultNamespaceAccessSet", args, validateVaultNamespaceAccessSetArgs, planVaultNamespaceAccessSet, this);
        const bases = plan.entries.map((entry) => `${name}-${accessSetKey(entry.namespace)}`);
        // one takeover claim for every policy and role of the set (where hooks cannot run), not one each
        const guarded = plan.entries.map((entry, i) => accessGuarded(bases[i], entry));
        // a stack of the per-namespace components had one claim per object: the first becomes the set's (the
        // others are dropped; their objects, unchanged, pass the set's check as what the stack would write)
        const firstClaim =
            plan.fromVaultNamespaceAccess && bases.length
                ? [
                      {
                          name: `${guarded[0].policy.hookName}-claim`,
                          type: "pulumi-nodejs:dynamic/pulumi-vault-vso:TakeoverClaim",
                          parent: pulumi.createUrn(bases[0], `${TYPE_PREFIX}VaultNamespaceAccess`, opts?.parent),
                      },
                  ]
                : [];
        const guards = takeoverGuardOptionsForMany(
            this,
            `vault-vso-takeover-${name}-claims`,
            guarded.flatMap((g) => [g.policy, g.role]),
            firstClaim,
        );
        plan.entries.forEach((entry, i) => {
            const base = bases[i];
            // moved from a VaultNamespaceAccess `base` under the same parent (also under its 0.1 type name)
            const former = plan.fromVaultNamespaceAccess
                ? [`${TYPE_PREFIX}VaultNamespaceAccess`, VAULT_NAMESPACE_ACCESS_OLD_TYPE].map((t) => pulumi.createUrn(base, t, opts?.parent))
                : [];
            const c = createNamespaceAccessChildren(this, base, entry, former, { policy: guards[2 * i], role: guards[2 * i + 1] });
            this.policies[entry.namespace] = c.policy;
            this.roles[entry.namespace] = c.role;
            this.policyNames[entry.namespace] = c.policyName;
            this.roleNames[entry.namespace] = c.roleName;
        });
        this.registerOutputs({ policyNames: this.policyNames, roleNames: this.roleNames });
    }
}
