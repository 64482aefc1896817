/**
 * The platform component from another language (issue 11): a Pulumi YAML program
 * (test/integration/programs/yaml-platform) uses `vault-vso:index:VaultSecretsPlatform` through the
 * component provider in provider/ (the executable plugin; its schema inferred from the TypeScript
 * sources), against the bed's Vault and API server, and VSO syncs the Secret it declares.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { kubeRequest, vaultRequest } from "../../ops/clients";
import { BedEnv, REPO, TOOLS_DIR, requireBedOrSkip, startBed, waitFor } from "./bed";

const DIR = path.join(REPO, "test/integration/programs/yaml-platform");
const STACK = `it-yaml-${process.pid}`;
const NS = "yaml-apps";

describe("integration: the platform from a Pulumi YAML program (issue 11) on the bed", function () {
    this.timeout(15 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack | undefined;

    before(async function () {
        requireBedOrSkip(this);
        if (!fs.existsSync(path.join(TOOLS_DIR, "env.yaml.sh"))) {
            if (process.env.PVV_REQUIRE_INTEGRATION === "1") {
                throw new Error("the YAML language host is missing: run bash scripts/tools/build.sh");
            }
            this.skip();
        }
        bed = startBed();
        const ws = await LocalWorkspace.create({ workDir: DIR, envVars: bed.env });
        await ws.removeStack(STACK, { force: true } as any).catch(() => undefined);
        stack = await LocalWorkspace.createStack({ stackName: STACK, workDir: DIR }, { envVars: bed.env });
        await stack.setAllConfig({
            "vault-vso-yaml:vaultAddress": { value: bed.vaultAddr },
            "vault-vso-yaml:kubernetesHost": { value: bed.kubeApi },
            "vault-vso-yaml:kvPath": { value: "kvyaml" },
            "vault-vso-yaml:authPath": { value: "k8syaml" },
            "vault-vso-yaml:appNamespace": { value: NS },
            "vault-vso-yaml:appValue": { value: "yaml-s3cr3t", secret: true },
        });
    });

    after(async function () {
        if (stack) {
            await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
            const ws = await LocalWorkspace.create({ workDir: DIR, envVars: bed.env });
            await ws.removeStack(STACK, { force: true } as any).catch(() => undefined);
            fs.rmSync(path.join(DIR, `Pulumi.${STACK}.yaml`), { force: true });
        }
    });

    it("up creates the platform's Vault and cluster objects, VSO syncs the Secret, and a second preview changes nothing", async () => {
        const res = await stack!.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        const v = (p: string) => vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", p);
        const role = await v(`auth/k8syaml/role/vso-${NS}`);
        assert.strictEqual(role.status, 200, `the namespace's role exists: ${role.status}`);
        assert.deepStrictEqual(role.body.data.bound_service_account_namespaces, [NS]);
        const policy = await v(`sys/policies/acl/vso-${NS}-read`);
        assert.match(policy.body.data.policy, /path "kvyaml\/data\/yaml\/app"/);
        const secret = await waitFor("VSO's Secret from the YAML program", 120000, async () => {
            const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${NS}/secrets/yaml-app`);
            return r.status === 200 && r.body.data?.token ? r.body.data : undefined;
        });
        assert.strictEqual(Buffer.from(secret.token, "base64").toString(), "yaml-s3cr3t");
        const outputs = await stack!.outputs();
        assert.deepStrictEqual(
            outputs.inventory.value.namespaces.map((n: { namespace: string }) => n.namespace),
            [NS],
            "the inventory output reaches the YAML program",
        );
        const pre = await stack!.preview({ onOutput: () => undefined });
        const changed = Object.entries(pre.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
        assert.deepStrictEqual(changed, [], "no changes on a second preview");
    });

    it("bad input is reported per field by the component, before anything is created", async () => {
        await stack!.setConfig("vault-vso-yaml:appNamespace", { value: "Bad_NS" });
        await assert.rejects(stack!.preview({ onOutput: () => undefined }), (e: Error) => {
            assert.match(e.message, /apps\[0\]\.namespace/);
            return true;
        });
        await stack!.setConfig("vault-vso-yaml:appNamespace", { value: NS });
    });
});
