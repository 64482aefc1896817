import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    KubernetesAuthMethod,
    KvV2Engine,
    VaultNamespaceAccess,
    VaultHelmInstall,
    VaultSecretsOperatorInstall,
    VaultSecretsPlatform,
    VaultSecretsPlatformArgs,
    VaultStaticSecretApp,
    VsoNamespaceAccess,
    accessRevision,
    chartSource,
    checkChartPath,
    kubeClusterOf,
    serviceProxyAddress,
    validatePlatformArgs,
    validationProblemsOf,
    SELF_TOKEN_POLICY,
} from "../../components";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIXTURE_KUBECONFIG, MockRecorder, articleArgs, isSecret, valueOf } from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    mount: "vault:index/mount:Mount",
    authBackend: "vault:index/authBackend:AuthBackend",
    authConfig: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
    policy: "vault:index/policy:Policy",
    role: "vault:kubernetes/authBackendRole:AuthBackendRole",
    kvSecret: "vault:kv/secretV2:SecretV2",
    sa: "kubernetes:core/v1:ServiceAccount",
    ns: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    crb: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    conn: "kubernetes:secrets.hashicorp.com/v1beta1:VaultConnection",
    auth: "kubernetes:secrets.hashicorp.com/v1beta1:VaultAuth",
    vss: "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret",
    vaultProvider: "pulumi:providers:vault",
    k8sRole: "kubernetes:rbac.authorization.k8s.io/v1:Role",
};

const FAKE_CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

describe("VaultSecretsPlatform (mocked engine)", function () {
    const rec = new MockRecorder();
    beforeEach(() =>
        rec.install((type) => {
            if (type === T.secret) {
                return { data: { token: Buffer.from("reviewer.jwt.value").toString("base64"), "ca.crt": Buffer.from(FAKE_CA).toString("base64") } };
            }
            if (type === T.kvSecret) {
                return { metadata: { version: "1" } };
            }
            return {};
        }),
    );

    it("creates the article's setup, resource by resource", async () => {
        const p = new VaultSecretsPlatform("homelab", articleArgs());
        await rec.settle();

        const releases = rec.ofType(T.release);
        assert.deepStrictEqual(releases.map((r) => r.inputs.chart).sort(), ["vault", "vault-secrets-operator"]);
        const vaultRel = releases.find((r) => r.inputs.chart === "vault")!;
        assert.strictEqual(vaultRel.inputs.namespace, "vault");
        assert.strictEqual(vaultRel.inputs.values.server.dev.enabled, true);
        assert.ok(vaultRel.inputs.version, "chart version is pinned");
        assert.strictEqual(vaultRel.inputs.repositoryOpts.repo, "https://helm.releases.hashicorp.com");
        assert.ok(vaultRel.secretInputs.includes("values"), "values carry the dev root token, so they are secret");
        const vsoRel = releases.find((r) => r.inputs.chart === "vault-secrets-operator")!;
        assert.strictEqual(vsoRel.inputs.namespace, "vault-secrets-operator-system");
        assert.ok(vsoRel.inputs.version);

        const mount = rec.one(T.mount);
        assert.deepStrictEqual([mount.inputs.path, mount.inputs.type, mount.inputs.options], ["kv", "kv", { version: "2" }]);
        assert.strictEqual((p.kv.mount as any).__protect, true, "the KV mount is protected by default");

        const backend = rec.one(T.authBackend);
        assert.deepStrictEqual([backend.inputs.type, backend.inputs.path], ["kubernetes", "kubernetes"]);
        const cfg = rec.one(T.authConfig);
        assert.strictEqual(cfg.inputs.kubernetesHost, "https://kubernetes.default.svc.cluster.local:443");
        assert.strictEqual(cfg.inputs.tokenReviewerJwt, undefined, "in-cluster Vault uses its own pod token");
        assert.strictEqual(cfg.inputs.kubernetesCaCert, undefined);
        assert.strictEqual(rec.ofType(T.crb).length, 0, "no token reviewer for in-cluster Vault");

        const policy = rec.one(T.policy);
        assert.strictEqual(policy.inputs.name, "vso-cnpg-read");
        assert.strictEqual(policy.inputs.policy, 'path "kv/data/rustfs/cloudnativepg" {\n  capabilities = ["read"]\n}\n\n' + SELF_TOKEN_POLICY);

        const role = rec.one(T.role);
        assert.strictEqual(role.inputs.roleName, "vso-cnpg");
        assert.strictEqual(role.inputs.backend, "kubernetes");
        assert.deepStrictEqual(role.inputs.boundServiceAccountNames, ["vso-auth"]);
        assert.deepStrictEqual(role.inputs.boundServiceAccountNamespaces, ["cnpg"]);
        assert.deepStrictEqual(role.inputs.tokenPolicies, ["vso-cnpg-read"]);
        assert.ok(!role.inputs.tokenPolicies.includes("default"));
        assert.strictEqual(role.inputs.tokenTtl, 3600);
        assert.strictEqual(role.inputs.tokenNoDefaultPolicy, true, "tokens never carry Vault's default policy (issue 8 item 6)");

        const sa = rec.one(T.sa, (r) => r.inputs.metadata.namespace !== "vault");
        assert.deepStrictEqual([sa.inputs.metadata.name, sa.inputs.metadata.namespace], ["vso-auth", "cnpg"]);

        const conn = rec.one(T.conn);
        assert.deepStrictEqual([conn.inputs.metadata.name, conn.inputs.metadata.namespace], ["vault-connection", "cnpg"]);
        assert.strictEqual(conn.inputs.spec.address, "http://vault.vault.svc.cluster.local:8200");

        const auth = rec.one(T.auth);
        assert.deepStrictEqual([auth.inputs.metadata.name, auth.inputs.metadata.namespace], ["vault-auth", "cnpg"]);
        assert.deepStrictEqual(auth.inputs.spec, {
            method: "kubernetes",
            mount: "kubernetes",
            vaultConnectionRef: "vault-connection",
            kubernetes: { role: "vso-cnpg", serviceAccount: "vso-auth", audiences: ["vault"] },
            headers: {
                "X-Vault-Vso-Access-Revision": accessRevision({
                    authPath: "kubernetes",
                    roleName: "vso-cnpg",
                    policyName: "vso-cnpg-read",
                    policy: policy.inputs.policy,
                    serviceAccountName: "vso-auth",
                    audience: "vault",
                    tokenTtl: 3600,
                }),
            },
        });
        assert.strictEqual(role.inputs.audience, "vault", "the role requires the audience VaultAuth requests");

        const vss = rec.one(T.vss);
        assert.deepStrictEqual([vss.inputs.metadata.name, vss.inputs.metadata.namespace], ["rustfs-cloudnativepg", "cnpg"]);
        assert.deepStrictEqual(vss.inputs.spec, {
            vaultAuthRef: "vault-auth",
            mount: "kv",
            type: "kv-v2",
            path: "rustfs/cloudnativepg",
            refreshAfter: "60s",
            hmacSecretData: true,
            destination: { name: "rustfs-cloudnativepg", create: true, transformation: { excludeRaw: true } },
            rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
        });

        assert.strictEqual(rec.ofType(T.kvSecret).length, 0, "no managed value unless data is given");
        assert.strictEqual(rec.ofType(T.ns).length, 0, "namespaces are not created unless asked");
        for (const r of [
            ...rec.ofType(T.conn),
            ...rec.ofType(T.auth),
            ...rec.ofType(T.vss),
            ...rec.ofType(T.sa).filter((x) => x.name !== "homelab-vault-access-sa"),
        ]) {
            assert.ok(!["vault", "vault-secrets-operator-system"].includes(r.inputs.metadata.namespace), `${r.name} is in a workload namespace`);
        }
        assert.strictEqual(await valueOf(p.vaultAddress), "http://vault.vault.svc.cluster.local:8200");
        assert.strictEqual(await isSecret(p.vaultInstall!.rootToken!), true, "the dev root token is a secret output");
    });

    it("reaches an in-cluster Vault through the API server's Service proxy, with a token that may only proxy to Vault", async () => {
        new VaultSecretsPlatform("homelab", articleArgs());
        await rec.settle();
        const prov = rec.one(T.vaultProvider);
        assert.strictEqual(
            prov.inputs.address,
            "https://192.0.2.10:6443/api/v1/namespaces/vault/services/http:vault:8200/proxy",
            "the kubeconfig's API server, Vault's namespace, Service and port",
        );
        assert.ok(prov.secretInputs.includes("headers"), "the bearer token header is a secret");
        assert.ok(prov.secretInputs.includes("token"), "the Vault token is a secret");
        assert.deepStrictEqual(JSON.parse(prov.inputs.headers), [{ name: "Authorization", value: "Bearer reviewer.jwt.value" }]);
        const ca = fs.readFileSync(prov.inputs.caCertFile, "utf8");
        assert.strictEqual(ca, kubeClusterOf(fs.readFileSync(FIXTURE_KUBECONFIG, "utf8")).caPem, "the provider trusts the kubeconfig's CA");
        assert.strictEqual(fs.statSync(prov.inputs.caCertFile).mode & 0o777, 0o644);
        const role = rec.one(T.k8sRole);
        assert.deepStrictEqual(role.inputs.rules, [
            {
                apiGroups: [""],
                resources: ["services/proxy"],
                resourceNames: ["vault", "http:vault:8200", "vault:8200"],
                verbs: ["get", "create", "update", "patch", "delete"],
            },
        ]);
        assert.strictEqual(role.inputs.metadata.namespace, "vault");
        const token = rec.one(T.secret, (r) => r.inputs.metadata.namespace === "vault");
        assert.strictEqual(token.inputs.type, "kubernetes.io/service-account-token");
        assert.strictEqual(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "pulumi-vault-access");
    });

    it("with vault.providerAddress, Pulumi uses that address and creates no proxy access", async () => {
        new VaultSecretsPlatform("pf", { ...articleArgs(), vault: { install: true, providerAddress: "http://127.0.0.1:8200" } });
        await rec.settle();
        assert.strictEqual(rec.one(T.vaultProvider).inputs.address, "http://127.0.0.1:8200");
        assert.strictEqual(rec.ofType(T.k8sRole).length, 0);
    });

    it("a kubeconfig given to the platform reaches its Kubernetes provider as a secret (it holds credentials)", async () => {
        const kc = fs.readFileSync(FIXTURE_KUBECONFIG, "utf8");
        new VaultSecretsPlatform("pf", { ...articleArgs(), kubeconfig: kc });
        await rec.settle();
        const prov = rec.one("pulumi:providers:kubernetes");
        assert.ok(prov.secretInputs.includes("kubeconfig"), JSON.stringify(prov.secretInputs));
    });

    it("creates exactly one connection, auth, ServiceAccount, policy and role per namespace, however many apps", async () => {
        const apps = [];
        for (let i = 0; i < 12; i++) {
            apps.push({ name: `app-${i}`, namespace: `ns-${i % 3}`, path: `team/app-${i}` });
        }
        new VaultSecretsPlatform("many", { ...articleArgs(), apps });
        await rec.settle();
        for (const t of [T.conn, T.auth, T.sa, T.policy, T.role]) {
            // (the ServiceAccount Pulumi reaches Vault through the API server with lives in Vault's namespace)
            const byNs = rec
                .ofType(t)
                .filter((r) => r.inputs.metadata?.namespace !== "vault")
                .map((r) => r.inputs.metadata?.namespace ?? r.inputs.boundServiceAccountNamespaces?.[0] ?? r.inputs.name);
            assert.strictEqual(byNs.length, 3, `${t}: ${byNs}`);
        }
        assert.strictEqual(rec.ofType(T.vss).length, 12);
        for (const policy of rec.ofType(T.policy)) {
            const n = Number(/vso-ns-(\d)-read/.exec(policy.inputs.name)![1]);
            const paths = [...policy.inputs.policy.matchAll(/path "kv\/data\/team\/app-(\d+)"/g)].map((m: RegExpMatchArray) => Number(m[1]));
            assert.strictEqual(paths.length, 4);
            assert.ok(
                paths.every((i: number) => i % 3 === n),
                `policy ${policy.inputs.name} grants only its namespace's paths: ${paths}`,
            );
        }
        for (const vss of rec.ofType(T.vss)) {
            const auth = rec.one(T.auth, (a) => a.inputs.metadata.namespace === vss.inputs.metadata.namespace);
            assert.strictEqual(vss.inputs.spec.vaultAuthRef, auth.inputs.metadata.name, "each VaultStaticSecret uses its own namespace's VaultAuth");
        }
    });

    it("keeps every namespace's policy and role under one VaultNamespaceAccessSet, with the names the per-namespace component gave them (issue 23)", async () => {
        const apps = [0, 1, 2].map((i) => ({ name: `app-${i}`, namespace: `ns-${i}`, path: `team/app-${i}` }));
        const platform = new VaultSecretsPlatform("p", { ...articleArgs(), apps });
        await rec.settle();
        assert.ok(platform.vaultAccessSet, "one set");
        // (the mock monitor's URNs carry only the parent's own type, not the whole chain the engine writes)
        const setUrn = "urn:pulumi:stack::project::vault-vso:index:VaultNamespaceAccessSet";
        for (const ns of ["ns-0", "ns-1", "ns-2"]) {
            // the same resource names as VaultNamespaceAccess `p-<ns>` gave its children (the aliases match on them)
            assert.strictEqual(await valueOf(platform.vaultAccess[ns].policy.urn), `${setUrn}$vault:index/policy:Policy::p-${ns}-policy`);
            assert.strictEqual(await valueOf(platform.vaultAccess[ns].role.urn), `${setUrn}$vault:kubernetes/authBackendRole:AuthBackendRole::p-${ns}-role`);
            assert.strictEqual(platform.vaultAccess[ns].policyName, `vso-${ns}-read`);
        }
        assert.strictEqual(rec.ofType(T.policy).length, 3);
        assert.strictEqual(rec.ofType(T.role).length, 3);
    });

    it("writes managed values as Pulumi secrets and never in plain inputs", async () => {
        const args = articleArgs();
        args.apps[0].data = { access_key: pulumi.secret("AKIA-test"), access_secret_key: pulumi.secret("s3cr3t") };
        const p = new VaultSecretsPlatform("managed", args);
        await rec.settle();
        const kv = rec.one(T.kvSecret);
        assert.strictEqual(kv.inputs.mount, "kv");
        assert.strictEqual(kv.inputs.name, "rustfs/cloudnativepg");
        assert.ok(kv.secretInputs.includes("dataJson"), "dataJson is sent as a secret");
        assert.deepStrictEqual(JSON.parse(kv.inputs.dataJson), { access_key: "AKIA-test", access_secret_key: "s3cr3t" });
        for (const r of rec.resources.filter((x) => x.type !== T.kvSecret)) {
            assert.ok(!JSON.stringify(r.inputs).includes("s3cr3t"), `${r.type} ${r.name} must not carry the value`);
        }
        assert.strictEqual(await isSecret(p.apps["rustfs-cloudnativepg"].kvSecret!.dataJson), true);
        assert.deepStrictEqual(await valueOf(p.managedVersions), { "rustfs-cloudnativepg": "1" });
    });

    it("makes plain-string data secret too", async () => {
        const args = articleArgs();
        args.apps[0].data = { access_key: "plain", access_secret_key: "plain2" };
        new VaultSecretsPlatform("plain", args);
        await rec.settle();
        assert.ok(rec.one(T.kvSecret).secretInputs.includes("dataJson"));
    });

    it("external Vault: a token reviewer bound to system:auth-delegator, its JWT as a secret and the cluster CA", async () => {
        const p = new VaultSecretsPlatform("ext", {
            ...articleArgs(),
            vault: { install: false, address: "https://vault.lan:8200", token: pulumi.secret("t0ken"), caCert: FAKE_CA },
            operator: { install: false },
            kubernetesAuth: { kubernetesHost: "https://192.0.2.10:6443" },
        });
        await rec.settle();
        assert.strictEqual(rec.ofType(T.release).length, 0);
        const crb = rec.one(T.crb);
        assert.strictEqual(crb.inputs.roleRef.name, "system:auth-delegator");
        assert.deepStrictEqual(crb.inputs.subjects, [{ kind: "ServiceAccount", name: "vault-token-reviewer", namespace: "vault-auth" }]);
        const tokenSecret = rec.one(T.secret, (r) => r.inputs.type === "kubernetes.io/service-account-token");
        assert.strictEqual(tokenSecret.inputs.type, "kubernetes.io/service-account-token");
        assert.strictEqual(tokenSecret.inputs.metadata.annotations["kubernetes.io/service-account.name"], "vault-token-reviewer");
        const cfg = rec.one(T.authConfig);
        assert.strictEqual(cfg.inputs.kubernetesHost, "https://192.0.2.10:6443");
        assert.strictEqual(cfg.inputs.tokenReviewerJwt, "reviewer.jwt.value");
        assert.ok(cfg.secretInputs.includes("tokenReviewerJwt"), "the reviewer JWT is a secret");
        assert.strictEqual(cfg.inputs.kubernetesCaCert, FAKE_CA);
        const provider = rec.one(T.vaultProvider);
        assert.strictEqual(provider.inputs.address, "https://vault.lan:8200");
        assert.ok(provider.secretInputs.includes("token"));
        assert.strictEqual(rec.one(T.conn).inputs.spec.address, "https://vault.lan:8200");
        assert.strictEqual(rec.one(T.conn).inputs.spec.caCertSecretRef, "vault-ca", "VSO verifies Vault's TLS with the given CA");
        const ca = rec.one(T.secret, (r) => r.inputs.metadata.name === "vault-ca");
        assert.deepStrictEqual([ca.inputs.metadata.namespace, ca.inputs.stringData["ca.crt"]], ["cnpg", FAKE_CA]);
        assert.strictEqual(await valueOf(p.vaultAddress), "https://vault.lan:8200");
    });

    // (VSO's CRDs from operator.crdFiles: a ConfigGroup whose children are retained on delete by a
    // transform, which Pulumi's mocks cannot run; the bed suites apply and keep them for real:
    // datasafety.integration.test.ts checks the CRD after destroy)

    it("creates namespaces when asked", async () => {
        new VaultSecretsPlatform("nss", { ...articleArgs(), createNamespaces: true });
        await rec.settle();
        assert.deepStrictEqual(
            rec.ofType(T.ns).map((r) => r.inputs.metadata.name),
            ["cnpg"],
        );
    });

    describe("validation before apply", () => {
        function problemsOf(args: VaultSecretsPlatformArgs): { field: string; message: string }[] {
            try {
                new VaultSecretsPlatform("bad", args);
            } catch (e) {
                const ps = validationProblemsOf(e);
                assert.ok(ps, `expected a validation error, got ${e}`);
                assert.match(String((e as Error).message), /VaultSecretsPlatform: \d+ problems? in the configuration/);
                return ps!;
            }
            assert.fail("expected the platform to reject the config");
        }

        it("fails at construction with one message listing every problem, before any resource is created", async () => {
            const args = articleArgs();
            args.apps = [
                {
                    name: "Rustfs_CNPG",
                    namespace: "cnpg ",
                    path: "kv/rustfs/cloudnativepg",
                    refreshAfter: "1 minute",
                    rolloutRestartTargets: [{ kind: "Pod", name: "x" }],
                },
                { name: "dup", namespace: "cnpg", path: "data/x" },
                { name: "dup", namespace: "cnpg", path: "y", keys: ["a"], data: { b: "v" } },
            ];
            const ps = problemsOf(args);
            const fields = ps.map((p) => p.field);
            for (const f of [
                "apps[0].name",
                "apps[0].namespace",
                "apps[0].path",
                "apps[0].refreshAfter",
                "apps[0].rolloutRestartTargets[0].kind",
                "apps[1].path",
                "apps[2].name",
                "apps[2].keys",
            ]) {
                assert.ok(fields.includes(f), `expected a problem for ${f}; got ${fields.join(", ")}`);
            }
            await rec.settle();
            const created = rec.resources.filter((r) => !r.type.startsWith("vault-vso:"));
            assert.deepStrictEqual(created, [], "no provider resource was registered");
        });

        it("rejects the quoted wildcard namespace of the article", () => {
            const args = articleArgs();
            args.apps[0].namespace = '"*"';
            assert.ok(problemsOf(args).some((p) => p.field === "apps[0].namespace" && /quote/.test(p.message)));
        });

        it("rejects apps in Vault's or VSO's own namespace", () => {
            const args = articleArgs();
            args.apps[0].namespace = "vault-secrets-operator-system";
            assert.ok(problemsOf(args).some((p) => p.field === "apps[0].namespace" && /VSO's own namespace/.test(p.message)));
        });

        it("an app may not live where Vault or VSO runs: the configured namespaces, not the default names (issue 20)", () => {
            const own = (args: VaultSecretsPlatformArgs) => validatePlatformArgs(args).filter((p) => p.field === "apps[0].namespace");
            const inSecrets = { ...articleArgs(), vault: { helm: { mode: "dev" as const, namespace: "secrets" } } };
            inSecrets.apps[0].namespace = "vault";
            assert.deepStrictEqual(own(inSecrets), [], "a namespace called vault is just a name when Vault runs in secrets");
            inSecrets.apps[0].namespace = "secrets";
            assert.deepStrictEqual(own(inSecrets), [
                {
                    field: "apps[0].namespace",
                    message:
                        "\"secrets\" is Vault's own namespace (vault.helm.namespace): apps must not live where Vault or VSO runs; VaultConnection, VaultAuth and VaultStaticSecret belong in the workload's namespace. Give the namespace the workload runs in",
                },
            ]);
            const byDefault = articleArgs();
            byDefault.apps[0].namespace = "vault";
            assert.match(
                problemsOf(byDefault).find((p) => p.field === "apps[0].namespace")?.message ?? "",
                /^"vault" is Vault's own namespace \(vault\.helm\.namespace, default "vault"\)/,
            );
            const vso = { ...articleArgs(), operator: { helm: { namespace: "vso" } } };
            vso.apps[0].namespace = "vault-secrets-operator-system";
            assert.deepStrictEqual(own(vso), [], "VSO runs in vso");
            vso.apps[0].namespace = "vso";
            assert.match(own(vso)[0]?.message ?? "", /^"vso" is VSO's own namespace \(operator\.helm\.namespace\)/);
            const external = { ...articleArgs(), vault: { install: false, address: "https://vault.lan:8200" } };
            external.apps[0].namespace = "vault";
            assert.deepStrictEqual(own(external), [], "a Vault outside the cluster has no namespace here");
            const inCluster = { ...articleArgs(), vault: { install: false, address: "http://vault.secrets.svc:8200", allowInsecureHttp: true } };
            inCluster.apps[0].namespace = "secrets";
            assert.match(own(inCluster)[0]?.message ?? "", /^"secrets" is Vault's own namespace \(vault\.address names a Service in it\)/);
        });

        it("external Vault needs an address and a reachable Kubernetes host", () => {
            const fields = problemsOf({ ...articleArgs(), vault: { install: false }, kubernetesAuth: {} }).map((p) => p.field);
            assert.deepStrictEqual(fields.sort(), ["kubernetesAuth.kubernetesHost", "vault.address"]);
        });

        it("rejects policy and role names that collide with Vault's default or root", () => {
            const ps = problemsOf({ ...articleArgs(), kubernetesAuth: { policyNameTemplate: "default" } });
            assert.ok(ps.some((p) => /built-in names/.test(p.message)));
            const ps2 = problemsOf({
                ...articleArgs(),
                kubernetesAuth: { roleNameTemplate: "{namespace}" },
                apps: [{ name: "a", namespace: "root", path: "p" }],
            });
            assert.ok(ps2.some((p) => /built-in names/.test(p.message) && /role name/.test(p.field)));
        });

        it("rejects an unknown Vault mode and a bad chart repository", () => {
            const fields = problemsOf({ ...articleArgs(), vault: { helm: { mode: "prod" as any, repository: "not a url" } } }).map((p) => p.field);
            assert.deepStrictEqual(fields.sort(), ["vault.helm.mode", "vault.helm.repository"]);
        });
    });
});

describe("building blocks used alone (mocked engine)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("KvV2Engine: kv v2, protected, overridable", async () => {
        const kv = new KvV2Engine("kv", { path: "secrets", protect: false });
        await rec.settle();
        assert.strictEqual(rec.one(T.mount).inputs.path, "secrets");
        assert.strictEqual((kv.mount as any).__protect, false);
    });

    it("KubernetesAuthMethod: in-cluster config", async () => {
        new KubernetesAuthMethod("k", {});
        await rec.settle();
        assert.strictEqual(rec.one(T.authConfig).inputs.kubernetesHost, "https://kubernetes.default.svc.cluster.local:443");
        try {
            new KubernetesAuthMethod("bad", { kubernetesCaCert: "not a pem", kubernetesHost: "nope" });
            assert.fail("expected a validation error");
        } catch (e) {
            assert.deepStrictEqual(
                validationProblemsOf(e)
                    ?.map((p) => p.field)
                    .sort(),
                ["kubernetesCaCert", "kubernetesHost"],
            );
        }
    });

    it("VaultNamespaceAccess: exact bindings; wildcard only with opt-in", async () => {
        new VaultNamespaceAccess("a", { namespace: "team", paths: ["team/db"] });
        await rec.settle();
        const role = rec.one(T.role);
        assert.deepStrictEqual(role.inputs.boundServiceAccountNamespaces, ["team"]);
        assert.throws(() => new VaultNamespaceAccess("w", { namespace: "*", paths: ["x"] }), /allowWildcardBindings/);
        assert.throws(() => new VaultNamespaceAccess("d", { namespace: "team", paths: ["x"], serviceAccountName: "default" }), /dedicated ServiceAccount/);
        const w2 = new VaultNamespaceAccess("w2", { namespace: "*", paths: ["x"], allowWildcardBindings: true });
        await rec.settle();
        assert.deepStrictEqual([w2.policyName, w2.roleName], ["vso-all-read", "vso-all"], "the names checked are the names created");
        assert.deepStrictEqual(rec.one(T.role, (r) => r.inputs.roleName === "vso-all").inputs.boundServiceAccountNamespaces, ["*"]);
        assert.strictEqual(
            rec.one(T.policy, (r) => r.inputs.name === "vso-all-read").inputs.policy,
            'path "kv/data/x" {\n  capabilities = ["read"]\n}\n\n' + SELF_TOKEN_POLICY,
        );
    });

    it("VsoNamespaceAccess: ServiceAccount, VaultConnection and VaultAuth in the namespace", async () => {
        new VsoNamespaceAccess("b", { namespace: "apps", vaultAddress: "https://vault.lan:8200", roleName: "vso-apps" });
        await rec.settle();
        assert.strictEqual(rec.one(T.conn).inputs.metadata.namespace, "apps");
        assert.strictEqual(rec.one(T.auth).inputs.spec.kubernetes.role, "vso-apps");
        assert.throws(
            () => new VsoNamespaceAccess("v", { namespace: "vault-secrets-operator-system", vaultAddress: "http://v:8200", roleName: "r" }),
            /workload's namespace/,
        );
        new VsoNamespaceAccess("named-vault", { namespace: "vault", vaultAddress: "http://v:8200", roleName: "r", reservedNamespaces: ["secrets"] });
        assert.throws(
            () => new VsoNamespaceAccess("s", { namespace: "secrets", vaultAddress: "http://v:8200", roleName: "r", reservedNamespaces: ["secrets"] }),
            /workload's namespace/,
        );
    });

    it("VaultStaticSecretApp: alone, and its VaultAuth must be in its namespace", async () => {
        new VaultStaticSecretApp("grafana", { namespace: "monitoring", path: "homelab/grafana", refreshAfter: "5m" });
        await rec.settle();
        const vss = rec.one(T.vss);
        assert.strictEqual(vss.inputs.spec.destination.name, "grafana");
        assert.strictEqual(vss.inputs.spec.refreshAfter, "5m");
        assert.strictEqual(vss.inputs.spec.rolloutRestartTargets, undefined);
        assert.throws(() => new VaultStaticSecretApp("x", { namespace: "a", path: "p", vaultAuthRef: "other-ns/vault-auth" }), /same namespace/);
    });

    it("VaultHelmInstall and VaultSecretsOperatorInstall: modes, pinned charts, mirrors, passthrough values", async () => {
        new VaultHelmInstall("ha", { mode: "ha", namespace: "vault-ha", repository: "https://mirror.lan/charts", haReplicas: 5 });
        new VaultSecretsOperatorInstall("vso", { values: { controller: { replicas: 2 } }, chartVersion: "9.9.9" });
        await rec.settle();
        assert.strictEqual(
            await valueOf(new VaultHelmInstall("named", { releaseName: "secrets", namespace: "sec" }).address),
            "http://secrets-vault.sec.svc.cluster.local:8200",
            "the chart names its Service <release>-vault unless the release name contains vault",
        );
        await rec.settle();
        const ha = rec.one(T.release, (r) => r.inputs.chart === "vault" && r.inputs.namespace === "vault-ha");
        assert.strictEqual(ha.inputs.values.server.ha.raft.enabled, true);
        assert.strictEqual(ha.inputs.values.server.ha.replicas, 5);
        assert.strictEqual(ha.inputs.repositoryOpts.repo, "https://mirror.lan/charts");
        assert.strictEqual(ha.inputs.values.server.dev, undefined);
        assert.strictEqual(ha.inputs.skipAwait, true, "sealed ha pods are not Ready until initialised: no wait");
        new VaultHelmInstall("sa", { mode: "standalone", namespace: "vault-sa" });
        new VaultHelmInstall("dev", { namespace: "vault-dev", mode: "dev" });
        new VaultHelmInstall("default", { namespace: "vault-default" });
        await rec.settle();
        const sa = rec.one(T.release, (r) => r.inputs.namespace === "vault-sa");
        assert.deepStrictEqual(
            sa.inputs.values.server.ha,
            { enabled: true, replicas: 1, raft: { enabled: true, setNodeId: true }, disruptionBudget: { enabled: false } },
            "standalone is one raft server (no disruption budget: it would block every node drain)",
        );
        assert.strictEqual(sa.inputs.values.server.dataStorage.enabled, true);
        assert.strictEqual(sa.inputs.skipAwait, true);
        assert.strictEqual(rec.one(T.release, (r) => r.inputs.namespace === "vault-dev").inputs.skipAwait, false, "dev waits until Vault is Ready");
        const dflt = rec.one(T.release, (r) => r.inputs.namespace === "vault-default");
        assert.deepStrictEqual(dflt.inputs.values.server.ha.raft, { enabled: true, setNodeId: true }, "no mode given: durable standalone (issue 9 item 5)");
        assert.strictEqual(dflt.inputs.values.server.dev, undefined, "never dev by default");
        const vso = rec.one(T.release, (r) => r.inputs.chart === "vault-secrets-operator");
        assert.deepStrictEqual(vso.inputs.values, { controller: { replicas: 2 } });
        assert.strictEqual(vso.inputs.version, "9.9.9");
    });

    it("installs charts from a local directory when chartPath is given", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-chart-"));
        fs.writeFileSync(path.join(dir, "Chart.yaml"), "name: vault\nversion: 0.0.1\n");
        new VaultHelmInstall("local", { chartPath: dir, namespace: "vl" });
        new VaultSecretsOperatorInstall("vso-local", { chartPath: dir, namespace: "vsol" });
        await rec.settle();
        for (const ns of ["vl", "vsol"]) {
            const r = rec.one(T.release, (x) => x.inputs.namespace === ns);
            assert.strictEqual(r.inputs.chart, dir);
            assert.strictEqual(r.inputs.repositoryOpts, undefined, "no repository for a local chart");
            assert.strictEqual(r.inputs.version, undefined, "the directory's chart is installed as it is");
        }
        fs.rmSync(dir, { recursive: true });
    });
});

describe("chart sources, proxy addresses and access revisions (pure)", () => {
    it("chartSource: repository, oci:// and local path", () => {
        const d = { version: "1.0.0", repo: "https://helm.releases.hashicorp.com" };
        assert.deepStrictEqual(chartSource("vault", d, {}), { chart: "vault", version: "1.0.0", repositoryOpts: { repo: d.repo } });
        assert.deepStrictEqual(chartSource("vault", d, { repository: "oci://registry.lan/charts/", chartVersion: "2.0.0" }), {
            chart: "oci://registry.lan/charts/vault",
            version: "2.0.0",
        });
        assert.deepStrictEqual(chartSource("vault", d, { chartPath: "/charts/vault", chartVersion: "9" }), { chart: "/charts/vault" });
    });

    it("checkChartPath names the field and the fix", () => {
        assert.deepStrictEqual(checkChartPath("vault.helm.chartPath", undefined), []);
        assert.match(checkChartPath("vault.helm.chartPath", "/no/such/chart")[0].message, /does not exist/);
        assert.match(checkChartPath("vault.helm.chartPath", os.tmpdir())[0].message, /no Chart.yaml/);
        assert.match(checkChartPath("vault.helm.chartPath", 42)[0].message, /must be a path/);
    });

    it("serviceProxyAddress and kubeClusterOf", () => {
        assert.strictEqual(serviceProxyAddress("https://k:6443/", "sec", "vault", 8200), "https://k:6443/api/v1/namespaces/sec/services/http:vault:8200/proxy");
        assert.strictEqual(
            serviceProxyAddress("https://k:6443", "sec", "vault", 8200, "https"),
            "https://k:6443/api/v1/namespaces/sec/services/https:vault:8200/proxy",
        );
        const c = kubeClusterOf(fs.readFileSync(FIXTURE_KUBECONFIG, "utf8"));
        assert.strictEqual(c.server, "https://192.0.2.10:6443");
        assert.match(c.caPem!, /BEGIN CERTIFICATE/);
        assert.strictEqual(c.insecure, false);
        assert.throws(() => kubeClusterOf(fs.readFileSync(FIXTURE_KUBECONFIG, "utf8"), "other"), /no context "other"/);
        assert.throws(() => kubeClusterOf(""), /empty or not YAML/);
    });

    it("accessRevision changes with anything the role or policy grants, and only then", () => {
        const base = {
            authPath: "kubernetes",
            roleName: "vso-cnpg",
            policyName: "vso-cnpg-read",
            policy: 'path "kv/data/a" {}',
            serviceAccountName: "vso-auth",
            audience: "vault",
            tokenTtl: 3600,
        };
        assert.strictEqual(accessRevision(base), accessRevision({ ...base }));
        for (const change of [
            { policy: 'path "kv/data/a" {} path "kv/data/b" {}' },
            { roleName: "r2" },
            { audience: "x" },
            { tokenTtl: 60 },
            { serviceAccountName: "sa" },
            { authPath: "k8s" },
        ]) {
            assert.notStrictEqual(accessRevision({ ...base, ...change }), accessRevision(base), JSON.stringify(change));
        }
    });
});

describe("a missing kubeconfig is a validation error before any resource (issue 20)", () => {
    const rec = new MockRecorder();
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST };
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-no-kubeconfig-"));
    const missing = path.join(tmp, "nowhere", "config");
    beforeEach(() => {
        rec.install();
        // never the machine's own kubeconfig: a path that does not exist, and no in-cluster config
        process.env.KUBECONFIG = missing;
        delete process.env.KUBERNETES_SERVICE_HOST;
    });
    afterEach(() => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) {
                delete process.env[k];
            } else {
                process.env[k] = v;
            }
        }
    });

    /** The problems of building the platform, and the provider resources registered meanwhile. */
    async function build(
        args: VaultSecretsPlatformArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): Promise<{ problems: { field: string; message: string }[]; created: string[] }> {
        let problems: { field: string; message: string }[] = [];
        try {
            new VaultSecretsPlatform("kc", args, opts);
        } catch (e) {
            problems = validationProblemsOf(e) ?? assert.fail(`expected a validation error, got ${e}`);
        }
        await rec.settle();
        return { problems, created: rec.resources.filter((r) => !r.type.startsWith("vault-vso:")).map((r) => r.name) };
    }

    it("in-cluster Vault through the API server: names the path it looked for and the fixes, and registers nothing", async () => {
        const { problems, created } = await build(articleArgs());
        assert.deepStrictEqual(problems, [
            {
                field: "kubeconfig",
                message: `is not given and there is no kubeconfig at ${missing} (the first file $KUBECONFIG names), yet Pulumi reaches the Vault it installs through the Kubernetes API server it names, and the stack's Kubernetes provider creates VSO's objects with it. Set KUBECONFIG to your kubeconfig file, or give the platform's kubeconfig (stack config: pulumi config set kubernetes:kubeconfig <path>)`,
            },
        ]);
        assert.deepStrictEqual(created, [], "no resource before the error");
    });

    it("$KUBECONFIG unset: the path is ~/.kube/config of the home directory", () => {
        delete process.env.KUBECONFIG;
        process.env.HOME = tmp;
        const ps = validatePlatformArgs(articleArgs());
        assert.strictEqual(ps.length, 1, JSON.stringify(ps));
        assert.strictEqual(ps[0].field, "kubeconfig");
        assert.ok(
            ps[0].message.startsWith(
                `is not given and there is no kubeconfig at ${path.join(tmp, ".kube", "config")} ($KUBECONFIG is not set, so ~/.kube/config)`,
            ),
            ps[0].message,
        );
    });

    it("only when something reads it: a Kubernetes provider given and vault.providerAddress says how to reach Vault another way", async () => {
        const k8sProvider = new k8s.Provider("given-k8s", { kubeconfig: fs.readFileSync(FIXTURE_KUBECONFIG, "utf8") });
        const onlyApiServer = await build(articleArgs(), { providers: { kubernetes: k8sProvider } });
        assert.deepStrictEqual(
            onlyApiServer.problems.map((p) => p.field),
            ["kubeconfig"],
        );
        assert.match(
            onlyApiServer.problems[0].message,
            /yet Pulumi reaches the Vault it installs through the Kubernetes API server it names\. Set KUBECONFIG .*, or give vault\.providerAddress to reach Vault another way$/,
        );
        rec.install();
        process.env.KUBECONFIG = missing;
        const args = articleArgs();
        args.vault = { ...args.vault, providerAddress: "https://vault.lan:8200" };
        const reached = await build(args, { providers: { kubernetes: k8sProvider } });
        assert.deepStrictEqual(reached.problems, [], "nothing reads the kubeconfig");
        assert.ok(reached.created.length > 0, "built");
        // the default Kubernetes provider still reads it, unless it runs in a pod (in-cluster config)
        assert.match(validatePlatformArgs(args)[0]?.message ?? "", /the stack's Kubernetes provider creates VSO's objects with it/);
        process.env.KUBERNETES_SERVICE_HOST = "10.0.0.1";
        assert.deepStrictEqual(validatePlatformArgs(args), []);
    });

    it("the platform's kubeconfig given: no ambient kubeconfig needed; a vault provider given: not through the API server", () => {
        assert.deepStrictEqual(validatePlatformArgs({ ...articleArgs(), kubeconfig: FIXTURE_KUBECONFIG }), []);
        assert.deepStrictEqual(validatePlatformArgs(articleArgs(), { vault: true, kubernetes: true }), []);
    });
});
