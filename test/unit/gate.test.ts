/**
 * Issue 8, item 11: the platform's validation is the single gate. Everything `validatePlatformArgs`
 * accepts, every child component accepts (no ValidationError, no error in an Output, no two resources
 * for one object); everything it rejects is rejected by the constructor before any resource exists.
 *
 * A seeded generator (deterministic: the same configs at every run) varies every field of the
 * platform's config over edge cases, legal and not: lengths at their limits, unusual but legal
 * characters, templates, empty lists, dev/standalone/ha and external Vault, adopted sections...
 * Each config is validated (pure), then built under Pulumi's mocks; the args the platform hands each
 * child are captured and given to that child's own validator, which must find nothing.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as appsModule from "../../components/apps/static-secret";
import * as operatorInstallModule from "../../components/operator/install";
import * as vaultModule from "../../components/vault-config/access";
import * as vsoModule from "../../components/operator/namespace-access";
import * as vaultInstallModule from "../../components/vault/install";
import {
    TokenReviewerArgs,
    ValidationProblem,
    VaultSecretsPlatform,
    VaultSecretsPlatformArgs,
    VaultStaticSecretAppArgs,
    VaultStaticSecretAppPlan,
    checkMountPath,
    isPlanFor,
    planStaticSecretApp,
    planKvV2Engine,
    planKubernetesAuthMethod,
    planVaultHelmInstall,
    planOperatorInstall,
    planVaultNamespaceAccess,
    planVsoNamespaceAccess,
    validateKubernetesAuthArgs,
    validateOperatorInstallArgs,
    validatePlatformArgs,
    validateStaticSecretArgs,
    validateVaultHelmInstallArgs,
    validateVaultNamespaceAccessArgs,
    validateVaultNamespaceAccessSetArgs,
    validateVsoNamespaceAccessArgs,
    validationProblemsOf,
} from "../../components";
import { FIXTURE_KUBECONFIG, MockRecorder, Recorded } from "./harness";

const Resource = pulumi.Resource as unknown as { callsites: () => unknown[] };

// ---------------------------------------------------------------------------------------------------
// A deterministic pseudo-random generator (mulberry32): no dependency, same sequence at every run.

class Rng {
    private s: number;
    constructor(seed: number) {
        this.s = seed >>> 0;
    }
    next(): number {
        this.s = (this.s + 0x6d2b79f5) >>> 0;
        let t = this.s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    chance(p: number): boolean {
        return this.next() < p;
    }
    int(min: number, max: number): number {
        return min + Math.floor(this.next() * (max - min + 1));
    }
    pick<T>(items: readonly T[]): T {
        return items[Math.floor(this.next() * items.length)];
    }
    /** Mostly one of `legal`, now and then one of `bad` (probability `p`). */
    mostly<T>(legal: readonly T[], bad: readonly T[], p = 0.015): T {
        return bad.length > 0 && this.chance(p) ? this.pick(bad) : this.pick(legal);
    }
}

// ---------------------------------------------------------------------------------------------------
// Edge values

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBgate\n-----END CERTIFICATE-----\n";
const label = (n: number, c = "b") => (n === 1 ? "a" : `a${c.repeat(n - 2)}z`);
const L53 = label(53, "r");
const L54 = label(54, "r");
const L63 = label(63);
const L64 = label(64);
/** A 253-character subdomain (the longest legal object name), with dots. */
const SUB253 = [label(63, "c"), label(63, "d"), label(63, "e"), label(61, "f")].join(".");
const SEG254 = "s".repeat(254);
/** A 1024-character secret path (the longest accepted), segments of at most 254. */
const PATH1024 = [SEG254, SEG254, SEG254, SEG254, "abcd"].join("/");
const GLOB_POLICY = 'path "kv/data/rustfs/*" {\n  capabilities = ["read"]\n}\n';

const NAMESPACES = ["cnpg", "rustfs", "a", "team-1", "default", "vault-auth", "vso", L63, "x0"];
const BAD_NAMESPACES = ["vault", "vault-secrets-operator-system", "my-vault", "Upper", "team.x", L64, "-a", ""];
const APP_NAMES = ["app", "rustfs-cloudnativepg", "app.v1", "a", "web-1", "db", "x.y.z", "vault-ca", L63, SUB253];
const BAD_APP_NAMES = ["App", "a_b", `${SUB253}x`, "", "a..b"];
const PATHS = ["rustfs/cloudnativepg", "app", "a/b/c/d", "x@y.z_1-2", "team/App-Config", "kv2/x", "db/secret", SEG254, PATH1024, "metadata-x/y"];
const BAD_PATHS = ["kv/x", "data/x", "a//b", "/a", "a b", "a/*", "a/../b", `${PATH1024}x`, "s".repeat(255), "a/b/"];
const KEYS = ["access_key", "access_secret_key", "password", "tls.crt", "A-b_c.d", "x"];
const BAD_KEYS = ["bad key", "a/b", ""];
const REFRESH = [undefined, undefined, "1s", "24h", "1440m", "86400s", "60s", "1.5h", "0.5m", "1.0s"];
const BAD_REFRESH = ["0.5s", "25h", "0s", "60", "1d", "86401s"];
const TEMPLATES = [
    undefined,
    undefined,
    undefined,
    "vso-{namespace}",
    "{namespace}",
    "r.{namespace}_x",
    "{namespace}-{namespace}",
    `${"x".repeat(60)}-{namespace}`,
    "p-{namespace}-read",
];
const BAD_TEMPLATES = ["VSO-{namespace}", "fixed", "", `${"y".repeat(70)}{namespace}`, "{namespace} x", "-{namespace}"];
const SA_NAMES = [undefined, undefined, "vso-auth", "vso", L63, "vault-token-reviewer", "sa-1"];
const BAD_SA_NAMES = ["default", "VSO", L64, "vso.auth", "a_b"];
const AUDIENCES = [undefined, undefined, "vault", "https://kubernetes.default.svc.cluster.local", "a".repeat(256), "Vault", "x:y/z"];
const BAD_AUDIENCES = ["", "a,b", "a".repeat(257), "a b"];
const TTLS = [undefined, undefined, 60, 3600, 86400, 61];
const BAD_TTLS = [59, 86401, 0, -5];

function genApps(r: Rng, kvPath: string): VaultSecretsPlatformArgs["apps"] {
    const n = r.pick([0, 1, 1, 2, 2, 3, 3, 4, 5, 6]);
    const namespaces = [r.mostly(NAMESPACES, BAD_NAMESPACES), r.mostly(NAMESPACES, BAD_NAMESPACES)];
    const apps: VaultSecretsPlatformArgs["apps"] = [];
    const names = new Set<string>();
    for (let i = 0; i < n; i++) {
        let name = r.mostly(APP_NAMES, BAD_APP_NAMES, 0.015);
        if (names.has(name) && !r.chance(0.05)) {
            name = `${name.slice(0, 50).replace(/[.-]+$/, "")}-${i}`;
        }
        names.add(name);
        const shared = apps.length > 0 && r.chance(0.2);
        let path = shared
            ? r.pick(apps).path
            : r.mostly(
                  PATHS.map((p) => (p === "kv2/x" ? `${kvPath}2/x` : p)),
                  BAD_PATHS.map((p) => p.replace(/^kv\//, `${kvPath}/`)),
                  0.03,
              );
        if (!shared && apps.some((a) => a.path === path) && r.chance(0.9)) {
            path = `${path.slice(0, 1000)}/${i}`;
        }
        const keys = r.chance(0.5) ? Array.from(new Set(Array.from({ length: r.int(1, 3) }, () => r.mostly(KEYS, BAD_KEYS, 0.015)))) : undefined;
        const app: VaultSecretsPlatformArgs["apps"][number] = { name, namespace: r.pick(namespaces), path };
        if (keys) {
            app.keys = keys;
        }
        if (r.chance(0.3)) {
            const dataKeys = keys && !r.chance(0.05) ? keys : [r.mostly(KEYS, BAD_KEYS, 0.015)];
            app.data = Object.fromEntries(dataKeys.map((k) => [k, `value-of-${k}`]));
        }
        const refresh = r.mostly(REFRESH, BAD_REFRESH, 0.02);
        if (refresh !== undefined) {
            app.refreshAfter = refresh;
        }
        if (r.chance(0.25)) {
            app.destination = r.mostly(["app-secret", "vault-ca", SUB253, "d.1", name.replace(/[^a-z0-9.-]/g, "") || "d"], ["Dest", "a_b"], 0.03);
        }
        if (r.chance(0.3)) {
            app.rolloutRestartTargets = r.mostly(
                [
                    [],
                    [{ kind: "Deployment", name: "web" }],
                    [{ kind: "argo.Rollout", name: "r.1" }],
                    [
                        { kind: "StatefulSet", name: SUB253 },
                        { kind: "DaemonSet", name: "d" },
                    ],
                ],
                [[{ kind: "deployment", name: "web" }], [{ kind: "Deployment", name: "Web" }]],
                0.06,
            ) as never;
        }
        if (r.chance(0.3) || shared) {
            app.shareAcrossNamespaces = r.chance(0.85);
        }
        if (shared && r.chance(0.9)) {
            apps.filter((a) => a.path === path).forEach((a) => (a.shareAcrossNamespaces = true));
            if (app.data && apps.some((a) => a.path === path && a.data) && r.chance(0.9)) {
                delete app.data;
            }
        }
        apps.push(app);
    }
    return apps;
}

function genVault(r: Rng): VaultSecretsPlatformArgs["vault"] {
    const kind = r.pick(["dev", "dev", "standalone", "standalone", "ha", "external", "external", "external"] as const);
    const common = {
        ...(r.chance(0.15) ? { caCert: PEM } : {}),
        ...(r.chance(0.1) ? { skipTLSVerify: r.chance(0.5) } : {}),
        ...(r.chance(0.15) ? { token: "pulumi-token" } : {}),
        ...(r.chance(0.1)
            ? { providerAddress: r.mostly(["https://vault.example.lan", "http://127.0.0.1:8200"], ["vault.lan", "https://u:p@vault.lan"], 0.2) }
            : {}),
    };
    if (kind === "external") {
        const address = r.mostly(
            ["https://vault.lan:8200", "https://10.0.0.5:8200/", "http://vault.lan:8200", "HTTPS://VAULT.LAN", "https://[2001:db8::1]:8200"],
            [undefined, "vault.lan:8200", "https://u:p@vault.lan", "ftp://vault.lan", ""],
            0.06,
        );
        const insecure = /^http:/.test(address ?? "") ? r.chance(0.85) : r.chance(0.2);
        return { install: false, ...(address !== undefined ? { address } : {}), ...(insecure ? { allowInsecureHttp: true } : {}), ...common };
    }
    const helm: NonNullable<NonNullable<VaultSecretsPlatformArgs["vault"]>["helm"]> = {};
    if (kind !== "standalone" || r.chance(0.5)) {
        helm.mode = kind;
    }
    const ns = r.mostly([undefined, undefined, "vault", "my-vault", L63, "v"], ["Vault", L64], 0.04);
    if (ns !== undefined) {
        helm.namespace = ns;
    }
    const release = r.mostly([undefined, undefined, "vault", "v", "my-release", L53, `vault-${L53.slice(6)}`], [L54, "Vault", "a.b"], 0.05);
    if (release !== undefined) {
        helm.releaseName = release;
    }
    if (kind === "ha") {
        helm.haReplicas = r.mostly([1, 3, 3, 5], [0, -1], 0.05);
    }
    if (kind !== "dev" && r.chance(0.4)) {
        helm.unseal = r.mostly<NonNullable<typeof helm.unseal>>(
            [
                {},
                { keyShares: 1, keyThreshold: 1 },
                { keyShares: 10, keyThreshold: 10 },
                { keysSecretName: "vault.unseal-keys" },
                { unsealerImage: "hashicorp/vault:1.17.0" },
                { keysIn: "pulumi" },
                { keysIn: "pulumi", keyShares: 3, keyThreshold: 2 },
                { keysIn: "secret", keysSecretName: "vault-keys" },
            ],
            [
                { keyShares: 11 },
                { keyThreshold: 6 },
                { unsealerImage: "" },
                { unsealerImage: "hashicorp/vault: 1.17" },
                { keysSecretName: "Keys" },
                { keysIn: "pgp" as never },
                { keysIn: "pulumi", keysSecretName: "vault-keys" },
                { keysIn: "pulumi", unsealerImage: "hashicorp/vault:1.17.0" },
            ],
            0.15,
        );
    }
    if (kind === "dev" && r.chance(0.2)) {
        helm.devRootToken = "dev-root";
    }
    if (r.chance(0.3)) {
        helm.values = r.mostly<Record<string, unknown>>(
            [
                {},
                { server: { resources: {} } },
                { server: { volumes: [] } },
                { server: { image: { repository: "hashicorp/vault", tag: "1.17.0" } } },
                { injector: { enabled: true } },
            ],
            [{ server: { volumes: 5 } }, { server: { extraContainers: {} } }, { server: { volumes: {} } }],
            0.15,
        );
    }
    if (r.chance(0.1)) {
        helm.wait = r.chance(0.5);
    }
    return { ...(r.chance(0.7) ? { install: true } : {}), ...(Object.keys(helm).length ? { helm } : {}), ...common };
}

function genAdopted(r: Rng, apps: VaultSecretsPlatformArgs["apps"]): VaultSecretsPlatformArgs["adopted"] {
    const ns = apps.length > 0 ? r.pick(apps).namespace : "cnpg";
    // (an adopted VaultAuth's role is kept as found, whatever name Vault took)
    const role = r.pick(["vso-role", "legacy.role", "VSO-Role", "default"]);
    const spec = { method: "kubernetes", mount: "kubernetes", kubernetes: { role, serviceAccount: "default" }, vaultConnectionRef: "vault-connection" };
    const adopted: NonNullable<VaultSecretsPlatformArgs["adopted"]> = {
        kvMount: r.chance(0.7),
        authMount: r.chance(0.7),
        policies: [{ name: "rustfs-read", policy: GLOB_POLICY }],
        roles: [
            { name: "vso-role", boundServiceAccountNames: ["default"], boundServiceAccountNamespaces: [ns], tokenPolicies: ["rustfs-read"], tokenTtl: 3600 },
        ],
        namespaces: [
            {
                namespace: ns,
                connection: { name: "vault-connection", namespace: ns, spec: { address: "http://vault.vault.svc.cluster.local:8200" } },
                auth: { name: r.mostly(["vault-auth", "auth.v1"], ["Auth"], 0.05), namespace: ns, spec },
            },
        ],
    };
    if (r.chance(0.6)) {
        adopted.authConfig = {
            kubernetesHost: r.mostly(
                ["https://kubernetes.default.svc.cluster.local:443", "https://192.0.2.10:6443"],
                ["kubernetes.default.svc", "ftp://x", ""],
                0.15,
            ),
            kubernetesCaCert: r.mostly(["", PEM], ["not a certificate"], 0.15),
            disableIssValidation: true,
        };
    }
    const app = apps.find((a) => a.namespace === ns);
    if (app && r.chance(0.7)) {
        adopted.staticSecrets = [{ name: app.name, namespace: ns, spec: { mount: "kv", path: app.path, type: "kv-v2", vaultAuthRef: "vault-auth" } }];
    }
    if (r.chance(0.1)) {
        adopted.policies!.push({ name: "rustfs-read", policy: 'path "kv/data/x" {}' });
    }
    if (r.chance(0.1)) {
        adopted.roles!.push({ ...adopted.roles![0], tokenTtl: 60 });
    }
    const other = apps.find((a) => a.namespace !== ns);
    if (other && r.chance(0.3)) {
        // an adopted policy or role named like the one the package plans for another namespace
        const vaultName = /^[a-z0-9-]+$/.test(other.namespace) ? other.namespace : "x";
        adopted.policies!.push({ name: `vso-${vaultName}-read`, policy: GLOB_POLICY });
        adopted.roles!.push({ ...adopted.roles![0], name: `vso-${vaultName}` });
    }
    return adopted;
}

/** One config: every field drawn from its edge values (a few of them illegal). */
function genConfig(r: Rng): VaultSecretsPlatformArgs {
    const kvPath = r.mostly(["kv", "kv", "secret", "kv-v2", "team/kv", "a.b_c-d", "KV"], ["sys", "/kv", "kv/", "k v"], 0.04);
    const vault = genVault(r);
    const external = vault?.install === false;
    const args: VaultSecretsPlatformArgs = { apps: genApps(r, kvPath) };
    if (r.chance(0.9)) {
        args.vault = vault;
    }
    if (kvPath !== "kv" || r.chance(0.3)) {
        args.kv = { path: kvPath, ...(r.chance(0.3) ? { protect: r.chance(0.5) } : {}) };
    }
    const ka: NonNullable<VaultSecretsPlatformArgs["kubernetesAuth"]> = {};
    const authPath = r.mostly([undefined, undefined, "kubernetes", "k8s", "clusters/home"], ["auth", "a b", "/k8s"], 0.04);
    if (authPath !== undefined) {
        ka.path = authPath;
    }
    if (external ? !r.chance(0.04) : r.chance(0.2)) {
        ka.kubernetesHost = r.mostly(
            ["https://192.0.2.10:6443", "http://10.0.0.1:8080", "https://kubernetes.default.svc.cluster.local:443"],
            ["192.0.2.10:6443", "https://u:p@k8s"],
            0.05,
        );
    }
    if (r.chance(0.2)) {
        ka.kubernetesCaCert = r.mostly([PEM, ""], ["not a certificate"], 0.1);
    }
    if (r.chance(0.3)) {
        ka.tokenReviewer = r.mostly<boolean | TokenReviewerArgs>(
            [
                true,
                false,
                {},
                { enabled: false },
                { namespace: "vault-auth", createNamespace: false },
                { namespace: r.pick(NAMESPACES), serviceAccountName: r.pick(["vault-token-reviewer", "r.sa", "vso-auth"]), createNamespace: r.chance(0.5) },
            ],
            [{ namespace: "Bad" }, { serviceAccountName: "Bad_SA" }],
            0.08,
        ) as TokenReviewerArgs; // true/false: what YAML written for 0.1 holds
    }
    if (r.chance(0.1)) {
        ka.tokenReviewerJwt = "reviewer.jwt";
    }
    const ttl = r.mostly(TTLS, BAD_TTLS);
    if (ttl !== undefined) {
        ka.tokenTtl = ttl;
    }
    const audience = r.mostly(AUDIENCES, BAD_AUDIENCES);
    if (audience !== undefined) {
        ka.audience = audience;
    }
    const roleTemplate = r.mostly(TEMPLATES, BAD_TEMPLATES);
    if (roleTemplate !== undefined) {
        ka.roleNameTemplate = roleTemplate;
    }
    const policyTemplate = r.mostly(TEMPLATES, BAD_TEMPLATES);
    if (policyTemplate !== undefined) {
        ka.policyNameTemplate = policyTemplate;
    }
    if (Object.keys(ka).length > 0) {
        args.kubernetesAuth = ka;
    }
    const sa = r.mostly(SA_NAMES, BAD_SA_NAMES);
    if (sa !== undefined) {
        args.serviceAccountName = sa;
    }
    if (r.chance(0.4)) {
        args.createNamespaces = r.chance(0.5);
    }
    if (r.chance(0.25)) {
        const installed = !r.chance(0.25);
        args.operator = { install: installed };
        if (installed && r.chance(0.6)) {
            const ns = r.mostly([undefined, "vso", L63, "vault-secrets-operator-system"], ["VSO"], 0.05);
            const release = r.mostly([undefined, "vso", L53], [L54], 0.05);
            args.operator.helm = { ...(ns !== undefined ? { namespace: ns } : {}), ...(release !== undefined ? { releaseName: release } : {}) };
        }
        if (!installed && r.chance(0.6)) {
            // (no existing file: the ConfigGroup's retain transform cannot run under Pulumi's mocks)
            args.operator.crdFiles = r.mostly([[]], [["/nonexistent/crds.yaml"]], 0.15);
        }
    }
    if (r.chance(0.12)) {
        args.kubeconfig = r.mostly(
            [FIXTURE_KUBECONFIG, fs.readFileSync(FIXTURE_KUBECONFIG, "utf8")],
            ["/nonexistent/kubeconfig", "apiVersion: v1\nclusters: []\n"],
            0.3,
        );
    }
    if (r.chance(0.15)) {
        args.adopted = genAdopted(r, args.apps);
    }
    return args;
}

// ---------------------------------------------------------------------------------------------------
// Capturing what the platform hands each child, and each child's own validator

type ChildKind =
    | "KvV2Engine"
    | "KubernetesAuthMethod"
    | "VaultNamespaceAccess"
    | "VaultNamespaceAccessSet"
    | "VsoNamespaceAccess"
    | "VaultStaticSecretApp"
    | "VaultHelmInstall"
    | "VaultSecretsOperatorInstall";

/** A plan (whose fields are its args' fields, filled in) must be what the component's own planner makes of it. */
function samePlanAsOwn(a: any, planner: (args: any) => object): ValidationProblem[] {
    if (typeof a?.planned !== "string") {
        return [];
    }
    const own = JSON.stringify(planner(a));
    const given = JSON.stringify(a);
    return own === given ? [] : [{ field: "(plan)", message: `differs from the component's own plan of the same args: ${given} vs ${own}` }];
}

/**
 * A VaultStaticSecretApp given its plan (the platform's children are): the args that plan stands for must
 * pass the component's own check, and its own planner must make the same plan of them (so the plan is
 * one the component could have made itself). Given args: the component's check.
 */
function staticSecretPlanProblems(name: string, a: any): ValidationProblem[] {
    if (!isPlanFor("VaultStaticSecretApp", a)) {
        return validateStaticSecretArgs(name, a);
    }
    const plan = a as VaultStaticSecretAppPlan;
    const args: VaultStaticSecretAppArgs = {
        secretName: plan.app.name,
        namespace: plan.app.namespace,
        path: plan.app.path,
        kvPath: plan.kvPath,
        vaultAuthRef: plan.vaultAuthRef,
        destination: plan.app.destination,
        keys: plan.app.keys,
        refreshAfter: plan.app.refreshAfter,
        rolloutRestartTargets: plan.app.rolloutRestartTargets,
        data: plan.data,
        adopted: plan.adopted,
    };
    const problems = validateStaticSecretArgs(name, args);
    const own = planStaticSecretApp(name, args);
    const strip = (p: VaultStaticSecretAppPlan) => JSON.stringify({ ...p, app: { ...p.app, index: 0, managed: p.data !== undefined } });
    if (strip(own) !== strip(plan)) {
        problems.push({ field: "(plan)", message: `differs from the component's own plan of the same args: ${strip(plan)} vs ${strip(own)}` });
    }
    return problems;
}

/** Each child's own validator, on the args it was given (what it would check were it built alone). */
const CHILD_VALIDATORS: Record<ChildKind, (name: string, args: any) => ValidationProblem[]> = {
    KvV2Engine: (_n, a) => [...checkMountPath("path", a.path ?? "kv"), ...samePlanAsOwn(a, planKvV2Engine)],
    KubernetesAuthMethod: (_n, a) => [...validateKubernetesAuthArgs(a), ...samePlanAsOwn(a, planKubernetesAuthMethod)],
    VaultNamespaceAccess: (_n, a) => [...validateVaultNamespaceAccessArgs(a), ...samePlanAsOwn(a, planVaultNamespaceAccess)],
    VaultNamespaceAccessSet: (_n, a) =>
        isPlanFor("VaultNamespaceAccessSet", a)
            ? ((a as any).entries as any[]).flatMap((e, i) =>
                  [...validateVaultNamespaceAccessArgs(e), ...samePlanAsOwn(e, planVaultNamespaceAccess)].map((p) => ({
                      ...p,
                      field: `entries[${i}].${p.field}`,
                  })),
              )
            : validateVaultNamespaceAccessSetArgs(a),
    VsoNamespaceAccess: (_n, a) => [...validateVsoNamespaceAccessArgs(a), ...samePlanAsOwn(a, planVsoNamespaceAccess)],
    VaultStaticSecretApp: (n, a) => staticSecretPlanProblems(n, a),
    VaultHelmInstall: (_n, a) => [...validateVaultHelmInstallArgs(a), ...samePlanAsOwn(a, planVaultHelmInstall)],
    VaultSecretsOperatorInstall: (_n, a) => [...validateOperatorInstallArgs(a), ...samePlanAsOwn(a, planOperatorInstall)],
};
const CHILD_MODULES: [Record<string, unknown>, ChildKind[]][] = [
    [vaultModule as unknown as Record<string, unknown>, ["KvV2Engine", "KubernetesAuthMethod", "VaultNamespaceAccess", "VaultNamespaceAccessSet"]],
    [vsoModule as unknown as Record<string, unknown>, ["VsoNamespaceAccess"]],
    [appsModule as unknown as Record<string, unknown>, ["VaultStaticSecretApp"]],
    [vaultInstallModule as unknown as Record<string, unknown>, ["VaultHelmInstall"]],
    [operatorInstallModule as unknown as Record<string, unknown>, ["VaultSecretsOperatorInstall"]],
];

interface Captured {
    kind: ChildKind;
    name: string;
    args: any;
}

/** The identity of the object a resource manages (two resources for one object fight over it), if any. */
function identityOf(r: Recorded): string | undefined {
    const i = r.inputs;
    if (r.type === "vault:index/policy:Policy") {
        return `vault policy ${i.name}`;
    }
    if (r.type === "vault:kubernetes/authBackendRole:AuthBackendRole") {
        return `vault role ${i.backend}/${i.roleName}`;
    }
    if (r.type === "vault:index/mount:Mount") {
        return `vault mount ${i.path}`;
    }
    if (r.type === "vault:index/authBackend:AuthBackend") {
        return `vault auth ${i.path}`;
    }
    if (r.type === "vault:kv/secretV2:SecretV2") {
        return `vault secret ${i.mount}/${i.name}`;
    }
    if (r.type === "kubernetes:helm.sh/v3:Release") {
        return `helm release ${i.namespace}/${i.name}`;
    }
    if (r.type.startsWith("kubernetes:") && i.metadata?.name !== undefined) {
        return `${r.type} ${i.metadata.namespace ?? ""}/${i.metadata.name}`;
    }
    return undefined;
}

/** The Secret a VaultStaticSecret makes VSO write: an object of the cluster too, though no resource of the stack. */
function destinationOf(r: Recorded): string | undefined {
    const name = r.inputs.spec?.destination?.name;
    return r.type.endsWith(":VaultStaticSecret") && typeof name === "string"
        ? `kubernetes:core/v1:Secret ${r.inputs.metadata?.namespace ?? ""}/${name}`
        : undefined;
}

/** Problems of one platform's resources: two resources with one URN, or for one object. */
function duplicatesOf(resources: Recorded[]): string[] {
    const out: string[] = [];
    const seen = new Map<string, string>();
    for (const r of resources) {
        for (const key of [`urn ${r.type}::${r.name}`, identityOf(r), destinationOf(r)]) {
            if (key === undefined) {
                continue;
            }
            if (seen.has(key)) {
                out.push(`two resources for ${key}: ${seen.get(key)} and ${r.name}`);
            }
            seen.set(key, r.name);
        }
    }
    return out;
}

const SEED = 0x5eed08;
const TRIES = 400;
const BATCH = 25;

describe("issue 8 item 11: the platform's validation is the single gate", function () {
    this.timeout(120000);
    const rec = new MockRecorder();
    const captured: Captured[] = [];
    const originals: [Record<string, unknown>, string, unknown][] = [];
    const asyncErrors: string[] = [];
    const onRejection = (e: unknown) => asyncErrors.push(String(e instanceof Error ? e.message : e));
    let logError: typeof pulumi.log.error;
    let logWarn: typeof pulumi.log.warn;
    let callsites: typeof Resource.callsites;
    let stackTraceLimit: number;

    before(() => {
        for (const [mod, kinds] of CHILD_MODULES) {
            for (const kind of kinds) {
                const original = mod[kind] as new (...a: unknown[]) => object;
                originals.push([mod, kind, original]);
                mod[kind] = new Proxy(original, {
                    construct(target, argList, newTarget) {
                        captured.push({ kind, name: argList[0] as string, args: argList[1] ?? {} });
                        return Reflect.construct(target, argList, newTarget) as object;
                    },
                });
            }
        }
        logError = pulumi.log.error;
        (pulumi.log as { error: typeof pulumi.log.error }).error = (msg: string) => {
            asyncErrors.push(msg);
            return Promise.resolve();
        };
        // Pulumi records each resource's source position from a full stack trace, which ts-node's
        // source maps make slow; positions matter to no assertion here
        callsites = Resource.callsites;
        Resource.callsites = () => [];
        // the same for the stack each of Pulumi's promises records for its leak report
        stackTraceLimit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        logWarn = pulumi.log.warn;
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = () => Promise.resolve();
        process.on("unhandledRejection", onRejection);
    });
    after(() => {
        for (const [mod, kind, original] of originals) {
            mod[kind] = original;
        }
        (pulumi.log as { error: typeof pulumi.log.error }).error = logError;
        (pulumi.log as { warn: typeof pulumi.log.warn }).warn = logWarn;
        Resource.callsites = callsites;
        Error.stackTraceLimit = stackTraceLimit;
        process.off("unhandledRejection", onRejection);
    });

    const r = new Rng(SEED);
    const configs = Array.from({ length: TRIES }, () => genConfig(r));
    const verdicts = configs.map((c) => validatePlatformArgs(c));
    const accepted = verdicts.filter((v) => v.length === 0).length;

    /** Builds configs[i] as platform `gNNNN`; returns what went wrong (the constructor's error, if any). */
    function build(i: number): { thrown?: unknown } {
        try {
            new VaultSecretsPlatform(nameOf(i), configs[i], { protect: false });
            return {};
        } catch (e) {
            return { thrown: e };
        }
    }
    const nameOf = (i: number) => `g${String(i).padStart(4, "0")}`;
    const of = (i: number) => (x: { name: string }) => x.name === nameOf(i) || x.name.startsWith(`${nameOf(i)}-`);

    /** Everything wrong with configs[i] after it was built (with the resources recorded since). */
    function failuresOf(i: number, thrown: unknown): string[] {
        const problems = verdicts[i];
        // (the platform component itself is registered first: it is what a ValidationError names)
        const mine = rec.resources.filter(of(i)).filter((x) => x.name !== nameOf(i));
        const children = captured.filter(of(i));
        const out: string[] = [];
        if (problems.length > 0) {
            const got = validationProblemsOf(thrown);
            if (!got) {
                out.push(`rejected by validation but the constructor ${thrown ? `threw ${String(thrown)}` : "did not throw"}`);
            } else {
                assert.deepStrictEqual(got, problems, "the constructor reports exactly the validation's problems");
            }
            if (mine.length > 0 || children.length > 0) {
                out.push(`rejected, yet registered ${mine.length} resources and ${children.length} children first`);
            }
            return out;
        }
        if (thrown) {
            out.push(`accepted by validation, but the constructor threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
        }
        for (const c of children) {
            const p = CHILD_VALIDATORS[c.kind](c.name, c.args);
            if (p.length > 0) {
                out.push(`${c.kind} ${c.name} rejects the args the platform gave it: ${p.map((x) => `${x.field}: ${x.message}`).join("; ")}`);
            }
        }
        out.push(...duplicatesOf(mine));
        return out;
    }

    it(`tries ${TRIES} generated configs (seed ${SEED}): ${accepted} accepted, ${TRIES - accepted} rejected; children accept all that the platform accepts`, async () => {
        const failures: string[] = [];
        let rejectedBeforeAnyResource = 0;
        for (let start = 0; start < TRIES; start += BATCH) {
            const batch = Array.from({ length: Math.min(BATCH, TRIES - start) }, (_, k) => start + k);
            rec.install();
            asyncErrors.length = 0;
            captured.length = 0;
            const thrown = batch.map((i) => build(i).thrown);
            await rec.settle();
            const batchFailures = batch.map((i, k) => failuresOf(i, thrown[k]));
            if (asyncErrors.length > 0) {
                // an error inside an Output: rebuild the batch one by one to find whose
                for (const i of batch) {
                    rec.install();
                    asyncErrors.length = 0;
                    captured.length = 0;
                    build(i);
                    await rec.settle();
                    await new Promise((res) => setTimeout(res, 20));
                    if (asyncErrors.length > 0) {
                        batchFailures[i - start].push(`error after the resources were registered: ${[...new Set(asyncErrors)].join(" | ")}`);
                    }
                }
            }
            batch.forEach((i, k) => {
                if (verdicts[i].length > 0 && batchFailures[k].length === 0) {
                    rejectedBeforeAnyResource++;
                }
                batchFailures[k].forEach((f) => failures.push(`config ${i} ${JSON.stringify(configs[i]).slice(0, 600)}\n    ${f}`));
            });
        }
        console.log(`      gate: ${TRIES} configs tried, ${accepted} accepted and built cleanly, ${rejectedBeforeAnyResource} rejected before any resource`);
        assert.deepStrictEqual(failures.slice(0, 15), [], `${failures.length} failures`);
        assert.strictEqual(rejectedBeforeAnyResource, TRIES - accepted);
    });

    it("the generator covers both sides and every child", () => {
        assert.ok(accepted >= TRIES * 0.3, `accepted ${accepted} of ${TRIES}`);
        assert.ok(TRIES - accepted >= TRIES * 0.3, `rejected ${TRIES - accepted} of ${TRIES}`);
        const ok = configs.filter((_, i) => verdicts[i].length === 0);
        assert.ok(
            ok.some((c) => c.adopted !== undefined),
            "an accepted config with an adopted section",
        );
        assert.ok(
            ok.some((c) => c.vault?.install === false && /^http:/.test(String(c.vault.address))),
            "an accepted plain-http external Vault",
        );
        assert.ok(
            ok.some((c) => c.apps.length === 0),
            "an accepted config without apps",
        );
        for (const mode of ["dev", "ha"]) {
            assert.ok(
                ok.some((c) => c.vault?.helm?.mode === mode),
                `an accepted ${mode} Vault`,
            );
        }
        assert.ok(
            ok.some((c) => c.apps.some((a) => a.path === PATH1024)),
            "an accepted path of the longest length",
        );
        assert.ok(
            ok.some((c) => new Set(c.apps.map((a) => a.namespace)).size < c.apps.length),
            "an accepted namespace with several apps",
        );
    });

    /** A valid external-Vault config with an adopted namespace: each case below adds one gap's input. */
    function base(): VaultSecretsPlatformArgs {
        return {
            vault: { install: false, address: "https://vault.lan:8200" },
            kubernetesAuth: { kubernetesHost: "https://192.0.2.10:6443" },
            apps: [
                { name: "app", namespace: "cnpg", path: "rustfs/cloudnativepg" },
                { name: "web", namespace: "rustfs", path: "web/config" },
            ],
        };
    }
    function adopted(): NonNullable<VaultSecretsPlatformArgs["adopted"]> {
        const spec = {
            method: "kubernetes",
            mount: "kubernetes",
            kubernetes: { role: "vso-role", serviceAccount: "default" },
            vaultConnectionRef: "vault-connection",
        };
        return {
            kvMount: true,
            authMount: true,
            authConfig: { kubernetesHost: "https://kubernetes.default.svc.cluster.local:443", kubernetesCaCert: "" },
            policies: [{ name: "rustfs-read", policy: GLOB_POLICY }],
            roles: [{ name: "vso-role", boundServiceAccountNames: ["default"], boundServiceAccountNamespaces: ["cnpg"], tokenPolicies: ["rustfs-read"] }],
            namespaces: [
                {
                    namespace: "cnpg",
                    connection: { name: "vault-connection", namespace: "cnpg", spec: { address: "https://vault.lan:8200" } },
                    auth: { name: "vault-auth", namespace: "cnpg", spec },
                },
            ],
        };
    }
    const GAPS: { what: string; mutate: (a: VaultSecretsPlatformArgs) => void; field: string }[] = [
        {
            what: "a ServiceAccount name with a dot (VaultNamespaceAccess binds a label)",
            mutate: (a) => (a.serviceAccountName = "vso.auth"),
            field: "serviceAccountName",
        },
        { what: "a 64-character ServiceAccount name", mutate: (a) => (a.serviceAccountName = L64), field: "serviceAccountName" },
        {
            what: "an app in the namespace Vault is installed in (vault.helm.namespace; VsoNamespaceAccess is told it)",
            mutate: (a) => {
                a.vault = { helm: { mode: "dev", namespace: "my-vault" } };
                a.apps[0].namespace = "my-vault";
            },
            field: "apps[0].namespace",
        },
        {
            what: "an app in the namespace VSO is installed in (operator.helm.namespace)",
            mutate: (a) => {
                a.operator = { helm: { namespace: "vso" } };
                a.apps[1].namespace = "vso";
            },
            field: "apps[1].namespace",
        },
        {
            what: "an app in the namespace of the in-cluster Service vault.address names",
            mutate: (a) => {
                a.vault = { install: false, address: "http://vault.secrets.svc.cluster.local:8200", allowInsecureHttp: true };
                a.apps[0].namespace = "secrets";
            },
            field: "apps[0].namespace",
        },
        {
            what: "an adopted auth config with a host that is no URL (KubernetesAuthMethod checks it)",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.authConfig!.kubernetesHost = "kubernetes.default.svc";
            },
            field: "adopted.authConfig.kubernetesHost",
        },
        {
            what: "an adopted auth config whose CA is no PEM",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.authConfig!.kubernetesCaCert = "not a certificate";
            },
            field: "adopted.authConfig.kubernetesCaCert",
        },
        {
            what: "two adopted policies with one name (two resources, one URN)",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.policies!.push({ name: "rustfs-read", policy: 'path "kv/data/x" {}' });
            },
            field: "adopted.policies[1].name",
        },
        {
            what: "two adopted roles with one name",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.roles!.push({ ...a.adopted.roles![0] });
            },
            field: "adopted.roles[1].name",
        },
        {
            what: "an adopted policy named like the one planned for a namespace that is not adopted",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.policies!.push({ name: "vso-rustfs-read", policy: GLOB_POLICY });
            },
            field: "adopted.policies[1].name",
        },
        {
            what: "an adopted role named like the one planned for a namespace that is not adopted",
            mutate: (a) => {
                a.adopted = adopted();
                a.adopted.roles!.push({ ...a.adopted.roles![0], name: "vso-rustfs" });
            },
            field: "adopted.roles[1].name",
        },
        {
            what: "durable Vault chart values whose server.volumes is no list (the unsealer appends to it, inside an Output)",
            mutate: (a) => (a.vault = { helm: { mode: "standalone", values: { server: { volumes: 5 } } } }),
            field: "vault.helm.values.server.volumes",
        },
        {
            what: "durable Vault chart values whose server.extraContainers is no list",
            mutate: (a) => (a.vault = { helm: { mode: "ha", values: { server: { extraContainers: {} } } } }),
            field: "vault.helm.values.server.extraContainers",
        },
        { what: "an empty unsealer image", mutate: (a) => (a.vault = { helm: { unseal: { unsealerImage: "" } } }), field: "vault.helm.unseal.unsealerImage" },
        {
            what: "a Vault release name longer than Helm's 53",
            mutate: (a) => (a.vault = { helm: { mode: "dev", releaseName: L54 } }),
            field: "vault.helm.releaseName",
        },
        { what: "a VSO release name longer than Helm's 53", mutate: (a) => (a.operator = { helm: { releaseName: L54 } }), field: "operator.helm.releaseName" },
        { what: "a kubeconfig path that does not exist", mutate: (a) => (a.kubeconfig = "/nonexistent/kubeconfig"), field: "kubeconfig" },
        { what: "kubeconfig contents without a context", mutate: (a) => (a.kubeconfig = "apiVersion: v1\nclusters: []\n"), field: "kubeconfig" },
        {
            what: "a CRD file that does not exist",
            mutate: (a) => (a.operator = { install: false, crdFiles: ["/nonexistent/crds.yaml"] }),
            field: "operator.crdFiles[0]",
        },
        {
            what: "an app whose Secret is the vault-ca Secret the VaultConnection reads",
            mutate: (a) => {
                a.vault!.caCert = PEM;
                a.apps[1].destination = "vault-ca";
            },
            field: "apps[1].destination",
        },
        {
            what: "an app named vault-ca (its Secret's default name) next to the VaultConnection's CA",
            mutate: (a) => {
                a.vault!.caCert = PEM;
                a.apps[1].name = "vault-ca";
            },
            field: "apps[1].destination",
        },
        {
            what: "an app whose Secret is the token reviewer's token Secret",
            mutate: (a) => {
                a.apps[0].namespace = "vault-auth";
                a.apps[0].destination = "vault-token-reviewer-token";
            },
            field: "apps[0].destination",
        },
        {
            what: "an app namespace that is also the token reviewer's, both created",
            mutate: (a) => {
                a.apps[0].namespace = "vault-auth";
                a.createNamespaces = true;
            },
            field: "apps[0].namespace",
        },
        {
            what: "VSO's ServiceAccount named like the token reviewer's, in its namespace",
            mutate: (a) => {
                a.apps[0].namespace = "vault-auth";
                a.serviceAccountName = "vault-token-reviewer";
            },
            field: "serviceAccountName",
        },
    ];

    it("rejects each gap the generator found up front, before any resource (pinned)", async () => {
        assert.deepStrictEqual(validatePlatformArgs(base()), []);
        for (const gap of GAPS) {
            const args = base();
            gap.mutate(args);
            const problems = validatePlatformArgs(args);
            assert.ok(
                problems.some((p) => p.field === gap.field),
                `${gap.what}: expected a problem at ${gap.field}, got ${JSON.stringify(problems)}`,
            );
            rec.install();
            assert.throws(
                () => new VaultSecretsPlatform("pinned", args),
                (e: unknown) => {
                    assert.deepStrictEqual(validationProblemsOf(e), problems, gap.what);
                    return true;
                },
            );
            await rec.settle();
            assert.deepStrictEqual(
                rec.resources.filter((x) => x.name !== "pinned").map((x) => x.name),
                [],
                `${gap.what}: nothing registered`,
            );
        }
    });

    it("accepts apps in namespaces only named like Vault's and VSO's defaults when they run elsewhere, and builds them cleanly (issue 20)", async () => {
        const args = base();
        args.vault = { helm: { mode: "dev", namespace: "secrets" } };
        args.operator = { helm: { namespace: "vso" } };
        args.apps[0].namespace = "vault";
        args.apps[1].namespace = "vault-secrets-operator-system";
        assert.deepStrictEqual(validatePlatformArgs(args), []);
        rec.install();
        asyncErrors.length = 0;
        captured.length = 0;
        new VaultSecretsPlatform("elsewhere", args);
        await rec.settle();
        assert.deepStrictEqual(asyncErrors, []);
        const vso = captured.filter((c) => c.kind === "VsoNamespaceAccess");
        assert.deepStrictEqual(vso.map((c) => c.args.namespace).sort(), ["vault", "vault-secrets-operator-system"]);
        for (const c of captured) {
            assert.deepStrictEqual(CHILD_VALIDATORS[c.kind](c.name, c.args), [], `${c.kind} ${c.name}`);
        }
    });

    it("accepts an adopted VaultAuth whose role has any name Vault took, and builds it cleanly", async () => {
        const args = { ...base(), adopted: adopted() };
        args.adopted.namespaces![0].auth.spec = { ...args.adopted.namespaces![0].auth.spec, kubernetes: { role: "VSO-Role", serviceAccount: "default" } };
        assert.deepStrictEqual(validatePlatformArgs(args), []);
        rec.install();
        asyncErrors.length = 0;
        captured.length = 0;
        new VaultSecretsPlatform("adopted", args);
        await rec.settle();
        assert.deepStrictEqual(asyncErrors, []);
        const vso = captured.filter((c) => c.kind === "VsoNamespaceAccess");
        assert.strictEqual(vso.length, 2);
        for (const c of captured) {
            assert.deepStrictEqual(CHILD_VALIDATORS[c.kind](c.name, c.args), [], `${c.kind} ${c.name}`);
        }
    });
});
