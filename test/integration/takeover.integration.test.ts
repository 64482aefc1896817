/**
 * Object names that may already exist (issue 8, item 4): VaultNamespaceAccess refuses to create a
 * policy or role over one that already exists in Vault and that the stack did not create, and leaves
 * it as it is — also on `destroy`. Runs a real `pulumi up` (Automation API, local file backend) against a
 * Vault dev server of its own on 127.0.0.1; the shared bed is not needed. Three times: as an inline
 * program and as a file program run by the tool chain's Node.js language host (the engine's resource
 * hooks guard the creates), and as the file program forced to the TakeoverClaims a host that cannot
 * forward hooks uses (issue 20).
 */
import * as assert from "assert";
import { ChildProcess, execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { Access, takeoverProgram } from "./programs/takeover/program";
import { vaultRequest } from "../../ops/clients";
import { TOOLS_DIR, freePort, requireBedOrSkip, spawnOwned, waitFor } from "./bed";

/** The Pulumi and Vault tools' environment (env.pulumi.sh, env.servers.sh), without the bed's. */
function toolEnv(): Record<string, string> {
    const script = `set -e; source "${TOOLS_DIR}/env.pulumi.sh"; source "${TOOLS_DIR}/env.servers.sh"; node -e 'process.stdout.write(JSON.stringify(process.env))'`;
    return JSON.parse(execFileSync("bash", ["-c", script], { encoding: "utf8" })) as Record<string, string>;
}

const PROJECT = "vault-vso-takeover-it";
const FILE_PROGRAM = path.join(__dirname, "programs/takeover");

// inline: the Automation API's inline program, resource hooks; file: the Node.js language host (the tool
// chain's, patched to reach the engine's monitor), resource hooks; file-claims: the same forced to the
// claims of a host that cannot forward hooks (PULUMI_VAULT_VSO_TAKEOVER_GUARD=claim)
const MODES = {
    inline: "inline program, resource hooks",
    file: "file program through the language host, resource hooks",
    "file-claims": "file program, claims (issue 20; PULUMI_VAULT_VSO_TAKEOVER_GUARD=claim)",
} as const;

for (const [mode, label] of Object.entries(MODES) as [keyof typeof MODES, string][]) {
    describe(`integration: policies and roles that already exist in Vault are not taken over (issue 8 item 4; ${label})`, function () {
        this.timeout(10 * 60 * 1000);
        let server: ChildProcess | undefined;
        let addr = "";
        const token = crypto.randomBytes(16).toString("hex");
        let work = "";
        let envVars: Record<string, string> = {};
        const stacks: Stack[] = [];

        const v = (method: string, p: string, body?: unknown) => vaultRequest(addr, token, method, p, body);

        /** A stack of an inline program: one VaultNamespaceAccess per entry of config `access`, or an imported policy. */
        async function newStack(name: string, access: Access[], extra: Record<string, string> = {}): Promise<Stack> {
            const stack =
                mode === "inline"
                    ? await LocalWorkspace.createStack(
                          { stackName: name, projectName: PROJECT, program: async () => takeoverProgram(addr, token) },
                          { workDir: work, envVars },
                      )
                    : await LocalWorkspace.createStack({ stackName: name, workDir: FILE_PROGRAM }, { envVars });
            if (mode !== "inline") {
                await stack.setConfig("address", { value: addr });
                await stack.setConfig("token", { value: token, secret: true });
            }
            await stack.setConfig("access", { value: JSON.stringify(access) });
            for (const [k, val] of Object.entries(extra)) {
                await stack.setConfig(k, { value: val });
            }
            stacks.push(stack);
            return stack;
        }

        async function upFails(stack: Stack, pattern: RegExp): Promise<string> {
            let out = "";
            await assert.rejects(stack.up({ onOutput: (s) => (out += s) }), (e: Error) => {
                out += e.message;
                return true;
            });
            assert.match(out, pattern);
            assert.ok(!out.includes(token), "the token is never printed");
            return out;
        }

        const policyText = async (name: string) => {
            const r = await v("GET", `sys/policies/acl/${name}`);
            return r.status === 200 ? (r.body?.data?.policy as string) : undefined;
        };
        const roleOf = async (name: string) => {
            const r = await v("GET", `auth/kubernetes/role/${name}`);
            return r.status === 200 ? (r.body?.data as Record<string, unknown>) : undefined;
        };

        before(async function () {
            requireBedOrSkip(this);
            const tools = toolEnv();
            for (const k of ["PATH", "PULUMI_HOME", "PULUMI_SKIP_UPDATE_CHECK"]) {
                if (tools[k] !== undefined) {
                    process.env[k] = tools[k];
                }
            }
            work = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-takeover-"));
            fs.mkdirSync(path.join(work, "state"));
            envVars = {
                PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
                PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(12).toString("hex"),
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
                PULUMI_SKIP_UPDATE_CHECK: "true",
                ...(mode === "file-claims" ? { PULUMI_VAULT_VSO_TAKEOVER_GUARD: "claim" } : {}),
            };
            const port = await freePort();
            addr = `http://127.0.0.1:${port}`;
            const log = fs.openSync(path.join(work, "vault.log"), "w");
            // the root token goes through the environment, never the command line
            server = spawnOwned("vault", ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, "-dev-no-store-token"], {
                env: { ...process.env, ...tools, VAULT_DEV_ROOT_TOKEN_ID: token },
                stdio: ["ignore", log, log],
            });
            await waitFor("the test's Vault", 30000, async () => (await vaultRequest(addr, undefined, "GET", "sys/health")).status === 200);
            const auth = await v("POST", "sys/auth/kubernetes", { type: "kubernetes" });
            assert.ok(auth.status < 300, auth.text);
        });

        after(async function () {
            for (const s of stacks) {
                await s.workspace.removeStack(s.name, { force: true } as any).catch(() => undefined);
                fs.rmSync(path.join(FILE_PROGRAM, `Pulumi.${s.name}.yaml`), { force: true });
            }
            server?.kill("SIGTERM");
            if (work) {
                fs.rmSync(work, { recursive: true, force: true });
            }
        });

        it("a hand-made policy of the same name: preview and up fail naming it, it is unchanged, nothing else is created, destroy leaves it", async () => {
            const handMade = 'path "secret/*" { capabilities = ["read", "list"] }\n';
            assert.ok((await v("PUT", "sys/policies/acl/vso-admin-read", { policy: handMade })).status < 300);
            const stack = await newStack("policy-exists", [{ namespace: "admin", paths: ["admin/app"] }]);

            let previewOut = "";
            await assert.rejects(stack.preview({ onOutput: (s) => (previewOut += s) }), (e: Error) => {
                previewOut += e.message;
                return true;
            });
            assert.match(previewOut, /Vault policy "vso-admin-read" already exists in Vault and was not created by this stack/, "the preview already says so");

            const out = await upFails(stack, /Vault policy "vso-admin-read" already exists in Vault and was not created by this stack/);
            assert.match(out, /npm run adopt/);
            assert.match(out, /vault policy delete vso-admin-read/);
            assert.match(out, /policyNameTemplate/);
            assert.strictEqual(await policyText("vso-admin-read"), handMade, "the hand-made policy is unchanged");
            assert.strictEqual(await roleOf("vso-admin"), undefined, "no role was created with the refused policy");

            const state = await stack.exportStack();
            const types = (state.deployment.resources ?? []).map((r: { type: string }) => r.type);
            assert.ok(!types.includes("vault:index/policy:Policy"), `the policy is not in the stack's state: ${types.join(", ")}`);

            await stack.destroy({ onOutput: () => undefined });
            assert.strictEqual(await policyText("vso-admin-read"), handMade, "destroy does not delete the hand-made policy");
        });

        it("a hand-made role of the same name: up fails naming it, the role is unchanged, destroy leaves it", async () => {
            const handRole = { bound_service_account_names: ["legacy"], bound_service_account_namespaces: ["other"], token_policies: ["legacy-read"] };
            assert.ok((await v("POST", "auth/kubernetes/role/vso-ops", handRole)).status < 300);
            const before = await roleOf("vso-ops");
            const stack = await newStack("role-exists", [{ namespace: "ops", paths: ["ops/app"] }]);

            const out = await upFails(stack, /Kubernetes auth role "vso-ops" \(auth\/kubernetes\) already exists in Vault and was not created by this stack/);
            assert.match(out, /vault delete auth\/kubernetes\/role\/vso-ops/);
            assert.deepStrictEqual(await roleOf("vso-ops"), before, "the hand-made role is unchanged");

            await stack.destroy({ onOutput: () => undefined });
            assert.deepStrictEqual(await roleOf("vso-ops"), before, "destroy does not delete the hand-made role");
            assert.strictEqual(await policyText("vso-ops-read"), undefined, "the stack's own new policy is deleted by destroy as usual");
        });

        it("no object of that name: up creates it; a second up changes nothing; an update of the paths works; a rename checks the new name", async () => {
            const stack = await newStack("fresh", [{ namespace: "apps", paths: ["apps/one"] }]);
            const first = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(first.summary.result, "succeeded");
            assert.match((await policyText("vso-apps-read")) ?? "", /kv\/data\/apps\/one/);
            assert.deepStrictEqual((await roleOf("vso-apps"))?.bound_service_account_namespaces, ["apps"]);
            const types = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type);
            assert.strictEqual(
                types.some((t: string) => t.endsWith("pulumi-vault-vso:TakeoverClaim")),
                mode === "file-claims",
                `the guard is ${mode === "file-claims" ? "a claim per object" : "a hook: no claim in the state"} (${types.join(", ")})`,
            );

            const second = await stack.up({ onOutput: () => undefined });
            const changed = Object.entries(second.summary.resourceChanges ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
            assert.deepStrictEqual(changed, [], "a second up changes nothing");

            // an update of the policy (it exists: the stack's own) is not a create: the hook does not run
            await stack.setConfig("access", { value: JSON.stringify([{ namespace: "apps", paths: ["apps/one", "apps/two"] }]) });
            const upd = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(upd.summary.result, "succeeded");
            assert.strictEqual(upd.summary.resourceChanges?.update, 1, JSON.stringify(upd.summary.resourceChanges));
            assert.match((await policyText("vso-apps-read")) ?? "", /kv\/data\/apps\/two/);

            // a rename creates a policy of the new name: the hook checks that name, already in the preview
            const renamed = 'path "legacy/*" { capabilities = ["read"] }\n';
            assert.ok((await v("PUT", "sys/policies/acl/apps-custom-read", { policy: renamed })).status < 300);
            await stack.setConfig("access", {
                value: JSON.stringify([{ namespace: "apps", paths: ["apps/one", "apps/two"], policyName: "apps-custom-read" }]),
            });
            let previewOut = "";
            await assert.rejects(stack.preview({ onOutput: (s) => (previewOut += s) }), (e: Error) => {
                previewOut += e.message;
                return true;
            });
            assert.match(previewOut, /Vault policy "apps-custom-read" already exists/);
            assert.match((await policyText("vso-apps-read")) ?? "", /kv\/data\/apps\/two/, "after the preview the stack's policy is as it was");
            // an up without a preview (the Automation API's up) is refused at the create; the provider replaces
            // a policy delete-first, so the stack's old policy is gone by then, but the hand-made one is kept
            await upFails(stack, /Vault policy "apps-custom-read" already exists/);
            assert.strictEqual(await policyText("apps-custom-read"), renamed, "the hand-made policy of the new name is unchanged");

            assert.ok((await v("DELETE", "sys/policies/acl/apps-custom-read")).status < 300);
            const rn = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(rn.summary.result, "succeeded");
            assert.match((await policyText("apps-custom-read")) ?? "", /kv\/data\/apps\/two/);
            assert.deepStrictEqual((await roleOf("vso-apps"))?.token_policies, ["apps-custom-read"]);
            assert.strictEqual(await policyText("vso-apps-read"), undefined, "the stack's old policy is deleted after the rename");

            await stack.destroy({ onOutput: () => undefined });
            assert.strictEqual(await policyText("apps-custom-read"), undefined);
            assert.strictEqual(await roleOf("vso-apps"), undefined);
        });

        it("a VaultNamespaceAccessSet: a hand-made policy of one entry refuses the up, its other entries' objects only after; a namespace added later is checked", async () => {
            const handMade = 'path "secret/*" { capabilities = ["read"] }\n';
            assert.ok((await v("PUT", "sys/policies/acl/vso-setb-read", { policy: handMade })).status < 300);
            const stack = await newStack(
                "set",
                [
                    { namespace: "seta", paths: ["seta/app"] },
                    { namespace: "setb", paths: ["setb/app"] },
                ],
                { set: "true" },
            );
            await upFails(stack, /Vault policy "vso-setb-read" already exists in Vault and was not created by this stack/);
            assert.strictEqual(await policyText("vso-setb-read"), handMade, "unchanged");
            if (mode === "file-claims") {
                // every object of the set waits for the one claim set (hooks guard each object alone)
                assert.strictEqual(await policyText("vso-seta-read"), undefined, "nothing of the set was written");
            }

            await stack.setConfig("access", { value: JSON.stringify([{ namespace: "seta", paths: ["seta/app"] }]) });
            const ok = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(ok.summary.result, "succeeded");
            assert.match((await policyText("vso-seta-read")) ?? "", /kv\/data\/seta\/app/);
            const types = (await stack.exportStack()).deployment.resources.map((r: { type: string }) => r.type);
            const claims = types.filter((t: string) => /pulumi-vault-vso:TakeoverClaim/.test(t));
            assert.deepStrictEqual(
                claims,
                mode === "file-claims" ? ["pulumi-nodejs:dynamic/pulumi-vault-vso:TakeoverClaimSet"] : [],
                "one claim set for the whole set, or hooks",
            );

            // the set's own object changed in Vault's copy and in the program: an update, not refused
            await stack.setConfig("access", { value: JSON.stringify([{ namespace: "seta", paths: ["seta/app", "seta/two"] }]) });
            assert.strictEqual((await stack.up({ onOutput: () => undefined })).summary.result, "succeeded", "the stack's own policy updates");
            // a namespace added later whose policy exists by hand: refused, the others untouched
            await stack.setConfig("access", {
                value: JSON.stringify([
                    { namespace: "seta", paths: ["seta/app", "seta/two"] },
                    { namespace: "setb", paths: ["setb/app"] },
                ]),
            });
            await upFails(stack, /Vault policy "vso-setb-read" already exists/);
            assert.strictEqual(await policyText("vso-setb-read"), handMade);
            assert.match((await policyText("vso-seta-read")) ?? "", /seta\/two/);
            await stack.setConfig("access", { value: JSON.stringify([{ namespace: "seta", paths: ["seta/app"] }]) });
            await stack.destroy({ onOutput: () => undefined });
            assert.strictEqual(await policyText("vso-setb-read"), handMade, "destroy leaves the hand-made policy");
            assert.strictEqual(await policyText("vso-seta-read"), undefined, "and removes the set's own");
        });

        it("an imported (adopted) policy is not refused: import does not run the create hook", async () => {
            const text = 'path "kv/data/adopted/*" { capabilities = ["read"] }\n';
            assert.ok((await v("PUT", "sys/policies/acl/adopted-read", { policy: text })).status < 300);
            const stack = await newStack("adopt", [], { importPolicy: "adopted-read", importText: text });
            const res = await stack.up({ onOutput: () => undefined });
            assert.strictEqual(res.summary.result, "succeeded");
            assert.strictEqual(res.summary.resourceChanges?.import, 1, JSON.stringify(res.summary.resourceChanges));
            assert.strictEqual(await policyText("adopted-read"), text);
            await stack.destroy({ onOutput: () => undefined });
            assert.strictEqual(await policyText("adopted-read"), text, "retainOnDelete keeps the adopted policy");
        });
    });
}
