import * as assert from "assert";
import { inClusterServiceOf, redactSecrets, redactUrl, sameVaultAddress, sanitizeText } from "../../ops";

describe("in-cluster Vault addresses (pure)", () => {
    it("names the Service of an in-cluster address, so the doctor goes through the API server", () => {
        assert.deepStrictEqual(inClusterServiceOf("http://vault.vault.svc.cluster.local:8200"), {
            scheme: "http",
            service: "vault",
            namespace: "vault",
            port: 8200,
        });
        assert.deepStrictEqual(inClusterServiceOf("https://vault.sec.svc:8200/"), { scheme: "https", service: "vault", namespace: "sec", port: 8200 });
        assert.deepStrictEqual(inClusterServiceOf("http://vault.sec.svc"), { scheme: "http", service: "vault", namespace: "sec", port: 80 });
    });

    it("leaves every other address alone", () => {
        for (const a of [
            "http://127.0.0.1:8200",
            "https://vault.lan:8200",
            "http://vault:8200",
            "http://a.b.c.svc.cluster.local:8200",
            "ftp://vault.vault.svc:21",
            "not a url",
        ]) {
            assert.strictEqual(inClusterServiceOf(a), undefined, a);
        }
    });
});

describe("printing untrusted text (pure)", () => {
    const JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y25wZzp2c28tYXV0aCJ9.c2lnbmF0dXJl";
    const HVS = "hvs.CAESIJ1kq6R2Tz3yX0aQvQ7bHc5mXyZkLpQrStUvWxYz";

    it("redacts Vault tokens, JWTs, Authorization values and token fields", () => {
        const text = `denied for ${HVS} and s.AbCdEfGhIjKlMnOpQrStUvWx; jwt ${JWT}; Authorization: Bearer abc.def-ghi_jkl; {"client_token":"zzz-secret","jwt":"x"}`;
        const out = redactSecrets(text);
        for (const leaked of [HVS, "s.AbCdEfGhIjKlMnOpQrStUvWx", "eyJhbGci", "abc.def-ghi_jkl", "zzz-secret"]) {
            assert.ok(!out.includes(leaked), `${leaked} in ${out}`);
        }
        assert.match(out, /denied for \[redacted Vault token\]/);
        assert.match(out, /Bearer \[redacted\]/);
    });

    it("keeps ordinary messages as they are", () => {
        for (const s of [
            "permission denied",
            "namespace not authorized",
            'invalid role name "vso-cnpg"',
            'lacks key(s) "admin_password" (found: "admin_user")',
            "its.value",
        ]) {
            assert.strictEqual(sanitizeText(s), s);
        }
    });

    it("strips ANSI escapes and control characters, folds lines, and bounds the length", () => {
        const out = sanitizeText("\u001b[31mred\u001b[0m\r\nnext\u0007line\u001b]0;title\u0007 \u202eevil\u0000" + "x".repeat(5000));
        // eslint-disable-next-line no-control-regex -- the test looks for exactly those characters
        assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202e]/.test(out), JSON.stringify(out.slice(0, 80)));
        assert.ok(out.startsWith("red nextline evilxxx"), out.slice(0, 40));
        assert.strictEqual(out.length, 300);
        assert.ok(out.endsWith("…"));
        assert.strictEqual(sanitizeText("y".repeat(50), 20).length, 20);
    });

    it("never shows URL credentials", () => {
        assert.strictEqual(redactUrl("http://user:pa55@vault.lan:8200/x"), "http://[redacted]@vault.lan:8200/x");
        assert.strictEqual(redactUrl("user:pa55@vault.lan:8200"), "[redacted]@vault.lan:8200");
        assert.strictEqual(redactUrl("https://vault.lan:8200/a@b"), "https://vault.lan:8200/a@b");
        assert.ok(!sanitizeText("cannot reach https://admin:pa55@vault.lan:8200").includes("pa55"));
    });

    it("compares Vault addresses by scheme, host, port and path", () => {
        assert.ok(sameVaultAddress("http://Vault.lan:80/", "http://vault.lan"));
        assert.ok(sameVaultAddress("https://vault.lan:8200", "https://vault.lan:8200/"));
        assert.ok(!sameVaultAddress("http://vault.lan:8200", "https://vault.lan:8200"));
        assert.ok(!sameVaultAddress("http://vault.lan:8200", "http://vault.lan:8201"));
        assert.ok(!sameVaultAddress("not a url", "not a url"));
    });
});
