/**
 * From dev to durable on the bed's node (issue 9, item 6), the path docs/durable-vault.md "From dev to durable" gives:
 * a homelab stack runs a dev-mode Vault (values written by hand, VSO syncing them); a second stack
 * brings up a standalone Vault next to it; `kv-copy` copies the KV tree across (tokens from the
 * environment, no value printed); the app moves to the durable stack and VSO serves it from there;
 * the dev Vault then loses everything (a restart) and nothing is missed.
 *
 * kv-copy reaches both Vaults at their pod IPs (the host routes the bed's pod range), where a user
 * would use `kubectl port-forward`: the same Vault API.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { HttpResult, kubeRequest, vaultRequest } from "../../ops/clients";
import { BedEnv, REPO, bedHasNode, freshStack, inClusterStackConfig, removeStack, requireBedOrSkip, startBed, waitFor } from "./bed";

describe("integration: a dev-mode stack moves its values to a durable Vault (issue 9, item 6) on the bed's node", function () {
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

    async function secretValue(ns: string, name: string, key: string): Promise<string | undefined> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/secrets/${name}`);
        return r.status === 200 && r.body.data?.[key] ? Buffer.from(r.body.data[key], "base64").toString() : undefined;
    }

    /** The Vault at a pod's IP once it answers unsealed. */
    async function vaultAt(ns: string, pod: string): Promise<string> {
        return waitFor(`${ns}/${pod} serving`, 180000, async () => {
            const r = await kube("GET", `/api/v1/namespaces/${ns}/pods/${pod}`);
            const ip = r.status === 200 && r.body.status?.phase === "Running" ? r.body.status.podIP : undefined;
            if (!ip) {
                return undefined;
            }
            const addr = `http://${ip}:8200`;
            const h = await vaultRequest(addr, "", "GET", "sys/seal-status").catch(() => undefined);
            return h?.status === 200 && h.body?.sealed === false ? addr : undefined;
        });
    }

    it("dev stack → standalone stack: kv-copy, move the app, the dev Vault restarts empty and the app keeps its value", async () => {
        const pid = process.pid;
        const DEV = `it-mig-dev-${pid}`;
        const DUR = `it-mig-dur-${pid}`;
        const app = { name: "mig-app", namespace: "mig", path: "mig/app", keys: ["password"], refreshAfter: "3s" };
        // the dev stack: the article's setup (dev Vault, VSO), the app's value written by hand into Vault
        const devConfig = (apps: unknown[]) => {
            const c = inClusterStackConfig(bed, apps, {});
            const v = JSON.parse(c["vault-vso-homelab:vault"].value);
            v.helm.namespace = "vault-mdev";
            v.helm.releaseName = "vault-mdev";
            c["vault-vso-homelab:vault"] = { value: JSON.stringify(v) };
            c["vault-vso-homelab:createNamespaces"] = { value: "true" };
            return c;
        };
        // the durable stack next to it: its own standalone Vault; VSO stays the dev stack's
        const durConfig = (apps: unknown[]) => {
            const c = inClusterStackConfig(bed, apps, {});
            const v = JSON.parse(c["vault-vso-homelab:vault"].value);
            v.helm.mode = "standalone";
            v.helm.namespace = "vault-mdur";
            v.helm.releaseName = "vault-mdur";
            v.helm.values.server.dataStorage = { size: "1Gi" };
            c["vault-vso-homelab:vault"] = { value: JSON.stringify(v) };
            c["vault-vso-homelab:operator"] = { value: JSON.stringify({ install: false }) };
            return c;
        };
        const dev: Stack = await freshStack(bed, DEV, devConfig([app]));
        let dur: Stack | undefined;
        try {
            assert.strictEqual((await dev.up({ onOutput: () => undefined })).summary.result, "succeeded");
            const devAddr = await vaultAt("vault-mdev", "vault-mdev-0");
            const devWrite = async (p: string, data: Record<string, string>) => {
                const r = await vaultRequest(devAddr, "root", "POST", `kv/data/${p}`, { data });
                assert.ok(r.status < 300, `writing ${p} into the dev Vault: ${r.status}`);
            };
            await devWrite(app.path, { password: "from-dev" });
            await devWrite("other/notes", { text: "not used by any app yet" });
            assert.strictEqual(await waitFor("VSO syncs the dev value", 180000, () => secretValue(app.namespace, app.name, "password")), "from-dev");

            // the durable Vault next to it, initialised by its first up
            dur = await freshStack(bed, DUR, durConfig([]));
            assert.strictEqual((await dur.up({ onOutput: () => undefined })).summary.result, "succeeded");
            const durAddr = await vaultAt("vault-mdur", "vault-mdur-0");
            const exported = JSON.parse(
                execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", DUR], {
                    cwd: REPO,
                    env: { ...process.env, ...bed.env },
                    encoding: "utf8",
                }),
            );
            const raw = exported.deployment.resources.find((r: any) => r.urn.endsWith("::homelab-vault-init"))?.outputs?.token;
            const durToken: string = typeof raw === "object" && raw?.plaintext !== undefined ? JSON.parse(raw.plaintext) : raw;
            assert.ok(typeof durToken === "string" && durToken.length > 10, "the durable stack's own token (not root: root was revoked)");

            // kv-copy, as README shows it: tokens in the environment, never on the command line
            const copy = spawnSync(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", path.join(REPO, "cli/kv-copy.ts"), "--from", devAddr, "--to", durAddr],
                {
                    cwd: REPO,
                    env: { ...process.env, ...bed.env, FROM_VAULT_TOKEN: "root", TO_VAULT_TOKEN: durToken },
                    encoding: "utf8",
                    timeout: 300000,
                },
            );
            assert.strictEqual(copy.status, 0, copy.stderr);
            const said = copy.stdout + copy.stderr;
            assert.match(said, /mig\/app/);
            assert.match(said, /other\/notes/);
            for (const secret of ["from-dev", "not used by any app yet", durToken]) {
                assert.ok(!said.includes(secret), "kv-copy prints paths and key counts, no value or token");
            }
            const copied = await vaultRequest(durAddr, durToken, "GET", "kv/data/other/notes");
            assert.strictEqual(copied.body?.data?.data?.text, "not used by any app yet");

            // move the app: out of the dev stack, into the durable one (its namespace already exists)
            await dev.setAllConfig(devConfig([]));
            assert.strictEqual((await dev.up({ onOutput: () => undefined })).summary.result, "succeeded");
            await dur.setAllConfig(durConfig([app]));
            assert.strictEqual((await dur.up({ onOutput: () => undefined })).summary.result, "succeeded");
            assert.strictEqual(await waitFor("VSO syncs from the durable Vault", 180000, () => secretValue(app.namespace, app.name, "password")), "from-dev");
            const conn = await kube("GET", `/apis/secrets.hashicorp.com/v1beta1/namespaces/${app.namespace}/vaultconnections/vault-connection`);
            assert.match(conn.body?.spec?.address ?? "", /vault-mdur/, "the app's VaultConnection points at the durable Vault");

            // the dev Vault restarts and loses everything; the app does not notice, and a new value
            // written into the durable Vault reaches it
            const uidOf = async () => (await kube("GET", "/api/v1/namespaces/vault-mdev/pods/vault-mdev-0")).body?.metadata?.uid;
            const oldUid = await uidOf();
            await kube("DELETE", "/api/v1/namespaces/vault-mdev/pods/vault-mdev-0", { gracePeriodSeconds: 1 });
            const w = await vaultRequest(durAddr, durToken, "POST", `kv/data/${app.path}`, { data: { password: "rotated-in-durable" } });
            assert.ok(w.status < 300, `writing into the durable Vault: ${w.status}`);
            assert.strictEqual(
                await waitFor("VSO follows the durable Vault", 120000, async () =>
                    (await secretValue(app.namespace, app.name, "password")) === "rotated-in-durable" ? "ok" : undefined,
                ),
                "ok",
            );
            await waitFor("the dev Vault pod replaced", 180000, async () => {
                const u = await uidOf();
                return u !== undefined && u !== oldUid;
            });
            const devAgain = await vaultAt("vault-mdev", "vault-mdev-0");
            assert.strictEqual((await vaultRequest(devAgain, "root", "GET", `kv/data/${app.path}`)).status, 404, "the dev Vault came back empty");
        } finally {
            for (const [s, name] of [
                [dur, DUR],
                [dev, DEV],
            ] as const) {
                if (s) {
                    await s
                        .destroy({ excludeProtected: true, onOutput: () => undefined })
                        .catch((e) => console.warn(`    [migrate] destroy ${name}: ${String(e).slice(0, 500)}`));
                    await removeStack(bed, name);
                }
            }
        }
    });
});
