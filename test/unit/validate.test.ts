import * as assert from "assert";
import {
    checkKeysMatchData,
    checkKubernetesName,
    checkMountPath,
    checkRefreshAfter,
    checkRestartTarget,
    checkRoleBinding,
    checkSecretPath,
    checkVaultName,
    formatProblems,
} from "../../components";

const fields = (ps: { field: string }[]) => ps.map((p) => p.field);

describe("validation rules (pure)", () => {
    describe("role bindings", () => {
        it("rejects the article's quoted wildcard, naming the field and the fix", () => {
            const ps = checkRoleBinding("bound_service_account_namespaces", "\"*\"", true);
            assert.strictEqual(ps.length, 1);
            assert.strictEqual(ps[0].field, "bound_service_account_namespaces");
            assert.match(ps[0].message, /quote/);
            assert.match(ps[0].message, /namespace not authorized/);
        });
        it("rejects whitespace", () => {
            assert.match(checkRoleBinding("f", " cnpg", false)[0].message, /whitespace/);
            assert.match(checkRoleBinding("f", "cnpg\n", false)[0].message, /whitespace/);
        });
        it("accepts * only with the explicit opt-in", () => {
            assert.match(checkRoleBinding("f", "*", false)[0].message, /allowWildcardBindings/);
            assert.deepStrictEqual(checkRoleBinding("f", "*", true), []);
            assert.strictEqual(checkRoleBinding("f", "team-*", false).length, 1);
        });
        it("accepts a plain namespace", () => {
            assert.deepStrictEqual(checkRoleBinding("f", "cnpg", false), []);
        });
    });

    describe("secret paths", () => {
        it("rejects a path that starts with the mount name, suggesting the relative path", () => {
            const [p] = checkSecretPath("apps[0].path", "kv/rustfs/cloudnativepg", "kv");
            assert.match(p.message, /mount name/);
            assert.match(p.message, /"rustfs\/cloudnativepg"/);
        });
        it("rejects data/ and metadata/ prefixes", () => {
            assert.match(checkSecretPath("f", "data/rustfs/x", "kv")[0].message, /KV v2 API/);
            assert.match(checkSecretPath("f", "metadata/x", "kv")[0].message, /KV v2 API/);
        });
        it("rejects empty, slashed, doubled, dotted, globbed and spaced paths, each with its own reason", () => {
            const cases: [string, RegExp][] = [
                ["", /required/], ["/a", /must not start or end with '\/'/], ["a/", /must not start or end with '\/'/],
                ["a//b", /empty segment/], ["a/../b", /'\.' or '\.\.'/], ["a/*", /glob/], ["a b", /whitespace/], ["\"a\"", /quote/],
            ];
            for (const [bad, why] of cases) {
                const ps = checkSecretPath("f", bad, "kv");
                assert.strictEqual(ps.length, 1, `expected ${JSON.stringify(bad)} to be rejected`);
                assert.match(ps[0].message, why, `${JSON.stringify(bad)}: ${ps[0].message}`);
            }
        });
        it("accepts nested paths", () => {
            assert.deepStrictEqual(checkSecretPath("f", "rustfs/cloudnativepg", "kv"), []);
            assert.deepStrictEqual(checkSecretPath("f", "kvstore/app", "kv"), [], "a segment that merely starts with the mount's letters is fine");
        });
    });

    describe("Kubernetes names", () => {
        it("rejects uppercase, underscores, long and empty names", () => {
            assert.strictEqual(checkKubernetesName("f", "MyApp", "subdomain").length, 1);
            assert.strictEqual(checkKubernetesName("f", "my_app", "label").length, 1);
            assert.strictEqual(checkKubernetesName("f", "a".repeat(64), "label").length, 1);
            assert.strictEqual(checkKubernetesName("f", "", "label").length, 1);
            assert.strictEqual(checkKubernetesName("f", "a.b", "label").length, 1, "dots are not allowed in namespaces");
        });
        it("suggests a valid name", () => {
            assert.match(checkKubernetesName("f", "My_App", "subdomain")[0].message, /"my-app"/);
        });
        it("accepts valid names", () => {
            assert.deepStrictEqual(checkKubernetesName("f", "rustfs-cloudnativepg", "subdomain"), []);
            assert.deepStrictEqual(checkKubernetesName("f", "cnpg", "label"), []);
        });
    });

    describe("refreshAfter", () => {
        it("accepts what VSO's CRD accepts", () => {
            for (const ok of ["60s", "5m", "1h", "1.5h", "30s"]) {
                assert.deepStrictEqual(checkRefreshAfter("f", ok), [], ok);
            }
        });
        it("rejects what VSO would reject, and zero", () => {
            for (const bad of ["60", "1d", "1m30s", "60 s", "", "0s", "-1s", "1ms"]) {
                assert.strictEqual(checkRefreshAfter("f", bad).length, 1, `expected ${JSON.stringify(bad)} to be rejected`);
            }
        });
    });

    describe("restart targets", () => {
        it("accepts every kind VSO can restart", () => {
            for (const kind of ["Deployment", "StatefulSet", "DaemonSet", "argo.Rollout"]) {
                assert.deepStrictEqual(checkRestartTarget("t", { kind, name: "app" }), []);
            }
        });
        it("rejects an unknown kind and suggests the right spelling", () => {
            const ps = checkRestartTarget("t", { kind: "deployments", name: "app" });
            assert.deepStrictEqual(fields(ps), ["t.kind"]);
            assert.match(ps[0].message, /did you mean "Deployment"/);
            assert.deepStrictEqual(fields(checkRestartTarget("t", { kind: "CronJob", name: "Bad_Name" })), ["t.kind", "t.name"]);
        });
    });

    it("keys and data must name the same keys", () => {
        assert.deepStrictEqual(checkKeysMatchData("f", ["a", "b"], { a: 1, b: 2 }), []);
        const [p] = checkKeysMatchData("f", ["a", "b"], { a: 1, c: 2 });
        assert.match(p.message, /"b"/);
        assert.match(p.message, /"c"/);
    });

    it("Vault names must not be default or root", () => {
        assert.match(checkVaultName("policyName", "default")[0].message, /every token/);
        assert.strictEqual(checkVaultName("roleName", "root").length, 1);
        assert.deepStrictEqual(checkVaultName("roleName", "vso-cnpg"), []);
    });

    it("mount paths", () => {
        assert.deepStrictEqual(checkMountPath("f", "kv"), []);
        assert.strictEqual(checkMountPath("f", "/kv").length, 1);
        assert.strictEqual(checkMountPath("f", "sys").length, 1);
        assert.strictEqual(checkMountPath("f", "k v").length, 1);
    });

    it("formats one message with every problem", () => {
        const msg = formatProblems("X", [{ field: "a", message: "m1" }, { field: "b", message: "m2" }]);
        assert.match(msg, /2 problems/);
        assert.match(msg, /- a: m1\n {2}- b: m2/);
    });
});
