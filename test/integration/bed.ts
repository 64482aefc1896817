/**
 * Access to the local test bed (scripts/bed.sh) and the Pulumi tools built from Go modules
 * (scripts/tools/*.sh) for the integration tests.
 *
 * If the tools are not built, the integration tests are skipped with a message — unless
 * PVV_REQUIRE_INTEGRATION=1 (set by .ci/run), where that is a failure.
 */
import { ChildProcess, SpawnOptions, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { KubeTarget, kubeRequest, loadKubeconfig } from "../../ops/clients";
import { ConfigEntry, PAUSE_IMAGE, bedStackConfig as sharedBedStackConfig, toolVersions, workloadDeployment } from "../../scripts/sandbox/stack-config";

export const REPO = path.resolve(__dirname, "../..");
export const TOOLS_DIR = process.env.PVV_TOOLS_DIR ?? path.join(os.homedir(), ".cache/pulumi-vault-vso/tools");
export const BED_DIR = process.env.PVV_BED_DIR ?? path.join(REPO, ".bed");
const BED_SH = path.join(REPO, "scripts/bed.sh");

export interface BedEnv {
    env: Record<string, string>;
    vaultAddr: string;
    vaultToken: string;
    kubeApi: string;
    kube: KubeTarget;
    crdsDir: string;
}

/** Why the integration layer can't run here, or undefined when it can. */
export function missingTools(): string | undefined {
    for (const f of ["env.pulumi.sh", "env.servers.sh"]) {
        if (!fs.existsSync(path.join(TOOLS_DIR, f))) {
            return `${path.join(TOOLS_DIR, f)} not found: build the tools with scripts/tools/build.sh (see docs/development.md)`;
        }
    }
    return undefined;
}

/** Skips the suite when tools are missing, or fails it under PVV_REQUIRE_INTEGRATION=1. */
export function requireBedOrSkip(ctx: Mocha.Context): void {
    const why = missingTools();
    if (!why) {
        return;
    }
    if (process.env.PVV_REQUIRE_INTEGRATION === "1") {
        throw new Error(`integration tests are required here but cannot run: ${why}`);
    }
    console.warn(`  [integration] skipped: ${why}`);
    ctx.skip();
}

let cached: BedEnv | undefined;
let stopAtExit = false;

/**
 * Starts the bed with VSO running and returns the environment for Pulumi, Vault and Kubernetes.
 * `fresh` restarts it, so the suite starts from an empty cluster and an empty Vault.
 *
 * A bed this starts belongs to this process (PVV_BED_OWNER_PID): bed.sh's watchdog stops it when
 * the process is killed, and it is stopped when the process exits. A bed that was already running
 * (CI's, or one started by hand with `bash scripts/bed.sh start`) is reused and left running.
 */
export function startBed(opts: { fresh?: boolean; vso?: boolean } = {}): BedEnv {
    // the bed's VSO runs as a local process; the in-cluster suite installs its own with Helm instead
    const extraEnv = { PVV_BED_VSO: opts.vso === false ? "0" : "1" };
    execFileSync("bash", [BED_SH, opts.fresh ? "restart" : "start"], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, ...extraEnv, PVV_BED_DIR: BED_DIR, PVV_BED_OWNER_PID: String(process.pid) },
    });
    if (!stopAtExit && bedOwnedByThisProcess()) {
        stopAtExit = true;
        process.on("exit", stopOwnedBed);
    }
    if (cached) {
        return cached;
    }
    return loadBedEnv(extraEnv);
}

/** True when the bed was started by this process (bed.sh wrote our pid to $BED/owner). */
export function bedOwnedByThisProcess(): boolean {
    try {
        return fs.readFileSync(path.join(BED_DIR, "owner"), "utf8").split(" ")[0] === String(process.pid);
    } catch {
        return false;
    }
}

/** At exit: servers this test run started do not outlive it (the watchdog covers a killed run). */
function stopOwnedBed(): void {
    if (!bedOwnedByThisProcess()) {
        return;
    }
    console.warn("  [integration] stopping the bed this test run started (to keep one running, start it first: bash scripts/bed.sh start)");
    spawnSync("bash", [BED_SH, "stop"], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, PVV_BED_DIR: BED_DIR } });
}

/**
 * Spawns a server a suite runs itself (e.g. a second Vault) tied to this process: a detached guard
 * (`bed.sh _guard`) stops it when this process is gone, also after SIGKILL. Stop it as usual
 * (`child.kill()`); the guard exits with it.
 */
export function spawnOwned(command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, args, options);
    if (child.pid !== undefined) {
        spawn("bash", [BED_SH, "_guard", String(process.pid), String(child.pid)], { detached: true, stdio: "ignore" }).unref();
    }
    return child;
}

/** True when the running bed has a node (pods can run). */
export function bedHasNode(): boolean {
    return fs.existsSync(path.join(BED_DIR, "node"));
}

/** The versions of scripts/tools/versions.env, e.g. VAULT_VERSION. */
export { toolVersions };

function loadBedEnv(extraEnv: Record<string, string>): BedEnv {
    const script = `set -e; source "${TOOLS_DIR}/env.pulumi.sh"; source "${TOOLS_DIR}/env.servers.sh"; source "${BED_DIR}/env.sh"; node -e 'process.stdout.write(JSON.stringify(process.env))'`;
    const env = JSON.parse(execFileSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, ...extraEnv } })) as Record<string, string>;
    // env.sh logs pulumi in to the bed's file backend (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE_FILE)
    env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    for (const [k, v] of Object.entries(env)) {
        process.env[k] = v;
    }
    cached = {
        env,
        vaultAddr: env.VAULT_ADDR,
        vaultToken: env.VAULT_TOKEN,
        kubeApi: env.KUBE_API_SERVER,
        kube: loadKubeconfig(env.KUBECONFIG),
        crdsDir: env.VSO_CRDS_DIR,
    };
    return cached;
}

/** Runs one of the package's CLIs (scripts/<name>.ts) as a user would, with the bed's environment. */
export function runScript(bed: BedEnv, name: string, args: string[]): { code: number; out: string; err: string } {
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO, `cli/${name}.ts`), ...args], {
        cwd: REPO,
        env: { ...process.env, ...bed.env },
        encoding: "utf8",
        timeout: 300000,
    });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The homelab stack config for the bed: external Vault (the local process), no Helm installs (the one source: scripts/sandbox/stack-config.ts). */
export function bedStackConfig(bed: BedEnv, apps: unknown[], values: unknown): Record<string, ConfigEntry> {
    return sharedBedStackConfig("external", bed.env, apps, values);
}

/**
 * The homelab stack config for the bed's node: Vault (dev) and VSO installed by Helm from the chart
 * directories of the Go module copies, reached through the API server (no providerAddress).
 */
export function inClusterStackConfig(bed: BedEnv, apps: unknown[], values: unknown): Record<string, ConfigEntry> {
    return sharedBedStackConfig("incluster", bed.env, apps, values);
}

export { PAUSE_IMAGE };

/**
 * The user's workload before Pulumi runs: namespace `ns` and a one-replica Deployment `name` that
 * takes `secretName` as environment (optional, so it starts before the Secret exists).
 */
export async function createWorkload(bed: BedEnv, ns: string, name: string, secretName: string): Promise<void> {
    const nsRes = await kubeRequest(bed.kube, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    if (![201, 409].includes(nsRes.status)) {
        throw new Error(`creating namespace ${ns}: ${nsRes.status} ${nsRes.text}`);
    }
    const dep = await kubeRequest(bed.kube, "POST", `/apis/apps/v1/namespaces/${ns}/deployments`, workloadDeployment(ns, name, secretName));
    if (dep.status !== 201) {
        throw new Error(`creating Deployment ${ns}/${name}: ${dep.status} ${dep.text}`);
    }
}

/** Creates a fresh stack of the homelab program (removing a leftover of the same name). */
export async function freshStack(bed: BedEnv, name: string, config: Record<string, { value: string; secret?: boolean }>): Promise<Stack> {
    const ws = await LocalWorkspace.create({ workDir: REPO, envVars: bed.env });
    try {
        await ws.removeStack(name, { force: true } as any);
    } catch {
        // no such stack
    }
    const stack = await LocalWorkspace.createStack({ stackName: name, workDir: REPO }, { envVars: bed.env });
    await stack.setAllConfig(config);
    return stack;
}

/** Removes the stack and its config file, whatever state it is in. */
export async function removeStack(bed: BedEnv, name: string): Promise<void> {
    const ws = await LocalWorkspace.create({ workDir: REPO, envVars: bed.env });
    await ws.removeStack(name, { force: true } as any).catch(() => undefined);
    fs.rmSync(path.join(REPO, `Pulumi.${name}.yaml`), { force: true });
}

/** A TCP port free on 127.0.0.1 right now (for a server a suite starts itself). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` every 250 ms until it returns a value (not undefined/false) or `ms` pass; the last error is in the message. */
export async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>, detail: () => string = () => ""): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            const v = await fn();
            if (v !== undefined && v !== false) {
                return v;
            }
        } catch (e) {
            last = e;
        }
        await sleep(250);
    }
    throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ""}${detail()}`);
}

/** A Secret's `data` (base64) decoded to text, key by key; {} when there is none. */
export function decodeSecretData(data: Record<string, string> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}
