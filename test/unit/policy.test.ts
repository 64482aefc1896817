/**
 * The policy pack's rules (policy/rules.ts, issue 22 item 3) as plain functions: each rule fires on the
 * resources that break it, with its fix in the message, and on nothing this package's own platform
 * creates (the shipped homelab config and the article's case, recorded under the mock runtime). The same
 * rules through the real engine: test/integration/policy.integration.test.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { VaultSecretsPlatform } from "../../components";
import { platformArgsFromConfig } from "../../programs/homelab/config";
import { PolicyResource, VAULT_MOUNT, VAULT_POLICY, VAULT_ROLE, policyPaths, resourceRules, ruleNames, stackRules } from "../../policy/rules";
import { knownProps } from "../../policy/knownprops";
import { VIOLATIONS, ViolatingResource } from "../fixtures/policy-violations";
import { MockRecorder, Recorded, articleArgs, shippedHomelabConfig } from "./harness";

const TYPES = { policy: VAULT_POLICY, role: VAULT_ROLE, mount: VAULT_MOUNT } as const;

function asResource(v: ViolatingResource): PolicyResource {
    const type = v.kind === "vso" ? `kubernetes:secrets.hashicorp.com/v1beta1:${v.props.kind as string}` : TYPES[v.kind];
    return { type, name: v.name, urn: `urn:pulumi:s::p::${type}::${v.name}`, props: v.props };
}

/** Every violation of the resources, as rule name → [resource name, message]. */
function evaluate(resources: PolicyResource[]): { rule: string; name: string; message: string }[] {
    const out: { rule: string; name: string; message: string }[] = [];
    for (const r of resources) {
        for (const rule of resourceRules) {
            out.push(...rule.check(r).map((message) => ({ rule: rule.name, name: r.name, message })));
        }
    }
    for (const rule of stackRules) {
        for (const v of rule.check(resources)) {
            out.push({ rule: rule.name, name: resources.find((r) => r.urn === v.urn)?.name ?? "?", message: v.message });
        }
    }
    return out;
}

function recordedAsResources(rec: Recorded[]): PolicyResource[] {
    return rec.map((r) => ({ type: r.type, name: r.name, urn: `urn:pulumi:s::p::${r.type}::${r.name}`, props: r.inputs }));
}

describe("policy pack rules (issue 22 item 3)", () => {
    it("every rule fires on the resources that break it, on those only, with a fix in its message", () => {
        const found = evaluate(VIOLATIONS.map(asResource));
        for (const v of VIOLATIONS) {
            const fired = [...new Set(found.filter((f) => f.name === v.name).map((f) => f.rule))].sort();
            assert.deepStrictEqual(
                fired,
                [...v.fires].sort(),
                `${v.name}: ${JSON.stringify(
                    found.filter((f) => f.name === v.name),
                    null,
                    1,
                )}`,
            );
        }
        for (const f of found) {
            assert.match(f.message, /Fix: /, `${f.rule} says how to fix it: ${f.message}`);
        }
        assert.deepStrictEqual(
            [...new Set(found.map((f) => f.rule))].sort(),
            [...ruleNames].sort(),
            "the fixture breaks every rule of the pack (a new rule needs a violating resource)",
        );
    });

    it("the quoted wildcard names the pitfall; the kv-v2 path says which path to write", () => {
        const found = evaluate(VIOLATIONS.map(asResource));
        const quoted = found.find((f) => f.rule === "vault-role-no-quoted-wildcard")!;
        assert.match(quoted.message, /quoted wildcard.*namespace not authorized/);
        const kv = found.find((f) => f.rule === "vault-policy-kv-v2-data-path")!;
        assert.match(kv.message, /Fix: path "pvkv\/data\/cnpg\/app"/);
        const data = found.find((f) => f.rule === "vso-kv-v2-path-without-data")!;
        assert.match(data.message, /Fix: spec.path "cnpg\/app"/);
    });

    it("a corrected resource passes: each rule is about the value, not the resource type", () => {
        const fixed: PolicyResource[] = [
            { ...asResource(VIOLATIONS[0]), props: { ...VIOLATIONS[0].props, boundServiceAccountNamespaces: ["cnpg"] } },
            {
                ...asResource(VIOLATIONS[1]),
                props: { ...VIOLATIONS[1].props, boundServiceAccountNames: ["vso-auth"], boundServiceAccountNamespaces: ["cnpg"], tokenNoDefaultPolicy: true },
            },
            { ...asResource(VIOLATIONS[5]), props: { name: "pv-nodata", policy: 'path "pvkv/data/cnpg/app" {\n  capabilities = ["read"]\n}\n' } },
            asResource(VIOLATIONS[4]),
        ];
        assert.deepStrictEqual(evaluate(fixed), []);
    });

    it("a value not known yet (preview), or a namespace the provider decides, is skipped, never guessed", () => {
        const base = asResource(VIOLATIONS.find((v) => v.name === "secret-in-default")!);
        const unset = { ...base, props: { ...base.props, metadata: { name: "x" } } };
        assert.ok(
            !evaluate([unset]).some((f) => f.rule === "vso-not-in-default-namespace"),
            "no namespace: the provider's namespace option or the kubeconfig decides",
        );
        const computedMetadata = { ...base, props: { ...base.props, metadata: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } };
        assert.ok(!evaluate([computedMetadata]).some((f) => f.rule === "vso-not-in-default-namespace"));
        const role = { ...asResource(VIOLATIONS[1]), props: { backend: "kubernetes", roleName: "r", tokenNoDefaultPolicy: true } };
        assert.deepStrictEqual(evaluate([role]), [], "bindings not known yet: nothing reported");
        // @pulumi/policy throws when a rule reads an unknown value: the pack copies props with those as undefined
        const throwing = new Proxy({ name: "x", namespace: "default" } as Record<string, unknown>, {
            get: (t, k) => {
                if (k === "namespace") {
                    throw new Error("unknown value");
                }
                return t[k as string];
            },
        });
        assert.deepStrictEqual(knownProps({ metadata: throwing, spec: { list: [1, 2] } }), {
            metadata: { name: "x", namespace: undefined },
            spec: { list: [1, 2] },
        });
    });

    it("attacks: comments and nested blocks in HCL, Vault's stock default policy, list-only metadata, an allowed cross-namespace VaultAuth", () => {
        assert.deepStrictEqual(
            policyPaths('# path "kv/*" { capabilities = ["read"] }\npath "a" {\n  allowed_parameters = { "x" = [] }\n  capabilities = ["read"] // why\n}\n'),
            [{ path: "a", capabilities: ["read"] }],
        );
        const rule = (n: string) => resourceRules.find((r) => r.name === n)!;
        const pol = (name: string, policy: string) => ({ type: VAULT_POLICY, name, urn: "u", props: { name, policy } });
        assert.deepStrictEqual(
            rule("vault-default-policy-no-secrets").check(
                pol("default", 'path "sys/renew" { capabilities = ["update"] }\npath "cubbyhole/*" { capabilities = ["read"] }'),
            ),
            [],
            "the paths of Vault's own default policy",
        );
        assert.deepStrictEqual(
            rule("vault-policy-no-broad-wildcard").check(pol("p", 'path "kv/metadata/*" { capabilities = ["list"] }')),
            [],
            "listing names reads no secret",
        );
        const secret = asResource(VIOLATIONS.find((v) => v.name === "secret-other-auth")!);
        const crossRef = { ...secret, props: { ...secret.props, spec: { ...(secret.props.spec as object), vaultAuthRef: "pv-a/vault-auth-a" } } };
        const auth = asResource(VIOLATIONS.find((v) => v.name === "auth-default-sa")!);
        const allowing = {
            ...auth,
            props: { ...auth.props, spec: { ...(auth.props.spec as object), serviceAccount: "vso-auth", allowedNamespaces: ["pv-b"] } },
        };
        const rules = (rs: PolicyResource[]) => evaluate(rs).map((f) => f.rule);
        assert.ok(rules([crossRef, auth]).includes("vso-vaultauth-same-namespace"), "a VaultAuth that does not allow the namespace");
        assert.ok(!rules([crossRef, allowing]).includes("vso-vaultauth-same-namespace"), "spec.allowedNamespaces lists it: VSO allows the reference");
    });

    it("the pack's folder is what `pulumi preview --policy-pack` loads: PulumiPolicy.yaml, an entry, the package's version", () => {
        const dir = path.join(__dirname, "../../policy");
        const proj = yaml.load(fs.readFileSync(path.join(dir, "PulumiPolicy.yaml"), "utf8")) as { runtime: string };
        assert.strictEqual(proj.runtime, "nodejs");
        const own = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string; main: string };
        const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as { version: string; files: string[] };
        assert.strictEqual(own.version, pkg.version, "@pulumi/policy reports the pack's version from policy/package.json: keep it the package's");
        assert.ok(fs.existsSync(path.join(dir, own.main)));
        for (const f of ["lib/policy", "policy/index.js", "policy/PulumiPolicy.yaml", "policy/package.json"]) {
            assert.ok(pkg.files.includes(f), `the published package ships ${f}`);
        }
    });

    it("a deployer's policy (writes on a whole mount) is not a reader's broad wildcard; the JSON form is read too", () => {
        const broad = resourceRules.find((r) => r.name === "vault-policy-no-broad-wildcard")!;
        const pol = (policy: string) => ({ type: VAULT_POLICY, name: "p", urn: "u", props: { name: "p", policy } });
        assert.deepStrictEqual(broad.check(pol('path "kv/data/*" {\n  capabilities = ["create", "read", "update", "delete"]\n}\n')), []);
        assert.strictEqual(broad.check(pol('{"path": {"kv/data/*": {"capabilities": ["read"]}}}')).length, 1, "JSON policy");
        assert.strictEqual(broad.check(pol('{"path": {"kv/data/cnpg/app": {"capabilities": ["read"]}}}')).length, 0);
        assert.deepStrictEqual(broad.check(pol("{ not json")), [], "not parseable: Vault refuses it, nothing guessed");
    });

    it("reads policy HCL as Vault writes it (path stanzas and their capabilities)", () => {
        assert.deepStrictEqual(policyPaths('path "a/data/b" {\n capabilities = ["read", "list"]\n}\npath "c" { capabilities = ["deny"] }'), [
            { path: "a/data/b", capabilities: ["read", "list"] },
            { path: "c", capabilities: ["deny"] },
        ]);
    });

    describe("nothing this package's platform creates breaks a rule", () => {
        const rec = new MockRecorder();
        beforeEach(() => rec.install());

        it("the shipped homelab stack (Pulumi.homelab.yaml)", async () => {
            const cfg = shippedHomelabConfig();
            const { args, problems } = platformArgsFromConfig(cfg, undefined);
            assert.deepStrictEqual(problems, []);
            new VaultSecretsPlatform("homelab", args);
            await rec.settle();
            const resources = recordedAsResources(rec.resources);
            assert.ok(
                resources.some((r) => r.type === VAULT_ROLE) && resources.some((r) => r.type.includes("VaultStaticSecret")),
                "the rules saw roles and VSO objects",
            );
            assert.deepStrictEqual(evaluate(resources), []);
        });

        it("the article's case with two namespaces", async () => {
            const args = articleArgs();
            args.apps = [
                ...args.apps,
                { ...args.apps[0], name: "second", namespace: "other", path: "other/app", rolloutRestartTargets: [{ kind: "Deployment", name: "x" }] },
            ];
            new VaultSecretsPlatform("p", args);
            await rec.settle();
            assert.deepStrictEqual(evaluate(recordedAsResources(rec.resources)), []);
        });
    });
});
