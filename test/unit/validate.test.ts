import * as assert from "assert";
import {
    checkKeysMatchData,
    checkKubernetesName,
    checkMountPath,
    checkRefreshAfter,
    checkRolloutRestartTarget,
    checkRoleBinding,
    checkSecretPath,
    checkType,
    checkUrl,
    checkVaultName,
    describeType,
    formatProblems,
    mergeTypeProblems,
    redactUrl,
} from "../../components";
import * as pulumi from "@pulumi/pulumi";

const fields = (ps: { field: string }[]) => ps.map((p) => p.field);

describe("validation rules (pure)", () => {
    describe("role bindings", () => {
        it("rejects the article's quoted wildcard, naming the field and the fix", () => {
            const ps = checkRoleBinding("bound_service_account_namespaces", '"*"', true);
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
                ["", /required/],
                ["/a", /must not start or end with '\/'/],
                ["a/", /must not start or end with '\/'/],
                ["a//b", /empty segment/],
                ["a/../b", /'\.' or '\.\.'/],
                ["a/*", /glob/],
                ["a b", /whitespace/],
                ['"a"', /quote/],
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
        it("accepts 1s to 24h only, saying so (issue 8)", () => {
            for (const ok of ["1s", "24h", "1440m", "86400s", "0.5m"]) {
                assert.deepStrictEqual(checkRefreshAfter("f", ok), [], ok);
            }
            for (const bad of ["0.5s", "0.99s", "24.01h", "86401s", "1441m", "9999999999h"]) {
                const ps = checkRefreshAfter("f", bad);
                assert.strictEqual(ps.length, 1, bad);
                assert.match(ps[0].message, /"1s" to "24h"/, bad);
            }
            assert.match(checkRefreshAfter("f", 60)[0].message, /expected a duration string.*found a number/);
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
                assert.deepStrictEqual(checkRolloutRestartTarget("t", { kind, name: "app" }), []);
            }
        });
        it("rejects an unknown kind and suggests the right spelling", () => {
            const ps = checkRolloutRestartTarget("t", { kind: "deployments", name: "app" });
            assert.deepStrictEqual(fields(ps), ["t.kind"]);
            assert.match(ps[0].message, /did you mean "Deployment"/);
            assert.deepStrictEqual(fields(checkRolloutRestartTarget("t", { kind: "CronJob", name: "Bad_Name" })), ["t.kind", "t.name"]);
        });
    });

    it("keys and data must name the same keys", () => {
        assert.deepStrictEqual(checkKeysMatchData("f", ["a", "b"], { a: 1, b: 2 }), []);
        const [p] = checkKeysMatchData("f", ["a", "b"], { a: 1, c: 2 });
        assert.match(p.message, /"b"/);
        assert.match(p.message, /"c"/);
    });

    it("Vault names must be lowercase: Vault lowercases them and the name would drift (issue 8)", () => {
        const [p] = checkVaultName("policyName", "MyApp-Read");
        assert.match(p.message, /uppercase.*"myapp-read"/);
        assert.deepStrictEqual(checkVaultName("roleName", "myapp-read"), []);
        assert.match(checkVaultName("roleName", 5)[0].message, /expected a string, found a number/);
    });

    it("Vault names must not be default or root", () => {
        assert.match(checkVaultName("policyName", "default")[0].message, /every token/);
        assert.strictEqual(checkVaultName("roleName", "root").length, 1);
        assert.deepStrictEqual(checkVaultName("roleName", "vso-cnpg"), []);
    });

    describe("URLs (issue 8)", () => {
        it("accepts http(s) and, where asked, oci:// chart repositories", () => {
            assert.deepStrictEqual(checkUrl("f", "https://vault.lan:8200"), []);
            assert.deepStrictEqual(checkUrl("f", "http://10.0.0.1:8200/proxy/path"), []);
            assert.deepStrictEqual(checkUrl("f", "oci://registry-1.docker.io/hashicorp", ["http:", "https:", "oci:"]), []);
            assert.match(checkUrl("f", "oci://registry-1.docker.io/hashicorp")[0].message, /must use http or https/);
        });
        it("says the scheme is missing, suggesting it", () => {
            assert.match(checkUrl("f", "vault.lan:8200")[0].message, /scheme is missing.*"https:\/\/vault\.lan:8200"/);
            assert.match(checkUrl("f", "localhost")[0].message, /scheme is missing/);
        });
        it("rejects credentials without ever showing them", () => {
            for (const url of [
                "https://admin:hunter2@vault.lan",
                "https://hunter2@vault.lan",
                "admin:hunter2@vault.lan:8200",
                "https://admin:hun/ter2@vault.lan",
                "https://vault.lan/?token=hunter2",
            ]) {
                const ps = checkUrl("f", url);
                assert.ok(url.includes("?token") || ps.length === 1, url);
                assert.ok(!ps.some((p) => p.message.includes("hunter2") || p.message.includes("admin")), `${url}: ${ps[0]?.message}`);
            }
            assert.match(checkUrl("f", "https://admin:hunter2@vault.lan:8200")[0].message, /credentials.*"https:\/\/vault\.lan:8200"/);
        });
        it("redacts user info, query and fragment", () => {
            assert.strictEqual(redactUrl("https://u:p@h:1/x?t=s#f"), "https://[redacted]@h:1/x?…");
            assert.strictEqual(redactUrl("u:p@h"), "[redacted]@h");
            assert.strictEqual(redactUrl("https://h/x"), "https://h/x");
            // (one redactor since issue 23: a malformed password holding "/" is still cut, an "@" in a path kept)
            assert.strictEqual(redactUrl("https://u:pa/ss@h"), "https://[redacted]@h");
            assert.strictEqual(redactUrl("https://h:8200/a@b"), "https://h:8200/a@b");
        });
    });

    describe("types (issue 8)", () => {
        it("describes types, never values", () => {
            assert.deepStrictEqual(["s3cr3t", 1, 1.5, true, null, [], {}, undefined, pulumi.output("x")].map(describeType), [
                "a string",
                "a number",
                "a fractional number",
                "a boolean",
                "null",
                "a list",
                "an object",
                "nothing",
                "a Pulumi Output or promise",
            ]);
        });
        it("checks nested fields with their paths and removes the wrong ones", () => {
            const t = { fields: { a: { list: "string" as const }, b: { fields: { c: "boolean" as const } }, d: { mapOf: "input" as const } }, required: ["a"] };
            const r = checkType("x", { b: { c: "true" }, d: { k: 5, ok: pulumi.secret("v") }, extra: 1 }, t);
            assert.deepStrictEqual(
                r.problems.map((p) => `${p.field}: ${p.message}`),
                [
                    "x.a: is required: expected a list of strings, found nothing",
                    "x.b.c: expected true or false, found a string (write true or false without quotes)",
                    "x.d.k: expected a string (or a Pulumi Output), found a number (YAML reads unquoted numbers, true/false and yes/no as such: quote the value)",
                    "x.extra: is not a known field, so it would be ignored: known fields: a, b, d",
                ],
            );
            const v = r.value as Record<string, any>;
            assert.strictEqual(v.b.c, undefined);
            assert.strictEqual(v.d.k, undefined);
            assert.ok(pulumi.Output.isInstance(v.d.ok), "Outputs are kept as they are");
            assert.strictEqual(v.extra, undefined, "unknown fields are reported and removed");
        });
        it("keeps one problem per field: the type problem wins", () => {
            const merged = mergeTypeProblems(
                [{ field: "apps[0]", message: "t" }],
                [
                    { field: "apps[0].name", message: "v1" },
                    { field: "apps[0]", message: "v2" },
                    { field: "apps[01]", message: "v3" },
                    { field: "apps[1]", message: "v4" },
                ],
            );
            assert.deepStrictEqual(
                merged.map((p) => p.message),
                ["t", "v3", "v4"],
            );
        });
        it("reports the type of a non-string name, path or key", () => {
            assert.match(checkKubernetesName("f", 5, "label")[0].message, /expected a string, found a number/);
            assert.match(checkSecretPath("f", ["a"], "kv")[0].message, /expected a string, found a list/);
            assert.match(checkMountPath("f", null)[0].message, /expected a string, found null/);
        });
    });

    it("secret paths Vault's storage would refuse (issue 8)", () => {
        assert.deepStrictEqual(checkSecretPath("f", `a/${"b".repeat(254)}`, "kv"), []);
        assert.match(checkSecretPath("f", `a/${"b".repeat(255)}`, "kv")[0].message, /segment 2 is 255 characters long; use at most 254/);
        const long = `${"abcdefgh/".repeat(114)}x`;
        assert.strictEqual(long.length, 1027);
        const [p] = checkSecretPath("f", long, "kv");
        assert.match(p.message, /is 1027 characters long; use at most 1024/);
        assert.ok(!p.message.includes("abcdefgh"), "a long path is not echoed");
    });

    it("mount paths", () => {
        assert.deepStrictEqual(checkMountPath("f", "kv"), []);
        assert.strictEqual(checkMountPath("f", "/kv").length, 1);
        assert.strictEqual(checkMountPath("f", "sys").length, 1);
        assert.strictEqual(checkMountPath("f", "k v").length, 1);
    });

    it("formats one message with every problem", () => {
        const msg = formatProblems("X", [
            { field: "a", message: "m1" },
            { field: "b", message: "m2" },
        ]);
        assert.match(msg, /2 problems/);
        assert.match(msg, /- a: m1\n {2}- b: m2/);
    });
});
