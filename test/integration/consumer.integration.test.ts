/**
 * Reuse from another stack (issue 11): the package as npm packs it, installed into a fresh
 * TypeScript stack whose SDK versions differ from ours (@pulumi/pulumi 3.247, @pulumi/kubernetes
 * 4.33), gets one copy of each SDK (they are peer dependencies), runs `up` on the bed, and the
 * package's drift CLI reads the consumer stack's inventory.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { kubeRequest } from "../../ops/clients";
import { BedEnv, REPO, requireBedOrSkip, startBed } from "./bed";

const STACK = `it-consumer-${process.pid}`;
const NS = "consumer-apps";
/** The consumer's SDKs: other minor versions than this repo's devDependencies. */
const CONSUMER_SDKS = { "@pulumi/pulumi": "3.247.0", "@pulumi/kubernetes": "4.33.0", "@pulumi/vault": "7.8.0" };

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { VaultSecretsPlatform } from "pulumi-vault-vso";

const c = new pulumi.Config();
const platform = new VaultSecretsPlatform("consumer", {
    vault: { install: false, address: c.require("vaultAddress"), allowInsecureHttp: true },
    operator: { install: false },
    kv: { path: "kvconsumer", protect: false },
    kubernetesAuth: { path: "k8sconsumer", kubernetesHost: c.require("kubernetesHost") },
    createNamespaces: true,
    apps: [{ name: "consumer-app", namespace: "${NS}", path: "consumer/app", keys: ["k"], data: { k: c.requireSecret("value") } }],
});
export const inventory = platform.inventory;
// the ops layer is its own entry point
export const opsLoads = typeof (require("pulumi-vault-vso/ops") as typeof import("pulumi-vault-vso/ops")).inventoryFromOutputs;
`;

describe("integration: the packed package in a consumer stack with other SDK versions (issue 11) on the bed", function () {
    this.timeout(20 * 60 * 1000);
    let bed: BedEnv;
    let dir = "";
    let stack: Stack | undefined;

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-consumer-"));
        const tgz = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: REPO, encoding: "utf8", env: { ...process.env, ...bed.env } })
            .trim()
            .split("\n")
            .pop()!;
        fs.writeFileSync(
            path.join(dir, "package.json"),
            JSON.stringify(
                { name: "consumer", private: true, dependencies: { ...CONSUMER_SDKS, "pulumi-vault-vso": `file:./${tgz}`, typescript: "~5.9.3" } },
                null,
                2,
            ),
        );
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
        fs.writeFileSync(
            path.join(dir, "tsconfig.json"),
            JSON.stringify({
                compilerOptions: { strict: true, target: "ES2020", module: "commonjs", moduleResolution: "node", esModuleInterop: true, skipLibCheck: true },
            }),
        );
        execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel", "error"], {
            cwd: dir,
            stdio: ["ignore", "inherit", "inherit"],
        });
        // the provider plugins here are built from Go modules at our versions; the consumer's
        // @pulumi/kubernetes asks for 4.33.0, registered to the same build
        const k8sPlugin = path.join(
            bed.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"),
            "plugins",
            "resource-kubernetes-v4.34.2",
            "pulumi-resource-kubernetes",
        );
        execFileSync("pulumi", ["plugin", "install", "resource", "kubernetes", "4.33.0", "--file", k8sPlugin], {
            env: { ...process.env, ...bed.env },
            stdio: "ignore",
        });
        stack = await LocalWorkspace.createStack({ stackName: STACK, workDir: dir }, { envVars: bed.env });
        await stack.setAllConfig({
            "consumer:vaultAddress": { value: bed.vaultAddr },
            "consumer:kubernetesHost": { value: bed.kubeApi },
            "consumer:value": { value: "consumer-s3cr3t", secret: true },
        });
    });

    after(async function () {
        if (stack) {
            await stack.destroy({ onOutput: () => undefined }).catch(() => undefined);
            await (await LocalWorkspace.create({ workDir: dir, envVars: bed.env })).removeStack(STACK, { force: true } as any).catch(() => undefined);
        }
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("installs with one copy of each SDK, at the consumer's versions", () => {
        for (const [sdk, version] of Object.entries(CONSUMER_SDKS)) {
            const found = spawnSync(
                "find",
                [path.join(dir, "node_modules"), "-path", `*/${sdk}/package.json`, "-not", "-path", "*/node_modules/*/node_modules/*/node_modules/*"],
                { encoding: "utf8" },
            )
                .stdout.trim()
                .split("\n")
                .filter((f) => f && !f.includes("/test") && JSON.parse(fs.readFileSync(f, "utf8")).name === sdk);
            assert.deepStrictEqual(found, [path.join(dir, "node_modules", sdk, "package.json")], `one copy of ${sdk}`);
            assert.strictEqual(JSON.parse(fs.readFileSync(found[0], "utf8")).version, version);
        }
    });

    it("up of the consumer stack creates the platform; the package's drift CLI reads its inventory", async () => {
        const res = await stack!.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        const vss = await kubeRequest(bed.kube, "GET", `/apis/secrets.hashicorp.com/v1beta1/namespaces/${NS}/vaultstaticsecrets/consumer-app`);
        assert.strictEqual(vss.status, 200);
        assert.strictEqual(vss.body.spec.mount, "kvconsumer");
        const outputs = await stack!.outputs();
        assert.deepStrictEqual(
            outputs.inventory.value.apps.map((a: { name: string }) => a.name),
            ["consumer-app"],
        );
        assert.strictEqual(outputs.opsLoads.value, "function", "pulumi-vault-vso/ops resolves in the consumer");
        const drift = spawnSync(path.join(dir, "node_modules", ".bin", "pulumi-vault-vso-drift"), ["--stack", STACK, "--cwd", dir], {
            encoding: "utf8",
            env: { ...process.env, ...bed.env },
            timeout: 300000,
        });
        assert.strictEqual(drift.status, 0, `drift from the installed package: ${drift.stdout}\n${drift.stderr}`);
        assert.doesNotMatch(drift.stderr, /exports no inventory/);
    });
});
