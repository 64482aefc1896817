import * as assert from "assert";
import { VaultSecretsPlatformArgs, securityWarnings, validatePlatformArgs } from "../../components";

const app = { name: "rustfs-cloudnativepg", namespace: "cnpg", path: "rustfs/cloudnativepg" };
const external = (address: string, extra: Record<string, unknown> = {}): VaultSecretsPlatformArgs => ({
    vault: { install: false, address, ...extra },
    kubernetesAuth: { kubernetesHost: "https://192.0.2.10:6443" },
    apps: [app],
});

describe("insecure defaults are said out loud (issue 8 item 8)", () => {
    it("an external Vault over plain http is rejected unless the user opts in, naming the field and the fix", () => {
        const ps = validatePlatformArgs(external("http://vault.lan:8200"));
        assert.deepStrictEqual(
            ps.map((p) => p.field),
            ["vault.address"],
        );
        assert.match(ps[0].message, /plain http.*https:\/\/.*allowInsecureHttp: true/);
        assert.deepStrictEqual(validatePlatformArgs(external("http://vault.lan:8200", { allowInsecureHttp: true })), []);
        assert.deepStrictEqual(validatePlatformArgs(external("https://vault.lan:8200")), []);
        const typed = validatePlatformArgs(external("https://vault.lan:8200", { allowInsecureHttp: "yes" }));
        assert.deepStrictEqual(
            typed.map((p) => p.field),
            ["vault.allowInsecureHttp"],
            "a YAML string is not a yes",
        );
    });

    it("every preview of a dev-mode Vault warns that it keeps nothing and has a known root token", () => {
        const dev = securityWarnings({ vault: { helm: { mode: "dev" } }, apps: [app] });
        assert.strictEqual(dev.length, 1);
        assert.deepStrictEqual(securityWarnings({ apps: [app] }), [], "the default is durable: nothing to warn about");
        assert.match(dev[0], /dev mode.*pod restart loses every secret.*"root".*standalone/);
        assert.deepStrictEqual(securityWarnings({ vault: { helm: { mode: "standalone" } }, apps: [app] }), []);
        assert.deepStrictEqual(securityWarnings(external("https://vault.lan:8200")), []);
        assert.match(securityWarnings(external("http://vault.lan:8200", { allowInsecureHttp: true })).join(), /unencrypted/);
    });
});
