/**
 * Peer benchmark (issue 12): the same Vault configuration managed by Terraform (terraform-provider-vault
 * built from the same module version as our Pulumi Vault provider), by a plain @pulumi/vault program,
 * by our components, and checked by our drift CLI, side by side in one run.
 *
 *   npm run bench:peer                                   # N=10 and N=100, median of 5 after a warm-up
 *   npm run bench:peer -- --ns 10 --runs 3 --profile     # plus where the time goes (bench/results/peer-profile.json)
 *   npm run bench:peer -- --repo DIR --label TEXT        # measure another checkout of this package
 *   npm run bench:peer -- --name peer-after               # write bench/results/peer-after.json/.md (default: peer)
 *   npm run bench:peer -- --components-api per-namespace  # one VaultNamespaceAccess per namespace (default: one
 *                                                         # VaultNamespaceAccessSet for all, when the package has it)
 *
 * Per N namespaces, each tool gets its own KV v2 mount, Kubernetes auth mount + config, and one read policy
 * and one role per namespace (2N+3 resources) on one Vault dev server started here on 127.0.0.1 (free port;
 * the root token only in the environment, never on a command line). Pulumi uses a file backend in a temp
 * dir (its own PULUMI_HOME, so the user's login is untouched). Everything temporary is removed at the end.
 *
 * Measured, for each N (the check order rotates per repetition; loadavg is recorded with every run):
 *   first apply      terraform apply / pulumi up --yes (raw) / pulumi up --yes (components), once
 *   tf-plan          terraform plan -detailed-exitcode            (0 = no drift)
 *   tf-refresh-only  terraform plan -refresh-only -detailed-exitcode (informational; 1.11 exits 2 without drift)
 *   raw-preview      pulumi preview --refresh --expect-no-changes of the plain @pulumi/vault program
 *   comp-preview     the same of the program that uses this package's components, imported as a user does:
 *                    `pulumi-vault-vso/vault` from the built package (lib/ JS + .d.ts, through node_modules), the
 *                    program type-checked like the raw one (--components-from source: components/ TS sources);
 *                    the namespaces' policies and roles through one VaultNamespaceAccessSet (--components-api set,
 *                    the default when the built package exports it) or one VaultNamespaceAccess per namespace
 *                    (--components-api per-namespace, the default for a checkout without the set)
 *   drift            npm run drift -- --stack NAME --cwd DIR    (0 = no drift; the compiled CLI in lib/ when the
 *                    checkout's drift script uses it)
 *   drift-bin        node lib/cli/drift.js --stack NAME --cwd DIR (the package's bin, as a nightly job runs it, without npm)
 * lib/ is built here first when it is missing or older than the sources.
 * Wall time: medians and paired ratios per repetition. Memory: max RSS of the largest process (GNU time,
 * every timed run) and, in the warm-up run, the whole process tree sampled from /proc every 50 ms.
 * Vault requests per run: counted in a file audit device.
 * Writes bench/results/peer.json and peer.md (and peer-profile.json with --profile); --name NAME: NAME.json, NAME.md, NAME-profile.json.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import {
    Options,
    parseOptions,
    log,
    sleep,
    median,
    round,
    MiB,
    sourcedEnv,
    freePort,
    ProcSample,
    sampleTree,
    RunResult,
    CheckKind,
    CHECKS,
    SizeResult,
} from "./peer/common";
import { terraformConfig, rawProgram, accessClassOf, componentsApiOf, componentsProgram, writePulumiProject, packageImportOf } from "./peer/peers";
import { writeResults, writeProfile } from "./peer/report";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// ------------------------------------------------------------------------------------------- Vault

class VaultDev {
    proc?: ChildProcess;
    addr = "";
    token = crypto.randomBytes(16).toString("hex");
    auditFile = "";
    private auditOffset = 0;

    async start(bin: string, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
        const port = await freePort();
        this.addr = `http://127.0.0.1:${port}`;
        const logf = fs.openSync(path.join(dir, "vault.log"), "w");
        this.proc = spawn(bin, ["server", "-dev", `-dev-listen-address=127.0.0.1:${port}`, "-dev-no-store-token"], {
            env: { ...env, VAULT_DEV_ROOT_TOKEN_ID: this.token, VAULT_TOKEN: undefined, VAULT_ADDR: undefined, HOME: dir },
            stdio: ["ignore", logf, logf],
        });
        fs.closeSync(logf);
        for (let i = 0; i < 200; i++) {
            try {
                const r = await fetch(`${this.addr}/v1/sys/health`);
                if (r.ok) {
                    break;
                }
            } catch {
                /* not up yet */
            }
            if (this.proc.exitCode !== null) {
                throw new Error(`vault exited: ${fs.readFileSync(path.join(dir, "vault.log"), "utf8").slice(-2000)}`);
            }
            await sleep(100);
        }
        this.auditFile = path.join(dir, "audit.log");
        await this.api("PUT", "sys/audit/bench", { type: "file", options: { file_path: this.auditFile, hmac_accessor: "true" } });
        this.auditOffset = fs.statSync(this.auditFile).size;
        const v = (await (await fetch(`${this.addr}/v1/sys/seal-status`)).json()) as { version?: string };
        this.version = v.version ?? "?";
    }
    version = "";

    async api(method: string, p: string, body?: unknown): Promise<unknown> {
        const r = await fetch(`${this.addr}/v1/${p}`, {
            method,
            headers: { "X-Vault-Token": this.token, "Content-Type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (!r.ok) {
            throw new Error(`vault ${method} ${p}: HTTP ${r.status} ${await r.text()}`);
        }
        return r.status === 204 ? undefined : r.json();
    }

    /** Requests audited since the last call. */
    takeRequests(): number {
        const size = fs.statSync(this.auditFile).size;
        if (size <= this.auditOffset) {
            return 0;
        }
        const fd = fs.openSync(this.auditFile, "r");
        const buf = Buffer.alloc(size - this.auditOffset);
        fs.readSync(fd, buf, 0, buf.length, this.auditOffset);
        fs.closeSync(fd);
        this.auditOffset = size;
        return buf
            .toString("utf8")
            .split("\n")
            .filter((l) => l.startsWith('{"') && l.includes('"type":"request"')).length;
    }

    stop(): void {
        if (this.proc && this.proc.exitCode === null && this.proc.pid) {
            try {
                process.kill(this.proc.pid, "SIGTERM");
            } catch {
                /* gone */
            }
        }
    }
}

// ------------------------------------------------------------------------------------------- runner

interface Cmd {
    cmd: string;
    args: string[];
    cwd: string;
    env: NodeJS.ProcessEnv;
    okExits: number[];
}

class Runner {
    constructor(
        private readonly tmp: string,
        private readonly vault: VaultDev,
    ) {}
    private seq = 0;
    readonly logs: string[] = [];

    /** Runs a command under GNU time; optionally samples the process tree. */
    async run(name: string, c: Cmd, sampled = false): Promise<RunResult> {
        const id = `${String(++this.seq).padStart(3, "0")}-${name.replace(/[^A-Za-z0-9_.-]+/g, "_")}`;
        const timeFile = path.join(this.tmp, "logs", `${id}.time`);
        const logFile = path.join(this.tmp, "logs", `${id}.log`);
        const out = fs.openSync(logFile, "w");
        const load1 = os.loadavg()[0];
        this.vault.takeRequests();
        const t0 = process.hrtime.bigint();
        const p = spawn("/usr/bin/time", ["-f", "%e %M %U %S", "-o", timeFile, c.cmd, ...c.args], { cwd: c.cwd, env: c.env, stdio: ["ignore", out, out] });
        fs.closeSync(out);
        let peak: ProcSample | undefined;
        const peakKinds: Record<string, number> = {};
        let timer: NodeJS.Timeout | undefined;
        if (sampled && p.pid) {
            const pid = p.pid;
            timer = setInterval(() => {
                const s = sampleTree(pid);
                if (!peak || s.treeRss > peak.treeRss) {
                    peak = s;
                }
                for (const [k, v] of Object.entries(s.byKind)) {
                    peakKinds[k] = Math.max(peakKinds[k] ?? 0, v);
                }
                peak.maxNode = Math.max(peak.maxNode, s.maxNode);
            }, 50);
        }
        const exit = await new Promise<number>((resolve) => p.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : 1))));
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (timer) {
            clearInterval(timer);
        }
        const requests = this.vault.takeRequests();
        let maxRssMiB = NaN;
        let cpuSeconds = NaN;
        try {
            const lines = fs.readFileSync(timeFile, "utf8").trim().split("\n");
            const last = lines[lines.length - 1].split(" ");
            maxRssMiB = Number(last[1]) / 1024;
            cpuSeconds = Number(last[2]) + Number(last[3]);
        } catch {
            /* no time output */
        }
        const r: RunResult = { seconds: round(seconds, 3), exit, maxRssMiB: round(maxRssMiB, 1), load1: round(load1, 2), requests };
        if (Number.isFinite(cpuSeconds)) {
            r.cpuSeconds = round(cpuSeconds, 2);
        }
        if (peak) {
            r.tree = {
                peakTreeMiB: round(peak.treeRss / MiB, 1),
                peakNodeMiB: round(peak.maxNode / MiB, 1),
                peakByKindMiB: Object.fromEntries(Object.entries(peakKinds).map(([k, v]) => [k, round(v / MiB, 1)])),
            };
        }
        this.logs.push(logFile);
        log(
            `${name}: ${r.seconds.toFixed(2)} s${r.cpuSeconds !== undefined ? ` (CPU ${r.cpuSeconds.toFixed(2)} s)` : ""}, exit ${exit}, max RSS ${r.maxRssMiB} MiB, ${requests} Vault requests, load ${r.load1}` +
                (r.tree ? `, tree peak ${r.tree.peakTreeMiB} MiB (node ${r.tree.peakNodeMiB} MiB)` : ""),
        );
        if (!c.okExits.includes(exit)) {
            const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
            throw new Error(`${name} exited ${exit} (expected ${c.okExits.join("/")}); log ${logFile}:\n${tail}`);
        }
        return r;
    }
}

// ------------------------------------------------------------------------------------------- profile helpers

interface Span {
    svc: string;
    name: string;
    start: number;
    end: number;
}

/** OpenTelemetry JSON lines (pulumi --otel-traces file://...) -> spans in ms since the first span. */
function readSpans(file: string): Span[] {
    const spans: { svc: string; name: string; start: bigint; end: bigint }[] = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) {
            continue;
        }
        const o = JSON.parse(line);
        for (const rs of o.resourceSpans ?? []) {
            const svc = (rs.resource?.attributes ?? []).find((a: any) => a.key === "service.name")?.value?.stringValue ?? "?";
            for (const ss of rs.scopeSpans ?? []) {
                for (const s of ss.spans ?? []) {
                    spans.push({ svc, name: s.name, start: BigInt(s.startTimeUnixNano), end: BigInt(s.endTimeUnixNano) });
                }
            }
        }
    }
    const t0 = spans.reduce((m, s) => (s.start < m ? s.start : m), spans[0]?.start ?? 0n);
    return spans.map((s) => ({ svc: s.svc, name: s.name, start: Number(s.start - t0) / 1e6, end: Number(s.end - t0) / 1e6 }));
}

/** Phases of one `pulumi preview --refresh` from its trace (ms). */
function tracePhases(spans: Span[]): Record<string, number> {
    const cli = (n: string) => spans.filter((s) => s.svc === "pulumi-cli" && s.name === n);
    const any = (n: string) => spans.filter((s) => s.name === n);
    const first = (xs: Span[]) => Math.min(...xs.map((s) => s.start));
    const last = (xs: Span[]) => Math.max(...xs.map((s) => s.end));
    const sum = (xs: Span[]) => xs.reduce((a, s) => a + (s.end - s.start), 0);
    const total = last(cli("pulumi"));
    const reads = cli("pulumirpc.ResourceProvider/Read");
    const regs = cli("pulumirpc.ResourceMonitor/RegisterResource");
    const exec = any("execNodejs");
    const run = cli("pulumirpc.LanguageRuntime/Run");
    const plugins = cli("newPlugin");
    const checks = cli("pulumirpc.ResourceProvider/Check");
    const diffs = cli("pulumirpc.ResourceProvider/Diff");
    const outputs = cli("pulumirpc.ResourceMonitor/RegisterResourceOutputs");
    const regStarts = regs.map((s) => s.start).sort((a, b) => a - b);
    const p: Record<string, number> = {
        totalMs: total,
        cliToFirstPrintMs: last(cli("time-to-first-print")),
        pluginStartsMs: sum(plugins),
        pluginStarts: plugins.length,
        refreshReadsWallMs: reads.length ? last(reads) - first(reads) : 0,
        refreshReads: reads.length,
        runStartMs: run.length ? first(run) : NaN,
        locateModuleMs: sum(any("locateModule")),
        nodeProcessMs: sum(exec),
        nodeStartToStackRegisteredMs: exec.length && regStarts.length ? regStarts[0] - first(exec) : NaN,
        // the stack resource is registered by the SDK before the program module is loaded (and compiled)
        programLoadToFirstResourceMs: regStarts.length > 1 ? regStarts[1] - regStarts[0] : NaN,
        registrationsWallMs: regStarts.length > 1 ? last(regs) - regStarts[1] : NaN,
        registerResources: regs.length,
        stackOutputsAtMs: outputs.length ? first(outputs) : NaN,
        checkCalls: checks.length,
        checkWallMs: checks.length ? last(checks) - first(checks) : 0,
        diffCalls: diffs.length,
        afterProgramMs: exec.length ? total - last(exec) : NaN,
        // provider-side time (the bridge's handlers), summed over calls
        providerReadMsSum: sum(spans.filter((s) => s.svc === "pulumi-resource-provider" && s.name === "/pulumirpc.ResourceProvider/Read")),
        providerCheckMsSum: sum(spans.filter((s) => s.svc === "pulumi-resource-provider" && s.name === "/pulumirpc.ResourceProvider/Check")),
        providerDiffMsSum: sum(spans.filter((s) => s.svc === "pulumi-resource-provider" && s.name === "/pulumirpc.ResourceProvider/Diff")),
        // consecutive segments that add up to totalMs
        seg1CliStartAndRefreshMs: run.length ? first(run) : NaN,
        seg2NodeBootAndSdkLoadMs: run.length && regStarts.length ? regStarts[0] - first(run) : NaN,
        seg3ProgramLoadMs: regStarts.length > 1 ? regStarts[1] - regStarts[0] : NaN,
        seg4ProgramBodyMs: outputs.length && regStarts.length > 1 ? first(outputs) - regStarts[1] : NaN,
        seg5StepsAfterProgramMs: outputs.length && exec.length ? last(exec) - first(outputs) : NaN,
        seg6CliTeardownMs: exec.length ? total - last(exec) : NaN,
    };
    for (const k of Object.keys(p)) {
        p[k] = round(p[k], 0);
    }
    return p;
}

/** Self time of a V8 .cpuprofile by category (ms). */
function summariseCpuProfile(
    file: string,
    repo: string,
    programDir: string,
): { totalMs: number; byCategory: Record<string, number>; topFunctions: { fn: string; ms: number }[] } {
    const prof = JSON.parse(fs.readFileSync(file, "utf8"));
    const byId = new Map<number, any>();
    for (const n of prof.nodes) {
        byId.set(n.id, n);
    }
    const selfUs = new Map<number, number>();
    for (let i = 0; i < prof.samples.length; i++) {
        selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
    }
    const cat = (url: string, fn: string): string => {
        if (!url) {
            return fn === "(garbage collector)"
                ? "gc"
                : fn === "(idle)"
                  ? "idle"
                  : fn === "(program)"
                    ? "v8/native (parse, compile, natives)"
                    : "v8/native (parse, compile, natives)";
        }
        if (url.includes("/node_modules/typescript/")) {
            return "typescript (type-check/transpile)";
        }
        if (url.includes("/node_modules/ts-node/")) {
            return "ts-node";
        }
        if (url.includes("/node_modules/@pulumi/pulumi/")) {
            return url.includes("/automation/") ? "@pulumi/pulumi automation" : "@pulumi/pulumi";
        }
        if (url.includes("/node_modules/@grpc/") || url.includes("/node_modules/google-protobuf/")) {
            return "grpc/protobuf";
        }
        if (url.includes("/node_modules/@pulumi/vault/")) {
            return "@pulumi/vault";
        }
        if (url.includes("/node_modules/@pulumi/kubernetes/")) {
            return "@pulumi/kubernetes";
        }
        if (url.includes("/node_modules/")) {
            const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
            return `other deps (${m ? m[1] : "?"})`;
        }
        if (url.startsWith("node:") || url.startsWith("internal/")) {
            return "node internals (module loader, fs, streams)";
        }
        const u = url.replace(/^file:\/\//, "");
        if (u.startsWith(path.join(repo, "components"))) {
            return "package components";
        }
        if (u.startsWith(programDir)) {
            return "program";
        }
        if (u.startsWith(repo)) {
            return "package (other)";
        }
        return "other";
    };
    const byCategory: Record<string, number> = {};
    const fnMs = new Map<string, number>();
    let total = 0;
    for (const [id, us] of selfUs) {
        const n = byId.get(id);
        const c = cat(n.callFrame.url, n.callFrame.functionName);
        byCategory[c] = (byCategory[c] ?? 0) + us / 1000;
        total += us / 1000;
        const key = `${n.callFrame.functionName || "(anonymous)"} ${(n.callFrame.url || "").replace(/.*node_modules\//, "")}:${n.callFrame.lineNumber}`;
        fnMs.set(key, (fnMs.get(key) ?? 0) + us / 1000);
    }
    for (const k of Object.keys(byCategory)) {
        byCategory[k] = round(byCategory[k], 0);
    }
    const topFunctions = [...fnMs.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([fn, ms]) => ({ fn, ms: round(ms, 0) }));
    return { totalMs: round(total, 0), byCategory, topFunctions };
}

const CPU_PROFILE_PRELOAD = `"use strict";
const dir = process.env.PVV_CPUPROF_DIR;
if (dir) {
    const inspector = require("inspector");
    const fs = require("fs");
    const path = require("path");
    const session = new inspector.Session();
    session.connect();
    session.post("Profiler.enable");
    session.post("Profiler.setSamplingInterval", { interval: 500 });
    session.post("Profiler.start");
    process.on("exit", () => {
        session.post("Profiler.stop", (err, res) => {
            if (!err && res && res.profile) {
                fs.writeFileSync(path.join(dir, process.pid + ".cpuprofile"), JSON.stringify(res.profile));
                const byPackage = {};
                const files = Object.keys(require.cache);
                for (const f of files) {
                    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f);
                    const k = m ? m[1] : "(outside node_modules)";
                    byPackage[k] = (byPackage[k] || 0) + 1;
                }
                fs.writeFileSync(path.join(dir, process.pid + ".argv.json"), JSON.stringify({ argv: process.argv, modules: files.length, byPackage }));
            }
        });
    });
}
`;

/** Time from spawn until the process prints its first line (a plugin's port / handshake), median of `k`. */
async function timeToFirstLine(cmd: string, args: string[], env: NodeJS.ProcessEnv, k = 5): Promise<number> {
    const xs: number[] = [];
    for (let i = 0; i < k; i++) {
        const t0 = process.hrtime.bigint();
        const p = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "ignore"] });
        await new Promise<void>((resolve, reject) => {
            p.stdout!.once("data", () => resolve());
            p.once("exit", (c) => reject(new Error(`${cmd} exited ${c} before printing`)));
        });
        xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        p.kill("SIGTERM");
        await new Promise((r) => p.once("exit", r));
    }
    return round(median(xs), 0);
}

async function main(): Promise<void> {
    const opt = parseOptions(process.argv.slice(2));
    const started = new Date();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-peer-"));
    fs.mkdirSync(path.join(tmp, "logs"));
    const toolsDir = process.env.PVV_TOOLS_DIR ?? path.join(os.homedir(), ".cache", "pulumi-vault-vso", "tools");
    const vault = new VaultDev();
    let cleanup = () => {
        vault.stop();
        if (!opt.keep) {
            fs.rmSync(tmp, { recursive: true, force: true });
        } else {
            log(`kept ${tmp}`);
        }
    };
    const onSignal = () => {
        cleanup();
        process.exit(130);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
        // ---- tools
        const buildScript = path.join(__dirname, "..", "scripts", "tools", "build-terraform-provider.sh");
        const tfDir = execFileSync("bash", [buildScript], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
            .trim()
            .split("\n")
            .pop()!;
        const baseEnv: NodeJS.ProcessEnv = { ...process.env };
        for (const k of [
            "VAULT_ADDR",
            "VAULT_TOKEN",
            "PULUMI_BACKEND_URL",
            "PULUMI_ACCESS_TOKEN",
            "PULUMI_CONFIG_PASSPHRASE_FILE",
            "NODE_OPTIONS",
            "PULUMI_NODEJS_TRANSPILE_ONLY",
            "TS_NODE_TRANSPILE_ONLY",
        ]) {
            delete baseEnv[k];
        }
        const toolEnv = sourcedEnv([path.join(toolsDir, "env.pulumi.sh"), path.join(toolsDir, "env.servers.sh"), path.join(tfDir, "env.sh")], baseEnv);
        const tfBuildLog = fs.existsSync(path.join(tfDir, "build.log")) ? fs.readFileSync(path.join(tfDir, "build.log"), "utf8") : "";
        const coldBuildLine = /first build: .*/.exec(tfBuildLog)?.[0];
        const realPulumiHome = toolEnv.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");

        // isolated Pulumi home (the plugins are shared read-only) and a file backend in tmp
        const pulumiHome = path.join(tmp, "pulumi-home");
        fs.mkdirSync(pulumiHome);
        fs.symlinkSync(path.join(realPulumiHome, "plugins"), path.join(pulumiHome, "plugins"));
        const stateDir = path.join(tmp, "state");
        fs.mkdirSync(stateDir);

        // ---- vault
        await vault.start(toolEnv.PVV_VAULT_BIN!, tmp, toolEnv);
        log(`Vault ${vault.version} at ${vault.addr} (dev, audit -> requests counted)`);
        // a public, throwaway CA certificate for the auth config (its key is deleted at once)
        const caFile = path.join(tmp, "k8s-ca.pem");
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                path.join(tmp, "k8s-ca.key"),
                "-out",
                caFile,
                "-days",
                "2",
                "-subj",
                "/CN=bench-k8s-ca",
            ],
            { stdio: "ignore" },
        );
        fs.rmSync(path.join(tmp, "k8s-ca.key"));

        const env: NodeJS.ProcessEnv = {
            ...toolEnv,
            PULUMI_HOME: pulumiHome,
            PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(12).toString("hex"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
            VAULT_TOKEN: vault.token,
            CHECKPOINT_DISABLE: "1",
            TF_IN_AUTOMATION: "1",
            npm_config_update_notifier: "false",
            npm_config_fund: "false",
        };
        const runner = new Runner(tmp, vault);
        const pulumiBin = "pulumi";
        execFileSync(pulumiBin, ["login", `file://${stateDir}`], { env, stdio: "ignore" });

        const versions = {
            node: process.version,
            pulumi: execFileSync(pulumiBin, ["version"], { env, encoding: "utf8" }).trim(),
            terraform: execFileSync("terraform", ["version"], { env, encoding: "utf8" }).split("\n")[0].trim(),
            terraformProvider: toolEnv.PVV_TF_VAULT_PROVIDER_VERSION,
            vault: vault.version,
            pulumiVaultProvider: fs
                .readdirSync(path.join(realPulumiHome, "plugins"))
                .filter((d) => d.startsWith("resource-vault-") && !d.endsWith(".lock"))
                .join(","),
            driftCli: ensureDriftCli(opt.repo),
        };
        const nodeModules = fs.realpathSync(path.join(opt.repo, "node_modules"));
        const accessClass = accessClassOf(opt.repo);
        // after ensureDriftCli above: lib/ is built from the current sources
        const componentsApi = componentsApiOf(opt);
        (versions as Record<string, unknown>).componentsApi = componentsApi;
        (versions as Record<string, unknown>).componentsAccessClass = componentsApi === "set" ? "VaultNamespaceAccessSet" : accessClass;
        const fromPackage = opt.componentsFrom === "package" ? packageImportOf(opt.repo) : undefined;
        const componentsImport = fromPackage ? fromPackage.specifier : path.join(opt.repo, "components");
        const compModules: Record<string, string> = fromPackage ? { [fromPackage.name]: opt.repo } : {};
        (versions as Record<string, unknown>).componentsImport = fromPackage
            ? `\`${fromPackage.specifier}\` from the built package (lib/, .d.ts) through node_modules, type-checked like the raw program`
            : "components/*.ts sources (type-checked with the program)";
        let commit = opt.label ?? "";
        if (!commit) {
            try {
                commit = execFileSync("git", ["-C", opt.repo, "describe", "--always", "--dirty"], { encoding: "utf8" }).trim();
            } catch {
                commit = "(not a git checkout)";
            }
        }
        log(
            `measuring ${opt.repo} (${commit}); ${versions.pulumi}, ${versions.terraform}, provider ${versions.terraformProvider}; components API: ${componentsApi}`,
        );

        const sizes: SizeResult[] = [];
        const profile: Record<string, unknown> = {};
        for (const n of opt.ns) {
            log(`---- N = ${n} namespaces`);
            const dirs = { tf: path.join(tmp, `tf-${n}`), raw: path.join(tmp, `raw-${n}`), comp: path.join(tmp, `comp-${n}`) };
            const stacks = { raw: `bench-raw-${n}`, comp: `bench-comp-${n}` };
            fs.mkdirSync(dirs.tf);
            fs.writeFileSync(path.join(dirs.tf, "main.tf"), terraformConfig(n, `t${n}`, vault.addr, caFile, toolEnv.PVV_TF_VAULT_PROVIDER_VERSION!));
            writePulumiProject(dirs.raw, `peer-raw-${n}`, rawProgram(n, `r${n}`, caFile), nodeModules);
            writePulumiProject(
                dirs.comp,
                `peer-comp-${n}`,
                componentsProgram(n, `c${n}`, caFile, componentsImport, accessClass, componentsApi),
                nodeModules,
                "index.ts",
                true,
                compModules,
            );
            const setup: Record<string, RunResult> = {};
            setup["terraform init"] = await runner.run(`N${n} terraform init`, {
                cmd: "terraform",
                args: ["init", "-input=false", "-no-color"],
                cwd: dirs.tf,
                env,
                okExits: [0],
            });
            for (const k of ["raw", "comp"] as const) {
                await runner.run(`N${n} ${k} stack init`, {
                    cmd: pulumiBin,
                    args: ["stack", "init", stacks[k], "--non-interactive"],
                    cwd: dirs[k],
                    env,
                    okExits: [0],
                });
                await runner.run(`N${n} ${k} config address`, {
                    cmd: pulumiBin,
                    args: ["config", "set", "vault:address", vault.addr, "--stack", stacks[k]],
                    cwd: dirs[k],
                    env,
                    okExits: [0],
                });
                await runner.run(`N${n} ${k} config skipChildToken`, {
                    cmd: pulumiBin,
                    args: ["config", "set", "vault:skipChildToken", "true", "--stack", stacks[k]],
                    cwd: dirs[k],
                    env,
                    okExits: [0],
                });
            }
            // ---- first apply (once each, process tree sampled)
            const firstApply = {
                tf: await runner.run(
                    `N${n} first apply terraform`,
                    { cmd: "terraform", args: ["apply", "-auto-approve", "-input=false", "-no-color"], cwd: dirs.tf, env, okExits: [0] },
                    true,
                ),
                raw: await runner.run(
                    `N${n} first apply raw pulumi up`,
                    { cmd: pulumiBin, args: ["up", "--yes", "--non-interactive", "--stack", stacks.raw], cwd: dirs.raw, env, okExits: [0] },
                    true,
                ),
                comp: await runner.run(
                    `N${n} first apply components pulumi up`,
                    { cmd: pulumiBin, args: ["up", "--yes", "--non-interactive", "--stack", stacks.comp], cwd: dirs.comp, env, okExits: [0] },
                    true,
                ),
            };
            const cmdOf = (k: CheckKind, extraEnv: NodeJS.ProcessEnv = {}): Cmd => {
                const e = { ...env, ...extraEnv };
                switch (k) {
                    case "tf-plan":
                        return { cmd: "terraform", args: ["plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd: dirs.tf, env: e, okExits: [0] };
                    case "tf-refresh-only":
                        return {
                            cmd: "terraform",
                            args: ["plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-no-color"],
                            cwd: dirs.tf,
                            env: e,
                            okExits: [0, 2],
                        };
                    case "raw-preview":
                        return {
                            cmd: pulumiBin,
                            args: ["preview", "--refresh", "--expect-no-changes", "--non-interactive", "--stack", stacks.raw],
                            cwd: dirs.raw,
                            env: e,
                            okExits: [0],
                        };
                    case "comp-preview":
                        return {
                            cmd: pulumiBin,
                            args: ["preview", "--refresh", "--expect-no-changes", "--non-interactive", "--stack", stacks.comp],
                            cwd: dirs.comp,
                            env: e,
                            okExits: [0],
                        };
                    case "drift":
                        return {
                            cmd: "npm",
                            args: ["run", "--silent", "drift", "--", "--stack", stacks.comp, "--cwd", dirs.comp],
                            cwd: opt.repo,
                            env: e,
                            okExits: [0],
                        };
                    case "drift-bin":
                        return {
                            cmd: "node",
                            args: [path.join(opt.repo, "lib", "cli", "drift.js"), "--stack", stacks.comp, "--cwd", dirs.comp],
                            cwd: opt.repo,
                            env: e,
                            okExits: [0],
                        };
                }
            };
            if (opt.profileOnly) {
                profile[`N${n}`] = await profileSize(n, opt, runner, env, dirs, stacks, cmdOf, tmp, componentsImport, accessClass, caFile);
                writeProfile(opt, started, versions, commit, profile);
                continue;
            }
            // ---- warm-up (sampled for memory), then the timed repetitions, order rotated
            const warmup = {} as Record<CheckKind, RunResult>;
            for (const k of CHECKS) {
                warmup[k] = await runner.run(`N${n} warm-up ${k}`, cmdOf(k), true);
            }
            const runs = Object.fromEntries(CHECKS.map((k) => [k, [] as RunResult[]])) as Record<CheckKind, RunResult[]>;
            for (let r = 0; r < opt.runs; r++) {
                const order = CHECKS.map((_, i) => CHECKS[(i + r) % CHECKS.length]);
                for (const k of order) {
                    runs[k].push(await runner.run(`N${n} run ${r + 1}/${opt.runs} ${k}`, cmdOf(k)));
                }
            }
            const med = Object.fromEntries(CHECKS.map((k) => [k, round(median(runs[k].map((x) => x.seconds)), 3)])) as Record<CheckKind, number>;
            const pair = (a: CheckKind, b: CheckKind) => {
                const per = runs[a].map((x, i) => round(x.seconds / runs[b][i].seconds, 2));
                return { median: round(median(per), 2), perRun: per };
            };
            const pairCpu = (a: CheckKind, b: CheckKind) => {
                const per = runs[a].map((x, i) => round(x.cpuSeconds! / runs[b][i].cpuSeconds!, 2));
                return { median: round(median(per), 2), perRun: per };
            };
            const pairedRatios = {
                "raw-preview / tf-plan": pair("raw-preview", "tf-plan"),
                "comp-preview / tf-plan": pair("comp-preview", "tf-plan"),
                "drift / tf-plan": pair("drift", "tf-plan"),
                "drift-bin / tf-plan": pair("drift-bin", "tf-plan"),
                "comp-preview / raw-preview": pair("comp-preview", "raw-preview"),
                "drift / comp-preview": pair("drift", "comp-preview"),
                ...(runs["comp-preview"].every((x, i) => x.cpuSeconds && runs["raw-preview"][i].cpuSeconds)
                    ? { "cpu comp-preview / raw-preview": pairCpu("comp-preview", "raw-preview") }
                    : {}),
            };
            const ratioOfMedians = {
                "raw-preview / tf-plan": round(med["raw-preview"] / med["tf-plan"], 2),
                "comp-preview / tf-plan": round(med["comp-preview"] / med["tf-plan"], 2),
                "drift / tf-plan": round(med["drift"] / med["tf-plan"], 2),
                "drift-bin / tf-plan": round(med["drift-bin"] / med["tf-plan"], 2),
                "comp-preview / raw-preview": round(med["comp-preview"] / med["raw-preview"], 2),
                "drift / comp-preview": round(med["drift"] / med["comp-preview"], 2),
                "first apply raw / tf": round(firstApply.raw.seconds / firstApply.tf.seconds, 2),
                "first apply comp / tf": round(firstApply.comp.seconds / firstApply.tf.seconds, 2),
                "first apply comp / raw": round(firstApply.comp.seconds / firstApply.raw.seconds, 2),
                ...(firstApply.comp.cpuSeconds && firstApply.raw.cpuSeconds
                    ? { "cpu first apply comp / raw": round(firstApply.comp.cpuSeconds / firstApply.raw.cpuSeconds, 2) }
                    : {}),
            };
            const loads = CHECKS.flatMap((k) => runs[k].map((x) => x.load1));
            sizes.push({
                n,
                resourcesPerTool: 2 * n + 3,
                setup,
                firstApply,
                warmup,
                runs,
                median: med,
                pairedRatios,
                ratioOfMedians,
                loadDuringChecks: { min: Math.min(...loads), max: Math.max(...loads), median: round(median(loads), 2) },
            });
            writeResults(opt, started, versions, commit, coldBuildLine, sizes);

            if (opt.profile) {
                profile[`N${n}`] = await profileSize(n, opt, runner, env, dirs, stacks, cmdOf, tmp, componentsImport, accessClass, caFile);
                writeProfile(opt, started, versions, commit, profile);
            }
        }
        if (opt.profile) {
            profile.starts = await profileStarts(opt, runner, env, tfDir, toolEnv, realPulumiHome, tmp);
            writeProfile(opt, started, versions, commit, profile);
        }
        if (!opt.profileOnly) {
            process.stdout.write(fs.readFileSync(path.join(opt.out, `${opt.name}.md`), "utf8"));
        }
    } finally {
        cleanup();
        cleanup = () => undefined;
    }
}

// ------------------------------------------------------------------------------------------- profile

async function profileSize(
    n: number,
    opt: Options,
    runner: Runner,
    env: NodeJS.ProcessEnv,
    dirs: { tf: string; raw: string; comp: string },
    stacks: { raw: string; comp: string },
    cmdOf: (k: CheckKind, extraEnv?: NodeJS.ProcessEnv) => Cmd,
    tmp: string,
    componentsImport: string,
    accessClass: string,
    caFile: string,
): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const k = Math.max(3, Math.min(opt.runs, 5));
    log(`---- profile N = ${n}`);
    // 1. type-check vs transpile-only vs precompiled JavaScript (typescript: false)
    const ts = require(path.join(opt.repo, "node_modules", "typescript")) as typeof import("typescript");
    const compLib = path.join(dirs.comp, "complib");
    const tscT0 = Date.now();
    let compJs = true;
    try {
        execFileSync(
            path.join(opt.repo, "node_modules", ".bin", "tsc"),
            ["-p", path.join(opt.repo, "tsconfig.build.json"), "--outDir", compLib, "--declaration", "false", "--sourceMap", "false"],
            { cwd: opt.repo, stdio: "inherit" },
        );
    } catch (e) {
        log(`tsc of ${opt.repo} failed; the components are not measured as precompiled JavaScript: ${e}`);
        compJs = false;
    }
    const tscMs = Date.now() - tscT0;
    const compIndexJs = fs.existsSync(path.join(compLib, "components", "index.js")) ? path.join(compLib, "components") : compLib;
    const transpile = (src: string) =>
        ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true } }).outputText;
    fs.writeFileSync(path.join(dirs.raw, "index.js"), transpile(fs.readFileSync(path.join(dirs.raw, "index.ts"), "utf8")));
    fs.writeFileSync(
        path.join(dirs.comp, "index.js"),
        transpile(fs.readFileSync(path.join(dirs.comp, "index.ts"), "utf8").split(JSON.stringify(componentsImport)).join(JSON.stringify(compIndexJs))),
    );
    const setMode = (dir: string, name: string, js: boolean) =>
        fs.writeFileSync(
            path.join(dir, "Pulumi.yaml"),
            `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: ${!js}\nmain: ${js ? "index.js" : "index.ts"}\n`,
        );
    const modes: Record<string, number[]> = {};
    for (let r = 0; r < k; r++) {
        for (const kind of ["raw-preview", "comp-preview"] as const) {
            const dir = kind === "raw-preview" ? dirs.raw : dirs.comp;
            const name = kind === "raw-preview" ? `peer-raw-${n}` : `peer-comp-${n}`;
            for (const mode of ["type-check (default)", "transpile-only", "precompiled JS"]) {
                if (mode === "precompiled JS" && kind === "comp-preview" && !compJs) {
                    continue;
                }
                setMode(dir, name, mode === "precompiled JS");
                const res = await runner.run(
                    `N${n} profile ${kind} ${mode} ${r + 1}/${k}`,
                    cmdOf(kind, mode === "transpile-only" ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
                );
                (modes[`${kind} ${mode}`] ??= []).push(res.seconds);
            }
            setMode(dir, name, false);
        }
        const d = await runner.run(`N${n} profile drift transpile-only program ${r + 1}/${k}`, cmdOf("drift", { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }));
        (modes["drift transpile-only program"] ??= []).push(d.seconds);
        // the engine's refresh-and-diff without the program (state vs live, like terraform plan -refresh-only)
        for (const kind of ["raw", "comp"] as const) {
            const e = await runner.run(`N${n} profile ${kind} refresh --preview-only ${r + 1}/${k}`, {
                cmd: "pulumi",
                args: ["refresh", "--preview-only", "--expect-no-changes", "--non-interactive", "--stack", stacks[kind]],
                cwd: dirs[kind],
                env,
                okExits: [0],
            });
            (modes[`${kind} pulumi refresh --preview-only (no program)`] ??= []).push(e.seconds);
        }
        const t = await runner.run(`N${n} profile tf-plan ${r + 1}/${k}`, cmdOf("tf-plan"));
        (modes["tf-plan (same loop)"] ??= []).push(t.seconds);
    }
    out.compileModes = {
        runs: k,
        medianSeconds: Object.fromEntries(Object.entries(modes).map(([m, xs]) => [m, round(median(xs), 2)])),
        allSeconds: modes,
        componentsTscBuildMs: tscMs,
    };

    // 2. engine timeline from OpenTelemetry traces, type-check and precompiled
    const traces: Record<string, unknown> = {};
    for (const kind of ["raw-preview", "comp-preview"] as const) {
        const dir = kind === "raw-preview" ? dirs.raw : dirs.comp;
        const name = kind === "raw-preview" ? `peer-raw-${n}` : `peer-comp-${n}`;
        for (const mode of ["type-check (default)", "precompiled JS"]) {
            if (mode === "precompiled JS" && kind === "comp-preview" && !compJs) {
                continue;
            }
            setMode(dir, name, mode === "precompiled JS");
            const file = path.join(tmp, `trace-${kind}-${n}-${mode.replace(/\W+/g, "_")}.json`);
            const c = cmdOf(kind);
            c.args = [...c.args, "--otel-traces", `file://${file}`];
            const res = await runner.run(`N${n} trace ${kind} ${mode}`, c);
            traces[`${kind} ${mode}`] = { wallSeconds: res.seconds, phasesMs: tracePhases(readSpans(file)) };
            setMode(dir, name, false);
        }
    }
    out.traces = traces;

    // 3. the drift CLI: every pulumi command it runs (a logging shim first on PATH), and its preview's trace
    const shimDir = path.join(tmp, "shim");
    fs.mkdirSync(shimDir, { recursive: true });
    const realPulumi = execFileSync("bash", ["-c", "command -v pulumi"], { env, encoding: "utf8" }).trim();
    const shimLog = path.join(tmp, `shim-${n}.log`);
    const driftTrace = path.join(tmp, `trace-drift-${n}.json`);
    fs.writeFileSync(
        path.join(shimDir, "pulumi"),
        `#!/usr/bin/env bash
t0=$(date +%s%N)
extra=()
if [[ " $* " == *" preview "* ]]; then extra=(--otel-traces "file://${driftTrace}"); fi
"${realPulumi}" "$@" "\${extra[@]}"
rc=$?
echo "$t0 $(date +%s%N) $rc $*" >> "${shimLog}"
exit $rc
`,
        { mode: 0o755 },
    );
    const dc = cmdOf("drift", { PATH: `${shimDir}:${env.PATH}` });
    const t0 = Date.now() * 1e6;
    const dres = await runner.run(`N${n} drift with pulumi shim`, dc);
    const calls = fs
        .readFileSync(shimLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => {
            const [a, b, rc, ...args] = l.split(" ");
            return {
                startMs: round((Number(a) - t0) / 1e6, 0),
                ms: round((Number(b) - Number(a)) / 1e6, 0),
                rc: Number(rc),
                args: args
                    .join(" ")
                    .replace(/--otel-traces \S+/, "")
                    .replace(/file:\/\/\S+/g, "FILE")
                    .replace(new RegExp(tmp.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"), "$TMP"),
            };
        });
    out.drift = {
        wallSeconds: dres.seconds,
        pulumiCalls: calls,
        pulumiCallsMs: calls.reduce((s, c) => s + c.ms, 0),
        beforeFirstPulumiCallMs: calls.length ? calls[0].startMs : NaN,
        previewPhasesMs: fs.existsSync(driftTrace) ? tracePhases(readSpans(driftTrace)) : undefined,
    };

    // 4. CPU profiles of the Node processes (the program; for drift also npm and the CLI)
    const cpu: Record<string, unknown> = {};
    for (const [label, kind, extra] of [
        ["raw-preview type-check", "raw-preview", {}],
        ["comp-preview type-check", "comp-preview", {}],
        ["comp-preview transpile-only", "comp-preview", { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }],
        ["comp-preview precompiled JS", "comp-preview", {}],
        ["drift", "drift", {}],
    ] as [string, CheckKind, NodeJS.ProcessEnv][]) {
        if (label.includes("precompiled") && !compJs) {
            continue;
        }
        setMode(dirs.comp, `peer-comp-${n}`, label.includes("precompiled"));
        const pdir = path.join(tmp, `cpuprof-${n}-${label.replace(/\W+/g, "_")}`);
        fs.mkdirSync(pdir, { recursive: true });
        // Node 20 refuses --cpu-prof in NODE_OPTIONS; a preload that runs the inspector's profiler does the same
        const preload = path.join(tmp, "cpuprof-preload.js");
        fs.writeFileSync(preload, CPU_PROFILE_PRELOAD);
        const res = await runner.run(`N${n} cpu-prof ${label}`, cmdOf(kind, { ...extra, NODE_OPTIONS: `--require ${preload}`, PVV_CPUPROF_DIR: pdir }));
        const files = fs
            .readdirSync(pdir)
            .filter((f) => f.endsWith(".cpuprofile"))
            .map((f) => path.join(pdir, f));
        const programDir = kind === "raw-preview" ? dirs.raw : dirs.comp;
        const sums = files
            .map((f) => {
                let argv = "";
                let modules: unknown;
                try {
                    const meta = JSON.parse(fs.readFileSync(f.replace(/\.cpuprofile$/, ".argv.json"), "utf8")) as {
                        argv: string[];
                        modules: number;
                        byPackage: Record<string, number>;
                    };
                    argv = meta.argv
                        .slice(1)
                        .join(" ")
                        .replace(/\/[^ ]*node_modules\//g, "")
                        .slice(0, 160);
                    modules = { total: meta.modules, byPackage: Object.fromEntries(Object.entries(meta.byPackage).sort((a, b) => b[1] - a[1])) };
                } catch {
                    /* none */
                }
                return { argv, modulesLoaded: modules, ...summariseCpuProfile(f, opt.repo, programDir) };
            })
            .filter((x) => x.totalMs > 50)
            .sort((a, b) => b.totalMs - a.totalMs);
        cpu[label] = { wallSeconds: res.seconds, processes: sums };
        setMode(dirs.comp, `peer-comp-${n}`, false);
    }
    out.cpuProfiles = cpu;
    return out;
}

async function profileStarts(
    opt: Options,
    runner: Runner,
    env: NodeJS.ProcessEnv,
    tfDir: string,
    toolEnv: NodeJS.ProcessEnv,
    pulumiHome: string,
    tmp: string,
): Promise<Record<string, unknown>> {
    log("---- process start times");
    const med = async (name: string, cmd: string, args: string[], cwd = tmp, e = env) => {
        const xs: number[] = [];
        for (let i = 0; i < 5; i++) {
            xs.push((await runner.run(`start ${name} ${i + 1}/5`, { cmd, args, cwd, env: e, okExits: [0] })).seconds);
        }
        return round(median(xs) * 1000, 0);
    };
    const vaultPluginDir = fs.readdirSync(path.join(pulumiHome, "plugins")).find((d) => d.startsWith("resource-vault-") && !d.endsWith(".lock"))!;
    const pulumiVault = path.join(pulumiHome, "plugins", vaultPluginDir, "pulumi-resource-vault");
    const tfProvider = toolEnv.PVV_TF_VAULT_PROVIDER_BIN!;
    const nm = path.join(opt.repo, "node_modules");
    const requireMs = (what: string, pre = "") => [
        "-e",
        `${pre}const t=process.hrtime.bigint();require(${JSON.stringify(what)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
    ];
    const requireTimes: Record<string, number> = {};
    for (const [name, mod, pre] of [
        ["@pulumi/pulumi", path.join(nm, "@pulumi", "pulumi"), ""],
        ["@pulumi/vault", path.join(nm, "@pulumi", "vault"), ""],
        ["@pulumi/kubernetes", path.join(nm, "@pulumi", "kubernetes"), ""],
        ["@pulumi/pulumi/automation", path.join(nm, "@pulumi", "pulumi", "automation"), ""],
        // @pulumi/pulumi's runtime/index.js loads closure/codePaths.js, which loads npm's arborist, at every run
        ["@npmcli/arborist alone", require.resolve("@npmcli/arborist", { paths: [path.join(nm, "@pulumi", "pulumi")] }), ""],
        ["@opentelemetry/* of cmd/run/tracing.js alone", path.join(nm, "@pulumi", "pulumi", "cmd", "run", "tracing"), ""],
        [
            "components/index.ts (ts-node transpile-only)",
            path.join(opt.repo, "components"),
            `require(${JSON.stringify(path.join(nm, "ts-node"))}).register({transpileOnly:true,project:${JSON.stringify(path.join(opt.repo, "tsconfig.json"))}});`,
        ],
    ] as [string, string, string][]) {
        const xs: number[] = [];
        for (let i = 0; i < 5; i++) {
            xs.push(Number(execFileSync(process.execPath, requireMs(mod, pre), { cwd: opt.repo, env, encoding: "utf8" }).trim().split("\n").pop()));
        }
        requireTimes[name] = round(median(xs), 0);
    }
    return {
        "node -e 0 (ms)": await med("node", process.execPath, ["-e", "0"]),
        "pulumi version (ms)": await med("pulumi version", "pulumi", ["version"]),
        "terraform version (ms)": await med("terraform version", "terraform", ["version"]),
        "npm --version (ms)": await med("npm --version", "npm", ["--version"]),
        "npm run drift -- --help (ms)": await med("drift --help", "npm", ["run", "--silent", "drift", "--", "--help"], opt.repo),
        "pulumi-resource-vault start to port (ms)": await timeToFirstLine(pulumiVault, [], env),
        "terraform-provider-vault start to handshake (ms)": await timeToFirstLine(tfProvider, [], {
            ...env,
            TF_PLUGIN_MAGIC_COOKIE: "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
            PLUGIN_PROTOCOL_VERSIONS: "5",
            PLUGIN_MIN_PORT: "10000",
            PLUGIN_MAX_PORT: "25000",
        }),
        "require() in a fresh node, median of 5 (ms)": requireTimes,
        binarySizesMiB: {
            "pulumi-resource-vault": round(fs.statSync(pulumiVault).size / MiB, 1),
            "terraform-provider-vault": round(fs.statSync(tfProvider).size / MiB, 1),
        },
        tfDir: path.basename(tfDir),
    };
}

// ------------------------------------------------------------------------------------------- drift CLI

/** The newest modification time of the .ts files under `dirs` of `repo` (0 when there are none). */
function newestTsMtime(repo: string, dirs: string[]): number {
    let newest = 0;
    const walk = (d: string) => {
        for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) {
                walk(p);
            } else if (e.name.endsWith(".ts")) {
                newest = Math.max(newest, fs.statSync(p).mtimeMs);
            }
        }
    };
    dirs.forEach((d) => walk(path.join(repo, d)));
    return newest;
}

/**
 * Builds the checkout's lib/ when it is missing or older than the sources (drift-bin runs lib/cli/drift.js,
 * and the drift script would fall back to ts-node), and says how its `npm run drift` runs.
 */
function ensureDriftCli(repo: string): string {
    const built = path.join(repo, "lib", "cli", "drift.js");
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestTsMtime(repo, ["cli", "ops", "components"])) {
        log("building the package (tsc -p tsconfig.build.json): drift-bin and the drift script run the compiled CLI");
        execFileSync(path.join(repo, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: repo, stdio: "inherit" });
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { scripts?: Record<string, string> };
    const script = pkg.scripts?.drift ?? "";
    return script.includes("lib/cli/drift.js") ? "`npm run drift` runs the compiled CLI (node lib/cli/drift.js)" : `\`npm run drift\` runs \`${script}\``;
}

main().catch((e) => {
    process.stderr.write(`[peer] FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
