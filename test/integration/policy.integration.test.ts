/**
 * The policy pack (policy/, issue 22 item 3) through the real engine, as a user runs it on any stack:
 * `pulumi preview --policy-pack policy` (the Automation API's `policyPacks`), the pack run by the Node.js
 * language host's RunPlugin (scripts/tools/pulumi/nodejs/runplugin.go), on the bed's Vault and API server.
 * A hand-written stack that breaks every rule: the preview fails, each rule reported on its resource
 * with its message; the homelab stack of this package: no rule fires.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PolicyEvent, Stack } from "@pulumi/pulumi/automation";
import { VIOLATIONS } from "../fixtures/policy-violations";
import { resourceRules, ruleNames, stackRules } from "../../policy/rules";
import { BedEnv, REPO, bedStackConfig, freshStack, removeStack, requireBedOrSkip, startBed } from "./bed";

const PROGRAM = path.join(__dirname, "programs", "policy-violations");
const POLICY_DIR = path.join(REPO, "policy");

describe("integration: the policy pack on real previews (issue 22 item 3)", function () {
    this.timeout(10 * 60 * 1000);
    let bed: BedEnv;
    const stacks: { stack: Stack; dir: string; name: string }[] = [];

    before(function () {
        requireBedOrSkip(this);
        bed = startBed();
    });

    after(async function () {
        for (const s of stacks) {
            if (s.dir === REPO) {
                await removeStack(bed, s.name);
            } else {
                await s.stack.workspace.removeStack(s.name, { force: true } as never).catch(() => undefined);
                fs.rmSync(path.join(s.dir, `Pulumi.${s.name}.yaml`), { force: true });
            }
        }
    });

    async function previewWithPack(stack: Stack): Promise<{ ok: boolean; events: PolicyEvent[]; out: string }> {
        const events: PolicyEvent[] = [];
        let out = "";
        try {
            await stack.preview({ policyPacks: [POLICY_DIR], onEvent: (e) => void (e.policyEvent && events.push(e.policyEvent)), onOutput: (s) => (out += s) });
            return { ok: true, events, out };
        } catch (e) {
            return { ok: false, events, out: out + String((e as Error).message) };
        }
    }

    it("a stack written by hand that breaks every rule: the preview fails, each rule reported on its resource with its fix", async () => {
        const name = `it-policy-${process.pid}`;
        const stack = await LocalWorkspace.createStack({ stackName: name, workDir: PROGRAM }, { envVars: bed.env });
        stacks.push({ stack, dir: PROGRAM, name });
        const r = await previewWithPack(stack);
        assert.strictEqual(r.ok, false, `mandatory violations fail the preview:\n${r.out.slice(-3000)}`);
        const levels = Object.fromEntries([...resourceRules, ...stackRules].map((rule) => [rule.name, rule.enforcementLevel]));
        for (const v of VIOLATIONS) {
            for (const rule of v.fires) {
                const ev = r.events.find((e) => e.policyName === rule && (e.resourceUrn ?? "").endsWith(`::${v.name}`));
                assert.ok(
                    ev,
                    `${rule} fired on ${v.name} (events: ${JSON.stringify(r.events.map((e) => [e.policyName, e.resourceUrn]))})\n${r.out.slice(-3000)}`,
                );
                assert.match(ev!.message, /Fix: /, `${rule}'s message says how to fix it`);
                assert.strictEqual(ev!.enforcementLevel, levels[rule]);
                assert.strictEqual(ev!.policyPackName, "vault-vso");
            }
        }
        assert.deepStrictEqual([...new Set(r.events.map((e) => e.policyName))].sort(), [...ruleNames].sort(), "every rule of the pack fired, and no other");
        assert.match(r.out, /vault-role-no-quoted-wildcard/, "the preview's own output names the rule");
    });

    it("the homelab stack of this package: the same pack finds nothing", async () => {
        const name = `it-policy-homelab-${process.pid}`;
        const app = {
            name: "pol-app",
            namespace: "pol-cnpg",
            path: "pol/app",
            keys: ["k"],
            managed: true,
            refreshAfter: "60s",
            rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
        };
        const config = bedStackConfig(bed, [app], { [app.name]: { k: "v1" } });
        config["vault-vso-homelab:kv"] = { value: JSON.stringify({ path: "kvpol", protect: false }) };
        config["vault-vso-homelab:kubernetesAuth"] = { value: JSON.stringify({ path: "k8spol", kubernetesHost: bed.kubeApi }) };
        const stack = await freshStack(bed, name, config);
        stacks.push({ stack, dir: REPO, name });
        const r = await previewWithPack(stack);
        assert.strictEqual(r.ok, true, r.out.slice(-3000));
        assert.deepStrictEqual(
            r.events.map((e) => `${e.policyName}: ${e.message}`),
            [],
        );
        assert.match(r.out, /Policies:\s+✅ vault-vso@v[\d.]+ \(local: [^)]*policy\)/, "the pack ran and passed (the preview's Policies section)");
    });
});
