/**
 * Durable Vault (issue 9) on the bed's node: `vault.helm.mode` standalone and ha are initialised by
 * the first `pulumi up`, unseal themselves after pod deletions (the unsealer sidecar), keep their
 * values, and VSO syncs; Pulumi ends up with a scoped token (not root), and the unseal keys are only
 * in the keys Secret (never in the state file) — or, with keysIn "pulumi", only in the encrypted state.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { HttpResult, kubeRequest } from "../../ops/clients";
import { BED_DIR, BedEnv, REPO, bedHasNode, freshStack, inClusterStackConfig, removeStack, requireBedOrSkip, startBed, waitFor } from "./bed";

describe("integration: durable Vault that initialises and unseals itself (issue 9) on the bed's node", function () {
    this.timeout(40 * 60 * 1000);
    let bed: BedEnv;
    const kube = (method: string, p: string, body?: unknown): Promise<HttpResult> => kubeRequest(bed.kube, method, p, body);

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true, vso: false });
        if (!bedHasNode()) {
            if (process.env.PVV_REQUIRE_NODE === "1") {
                throw new Error("this suite needs the bed's node: see scripts/bed.sh status");
            }
            this.skip();
        }
    });

    async function sealStatus(ns: string, pod: string): Promise<any | undefined> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/pods/${pod}:8200/proxy/v1/sys/seal-status`).catch(() => undefined);
        return r?.status === 200 ? r.body : undefined;
    }

    async function secretValue(ns: string, name: string, key: string): Promise<string | undefined> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/secrets/${name}`);
        return r.status === 200 && r.body.data?.[key] ? Buffer.from(r.body.data[key], "base64").toString() : undefined;
    }

    /** The stack config of a durable Vault of its own (namespace, release) with the app's value. */
    function durableConfig(mode: "standalone" | "ha", tag: string, app: any, value: string, unseal?: Record<string, unknown>) {
        const c = inClusterStackConfig(bed, [app], { [app.name]: { token: value } });
        const v = JSON.parse(c["vault-vso-homelab:vault"].value);
        v.helm.mode = mode;
        v.helm.namespace = `vault-${tag}`;
        // its own release name: the chart's ClusterRoleBinding is named after the release
        v.helm.releaseName = `vault-${tag}`;
        v.helm.values.server.dataStorage = { size: "1Gi" };
        if (mode === "ha") {
            // one node: the chart's one-pod-per-node anti-affinity would leave two pods Pending
            v.helm.values.server.affinity = "";
        }
        if (unseal) {
            v.helm.unseal = unseal;
        }
        c["vault-vso-homelab:vault"] = { value: JSON.stringify(v) };
        c["vault-vso-homelab:createNamespaces"] = { value: "true" };
        return c;
    }

    it('keysIn "pulumi": the keys only in the encrypted state (no Secret, no unsealer); a restarted Vault stays sealed, preview says so, pulumi up unseals it with the value intact; the keys cannot move afterwards', async () => {
        const tag = "stpul";
        const STACK = `it-durable-${tag}-${process.pid}`;
        const vaultNs = `vault-${tag}`;
        const pod = `vault-${tag}-0`;
        const app = { name: "dur-app", namespace: `dur-${tag}`, path: `dur/${tag}`, keys: ["token"], refreshAfter: "3s", managed: true };
        const config = (value: string, keysIn = "pulumi") => durableConfig("standalone", tag, app, value, { keysIn });
        const stack: Stack = await freshStack(bed, STACK, config("v1"));
        try {
            const res = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(res.summary.result, "succeeded");
            assert.strictEqual((await sealStatus(vaultNs, pod))?.sealed, false, "the first up initialised and unsealed it");
            assert.strictEqual(await waitFor("VSO's Secret", 180000, () => secretValue(app.namespace, app.name, "token")), "v1");

            // no keys in the cluster: no Secret, no unsealer container, nothing mounted
            assert.strictEqual((await kube("GET", `/api/v1/namespaces/${vaultNs}/secrets/vault-unseal-keys`)).status, 404);
            const spec = (await kube("GET", `/api/v1/namespaces/${vaultNs}/pods/${pod}`)).body.spec;
            assert.deepStrictEqual(
                spec.containers.map((c: any) => c.name),
                ["vault"],
                "no unsealer sidecar",
            );
            // the keys are in the state, encrypted: readable only with the stack's secrets
            const exported = JSON.parse(
                execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", STACK], {
                    cwd: REPO,
                    env: { ...process.env, ...bed.env },
                    encoding: "utf8",
                }),
            );
            const init = exported.deployment.resources.find((r: any) => r.urn.endsWith("::homelab-vault-init"));
            const raw = init?.outputs?.unsealKeys;
            const keys: string[] = typeof raw === "object" && raw?.plaintext !== undefined ? JSON.parse(raw.plaintext) : raw;
            assert.ok(Array.isArray(keys) && keys.length === 5 && keys.every((k) => typeof k === "string" && k.length > 20), "5 shares in VaultInit's outputs");
            const state = fs.readFileSync(path.join(BED_DIR, "pulumi-state/.pulumi/stacks/vault-vso-homelab", `${STACK}.json`), "utf8");
            for (const k of keys) {
                assert.ok(!state.includes(k), "no unseal key in plaintext in the state file");
            }

            // a restart: the new pod stays sealed (nothing in the cluster can unseal it)
            const oldUid = (await kube("GET", `/api/v1/namespaces/${vaultNs}/pods/${pod}`)).body.metadata.uid;
            await kube("DELETE", `/api/v1/namespaces/${vaultNs}/pods/${pod}`, { gracePeriodSeconds: 1 });
            await waitFor("the new pod answering, sealed", 300000, async () => {
                const r = await kube("GET", `/api/v1/namespaces/${vaultNs}/pods/${pod}`);
                return r.status === 200 && r.body.metadata.uid !== oldUid && (await sealStatus(vaultNs, pod))?.sealed === true;
            });
            await new Promise((r) => setTimeout(r, 15000));
            assert.strictEqual((await sealStatus(vaultNs, pod))?.sealed, true, "still sealed 15 s later: nothing unseals it but pulumi up");

            // preview names it and what to do, and changes nothing (the provider's address stays unknown:
            // the update unseals). A --refresh preview refreshes before the program runs, so it stops at
            // the provider's own "Vault is sealed"; README says to run pulumi up.
            const previewOut: string[] = [];
            await stack.preview({ onOutput: (o) => previewOut.push(o) });
            assert.match(previewOut.join(""), /vault-stpul-0 in vault-stpul are sealed: pulumi up unseals them/);
            assert.strictEqual((await sealStatus(vaultNs, pod))?.sealed, true, "a preview does not unseal");

            // the CLI's pulumi up (its preview first, then the update) unseals it, then applies the new value
            await stack.setAllConfig(config("v2"));
            const cli = spawnSync("pulumi", ["up", "--yes", "--non-interactive", "--stack", STACK], {
                cwd: REPO,
                env: { ...process.env, ...bed.env },
                encoding: "utf8",
                timeout: 600000,
            });
            const said = cli.stdout + cli.stderr;
            assert.strictEqual(cli.status, 0, said.slice(-3000));
            assert.match(said, /unsealed Vault pod\(s\) vault-stpul-0/);
            for (const k of keys) {
                assert.ok(!said.includes(k), "no key printed");
            }
            assert.strictEqual((await sealStatus(vaultNs, pod))?.sealed, false);
            assert.ok(await waitFor("VSO syncs v2", 120000, async () => (await secretValue(app.namespace, app.name, "token")) === "v2"));
            const pre = await stack.preview({ refresh: true, onOutput: () => undefined });
            const changed = Object.entries(pre.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
            assert.deepStrictEqual(changed, [], "the value survived the restart, and a second up changes nothing");

            // moving the keys afterwards is refused before anything changes
            await stack.setAllConfig(config("v2", "secret"));
            const moveErr = await stack.up({ onOutput: () => undefined }).then(
                () => "",
                (e) => String(e),
            );
            assert.match(moveErr, /keysIn was "pulumi" when this Vault was initialised and cannot change to "secret"/);
            assert.strictEqual((await kube("GET", `/api/v1/namespaces/${vaultNs}/pods/${pod}`)).body.spec.containers.length, 1, "the release was not changed");

            // removing the stack: the data stays in the PVC and the keys go to a 0600 file, not away with the state
            // (a protected KV mount keeps the provider and VaultInit in the stack: unprotected here to remove all)
            const last = config("v2");
            last["vault-vso-homelab:kv"] = { value: JSON.stringify({ protect: false }) };
            await stack.setAllConfig(last);
            assert.strictEqual((await stack.up({ onOutput: () => undefined })).summary.result, "succeeded");
            const recovery = path.join(os.homedir(), ".cache", "pulumi-vault-vso", "recovery");
            const before = new Set(fs.existsSync(recovery) ? fs.readdirSync(recovery) : []);
            const destroyOut: string[] = [];
            await stack.destroy({ onOutput: (o) => destroyOut.push(o) });
            const saved = fs.existsSync(recovery) ? fs.readdirSync(recovery).filter((f) => !before.has(f) && f.startsWith(`${vaultNs}_${pod}-deleted-`)) : [];
            assert.strictEqual(
                saved.length,
                1,
                `the keys were saved when the state went; destroy said:\n${destroyOut
                    .join("")
                    .split("\n")
                    .filter((l) => /vault-init|error/i.test(l))
                    .join("\n")}`,
            );
            const file = path.join(recovery, saved[0]);
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")).keys_base64, keys);
            fs.rmSync(file);
        } finally {
            await stack
                .destroy({ excludeProtected: true, onOutput: () => undefined })
                .catch((e) => console.warn(`    [durable] destroy: ${String(e).slice(0, 500)}`));
            await removeStack(bed, STACK);
        }
    });

    for (const [mode, replicas] of [
        ["standalone", 1],
        ["ha", 3],
    ] as const) {
        it(`${mode}: one up initialises and unseals it, VSO syncs; pods deleted unseal themselves with the value intact; a second up changes nothing`, async () => {
            const STACK = `it-durable-${mode}-${process.pid}`;
            const vaultNs = `vault-${mode}`;
            const appNs = `dur-${mode}`;
            const release = `vault-${mode}`;
            const app = { name: "dur-app", namespace: appNs, path: `dur/${mode}`, keys: ["token"], refreshAfter: "3s", managed: true };
            const config = (value: string) => {
                const c = inClusterStackConfig(bed, [app], { [app.name]: { token: value } });
                const v = JSON.parse(c["vault-vso-homelab:vault"].value);
                v.helm.mode = mode;
                v.helm.namespace = vaultNs;
                // its own release name: the chart's ClusterRoleBinding is named after the release
                v.helm.releaseName = release;
                v.helm.values.server.dataStorage = { size: "1Gi" };
                if (mode === "ha") {
                    // one node: the chart's one-pod-per-node anti-affinity would leave two pods Pending
                    v.helm.values.server.affinity = "";
                }
                c["vault-vso-homelab:vault"] = { value: JSON.stringify(v) };
                c["vault-vso-homelab:createNamespaces"] = { value: "true" };
                return c;
            };
            const stack: Stack = await freshStack(bed, STACK, config("v1"));
            try {
                const res = await stack.up({ onOutput: () => undefined });
                assert.strictEqual(res.summary.result, "succeeded");
                const pods = Array.from({ length: replicas }, (_, i) => `${release}-${i}`);
                for (const pod of pods) {
                    const st = await waitFor(`${pod} unsealed`, 180000, async () =>
                        (await sealStatus(vaultNs, pod))?.sealed === false ? await sealStatus(vaultNs, pod) : undefined,
                    );
                    assert.strictEqual(st.initialized, true);
                    assert.strictEqual(st.storage_type, "raft");
                }
                assert.strictEqual(await waitFor("VSO's Secret", 180000, () => secretValue(appNs, app.name, "token")), "v1");

                // the keys live only in the keys Secret
                const keys = await kube("GET", `/api/v1/namespaces/${vaultNs}/secrets/vault-unseal-keys`);
                assert.strictEqual(keys.status, 200);
                const shares = Object.values(keys.body.data as Record<string, string>).map((b) => Buffer.from(b, "base64").toString());
                assert.strictEqual(shares.length, 5, "5 shares by default");
                const stateFile = path.join(BED_DIR, "pulumi-state/.pulumi/stacks/vault-vso-homelab", `${STACK}.json`);
                const state = fs.readFileSync(stateFile, "utf8");
                for (const share of shares) {
                    assert.ok(!state.includes(share), "no unseal key in the state file");
                }
                // Pulumi's token is the scoped one, not root
                const exported = JSON.parse(
                    execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", STACK], {
                        cwd: REPO,
                        env: { ...process.env, ...bed.env },
                        encoding: "utf8",
                    }),
                );
                const init = exported.deployment.resources.find((r: any) => r.urn.endsWith("::homelab-vault-init"));
                // (--show-secrets prints a secret as { <sig>: ..., plaintext: "<JSON>" })
                const raw = init?.outputs?.token;
                const token = typeof raw === "object" && raw?.plaintext !== undefined ? JSON.parse(raw.plaintext) : raw;
                assert.ok(typeof token === "string" && token.length > 10, "VaultInit recorded Pulumi's token");
                assert.ok(!state.includes(token), "the token is encrypted in the state file");
                const self = await kubeRequest(
                    bed.kube,
                    "GET",
                    `/api/v1/namespaces/${vaultNs}/services/http:${release}:8200/proxy/v1/auth/token/lookup-self`,
                    undefined,
                    undefined,
                    {
                        "X-Vault-Token": token,
                    },
                );
                assert.strictEqual(self.status, 200, `lookup-self: ${self.status}`);
                assert.deepStrictEqual(self.body.data.policies, ["pulumi-vault-vso"], "not root: only the package's policy");

                // delete the pods: their replacements (new UIDs) come back sealed and unseal themselves
                const uidOf = async (pod: string): Promise<string | undefined> => {
                    const r = await kube("GET", `/api/v1/namespaces/${vaultNs}/pods/${pod}`);
                    return r.status === 200 && !r.body.metadata.deletionTimestamp ? r.body.metadata.uid : undefined;
                };
                const oldUids = new Set(await Promise.all(pods.map(uidOf)));
                const t0 = Date.now();
                for (const pod of pods) {
                    await kube("DELETE", `/api/v1/namespaces/${vaultNs}/pods/${pod}`, { gracePeriodSeconds: 1 });
                }
                for (const pod of pods) {
                    await waitFor(`a new ${pod} unsealed after the deletion`, 300000, async () => {
                        const u = await uidOf(pod);
                        return u !== undefined && !oldUids.has(u) && (await sealStatus(vaultNs, pod))?.sealed === false;
                    });
                }
                const unsealedAfter = (Date.now() - t0) / 1000;
                console.log(`    [durable] ${mode}: ${replicas} pod(s) deleted -> all replacements unsealed in ${unsealedAfter.toFixed(1)} s`);
                // and serving: an active node answers sys/health through the Service Pulumi uses (200 =
                // active, unsealed); in ha that is the active node's Service: a standby would redirect
                // Pulumi to a plain-http pod address ("redirect would cause protocol downgrade")
                const providerService = mode === "ha" ? `${release}-active` : release;
                const provider = JSON.parse(state).checkpoint.latest.resources.find((r: any) => r.type === "pulumi:providers:vault");
                assert.match(String(provider?.inputs?.address), new RegExp(`/services/http:${providerService}:8200/proxy$`), "the provider's Service");
                await waitFor("an active Vault behind the Service", 180000, async () => {
                    const r = await kube("GET", `/api/v1/namespaces/${vaultNs}/services/http:${providerService}:8200/proxy/v1/sys/health`);
                    return r.status === 200;
                });
                // the value is intact: a refresh-preview reads it back from Vault and finds nothing changed
                const pre0 = await stack.preview({ refresh: true, onOutput: () => undefined });
                const drift = Object.entries(pre0.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
                assert.deepStrictEqual(drift, [], "after the restart, Vault still holds exactly what the stack wrote");
                // and VSO keeps syncing: a new value through Pulumi (with its token) reaches the Secret
                await stack.setAllConfig(config("v2"));
                const res2 = await stack.up({ onOutput: () => undefined });
                assert.strictEqual(res2.summary.result, "succeeded");
                assert.ok(await waitFor("VSO syncs v2", 120000, async () => (await secretValue(appNs, app.name, "token")) === "v2"));
                const pre = await stack.preview({ onOutput: () => undefined });
                const changed = Object.entries(pre.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
                assert.deepStrictEqual(changed, [], "a second up changes nothing");
            } finally {
                // (also after a failure: the next mode installs VSO and a Vault of its own)
                await stack
                    .destroy({ excludeProtected: true, onOutput: () => undefined })
                    .catch((e) => console.warn(`    [durable] destroy: ${String(e).slice(0, 500)}`));
                await removeStack(bed, STACK);
            }
        });
    }
});
