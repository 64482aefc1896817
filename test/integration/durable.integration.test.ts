/**
 * Durable Vault (issue 9) on the bed's node: `vault.helm.mode` standalone and ha are initialised by
 * the first `pulumi up`, unseal themselves after pod deletions (the unsealer sidecar), keep their
 * values, and VSO syncs; Pulumi ends up with a scoped token (not root), and the unseal keys are only
 * in the keys Secret (never in the state file).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
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
                // and serving: an active node answers sys/health through the Service (200 = active, unsealed)
                await waitFor("an active Vault behind the Service", 180000, async () => {
                    const r = await kube("GET", `/api/v1/namespaces/${vaultNs}/services/http:${release}:8200/proxy/v1/sys/health`);
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
