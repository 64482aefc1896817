import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { VaultSecretsPlatform } from "../../components";
import { HomelabConfig, platformArgsFromConfig } from "../../programs/homelab/config";
import { MockRecorder, shippedHomelabConfig as shippedConfig } from "./harness";

describe("homelab program config", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("YAML shapes that are easy to get wrong: apps as a map, managed as a string, an app that is not an object", () => {
        const asMap = platformArgsFromConfig({ apps: { "rustfs-cloudnativepg": { namespace: "cnpg" } } } as unknown as HomelabConfig, undefined);
        assert.ok(
            asMap.problems.some((p) => p.field === "apps" && /write a list/.test(p.message)),
            JSON.stringify(asMap.problems),
        );
        const quoted = platformArgsFromConfig(
            { apps: [{ name: "a", namespace: "n", path: "p", keys: ["k"], managed: "false" }] } as unknown as HomelabConfig,
            undefined,
        );
        assert.ok(
            quoted.problems.some((p) => p.field === "apps[0].managed" && /true or false/.test(p.message)),
            JSON.stringify(quoted.problems),
        );
        assert.strictEqual(quoted.args.apps[0].data, undefined, 'a quoted "false" never turns on managed values');
        const scalar = platformArgsFromConfig({ apps: ["rustfs"] } as unknown as HomelabConfig, undefined);
        assert.ok(
            scalar.problems.some((p) => p.field === "apps[0]" && /must be an object/.test(p.message)),
            JSON.stringify(scalar.problems),
        );
    });

    it("the shipped stack config reproduces the article's CloudNativePG case", async () => {
        const { args, problems } = platformArgsFromConfig(shippedConfig(), undefined);
        assert.deepStrictEqual(problems, []);
        new VaultSecretsPlatform("homelab", args);
        await rec.settle();
        const vss = rec.one("kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret");
        assert.strictEqual(vss.inputs.metadata.namespace, "cnpg");
        assert.strictEqual(vss.inputs.spec.path, "rustfs/cloudnativepg");
        assert.strictEqual(vss.inputs.spec.destination.name, "rustfs-cloudnativepg");
        assert.deepStrictEqual(vss.inputs.spec.rolloutRestartTargets, [{ kind: "Deployment", name: "my-app" }]);
        assert.strictEqual(vss.inputs.metadata.annotations["vault-vso.pulumi.io/keys"], "access_key,access_secret_key");
        const provider = rec.one("pulumi:providers:vault");
        // no port-forward: through the API server of the kubeconfig (the unit layer's fixture)
        assert.strictEqual(provider.inputs.address, "https://192.0.2.10:6443/api/v1/namespaces/vault/services/http:vault:8200/proxy");
    });

    it("managed apps take their values from secret config and stay secret", async () => {
        const cfg = shippedConfig();
        cfg.apps[0].managed = true;
        const values = pulumi.secret<Record<string, Record<string, string>>>({ "rustfs-cloudnativepg": { access_key: "ak", access_secret_key: "sk" } });
        const { args, problems } = platformArgsFromConfig(cfg, values);
        assert.deepStrictEqual(problems, []);
        new VaultSecretsPlatform("homelab", args);
        await rec.settle();
        const kv = rec.one("vault:kv/secretV2:SecretV2");
        assert.ok(kv.secretInputs.includes("dataJson"));
        assert.deepStrictEqual(JSON.parse(kv.inputs.dataJson), { access_key: "ak", access_secret_key: "sk" });
    });

    it("secret config values must hold exactly the app's keys, and the error names keys, never values", async () => {
        const cfg = shippedConfig();
        cfg.apps[0].managed = true;
        const values = pulumi.secret<Record<string, Record<string, string>>>({ "rustfs-cloudnativepg": { access_key: "ak", typo_key: "sk-value" } });
        const { args } = platformArgsFromConfig(cfg, values);
        const v = args.apps[0].data!.access_key as pulumi.Output<string>;
        const err = await new Promise<Error>((resolve) => {
            (v as any).promise().then(() => resolve(new Error("no error")), resolve);
        });
        assert.match(err.message, /must hold exactly keys access_key, access_secret_key; missing access_secret_key/);
        assert.match(err.message, /not in apps\[0\]\.keys: typo_key/);
        assert.ok(!err.message.includes("sk-value"));
    });

    it("a managed app without keys or without the secret config is a config error naming the fix", () => {
        const cfg = shippedConfig();
        cfg.apps[0].managed = true;
        const { problems } = platformArgsFromConfig(cfg, undefined);
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0].message, /pulumi config set --secret --path 'values\.rustfs-cloudnativepg\.access_key'/);
        delete cfg.apps[0].keys;
        assert.match(platformArgsFromConfig(cfg, undefined).problems[0].field, /apps\[0\]\.keys/);
    });
});
