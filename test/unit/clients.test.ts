import * as assert from "assert";
import { inClusterServiceOf } from "../../components";

describe("in-cluster Vault addresses (pure)", () => {
    it("names the Service of an in-cluster address, so the doctor goes through the API server", () => {
        assert.deepStrictEqual(inClusterServiceOf("http://vault.vault.svc.cluster.local:8200"), { scheme: "http", service: "vault", namespace: "vault", port: 8200 });
        assert.deepStrictEqual(inClusterServiceOf("https://vault.sec.svc:8200/"), { scheme: "https", service: "vault", namespace: "sec", port: 8200 });
        assert.deepStrictEqual(inClusterServiceOf("http://vault.sec.svc"), { scheme: "http", service: "vault", namespace: "sec", port: 80 });
    });

    it("leaves every other address alone", () => {
        for (const a of ["http://127.0.0.1:8200", "https://vault.lan:8200", "http://vault:8200", "http://a.b.c.svc.cluster.local:8200", "ftp://vault.vault.svc:21", "not a url"]) {
            assert.strictEqual(inClusterServiceOf(a), undefined, a);
        }
    });
});
