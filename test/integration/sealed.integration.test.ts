/**
 * A sealed Vault at preview and up (issue 9, item 7), against the real engine and a real Vault: the run
 * stops before any Vault resource with one message that says the Vault is sealed and what to do, and
 * prints no token; once unsealed, the same stack goes through.
 */
import * as assert from "assert";
import { ChildProcess } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { vaultRequest } from "../../ops/clients";
import { BED_DIR, BedEnv, bedStackConfig, freePort, freshStack, removeStack, requireBedOrSkip, spawnOwned, startBed, waitFor } from "./bed";

const STACK = `it-sealed-${process.pid}`;
const APP = { name: "sealed-app", namespace: "sealed-ns", path: "sealed/app", keys: ["k"] };

describe("integration: a sealed Vault is named at preview and up (issue 9, item 7)", function () {
    this.timeout(10 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;
    let server: ChildProcess | undefined;
    let addr = "";
    const token = crypto.randomBytes(16).toString("hex");
    const logFile = () => path.join(BED_DIR, "logs", `sealed-vault-${process.pid}.log`);
    const v = (method: string, p: string, body?: unknown) => vaultRequest(addr, token, method, p, body);

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed();
        const port = await freePort();
        addr = `http://127.0.0.1:${port}`;
        const log = fs.openSync(logFile(), "w", 0o600);
        // the root token goes through the environment, never the command line
        server = spawnOwned("vault", ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, "-dev-no-store-token"], {
            env: { ...process.env, ...bed.env, VAULT_DEV_ROOT_TOKEN_ID: token },
            stdio: ["ignore", log, log],
        });
        await waitFor("the Vault dev server", 30000, async () => (await vaultRequest(addr, undefined, "GET", "sys/health")).status === 200);
        const config = bedStackConfig(bed, [APP], {});
        config["vault-vso-homelab:vault"] = { value: JSON.stringify({ install: false, address: addr, allowInsecureHttp: true }) };
        config["vault:token"] = { value: token, secret: true };
        stack = await freshStack(bed, STACK, config);
    });

    after(async function () {
        if (bed && stack) {
            await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
            await removeStack(bed, STACK);
        }
        server?.kill("SIGTERM");
        fs.rmSync(logFile(), { force: true });
    });

    it("sealed: preview and up stop with the fix and touch nothing; unsealed: up goes through", async () => {
        const sealed = await v("PUT", "sys/seal");
        assert.ok(sealed.status < 300, sealed.text);
        const mountsBefore = (await vaultRequest(addr, undefined, "GET", "sys/seal-status")).body;
        assert.strictEqual(mountsBefore.sealed, true);

        let out = "";
        const collect = (s: string) => {
            out += s;
        };
        await assert.rejects(stack.preview({ onOutput: collect }), (e: Error) => {
            out += String(e);
            return true;
        });
        assert.match(out, new RegExp(`Vault at ${addr.replace(/[.]/g, "\\.")} is sealed \\(0 of 1 unseal keys given\\)`));
        assert.match(out, /vault operator unseal/);
        assert.ok(!out.includes(token), "the token is never printed");

        out = "";
        await assert.rejects(stack.up({ onOutput: collect }), (e: Error) => {
            out += String(e);
            return true;
        });
        assert.match(out, /is sealed/);
        assert.ok(!out.includes(token), "the token is never printed");

        // unseal with the dev server's key (from its own log), and the same stack goes through
        const key = /Unseal Key: (\S+)/.exec(fs.readFileSync(logFile(), "utf8"))?.[1];
        assert.ok(key, "the dev server printed its unseal key");
        const unsealed = await vaultRequest(addr, undefined, "PUT", "sys/unseal", { key });
        assert.strictEqual(unsealed.body.sealed, false, unsealed.text);
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        const role = await v("GET", `auth/kubernetes/role/vso-${APP.namespace}`);
        assert.strictEqual(role.status, 200, role.text);

        // sealed again after an up: a refresh preview fails too (the refresh runs before the program, so
        // this is the provider's own "Vault is sealed", not the platform's message), and changes nothing
        assert.ok((await v("PUT", "sys/seal")).status < 300);
        out = "";
        await assert.rejects(stack.preview({ refresh: true, onOutput: collect } as never), (e: Error) => {
            out += String(e);
            return true;
        });
        assert.match(out, /Vault is sealed/);
    });
});
