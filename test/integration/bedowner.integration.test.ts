/**
 * Servers started by a test run do not outlive it (issue 8 item 14): a test run is played by a child
 * node process that uses bed.ts as the suites do, and is then SIGKILLed or exits normally.
 *
 * - A server a suite spawns itself (spawnOwned, e.g. kv-copy's second Vault) is stopped by its guard.
 * - A bed the run started (startBed) is stopped by bed.sh's watchdog, or at the run's normal exit.
 * - A bed that was running before the run (CI's, a developer's) is reused, also restarted, and left running.
 *
 * The bed here is a second one in a temporary PVV_BED_DIR, without a node and without VSO (the node's
 * bridge, /run/pvv-bed and iptables rules exist once per machine and belong to the main bed): etcd,
 * kube-apiserver, kube-controller-manager and Vault on ports of its own, so this runs next to CI's bed.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { REPO, TOOLS_DIR, freePort, requireBedOrSkip, waitFor } from "./bed";

const BED_TS = path.join(__dirname, "bed.ts");
const BED_SH = path.join(REPO, "scripts/bed.sh");
/** How long a killed run's servers may outlive it. */
const BOUND_MS = 20000;

/** Alive and not a zombie (a killed process can linger as one until its parent reaps it). */
function alive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
    } catch {
        return false;
    }
}

function listening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port });
        s.once("connect", () => {
            s.destroy();
            resolve(true);
        });
        s.once("error", () => resolve(false));
    });
}

/** Processes whose command line contains `needle`. */
function processesWith(needle: string): number[] {
    const out: number[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) {
            continue;
        }
        try {
            if (fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").includes(needle)) {
                out.push(Number(d));
            }
        } catch {
            // gone
        }
    }
    return out;
}

/** Processes with a file open, or their working directory, in `dir` (what bed-check-clean.sh looks for). */
function processesIn(dir: string): string[] {
    const out: string[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d) || Number(d) === process.pid) {
            continue;
        }
        try {
            const links = [fs.readlinkSync(`/proc/${d}/cwd`), ...fs.readdirSync(`/proc/${d}/fd`).map((f) => fs.readlinkSync(`/proc/${d}/fd/${f}`))];
            if (links.some((l) => l === dir || l.startsWith(dir + "/"))) {
                out.push(`${d} ${fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").slice(0, 100)}`);
            }
        } catch {
            // gone, or not ours to read
        }
    }
    return out;
}

interface Run {
    child: ChildProcess;
    ready: Promise<Record<string, unknown>>;
    exited: Promise<number | null>;
    output: () => string;
}

/** A "test run": node with ts-node running `code`, which prints `READY <json>` once set up. */
function startRun(code: string, env: Record<string, string>): Run {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code], {
        cwd: REPO,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
        child.stdout!.on("data", (d) => {
            out += d;
            const m = /^READY (.*)$/m.exec(out);
            if (m) {
                resolve(JSON.parse(m[1]) as Record<string, unknown>);
            }
        });
        void exited.then((c) => reject(new Error(`the test run exited (${c}) before it was ready:\n${out.slice(-3000)}`)));
    });
    return { child, ready, exited, output: () => out };
}

describe("integration: servers started by a test run do not outlive it (issue 8 item 14)", function () {
    this.timeout(4 * 60 * 1000);
    let bedDir = "";
    const leftovers: number[] = [];
    const bedEnv = () => ({ ...process.env, PVV_BED_DIR: bedDir, PVV_BED_NODE: "0", PVV_BED_VSO: "0", PVV_BED_OWNER_PID: "" });

    before(function () {
        requireBedOrSkip(this);
        bedDir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-bedowner-"));
    });

    after(() => {
        for (const pid of leftovers.filter(alive)) {
            process.kill(pid, "SIGKILL");
        }
        if (bedDir) {
            spawnSync("bash", [BED_SH, "clean"], { env: bedEnv(), stdio: "ignore" });
            fs.rmSync(bedDir, { recursive: true, force: true });
        }
    });

    /** The second bed's servers: pid files and ports. */
    function bedState(): { pids: Record<string, number>; ports: number[]; watchdog?: number; owner?: number } {
        const pids: Record<string, number> = {};
        for (const f of fs.readdirSync(bedDir).filter((f) => f.endsWith(".pid") && f !== "watchdog.pid")) {
            pids[f.replace(/\.pid$/, "")] = Number(fs.readFileSync(path.join(bedDir, f), "utf8"));
        }
        const ports = fs.existsSync(path.join(bedDir, "ports"))
            ? fs.readdirSync(path.join(bedDir, "ports")).map((f) => Number(fs.readFileSync(path.join(bedDir, "ports", f), "utf8")))
            : [];
        const num = (f: string) => (fs.existsSync(path.join(bedDir, f)) ? Number(fs.readFileSync(path.join(bedDir, f), "utf8").split(" ")[0]) : undefined);
        return { pids, ports, watchdog: num("watchdog.pid"), owner: num("owner") };
    }

    /** What is still there of a bed whose state was `s` (empty when it is all gone). */
    async function remains(s: ReturnType<typeof bedState>): Promise<string[]> {
        const left: string[] = [];
        for (const [svc, pid] of Object.entries(s.pids)) {
            if (alive(pid)) {
                left.push(`${svc} (pid ${pid})`);
            }
        }
        if (s.watchdog && alive(s.watchdog)) {
            left.push(`watchdog (pid ${s.watchdog})`);
        }
        for (const port of s.ports) {
            if (await listening(port)) {
                left.push(`port ${port} listening`);
            }
        }
        return [...left, ...processesIn(bedDir).map((p) => `process ${p}`)];
    }

    const BED_RUN = `
        const b = require(${JSON.stringify(BED_TS)});
        b.startBed({ vso: false, fresh: process.env.FRESH === "1" });
        console.log("READY " + JSON.stringify({ owned: b.bedOwnedByThisProcess() }));
        if (process.env.THEN === "exit") { process.exit(0); } else { setInterval(() => undefined, 1000); }`;

    it("a server a suite spawns with spawnOwned is stopped when the test run is SIGKILLed", async () => {
        const vaultBin = execFileSync("bash", ["-c", `source "${TOOLS_DIR}/env.servers.sh" && echo "$PVV_VAULT_BIN"`], { encoding: "utf8" }).trim();
        const port = await freePort();
        // the root token goes through the environment, never the command line
        const run = startRun(
            `
            const { spawnOwned } = require(${JSON.stringify(BED_TS)});
            const v = spawnOwned(process.env.VAULT_BIN, ["server", "-dev", "-dev-listen-address=127.0.0.1:" + process.env.PORT, "-dev-no-store-token"], { stdio: "ignore" });
            console.log("READY " + JSON.stringify({ vault: v.pid }));
            setInterval(() => undefined, 1000);`,
            { VAULT_BIN: vaultBin, PORT: String(port), VAULT_DEV_ROOT_TOKEN_ID: crypto.randomBytes(16).toString("hex") },
        );
        const vault = (await run.ready).vault as number;
        leftovers.push(vault);
        await waitFor("the spawned Vault to listen", 30000, () => listening(port));
        const guards = processesWith(`scripts/bed.sh _guard ${run.child.pid} ${vault}`);
        assert.strictEqual(guards.length, 1, "one guard watches the Vault");

        run.child.kill("SIGKILL");
        const t0 = Date.now();
        await waitFor(
            `the Vault (pid ${vault}, port ${port}) and its guard to be gone`,
            BOUND_MS,
            async () => !alive(vault) && !(await listening(port)) && !guards.some(alive),
        );
        console.log(`      (Vault and guard gone ${Date.now() - t0} ms after the SIGKILL)`);
    });

    it("a bed the test run started is stopped by its watchdog when the run is SIGKILLed", async () => {
        const run = startRun(BED_RUN, { PVV_BED_DIR: bedDir, PVV_BED_NODE: "0" });
        assert.deepStrictEqual(await run.ready, { owned: true }, "the run owns the bed it started");
        const s = bedState();
        leftovers.push(...Object.values(s.pids));
        assert.deepStrictEqual(Object.keys(s.pids).sort(), ["etcd", "kube-apiserver", "kube-controller-manager", "vault"]);
        assert.ok(Object.values(s.pids).every(alive), "the bed runs");
        assert.strictEqual(s.owner, run.child.pid);
        assert.ok(s.watchdog && alive(s.watchdog), "a watchdog runs");

        run.child.kill("SIGKILL");
        const t0 = Date.now();
        let left: string[] = [];
        await waitFor(
            "the bed to be stopped",
            BOUND_MS,
            async () => (left = await remains(s)).length === 0,
            () => `; still there: ${left.join(", ")}\n${fs.readFileSync(path.join(bedDir, "logs/watchdog.log"), "utf8").slice(-2000)}`,
        );
        console.log(`      (bed gone ${Date.now() - t0} ms after the SIGKILL)`);
        assert.ok(!fs.existsSync(path.join(bedDir, "owner")));
    });

    it("a bed the test run started is stopped when the run ends normally, with its watchdog", async () => {
        const run = startRun(BED_RUN, { PVV_BED_DIR: bedDir, PVV_BED_NODE: "0", THEN: "exit" });
        assert.deepStrictEqual(await run.ready, { owned: true });
        const s = bedState();
        leftovers.push(...Object.values(s.pids));
        assert.strictEqual(await run.exited, 0, run.output().slice(-3000));
        // stopped before the process ended (bed.sh stop at exit), not later by the watchdog
        assert.deepStrictEqual(await remains(s), []);
        assert.match(run.output(), /stopping the bed this test run started/);
    });

    it("a bed that was running before the run (CI, by hand) is reused, restarted by a fresh suite, and left running", async () => {
        execFileSync("bash", [BED_SH, "start"], { env: bedEnv(), stdio: ["ignore", "ignore", "pipe"] });
        const before = bedState();
        leftovers.push(...Object.values(before.pids));
        assert.strictEqual(before.owner, undefined, "a bed started by hand has no owner");

        const run = startRun(BED_RUN, { PVV_BED_DIR: bedDir, PVV_BED_NODE: "0", FRESH: "1", THEN: "exit" });
        assert.deepStrictEqual(await run.ready, { owned: false }, "restarting it does not make it the run's");
        assert.strictEqual(await run.exited, 0, run.output().slice(-3000));
        const s = bedState();
        leftovers.push(...Object.values(s.pids));
        assert.notDeepStrictEqual(s.pids, before.pids, "the suite's fresh start restarted it");
        assert.strictEqual(s.owner, undefined);
        assert.strictEqual(s.watchdog, undefined);
        assert.strictEqual(processesWith(`_watchdog ${bedDir} `).length, 0, "no watchdog");
        await new Promise((r) => setTimeout(r, 2500)); // longer than a watchdog's poll
        assert.ok(Object.values(s.pids).every(alive), "still running after the run ended");
        const status = spawnSync("bash", [BED_SH, "status"], { env: bedEnv(), encoding: "utf8" });
        assert.strictEqual(status.status, 0, status.stdout + status.stderr);

        execFileSync("bash", [BED_SH, "stop"], { env: bedEnv(), stdio: ["ignore", "ignore", "pipe"] });
        assert.deepStrictEqual(await remains(s), []);
    });
});
