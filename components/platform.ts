/**
 * VaultSecretsPlatform: the whole setup of "Kubernetes secrets the GitOps way" from one typed config,
 * composed from the components in vault/, vault-config/, operator/ and apps/.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX, failOnProblems } from "./config/errors";
import { PlatformInventory, inventoryOf } from "./config/inventory";
import { VaultHelmInstall } from "./vault/install";
import { planVaultHelmInstall, vaultServiceName } from "./config/vault-install";
import { VaultSecretsOperatorInstall } from "./operator/install";
import { planOperatorInstall } from "./config/operator-install";
import { VaultApiServerAccess } from "./vault/apiserver-access";
import { KubeCluster } from "./config/kubeconfig";
import { DEFAULTS, NamespacePlan, accessRevision, PlatformPlan } from "./config/plan";
import { redactUrl } from "./shared/text";
import { underMocks } from "./shared/runtime";
import { KubernetesAuthMethod, KvV2Engine, NamespaceAccessChildren, VaultNamespaceAccessSet } from "./vault-config/access";
import { namespaceAccessPlanOf, planKubernetesAuthMethod, planKvV2Engine } from "./config/vault-access";
import { VsoNamespaceAccess } from "./operator/namespace-access";
import { VsoNamespaceAccessArgs, planVsoNamespaceAccess } from "./config/vso-access";
import { VaultStaticSecretApp } from "./apps/static-secret";
import { staticSecretAppPlanOf } from "./config/static-secret";
import { policyPrefixOf, pulumiTokenPolicy } from "./config/unseal";
import { SealProbeTarget, SealStatus, podProxyAddress, probeSealStatus, sealedVaultMessage, unsealPods } from "./vault/sealcheck";
import { VaultInit, VaultKeysInGuard } from "./vault/init";
import { adoptedDynamicSecret, adoptedNamespace, adoptedPkiSecret, adoptedStaticSecret } from "./config/adopt";
import { AdoptedVaultAccess } from "./vault-config/adopted";
import { DatabaseSecretsEngine } from "./vault-config/database";
import { VaultDynamicSecretApp } from "./apps/dynamic-secret";
import { PkiSecretsEngine } from "./vault-config/pki";
import { VaultPkiSecretApp } from "./apps/pki-secret";
import {
    VaultSecretsPlatformArgs,
    adoptedAuthMethodArgs,
    bootstrapOf,
    clusterOfKubeconfig,
    planPlatformArgs,
    reservedNamespacesOf,
    reviewerOf,
    securityWarnings,
    validatePlatformArgs,
    withClusterDefaults,
} from "./config/platform";

type NamespaceOpts = { vaultOpts: ProviderOpts; k8sOpts: ProviderOpts; bothOpts: ProviderOpts; operatorDeps: pulumi.Resource[] };
type ProviderOpts = { parent: pulumi.Resource; dependsOn?: pulumi.Resource[]; providers?: Record<string, pulumi.ProviderResource> };

/** keysIn "pulumi": what `pulumi up` needs to unseal a restarted Vault with the keys in the stack's state. */
interface UnsealFromState {
    keys: pulumi.Output<string[] | undefined>;
    pods: string[];
    threshold: number;
}

/** The platform's child components (kept off the class's fields: see `VaultSecretsPlatform`). */
interface PlatformParts {
    plan: PlatformPlan;
    vaultInstall?: VaultHelmInstall;
    operatorInstall?: VaultSecretsOperatorInstall;
    kv?: KvV2Engine;
    kubernetesAuth?: KubernetesAuthMethod;
    vaultAccess: Record<string, NamespaceAccessChildren>;
    vaultAccessSet?: VaultNamespaceAccessSet;
    vsoAccess: Record<string, VsoNamespaceAccess>;
    apps: Record<string, VaultStaticSecretApp>;
    adoptedVaultAccess?: AdoptedVaultAccess;
    database?: DatabaseSecretsEngine;
    dynamicSecrets: Record<string, VaultDynamicSecretApp>;
    pki?: PkiSecretsEngine;
    pkiSecrets: Record<string, VaultPkiSecretApp>;
}
const PARTS = new WeakMap<VaultSecretsPlatform, PlatformParts>();

/**
 * The whole setup: Vault and VSO (Helm, optional), the KV v2 engine, the Kubernetes auth method with
 * its config, one policy + role + VaultConnection + VaultAuth + ServiceAccount per namespace, and one
 * VaultStaticSecret (and optional managed value) per app. Bad config fails here, before any API call,
 * with one `ValidationError` listing every problem. Validation and planning run once: the children
 * take their share of the plan.
 *
 * Its only fields are its outputs (`vaultAddress`, `managedVersions`, `inventory`); the children are
 * getters. That keeps the class's schema inferable, so other languages can use it through the
 * component provider (see docs/components.md, "From other languages").
 */
export class VaultSecretsPlatform extends pulumi.ComponentResource {
    /** Vault address as VSO reaches it. */
    public readonly vaultAddress: pulumi.Output<string>;
    /** KV v2 version of each managed app value at the last `up`, by app name (for the drift check). */
    public readonly managedVersions: pulumi.Output<Record<string, string>>;
    /**
     * What the stack manages, for the ops tools (drift check, doctor): export it from the program as
     * `export const inventory = platform.inventory` (see `PlatformInventory`).
     */
    public readonly inventory: pulumi.Output<PlatformInventory>;

    /** What the config plans (pure data: namespaces, names, policy texts, apps). */
    get plan(): PlatformPlan {
        return this.parts.plan;
    }
    /** The Helm release of Vault, when `vault.install`. */
    get vaultInstall(): VaultHelmInstall | undefined {
        return this.parts.vaultInstall;
    }
    /** The Helm release of VSO, when `operator.install`. */
    get operatorInstall(): VaultSecretsOperatorInstall | undefined {
        return this.parts.operatorInstall;
    }
    get kv(): KvV2Engine {
        return this.parts.kv!;
    }
    get kubernetesAuth(): KubernetesAuthMethod {
        return this.parts.kubernetesAuth!;
    }
    /** The Vault half of each namespace's access (policy + role), by namespace. */
    get vaultAccess(): Record<string, NamespaceAccessChildren> {
        return this.parts.vaultAccess;
    }
    /** The one component that holds every namespace's policy and role (none when every namespace is adopted). */
    get vaultAccessSet(): VaultNamespaceAccessSet | undefined {
        return this.parts.vaultAccessSet;
    }
    /** The cluster half of each namespace's access (ServiceAccount + VaultConnection + VaultAuth), by namespace. */
    get vsoAccess(): Record<string, VsoNamespaceAccess> {
        return this.parts.vsoAccess;
    }
    /** Each app's VaultStaticSecret (and managed value), by app name. */
    get apps(): Record<string, VaultStaticSecretApp> {
        return this.parts.apps;
    }
    private get parts(): PlatformParts {
        return PARTS.get(this)!;
    }

    // (the parameter must be called `args`: the component provider infers the schema from it)
    constructor(name: string, args: VaultSecretsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultSecretsPlatform`, name, {}, opts);
        const providers = { vault: this.getProvider("vault::") !== undefined, kubernetes: this.getProvider("kubernetes::") !== undefined };
        failOnProblems("VaultSecretsPlatform", validatePlatformArgs(args, providers), this);
        // one cluster of several: its auth mount and names (every child below sees the filled-in args)
        args = withClusterDefaults(args);
        for (const w of securityWarnings(args)) {
            pulumi.log.warn(w, this);
        }
        const parts: PlatformParts = { plan: planPlatformArgs(args), vaultAccess: {}, vsoAccess: {}, apps: {}, dynamicSecrets: {}, pkiSecrets: {} };
        PARTS.set(this, parts);
        const k8sProvider =
            this.getProvider("kubernetes::") ??
            (args.kubeconfig !== undefined ? new k8s.Provider(`${name}-k8s`, { kubeconfig: pulumi.secret(args.kubeconfig) }, { parent: this }) : undefined);
        const k8sOpts: ProviderOpts = { parent: this, ...(k8sProvider ? { providers: { kubernetes: k8sProvider } } : {}) };
        if (args.vault?.install ?? true) {
            const vaultPlan = planVaultHelmInstall(args.vault?.helm ?? {});
            const boot = bootstrapOf(args, vaultServiceName(vaultPlan.releaseName));
            // a durable Vault's keys cannot move: refused here, before the release changes its unseal setup
            const guard = boot && new VaultKeysInGuard(`${name}-vault-keys-in`, { keysIn: boot.keysIn }, { parent: this });
            parts.vaultInstall = new VaultHelmInstall(name, vaultPlan, { ...k8sOpts, ...(guard ? { dependsOn: [guard] } : {}) });
        }
        this.vaultAddress = args.vault?.address !== undefined ? pulumi.output(args.vault.address) : parts.vaultInstall!.address;
        const vaultProvider = this.getProvider("vault::") ?? this.vaultProvider(name, args, k8sOpts);
        const vaultDeps: pulumi.Resource[] = parts.vaultInstall ? [parts.vaultInstall] : [];
        const vaultOpts: ProviderOpts = { parent: this, dependsOn: vaultDeps, providers: { vault: vaultProvider } };
        const bothOpts: ProviderOpts = { ...vaultOpts, providers: { ...vaultOpts.providers, ...k8sOpts.providers } };
        if (args.operator?.install ?? true) {
            parts.operatorInstall = new VaultSecretsOperatorInstall(name, planOperatorInstall(args.operator?.helm ?? {}), k8sOpts);
        }
        const operatorDeps = parts.operatorInstall ? [parts.operatorInstall] : this.operatorCrds(name, args, k8sOpts);
        parts.kv = new KvV2Engine(
            name,
            planKvV2Engine({
                path: parts.plan.kvPath,
                protect: args.kv?.protect,
                description: args.kv?.description,
                importExisting: args.adopted?.kvMount,
                shared: args.kv?.shared,
            }),
            vaultOpts,
        );
        parts.kubernetesAuth = this.authMethod(name, args, bothOpts);
        if (args.adopted?.policies?.length || args.adopted?.roles?.length) {
            parts.adoptedVaultAccess = new AdoptedVaultAccess(
                `${name}-adopted`,
                { authPath: parts.plan.authPath, policies: args.adopted.policies, roles: args.adopted.roles },
                { ...vaultOpts, dependsOn: [...vaultDeps, parts.kubernetesAuth] },
            );
        }
        this.engines(name, args, vaultOpts);
        this.namespaceAccessSet(name, args, { ...vaultOpts, dependsOn: [...vaultDeps, parts.kv, parts.kubernetesAuth] });
        for (const nsPlan of parts.plan.namespaces) {
            this.namespace(name, args, nsPlan, { vaultOpts, k8sOpts, bothOpts, operatorDeps });
        }
        const versions = Object.entries(parts.apps).filter(([, a]) => a.managedVersion);
        this.managedVersions = pulumi
            .all(Object.fromEntries(versions.map(([n, a]) => [n, a.managedVersion!])))
            .apply((v) => Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")));
        this.inventory = pulumi.all([this.vaultAddress, this.managedVersions]).apply(([addr, v]) => inventoryOf(parts.plan, addr, v, args.cluster));
        this.registerOutputs({ vaultAddress: this.vaultAddress, managedVersions: this.managedVersions, inventory: this.inventory });
    }

    /** The Vault provider the Vault resources use: through the API server to the installed Vault, or to `providerAddress`/`address`. */
    private vaultProvider(name: string, args: VaultSecretsPlatformArgs, k8sOpts: ProviderOpts): vault.Provider {
        const v = args.vault ?? {};
        const install = v.install ?? true;
        const vaultConfig = new pulumi.Config("vault");
        const token = v.token ?? this.vaultInstall?.rootToken ?? vaultConfig.getSecret("token");
        if (install && v.providerAddress === undefined) {
            return this.inClusterVaultProvider(name, args, k8sOpts, token);
        }
        const tokenArgs = token !== undefined ? { token: pulumi.secret(token) } : {};
        const given = v.providerAddress ?? (install ? undefined : v.address);
        const plain = pulumi.output(given ?? vaultConfig.get("address") ?? process.env.VAULT_ADDR ?? vaultConfig.require("address"));
        return new vault.Provider(
            `${name}-vault`,
            {
                address: this.unsealedAddress(
                    plain.apply((a) => ({ address: a })),
                    { installed: install, namespace: install ? (v.helm?.namespace ?? DEFAULTS.vaultNamespace) : undefined, shown: undefined },
                ),
                ...tokenArgs,
                skipChildToken: true,
            },
            { parent: this },
        );
    }

    /** Pulumi reaches the in-cluster Vault through the API server, in this same run (a durable one bootstrapped first). */
    private inClusterVaultProvider(
        name: string,
        args: VaultSecretsPlatformArgs,
        k8sOpts: ProviderOpts,
        givenToken: pulumi.Input<string> | undefined,
    ): vault.Provider {
        let token = givenToken;
        const vi = this.vaultInstall!;
        const boot = bootstrapOf(args, vi.serviceName);
        const cluster = clusterOfKubeconfig(args.kubeconfig);
        const access = new VaultApiServerAccess(
            `${name}-vault-access`,
            {
                namespace: vi.namespace,
                // ha: the active node's Service (a standby would redirect to a plain-http pod address)
                serviceName: vi.providerServiceName,
                cluster,
                // the keys Secret only when the keys live there
                bootstrap: boot && { pods: boot.pods, keysSecretName: boot.keysIn === "secret" ? boot.keysSecretName : undefined },
            },
            { ...k8sOpts, dependsOn: [vi] },
        );
        let unsealFromState: UnsealFromState | undefined;
        if (boot) {
            // a durable Vault: initialised, unsealed and given Pulumi's own token in this same run
            const init = this.vaultInit(name, args, { cluster, access, boot, vi });
            token = init.token;
            if (boot.keysIn === "pulumi") {
                // its keys live only in the state: a restarted Vault is unsealed by `pulumi up`, here
                unsealFromState = { keys: init.unsealKeys, pods: boot.pods, threshold: boot.keyThreshold };
            }
        }
        const tokenArgs = token !== undefined ? { token: pulumi.secret(token) } : {};
        // the address resolves after the bootstrap (token) and only when Vault is not sealed
        const address = this.unsealedAddress(
            pulumi
                .all([access.address, access.headers, access.caCertFile, access.skipTLSVerify, pulumi.unsecret(pulumi.output(token).apply(() => 0))])
                .apply(([a, h, ca, skip]) => ({ address: a, headers: h, caCertFile: ca, skipTlsVerify: skip })),
            {
                installed: true,
                namespace: vi.namespace,
                keysIn: boot?.keysIn,
                keysSecretName: boot?.keysSecretName,
                shown: "the Vault this stack installed",
                unseal: unsealFromState,
                server: cluster.apply((k) => k.server),
                activeNode: vi.providerServiceName !== vi.serviceName && boot ? { service: vi.providerServiceName, pod: boot.pods[0] } : undefined,
            },
        );
        return new vault.Provider(
            `${name}-vault`,
            {
                address,
                headers: access.headers,
                caCertFile: access.caCertFile as pulumi.Output<string>,
                skipTlsVerify: access.skipTLSVerify,
                ...tokenArgs,
                skipChildToken: true,
            },
            { parent: this },
        );
    }

    /**
     * The provider's address, once `sys/seal-status` (asked through the same route) says Vault is not
     * sealed: a sealed Vault stops the run here with what to do, before any Vault resource is read or
     * changed. Unknown (preview of a Vault not installed yet) or unreachable: the address as it is.
     */
    private unsealedAddress(
        target: pulumi.Output<SealProbeTarget>,
        c: {
            installed: boolean;
            namespace?: pulumi.Input<string>;
            keysIn?: "secret" | "pulumi";
            keysSecretName?: string;
            shown?: string;
            unseal?: UnsealFromState;
            /** ha: the address is the active node's Service; wait for it, and ask this pod when there is none. */
            activeNode?: { service: string; pod: string };
            /** The API server, for the pods' proxy (`unseal`, `activeNode`). */
            server?: pulumi.Input<string>;
        },
    ): pulumi.Output<string> {
        // the address is not secret (the probe's inputs may be: the API server's bearer header, the keys)
        const checked = pulumi
            .all([target, pulumi.output(c.namespace), pulumi.output(c.unseal?.keys), pulumi.output(c.server)])
            .apply(async ([t, ns, keys, server]) => {
                if (underMocks()) {
                    return t.address; // unit tests: there is no Vault to ask
                }
                let unsealTried = false;
                if (c.unseal && ns !== undefined && server !== undefined) {
                    const r = await this.unsealFromState(t, ns, server, c.unseal, keys);
                    if (r === "deferred") {
                        // a preview (also the one `pulumi up` runs first): the update unseals, so the
                        // provider's address stays unknown here instead of failing the preview
                        return pulumi.unknown as unknown as string;
                    }
                    unsealTried = r === "tried";
                }
                let status = await probeSealStatus(t);
                if (status === undefined && c.activeNode && server !== undefined && ns !== undefined) {
                    // ha: the active Service has an endpoint once a node is active and labelled (seconds after
                    // an unseal or a restart); meanwhile the API server answers 503
                    status = await this.waitForActiveNode(t, c.activeNode, server, ns);
                }
                const message = sealedVaultMessage(status, {
                    installed: c.installed,
                    namespace: ns,
                    keysIn: c.keysIn,
                    keysSecretName: c.keysSecretName,
                    shownAddress: c.shown ?? redactUrl(t.address),
                    unsealTried,
                });
                if (message) {
                    throw new pulumi.ResourceError(message, this);
                }
                return t.address;
            });
        return pulumi.unsecret(checked);
    }

    /**
     * ha: polls the active Service (up to 90 s) until a node answers there. None: the first pod's own
     * status (sealed → the sealed message follows), or, unsealed with no active node, an error that says so.
     */
    private async waitForActiveNode(t: SealProbeTarget, a: { service: string; pod: string }, server: string, ns: string): Promise<SealStatus | undefined> {
        const deadline = Date.now() + 90000;
        while (Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 2000));
            const st = await probeSealStatus(t);
            if (st !== undefined) {
                return st;
            }
        }
        const pod = await probeSealStatus({ ...t, address: podProxyAddress(server, ns, a.pod) });
        if (pod === undefined || pod.sealed) {
            return pod;
        }
        throw new pulumi.ResourceError(
            `no active Vault node behind the Service ${ns}/${a.service} after 90 s, although ${a.pod} is unsealed: ` +
                `the raft cluster has no leader (too few pods up for a quorum?) or Vault cannot label its pod ` +
                `(service_registration "kubernetes" needs the chart's RBAC). \`kubectl -n ${ns} logs ${a.pod} -c vault\` says which; run again when one is active.`,
            this,
        );
    }

    /**
     * keysIn "pulumi": every sealed pod gets the keys from the stack's state, in `pulumi up` only (a
     * preview changes nothing: it warns, "deferred"). "tried": keys were submitted. Never prints a key.
     */
    private async unsealFromState(
        t: SealProbeTarget,
        ns: string,
        server: string,
        u: UnsealFromState,
        keys: string[] | undefined,
    ): Promise<"none" | "deferred" | "tried"> {
        const pods = u.pods.map((p) => ({ name: p, address: podProxyAddress(server, ns, p) }));
        const route = { headers: t.headers, caCertFile: t.caCertFile, skipTlsVerify: t.skipTlsVerify };
        const sealed: string[] = [];
        for (const p of pods) {
            const st = await probeSealStatus({ ...route, address: p.address });
            if (st?.sealed && st.initialized) {
                sealed.push(p.name);
            }
        }
        if (sealed.length === 0 || keys === undefined || keys.length === 0) {
            return "none";
        }
        if (pulumi.runtime.isDryRun()) {
            pulumi.log.warn(
                `Vault pod(s) ${sealed.join(", ")} in ${ns} are sealed: pulumi up unseals them with the keys in this stack's state (this preview cannot read Vault)`,
                this,
            );
            return "deferred";
        }
        const still = await unsealPods(
            route,
            pods.filter((p) => sealed.includes(p.name)),
            keys,
            u.threshold,
        );
        const done = sealed.filter((p) => !still.includes(p));
        if (done.length > 0) {
            pulumi.log.info(`unsealed Vault pod(s) ${done.join(", ")} in ${ns} with the keys in this stack's state`, this);
            // the Service answers unsealed once a pod behind it is (a moment for its readiness)
            for (let i = 0; i < 30 && (await probeSealStatus(t))?.sealed !== false; i++) {
                await new Promise((r) => setTimeout(r, 2000));
            }
        }
        return "tried";
    }

    private vaultInit(
        name: string,
        args: VaultSecretsPlatformArgs,
        o: { cluster: pulumi.Output<KubeCluster>; access: VaultApiServerAccess; boot: NonNullable<ReturnType<typeof bootstrapOf>>; vi: VaultHelmInstall },
    ): VaultInit {
        const { cluster, access, boot, vi } = o;
        return new VaultInit(
            `${name}-vault-init`,
            {
                server: cluster.apply((c) => c.server),
                caPem: cluster.apply((c) => c.caPem),
                insecure: cluster.apply((c) => c.insecure),
                authorization: pulumi.secret(access.headers.apply((h) => h[0].value)),
                namespace: vi.namespace,
                pods: boot.pods,
                keyShares: boot.keyShares,
                keyThreshold: boot.keyThreshold,
                keysSecretName: boot.keysSecretName,
                keysIn: boot.keysIn,
                policy: pulumiTokenPolicy(
                    this.plan.kvPath,
                    this.plan.authPath,
                    policyPrefixOf(args.kubernetesAuth?.policyNameTemplate ?? DEFAULTS.policyNameTemplate),
                ),
            },
            { parent: this, dependsOn: [vi, access] },
        );
    }

    /** VSO's CRDs from files when VSO is not installed here; what the VSO objects must wait for. */
    private operatorCrds(name: string, args: VaultSecretsPlatformArgs, k8sOpts: ProviderOpts): pulumi.Resource[] {
        if (args.operator?.crdFiles && args.operator.crdFiles.length > 0) {
            // CRDs are cluster-wide and shared: deleting one deletes every VaultStaticSecret in the
            // cluster, and with them the Secrets VSO wrote. Removing the stack leaves them in place.
            const retain: pulumi.ResourceTransform = (a) => ({ props: a.props, opts: pulumi.mergeOptions(a.opts, { retainOnDelete: true }) });
            return [new k8s.yaml.v2.ConfigGroup(`${name}-vso-crds`, { files: args.operator.crdFiles }, { ...k8sOpts, transforms: [retain] })];
        }
        return [];
    }

    private authMethod(name: string, args: VaultSecretsPlatformArgs, bothOpts: ProviderOpts): KubernetesAuthMethod {
        const ka = args.kubernetesAuth ?? {};
        const ac = args.adopted?.authConfig;
        if (ac) {
            // the config as found, imported; the reviewer JWT Vault holds (it never returns it) is left alone
            return new KubernetesAuthMethod(name, planKubernetesAuthMethod(adoptedAuthMethodArgs(ac, this.plan.authPath, args.adopted?.authMount)), bothOpts);
        }
        const tokenReviewer = reviewerOf(args);
        return new KubernetesAuthMethod(
            name,
            planKubernetesAuthMethod({
                path: this.plan.authPath,
                kubernetesHost: ka.kubernetesHost,
                kubernetesCaCert: ka.kubernetesCaCert,
                tokenReviewerJwt: ka.tokenReviewerJwt,
                tokenReviewer,
                importExisting: { mount: args.adopted?.authMount },
            }),
            bothOpts,
        );
    }

    /** Vault's database and PKI engines from the platform's plan (none without `database` / `pki`). */
    private engines(name: string, args: VaultSecretsPlatformArgs, vaultOpts: ProviderOpts): void {
        const { database: db, pki } = this.plan;
        const a = args.adopted;
        if (db && args.database) {
            const passwords = args.database.connections.map((c) => c.password);
            const adopted = a && { mount: a.databaseMount, connections: a.databaseConnections, roles: a.databaseRoles };
            this.parts.database = new DatabaseSecretsEngine(
                name,
                { planned: "DatabaseSecretsEngine", plan: db, passwords, ...(adopted ? { adopted } : {}) },
                vaultOpts,
            );
        }
        if (pki) {
            const adopted = a && { mount: a.pkiMount, roles: a.pkiRoles };
            const caPemBundle = args.pki?.ca?.pemBundle;
            this.parts.pki = new PkiSecretsEngine(
                name,
                { planned: "PkiSecretsEngine", plan: pki, ...(adopted ? { adopted } : {}), ...(caPemBundle !== undefined ? { caPemBundle } : {}) },
                vaultOpts,
            );
        }
    }

    /**
     * Every namespace's policy and role under one component (about 23 ms of every preview saved per
     * namespace, bench/results/component-overhead), moved there from the per-namespace VaultNamespaceAccess
     * of earlier versions by aliases: an existing stack replaces nothing. Adopted namespaces keep theirs.
     */
    private namespaceAccessSet(name: string, args: VaultSecretsPlatformArgs, opts: ProviderOpts): void {
        const own = this.plan.namespaces.filter((n) => !adoptedNamespace(args.adopted, n.namespace));
        if (own.length === 0) {
            return;
        }
        const set = new VaultNamespaceAccessSet(
            name,
            {
                planned: "VaultNamespaceAccessSet",
                entries: own.map((n) => namespaceAccessPlanOf(this.plan, n, this.kubernetesAuth.path)),
                fromVaultNamespaceAccess: true,
            },
            opts,
        );
        this.parts.vaultAccessSet = set;
        for (const { namespace: ns } of own) {
            this.parts.vaultAccess[ns] = { policy: set.policies[ns], role: set.roles[ns], policyName: set.policyNames[ns], roleName: set.roleNames[ns] };
        }
    }

    /** One namespace: its Vault half, its cluster half, and its apps, each given its share of the plan. */
    private namespace(name: string, args: VaultSecretsPlatformArgs, nsPlan: NamespacePlan, o: NamespaceOpts): void {
        const ns = nsPlan.namespace;
        const vaultDeps = o.vaultOpts.dependsOn ?? [];
        const adopted = adoptedNamespace(args.adopted, ns);
        let vso: VsoNamespaceAccess;
        if (adopted) {
            // the namespace logs in as it did: its own VaultConnection/VaultAuth and the adopted role
            const vsoArgs: VsoNamespaceAccessArgs = {
                namespace: ns,
                vaultAddress: this.vaultAddress,
                roleName: nsPlan.roleName,
                adopted,
                reservedNamespaces: reservedNamespacesOf(args).map((r) => r.namespace),
            };
            const deps = [...o.operatorDeps, ...(this.parts.adoptedVaultAccess ? [this.parts.adoptedVaultAccess] : [])];
            vso = new VsoNamespaceAccess(`${name}-${ns}`, planVsoNamespaceAccess(vsoArgs), { ...o.k8sOpts, dependsOn: deps });
        } else {
            const access = this.vaultAccess[ns];
            vso = new VsoNamespaceAccess(`${name}-${ns}`, planVsoNamespaceAccess(this.vsoAccessArgs(args, nsPlan, access)), {
                ...o.k8sOpts,
                dependsOn: [...o.operatorDeps, access.policy, access.role],
            });
        }
        this.vsoAccess[ns] = vso;
        for (const app of nsPlan.apps) {
            const appPlan = staticSecretAppPlanOf(
                app,
                this.plan.kvPath,
                nsPlan.authName,
                args.apps[app.index].data,
                adoptedStaticSecret(args.adopted, ns, app.name),
            );
            this.apps[app.name] = new VaultStaticSecretApp(`${name}-${app.name}`, appPlan, {
                ...o.bothOpts,
                dependsOn: [...vaultDeps, this.kv, vso],
            });
        }
        this.namespaceSecrets(name, args, nsPlan, [vso], o.k8sOpts);
    }

    /** The namespace's database credentials and certificates: a VaultDynamicSecret or VaultPKISecret each. */
    private namespaceSecrets(name: string, args: VaultSecretsPlatformArgs, nsPlan: NamespacePlan, deps: pulumi.Resource[], k8sOpts: ProviderOpts): void {
        const ns = nsPlan.namespace;
        const pki = this.plan.pki;
        for (const certificate of pki?.certificates.filter((c) => c.namespace === ns) ?? []) {
            this.parts.pkiSecrets[`${ns}/${certificate.app}`] = new VaultPkiSecretApp(
                `${name}-${ns}-${certificate.app}-pki`,
                { certificate, mount: pki!.path, vaultAuthRef: nsPlan.authName, adopted: adoptedPkiSecret(args.adopted, ns, certificate.app) },
                { ...k8sOpts, dependsOn: [...deps, this.parts.pki!] },
            );
        }
        const db = this.plan.database;
        for (const role of db?.roles.filter((r) => r.namespace === ns) ?? []) {
            this.parts.dynamicSecrets[`${ns}/${role.app}`] = new VaultDynamicSecretApp(
                `${name}-${ns}-${role.app}-db`,
                { role, mount: db!.path, vaultAuthRef: nsPlan.authName, adopted: adoptedDynamicSecret(args.adopted, ns, role.app) },
                { ...k8sOpts, dependsOn: [...deps, this.parts.database!] },
            );
        }
    }

    /** The namespace's Vault half, from the platform's plan (its policy text as planned). */
    private vsoAccessArgs(args: VaultSecretsPlatformArgs, nsPlan: NamespacePlan, access: NamespaceAccessChildren): VsoNamespaceAccessArgs {
        const plan = this.plan;
        return {
            namespace: nsPlan.namespace,
            vaultAddress: this.vaultAddress,
            roleName: access.role.roleName,
            authPath: this.kubernetesAuth.path,
            serviceAccountName: nsPlan.serviceAccountName,
            connectionName: nsPlan.connectionName,
            authName: nsPlan.authName,
            audiences: plan.audience ? [plan.audience] : undefined,
            createNamespace: args.createNamespaces ?? false,
            accessRevision: accessRevision({
                authPath: plan.authPath,
                roleName: nsPlan.roleName,
                policyName: nsPlan.policyName,
                policy: nsPlan.policyText,
                serviceAccountName: nsPlan.serviceAccountName,
                audience: plan.audience,
                tokenTtl: plan.tokenTtl,
            }),
            caCert: args.vault?.caCert,
            skipTLSVerify: args.vault?.skipTLSVerify,
            reservedNamespaces: reservedNamespacesOf(args).map((r) => r.namespace),
        };
    }
}
