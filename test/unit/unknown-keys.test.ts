/**
 * Issue 20, item 4: every unknown key in the homelab program's stack config, at every nesting level,
 * and in the platform's args, is an error naming the known ones (the renamed-field message is the
 * model); free-form maps (chart values, an adopted object's spec, labels) stay free-form.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, VaultSecretsPlatformArgs, knownFieldsAt, unknownFieldProblems, validatePlatformArgs } from "../../components";
import { HomelabConfig, platformArgsFromConfig, unknownConfigKeys, valuesKeyProblems } from "../../programs/homelab/config";
import { MockRecorder } from "./harness";

const PROJECT = "vault-vso-homelab";
const GLOB_POLICY = 'path "kv/data/rustfs/*" {\n  capabilities = ["read"]\n}\n';

/** The shipped stack config (the article's case), as `pulumi config` hands it to the program. */
function shipped(): Record<string, any> {
    const doc = yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, unknown> };
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries(doc.config)) {
        out[k.slice(PROJECT.length + 1)] = v;
    }
    out.vault.helm.values = {};
    out.operator.helm = { values: {} };
    out.kubernetesAuth.tokenReviewer = { enabled: false };
    out.adopted = {
        kvMount: true,
        authConfig: { kubernetesHost: "https://kubernetes.default.svc.cluster.local:443" },
        policies: [{ name: "rustfs-read", policy: GLOB_POLICY }],
        roles: [{ name: "vso-role", boundServiceAccountNames: ["default"], boundServiceAccountNamespaces: ["cnpg"], tokenPolicies: ["rustfs-read"] }],
        namespaces: [
            {
                namespace: "cnpg",
                connection: { name: "vault-connection", namespace: "cnpg", spec: { address: "http://vault.vault.svc.cluster.local:8200" } },
                auth: {
                    name: "vault-auth",
                    namespace: "cnpg",
                    labels: {},
                    spec: { method: "kubernetes", mount: "kubernetes", kubernetes: { role: "vso-role", serviceAccount: "default" } },
                },
            },
        ],
        staticSecrets: [{ name: "rustfs-cloudnativepg", namespace: "cnpg", spec: { mount: "kv", path: "rustfs/cloudnativepg", type: "kv-v2" } }],
    };
    return out;
}

/** Every problem the homelab program reports for `cfg` (what programs/homelab/index.ts throws), with `raw` as allConfig. */
function homelabProblems(cfg: Record<string, any>): ValidationProblem[] {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(cfg)) {
        raw[`${PROJECT}:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const { values, ...programCfg } = cfg;
    const secretValues = values === undefined ? undefined : pulumi.secret(values as Record<string, Record<string, string>>);
    const { args, problems } = platformArgsFromConfig(programCfg as HomelabConfig, secretValues);
    return [...unknownConfigKeys(raw, PROJECT), ...problems, ...validatePlatformArgs(args)];
}

describe("unknown keys in stack config are errors at every level (issue 20)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("the shipped config with every object filled in (and free-form maps) has no problem", () => {
        assert.deepStrictEqual(homelabProblems(shipped()), []);
    });

    // where an unknown key `bogus` is put, and the object whose known fields the message must name
    const LEVELS: [string, (c: Record<string, any>) => Record<string, any>, string][] = [
        ["vault", (c) => c.vault, "vault"],
        ["vault.helm", (c) => c.vault.helm, "vault.helm"],
        ["vault.helm.unseal", (c) => (c.vault.helm.unseal = {}), "vault.helm.unseal"],
        ["operator", (c) => c.operator, ""],
        ["operator.helm", (c) => c.operator.helm, "operator.helm"],
        ["kv", (c) => c.kv, "kv"],
        ["kubernetesAuth", (c) => c.kubernetesAuth, "kubernetesAuth"],
        ["kubernetesAuth.tokenReviewer", (c) => c.kubernetesAuth.tokenReviewer, "kubernetesAuth.tokenReviewer"],
        ["apps[0]", (c) => c.apps[0], ""],
        ["apps[0].rolloutRestartTargets[0]", (c) => c.apps[0].rolloutRestartTargets[0], ""],
        ["adopted", (c) => c.adopted, ""],
        ["adopted.authConfig", (c) => c.adopted.authConfig, ""],
        ["adopted.policies[0]", (c) => c.adopted.policies[0], ""],
        ["adopted.roles[0]", (c) => c.adopted.roles[0], ""],
        ["adopted.namespaces[0]", (c) => c.adopted.namespaces[0], ""],
        ["adopted.namespaces[0].connection", (c) => c.adopted.namespaces[0].connection, ""],
        ["adopted.namespaces[0].auth", (c) => c.adopted.namespaces[0].auth, ""],
        ["adopted.staticSecrets[0]", (c) => c.adopted.staticSecrets[0], ""],
    ];
    for (const [where, objectOf, platformPath] of LEVELS) {
        it(`${where}: an unknown key is one problem at ${where}.bogus naming the known fields`, () => {
            const cfg = shipped();
            const obj = objectOf(cfg);
            const known = Object.keys(obj).length ? Object.keys(obj) : [];
            obj.bogus = 1;
            const problems = homelabProblems(cfg).filter((p) => /bogus/.test(p.field));
            assert.strictEqual(problems.length, 1, JSON.stringify(problems));
            assert.strictEqual(problems[0].field, `${where}.bogus`);
            assert.match(problems[0].message, /^is not a known field, so it would be ignored: known fields: /);
            for (const k of known) {
                assert.ok(problems[0].message.includes(k), `${problems[0].message} names ${k}`);
            }
            if (platformPath) {
                assert.strictEqual(
                    problems[0].message,
                    `is not a known field, so it would be ignored: known fields: ${knownFieldsAt(platformPath).join(", ")}`,
                );
            }
        });
    }

    it("the project's own keys: an unknown one names the known ones", () => {
        const problems = unknownConfigKeys({ [`${PROJECT}:apps`]: "[]", [`${PROJECT}:createNamespace`]: "true", [`${PROJECT}:zzz`]: "1" }, PROJECT);
        assert.deepStrictEqual(problems, [
            {
                field: `${PROJECT}:createNamespace`,
                message:
                    'is not a known field, so it would be ignored: did you mean "createNamespaces"? (known fields: vault, operator, kv, cluster, kubernetesAuth, serviceAccountName, createNamespaces, apps, values, adopted, database, databasePasswords, pki, pkiCaBundle)',
            },
            {
                field: `${PROJECT}:zzz`,
                message:
                    "is not a known field, so it would be ignored: known fields: vault, operator, kv, cluster, kubernetesAuth, serviceAccountName, createNamespaces, apps, values, adopted, database, databasePasswords, pki, pkiCaBundle",
            },
        ]);
    });

    it("a near miss names the closest field and still the known ones; a field one level too high is sent where it belongs", () => {
        const cfg = shipped();
        cfg.kubernetesAuth.tokenTTL = 600;
        cfg.vault.namespace = "secrets";
        cfg.operator.namespace = "vso";
        cfg.apps[0].restartTargets = [];
        const by = (f: string) => homelabProblems(cfg).find((p) => p.field === f)?.message;
        assert.strictEqual(
            by("kubernetesAuth.tokenTTL"),
            `is not a known field, so it would be ignored: did you mean "tokenTtl"? (known fields: ${knownFieldsAt("kubernetesAuth").join(", ")})`,
        );
        assert.strictEqual(
            by("vault.namespace"),
            "is not a known field, so it would be ignored: it belongs one level down, in vault.helm: move it to vault.helm.namespace",
        );
        assert.strictEqual(
            by("operator.namespace"),
            "is not a known field, so it would be ignored: it belongs one level down, in operator.helm: move it to operator.helm.namespace",
        );
        assert.strictEqual(
            by("apps[0].restartTargets"),
            'is not a known field, so it would be ignored: it was renamed to "rolloutRestartTargets" (VSO\'s own name): rename it',
        );
    });

    it("apps[i].destination is a name, not an object; apps[i].data is never read from stack config (it would be plain text)", () => {
        const cfg = shipped();
        cfg.apps[0].destination = { name: "x" };
        cfg.apps[0].data = { access_key: "plain" };
        const problems = homelabProblems(cfg);
        assert.deepStrictEqual(
            problems.find((p) => p.field === "apps[0].destination"),
            { field: "apps[0].destination", message: "expected a string, found an object" },
        );
        assert.deepStrictEqual(
            problems.find((p) => p.field === "apps[0].data"),
            {
                field: "apps[0].data",
                message:
                    "is not read from stack config, where it would be plain text: set apps[0].managed: true, list the keys in apps[0].keys and give each value as a secret: pulumi config set --secret --path 'values.rustfs-cloudnativepg.<key>' <value>",
            },
        );
        assert.ok(!JSON.stringify(problems).includes('plain"'), "the value is never shown");
    });

    it("free-form maps stay free-form: chart values, an adopted object's spec and labels, an app's data keys", () => {
        const cfg = shipped();
        cfg.vault.helm.values = { anything: { at: ["any", "depth"] }, server: { extraEnvironmentVars: { X: "1" } } };
        cfg.operator.helm.values = { controller: { anything: true } };
        cfg.adopted.namespaces[0].auth.labels = { "any/label": "x" };
        cfg.adopted.namespaces[0].connection.spec.anything = { at: "all" };
        assert.deepStrictEqual(homelabProblems(cfg), []);
        const args: VaultSecretsPlatformArgs = {
            vault: { helm: { mode: "dev", values: { x: 1 } } },
            apps: [{ name: "a", namespace: "n", path: "p", data: { anyKey: "v" } }],
        };
        assert.deepStrictEqual(validatePlatformArgs(args), []);
    });

    it("the platform's args: the same at every level (TypeScript callers and other languages)", () => {
        const args = {
            vault: { helm: { mode: "dev", bogus: 1, unseal: { bogus: 1 } }, bogus: 1 },
            operator: { bogus: 1, helm: { bogus: 1 } },
            kv: { bogus: 1 },
            kubernetesAuth: { bogus: 1, tokenReviewer: { bogus: 1 } },
            apps: [{ name: "a", namespace: "n", path: "p", bogus: 1, rolloutRestartTargets: [{ kind: "Deployment", name: "w", bogus: 1 }] }],
            adopted: { bogus: 1 },
            bogus: 1,
        } as unknown as VaultSecretsPlatformArgs;
        assert.deepStrictEqual(
            validatePlatformArgs(args)
                .filter((p) => /bogus/.test(p.field))
                .map((p) => p.field)
                .sort(),
            [
                "adopted.bogus",
                "apps[0].bogus",
                "apps[0].rolloutRestartTargets[0].bogus",
                "bogus",
                "kubernetesAuth.bogus",
                "kubernetesAuth.tokenReviewer.bogus",
                "kv.bogus",
                "operator.bogus",
                "operator.helm.bogus",
                "vault.bogus",
                "vault.helm.bogus",
                "vault.helm.unseal.bogus",
            ],
        );
        assert.deepStrictEqual(
            unknownFieldProblems("x", { mode: 1 }, ["helm", "install"], { helm: ["mode"] }).map((p) => p.message),
            ["is not a known field, so it would be ignored: it belongs one level down, in x.helm: move it to x.helm.mode"],
        );
    });

    it("secret values no managed app reads are errors naming the app and key, never a value", () => {
        const cfg = shipped();
        cfg.apps[0].managed = true;
        cfg.apps.push({ name: "web", namespace: "web", path: "web/config" });
        cfg.values = {
            "rustfs-cloudnativepg": { access_key: "AK-VALUE", access_secret_key: "SK-VALUE", acess_key: "TYPO-VALUE" },
            "rustfs-cloudnativpg": { access_key: "X" },
            web: { token: "W" },
        };
        const problems = homelabProblems(cfg).filter((p) => p.field.startsWith("values"));
        assert.deepStrictEqual(problems, [
            {
                field: "values.rustfs-cloudnativepg.acess_key",
                message:
                    "is not in apps[0].keys, so it would not be written: did you mean \"access_key\"? (keys: access_key, access_secret_key). Add it to apps[0].keys, or remove it with pulumi config rm --path 'values.rustfs-cloudnativepg.acess_key'",
            },
            {
                field: "values.rustfs-cloudnativpg",
                message:
                    "is not the name of an app in apps, so its values would be ignored: did you mean \"rustfs-cloudnativepg\"? (managed apps: rustfs-cloudnativepg). Rename it, or remove it with pulumi config rm --path 'values.rustfs-cloudnativpg'",
            },
            {
                field: "values.web",
                message:
                    "apps[1] is not managed, so these values would be ignored: set apps[1].managed: true (and list the keys in apps[1].keys), or remove them with pulumi config rm --path 'values.web'",
            },
        ]);
        assert.doesNotMatch(JSON.stringify(problems), /VALUE|"X"|"W"/, "no value in a message");
        assert.deepStrictEqual(valuesKeyProblems("a string", []), [
            {
                field: "values",
                message: "expected an object { <app>: { <key>: value } } (pulumi config set --secret --path 'values.<app>.<key>' <value>), found a string",
            },
        ]);
        assert.deepStrictEqual(valuesKeyProblems({ "rustfs-cloudnativepg": { access_key: "a", access_secret_key: "b" } }, cfg.apps), []);
    });
});
