import * as assert from "assert";
import { AppShape, PlanOptions, planPlatform, renderReadPolicy, SELF_TOKEN_POLICY, staticSecretSpec, validateApps } from "../../components";

const article: AppShape = {
    name: "rustfs-cloudnativepg",
    namespace: "cnpg",
    path: "rustfs/cloudnativepg",
    keys: ["access_key", "access_secret_key"],
    refreshAfter: "60s",
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
};

describe("planning (pure)", () => {
    it("grants read on exactly <kv>/data/<path>, no globs", () => {
        assert.strictEqual(
            renderReadPolicy("kv", ["rustfs/cloudnativepg"]),
            'path "kv/data/rustfs/cloudnativepg" {\n  capabilities = ["read"]\n}\n\n' + SELF_TOKEN_POLICY,
        );
        const text = renderReadPolicy("kv", ["b/x", "a/y", "b/x"]);
        assert.strictEqual((text.match(/path "kv\//g) ?? []).length, 2, "duplicates are merged");
        assert.deepStrictEqual(
            text.match(/path "auth\/[^"]+"/g),
            ['path "auth/token/lookup-self"', 'path "auth/token/renew-self"'],
            "only the token's own paths besides the KV paths",
        );
        assert.ok(text.indexOf("kv/data/a/y") < text.indexOf("kv/data/b/x"), "sorted, so the text is stable");
        assert.ok(!text.includes("*"));
    });

    it("plans the article's scenario", () => {
        const plan = planPlatform([article]);
        assert.strictEqual(plan.kvPath, "kv");
        assert.strictEqual(plan.authPath, "kubernetes");
        assert.strictEqual(plan.namespaces.length, 1);
        const ns = plan.namespaces[0];
        assert.strictEqual(ns.namespace, "cnpg");
        assert.strictEqual(ns.policyName, "vso-cnpg-read");
        assert.strictEqual(ns.roleName, "vso-cnpg");
        assert.strictEqual(ns.serviceAccountName, "vso-auth");
        assert.strictEqual(ns.apps[0].destination, "rustfs-cloudnativepg");
        assert.deepStrictEqual(staticSecretSpec(ns.apps[0], plan.kvPath, ns.authName), {
            vaultAuthRef: "vault-auth",
            mount: "kv",
            type: "kv-v2",
            path: "rustfs/cloudnativepg",
            refreshAfter: "60s",
            hmacSecretData: true,
            destination: { name: "rustfs-cloudnativepg", create: true, transformation: { excludeRaw: true } },
            rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
        });
    });

    it("groups apps by namespace: one policy and role per namespace, each reading only its own paths", () => {
        const apps: AppShape[] = [
            { name: "a1", namespace: "ns-a", path: "a/one" },
            { name: "b1", namespace: "ns-b", path: "b/one" },
            { name: "a2", namespace: "ns-a", path: "a/two" },
        ];
        const plan = planPlatform(apps);
        assert.deepStrictEqual(
            plan.namespaces.map((n) => n.namespace),
            ["ns-a", "ns-b"],
        );
        const [a, b] = plan.namespaces;
        assert.deepStrictEqual(
            a.apps.map((x) => x.name),
            ["a1", "a2"],
        );
        assert.ok(a.policyText.includes("kv/data/a/one") && a.policyText.includes("kv/data/a/two"));
        assert.ok(!a.policyText.includes("b/one"), "namespace a cannot read b's path");
        assert.ok(!b.policyText.includes("kv/data/a/"), "namespace b cannot read a's paths");
    });

    it("defaults refreshAfter to 60s and destination to the app name; overrides win", () => {
        const plan = planPlatform([
            { name: "x", namespace: "n", path: "p", destination: "other", refreshAfter: "5m" },
            { name: "y", namespace: "n", path: "q" },
        ]);
        assert.strictEqual(plan.namespaces[0].apps[0].destination, "other");
        assert.strictEqual(plan.namespaces[0].apps[0].refreshAfter, "5m");
        assert.strictEqual(plan.namespaces[0].apps[1].refreshAfter, "60s");
        assert.strictEqual(plan.namespaces[0].apps[1].destination, "y");
    });

    it("honours name templates and a custom KV mount", () => {
        const plan = planPlatform([{ name: "x", namespace: "n", path: "p" }], {
            kvPath: "secret",
            roleNameTemplate: "r-{namespace}",
            policyNameTemplate: "p-{namespace}",
        });
        assert.strictEqual(plan.namespaces[0].roleName, "r-n");
        assert.strictEqual(plan.namespaces[0].policyName, "p-n");
        assert.match(plan.namespaces[0].policyText, /path "secret\/data\/p"/);
    });

    describe("validateApps", () => {
        it("accepts the article's app", () => {
            assert.deepStrictEqual(validateApps([article]), []);
        });
        it("rejects two apps with the same name", () => {
            const ps = validateApps([article, { ...article, namespace: "other", path: "other/path" }]);
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                ["apps[1].name"],
            );
        });
        it("rejects two apps writing the same Secret in one namespace", () => {
            const ps = validateApps([article, { ...article, name: "second", destination: "rustfs-cloudnativepg" }]);
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                ["apps[1].destination"],
            );
            assert.match(ps[0].message, /apps\[0\] already writes Secret "rustfs-cloudnativepg"/);
        });
        it("allows the same destination name in different namespaces", () => {
            assert.deepStrictEqual(
                validateApps([article, { ...article, name: "second", namespace: "other", path: "other/path", destination: "rustfs-cloudnativepg" }]),
                [],
            );
        });
        it("a path belongs to one namespace: another namespace naming it is rejected unless both apps share it (issue 8 item 5)", () => {
            const evil = { ...article, name: "stolen", namespace: "evil" };
            const ps = validateApps([article, evil]);
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                ["apps[1].path"],
            );
            assert.match(ps[0].message, /also read by apps\[0\] in namespace "cnpg".*shareAcrossNamespaces: true on both/);
            assert.strictEqual(validateApps([article, { ...evil, shareAcrossNamespaces: true }]).length, 1, "one side saying so is not enough");
            assert.deepStrictEqual(
                validateApps([
                    { ...article, shareAcrossNamespaces: true },
                    { ...evil, shareAcrossNamespaces: true },
                ]),
                [],
            );
            assert.deepStrictEqual(
                validateApps([article, { ...article, name: "second", destination: "second" }]),
                [],
                "two apps of one namespace may read one path",
            );
            const plan = planPlatform([
                { ...article, shareAcrossNamespaces: true },
                { ...evil, shareAcrossNamespaces: true },
            ]);
            assert.ok(
                plan.namespaces.every((n) => n.policyText.includes("kv/data/rustfs/cloudnativepg")),
                "shared on purpose: both policies grant it",
            );
        });
        it("a path has one owner: two apps managing the same value are rejected (issue 8 item 2)", () => {
            const ps = validateApps([
                { ...article, dataKeys: article.keys },
                { ...article, name: "second", destination: "second", dataKeys: article.keys },
            ]);
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                ["apps[1].data"],
            );
            assert.match(ps[0].message, /apps\[0\] already manages the value at path "rustfs\/cloudnativepg"/);
            assert.deepStrictEqual(
                validateApps([
                    { ...article, dataKeys: article.keys },
                    { ...article, name: "second", destination: "second" },
                ]),
                [],
                "a reader beside the owner is fine",
            );
        });
        it("rejects policy or role templates that produce Vault's built-in names", () => {
            const ps = validateApps([article], { policyNameTemplate: "default" });
            assert.ok(
                ps.some((p) => p.field === "kubernetesAuth.policyNameTemplate"),
                "template without {namespace}",
            );
            assert.ok(ps.some((p) => /built-in/.test(p.message)));
        });
        it("rejects the default ServiceAccount", () => {
            assert.ok(validateApps([article], { serviceAccountName: "default" }).some((p) => p.field === "serviceAccountName"));
        });
        it("reports wrong types from YAML instead of crashing, one problem per field (issue 8)", () => {
            const apps = [
                { ...article, keys: "access_key", rolloutRestartTargets: { kind: "Deployment", name: "my-app" } },
                "cnpg",
                { name: 7, namespace: ["cnpg"], path: "p", refreshAfter: 60 },
            ] as unknown as AppShape[];
            const opts = { roleNameTemplate: 5, policyNameTemplate: ["vso-{namespace}"], tokenTtl: "3600", audience: null } as unknown as PlanOptions;
            let ps: { field: string; message: string }[] = [];
            assert.doesNotThrow(() => {
                ps = validateApps(apps, opts);
            });
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                [
                    "kubernetesAuth.roleNameTemplate",
                    "kubernetesAuth.policyNameTemplate",
                    "kubernetesAuth.tokenTtl",
                    "kubernetesAuth.audience",
                    "apps[0].keys",
                    "apps[0].rolloutRestartTargets",
                    "apps[1]",
                    "apps[2].name",
                    "apps[2].namespace",
                    "apps[2].refreshAfter",
                ],
            );
            for (const p of ps) {
                assert.match(p.message, /^expected .+, found (a string|a number|a list|an object|null)/, `${p.field}: ${p.message}`);
            }
            assert.match(ps.find((p) => p.field === "apps[2].refreshAfter")!.message, /add the unit/);
            assert.match(ps.find((p) => p.field === "apps[0].keys")!.message, /write a list/);
            assert.match(validateApps({ a: article } as unknown as AppShape[])[0].message, /expected a list of apps, found an object/);
        });
        it("bounds tokenTtl and checks the audience (issue 8)", () => {
            const field = (opts: PlanOptions) => validateApps([article], opts).map((p) => `${p.field}: ${p.message}`);
            assert.deepStrictEqual(field({ tokenTtl: 60, audience: "vault" }), []);
            assert.deepStrictEqual(field({ tokenTtl: 86400 }), []);
            assert.match(field({ tokenTtl: 59 })[0], /^kubernetesAuth\.tokenTtl: .*at least 60 and at most 86400/);
            assert.match(field({ tokenTtl: 86401 })[0], /at most 86400 \(24h\)/);
            assert.match(field({ audience: "" })[0], /^kubernetesAuth\.audience: is empty/);
            assert.match(field({ audience: "a,b" })[0], /one audience/);
            assert.match(field({ audience: "vault\u0000" })[0], /printable/);
        });
        it("rejects names that templates expand to uppercase, suggesting the lowercase template (issue 8)", () => {
            const ps = validateApps([article], { policyNameTemplate: "VSO-{namespace}-read", roleNameTemplate: "vso-{namespace}" });
            assert.deepStrictEqual(
                ps.map((p) => p.field),
                ['policy name for namespace "cnpg"'],
            );
            assert.match(
                ps[0].message,
                /"VSO-cnpg-read" has uppercase letters.*"vso-cnpg-read".*kubernetesAuth\.policyNameTemplate.*set it to "vso-\{namespace\}-read"/,
            );
        });
        it("lists every problem of every app at once", () => {
            const ps = validateApps([
                { name: "Bad_Name", namespace: '"*"', path: "kv/x", refreshAfter: "1d", rolloutRestartTargets: [{ kind: "Job", name: "j" }] },
                { name: "ok", namespace: "ns", path: "data/y", keys: ["a"], dataKeys: ["b"] },
            ]);
            assert.deepStrictEqual(
                ps.map((p) => p.field).sort(),
                [
                    "apps[0].name",
                    "apps[0].namespace",
                    "apps[0].path",
                    "apps[0].refreshAfter",
                    "apps[0].rolloutRestartTargets[0].kind",
                    "apps[1].keys",
                    "apps[1].path",
                ].sort(),
            );
        });
    });
});
