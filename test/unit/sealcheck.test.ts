/**
 * A sealed Vault is named before any Vault resource is touched (issue 9, item 7): the pure parts and the
 * probe against a fake Vault on loopback.
 */
import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { parseSealStatus, podProxyAddress, probeSealStatus, sealedVaultMessage, unsealPods } from "../../components/vault/sealcheck";

describe("sealed Vault check (issue 9, item 7)", () => {
    it("reads sys/seal-status, and anything else is 'unknown', never 'sealed'", () => {
        assert.deepStrictEqual(parseSealStatus(200, JSON.stringify({ sealed: true, initialized: true, t: 3, progress: 1 })), {
            sealed: true,
            initialized: true,
            threshold: 3,
            progress: 1,
        });
        assert.deepStrictEqual(parseSealStatus(200, JSON.stringify({ sealed: false, initialized: true })), { sealed: false, initialized: true });
        for (const [status, body] of [
            [503, JSON.stringify({ sealed: true })],
            [200, "<html>proxy error</html>"],
            [200, "null"],
            [200, JSON.stringify({ sealed: "true" })],
        ] as const) {
            assert.strictEqual(parseSealStatus(status, body), undefined, body);
        }
    });

    it("says what to do: the stack's unsealer and keys Secret when installed, vault operator unseal otherwise", () => {
        const s = { sealed: true, initialized: true, threshold: 3, progress: 0 };
        const installed = sealedVaultMessage(s, {
            installed: true,
            namespace: "vault",
            keysSecretName: "vault-unseal-keys",
            shownAddress: "the in-cluster Vault",
        })!;
        assert.match(installed, /is sealed \(0 of 3 unseal keys given\)/);
        assert.match(installed, /kubectl -n vault logs vault-0 -c unsealer/);
        assert.match(installed, /vault\/vault-unseal-keys/);
        const external = sealedVaultMessage(s, { installed: false, shownAddress: "https://vault.lan:8200" })!;
        assert.match(external, /^Vault at https:\/\/vault.lan:8200 is sealed/);
        assert.match(external, /vault operator unseal/);
        assert.match(
            sealedVaultMessage({ sealed: true, initialized: false }, { installed: false, shownAddress: "x" })!,
            /not initialised.*vault operator init/,
        );
        // keys in the stack's state: no unsealer to wait for, pulumi up unseals; after up tried, the keys do not fit
        const inState = sealedVaultMessage(s, { installed: true, keysIn: "pulumi", namespace: "vault", shownAddress: "x" })!;
        assert.match(inState, /keys live only in this stack's state.*`pulumi up` unseals it/);
        assert.doesNotMatch(inState, /unsealer|vault-unseal-keys/);
        assert.match(
            sealedVaultMessage(s, { installed: true, keysIn: "pulumi", unsealTried: true, shownAddress: "x" })!,
            /still sealed.*do not fit this Vault/,
        );
        assert.strictEqual(sealedVaultMessage({ sealed: false, initialized: true }, { installed: true, shownAddress: "x" }), undefined);
        assert.strictEqual(sealedVaultMessage(undefined, { installed: true, shownAddress: "x" }), undefined);
    });

    describe("the probe", () => {
        let server: http.Server;
        let base = "";
        let answer: { status: number; body: unknown } = { status: 200, body: {} };
        const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
        before((done) => {
            server = http.createServer((req, res) => {
                seen.push({ url: req.url ?? "", headers: req.headers });
                res.writeHead(answer.status, { "content-type": "application/json" });
                res.end(JSON.stringify(answer.body));
            });
            server.listen(0, "127.0.0.1", () => {
                base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
                done();
            });
        });
        after((done) => {
            server.close(() => done());
        });

        it("asks sys/seal-status through the provider's route (its headers, no Vault token)", async () => {
            answer = { status: 200, body: { sealed: true, initialized: true, t: 2, progress: 1 } };
            seen.length = 0;
            const s = await probeSealStatus({
                address: `${base}/api/v1/namespaces/vault/services/http:vault:8200/proxy/`,
                headers: [{ name: "Authorization", value: "Bearer kube" }],
            });
            assert.deepStrictEqual(s, { sealed: true, initialized: true, threshold: 2, progress: 1 });
            assert.strictEqual(seen[0].url, "/api/v1/namespaces/vault/services/http:vault:8200/proxy/v1/sys/seal-status");
            assert.strictEqual(seen[0].headers.authorization, "Bearer kube");
            assert.strictEqual(seen[0].headers["x-vault-token"], undefined);
        });

        it('keysIn "pulumi": gives a sealed pod the keys up to the threshold, through its pod proxy, and leaves an unsealed one alone', async () => {
            // a fake pod proxy: vault-0 sealed (threshold 2), vault-1 unsealed
            const state: Record<string, { sealed: boolean; got: string[] }> = { "vault-0": { sealed: true, got: [] }, "vault-1": { sealed: false, got: [] } };
            const fake = http.createServer((req, res) => {
                const m = /\/pods\/(vault-\d):8200\/proxy\/v1\/sys\/(seal-status|unseal)$/.exec(req.url ?? "");
                let body = "";
                req.on("data", (d) => (body += d));
                req.on("end", () => {
                    const pod = m && state[m[1]];
                    if (!pod) {
                        res.writeHead(404).end();
                        return;
                    }
                    if (m[2] === "unseal") {
                        pod.got.push(JSON.parse(body).key);
                        pod.sealed = pod.got.length < 2;
                    }
                    res.writeHead(200, { "content-type": "application/json" });
                    res.end(JSON.stringify({ sealed: pod.sealed, initialized: true, t: 2, progress: pod.sealed ? pod.got.length : 0 }));
                });
            });
            await new Promise<void>((r) => fake.listen(0, "127.0.0.1", () => r()));
            const server = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
            try {
                const pods = ["vault-0", "vault-1"].map((name) => ({ name, address: podProxyAddress(server, "vault", name) }));
                const still = await unsealPods({ headers: [{ name: "Authorization", value: "Bearer kube" }] }, pods, ["k0", "k1", "k2"], 2);
                assert.deepStrictEqual(still, []);
                assert.deepStrictEqual(state["vault-0"].got, ["k0", "k1"], "the threshold's keys, no more");
                assert.deepStrictEqual(state["vault-1"].got, [], "an unsealed pod gets no key");
                // wrong keys: the pod stays sealed and is named
                state["vault-0"] = { sealed: true, got: [] };
                const wrong = await unsealPods({}, pods, ["only-one"], 2);
                assert.deepStrictEqual(wrong, ["vault-0"]);
            } finally {
                await new Promise<void>((r) => fake.close(() => r()));
            }
        });

        it("an unreachable Vault or an unexpected answer is 'unknown' (the provider's own error then speaks)", async () => {
            answer = { status: 502, body: { message: "bad gateway" } };
            assert.strictEqual(await probeSealStatus({ address: base }), undefined);
            const closed = http.createServer();
            await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
            const port = (closed.address() as AddressInfo).port;
            await new Promise<void>((r) => closed.close(() => r()));
            assert.strictEqual(await probeSealStatus({ address: `http://127.0.0.1:${port}` }), undefined);
            assert.strictEqual(await probeSealStatus({ address: "not a url" }), undefined);
        });
    });
});
