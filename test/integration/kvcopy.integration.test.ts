/**
 * kv-copy between two real Vault servers (issue 9 item 6): the bed's dev-mode Vault as the source and
 * a second Vault server started here on 127.0.0.1 as the target; values arrive intact and are never
 * printed. (The target is a dev server too: kv-copy only speaks Vault's KV v2 HTTP API, which is the
 * same for a durable Vault reached through a port-forward.)
 */
import * as assert from "assert";
import { ChildProcess, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { vaultRequest } from "../../ops/clients";
import { BED_DIR, BedEnv, REPO, freePort, requireBedOrSkip, spawnOwned, startBed, waitFor } from "./bed";

describe("integration: kv-copy from the dev-mode Vault to another Vault (issue 9 item 6)", function () {
    this.timeout(5 * 60 * 1000);
    let bed: BedEnv;
    let target: ChildProcess | undefined;
    let targetAddr = "";
    const targetToken = crypto.randomBytes(16).toString("hex");
    const SRC = "kvcopysrc";
    const VALUES: Record<string, Record<string, string>> = {
        "rustfs/cloudnativepg": { access_key: "copy-ak-1", access_secret_key: "copy-sk-1" },
        "homelab/grafana": { admin_password: "copy-grafana-1" },
    };

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed();
        const port = await freePort();
        targetAddr = `http://127.0.0.1:${port}`;
        const log = fs.openSync(path.join(BED_DIR, "logs", "kvcopy-target-vault.log"), "w");
        // the root token goes through the environment, never the command line
        target = spawnOwned("vault", ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, "-dev-no-store-token"], {
            env: { ...process.env, ...bed.env, VAULT_DEV_ROOT_TOKEN_ID: targetToken },
            stdio: ["ignore", log, log],
        });
        await waitFor("the target Vault", 30000, async () => (await vaultRequest(targetAddr, undefined, "GET", "sys/health")).status === 200);
        const mk = await vaultRequest(targetAddr, targetToken, "POST", "sys/mounts/kv", { type: "kv", options: { version: "2" } });
        assert.ok(mk.status < 300, mk.text);
        await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", `sys/mounts/${SRC}`, { type: "kv", options: { version: "2" } });
        for (const [p, data] of Object.entries(VALUES)) {
            const w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", `${SRC}/data/${p}`, { data });
            assert.ok(w.status < 300, w.text);
        }
    });

    after(async () => {
        target?.kill("SIGTERM");
        if (bed) {
            await vaultRequest(bed.vaultAddr, bed.vaultToken, "DELETE", `sys/mounts/${SRC}`).catch(() => undefined);
        }
    });

    it("copies every secret with its values intact, prints none, and keeps what the target already has", async () => {
        const run = (extra: string[] = []) =>
            spawnSync(
                process.execPath,
                [
                    "-r",
                    "ts-node/register/transpile-only",
                    path.join(REPO, "cli/kv-copy.ts"),
                    "--from",
                    bed.vaultAddr,
                    "--from-mount",
                    SRC,
                    "--to",
                    targetAddr,
                    ...extra,
                ],
                {
                    cwd: REPO,
                    env: { ...process.env, ...bed.env, FROM_VAULT_TOKEN: bed.vaultToken, TO_VAULT_TOKEN: targetToken },
                    encoding: "utf8",
                    timeout: 120000,
                },
            );
        const r = run();
        assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /copied 2 secret\(s\), skipped 0, failed 0/);
        for (const [p, data] of Object.entries(VALUES)) {
            const got = await vaultRequest(targetAddr, targetToken, "GET", `kv/data/${p}`);
            assert.deepStrictEqual(got.body?.data?.data, data, p);
        }
        const shown = r.stdout + r.stderr;
        assert.ok(!/copy-(ak|sk|grafana)/.test(shown), "no value printed");
        assert.ok(!shown.includes(targetToken) && !shown.includes(bed.vaultToken), "no token printed");
        const again = run();
        assert.strictEqual(again.status, 0);
        assert.match(again.stdout, /copied 0 secret\(s\), skipped 2/);
        const meta = await vaultRequest(targetAddr, targetToken, "GET", "kv/metadata/rustfs/cloudnativepg");
        assert.strictEqual(meta.body?.data?.current_version, 1, "a second run writes no new version");
    });
});
