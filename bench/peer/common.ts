/**
 * The peer benchmark's options, measurement helpers and result types, shared by its peers, its runner and its report.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

// ------------------------------------------------------------------------------------------- options

export interface Options {
    ns: number[];
    runs: number;
    repo: string;
    label?: string;
    out: string;
    /** Base name of the result files (default `peer`). */
    name: string;
    profile: boolean;
    profileOnly: boolean;
    keep: boolean;
    notes?: string;
    /** `package`: the built package through node_modules, as a user imports it (default); `source`: components/*.ts. */
    componentsFrom: "package" | "source";
    /**
     * `set`: one VaultNamespaceAccessSet for all N namespaces; `per-namespace`: one VaultNamespaceAccess
     * (NamespaceVaultAccess in old checkouts) per namespace. Undefined: `set` when the checkout has it.
     */
    componentsApi?: ComponentsApi;
}

export type ComponentsApi = "per-namespace" | "set";

export function parseOptions(argv: string[]): Options {
    const o: Options = {
        ns: [10, 100],
        runs: 5,
        repo: path.resolve(__dirname, "..", ".."),
        out: path.join(__dirname, "..", "results"),
        name: "peer",
        profile: false,
        profileOnly: false,
        keep: false,
        componentsFrom: "package",
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const val = () => {
            const v = argv[++i];
            if (v === undefined) {
                throw new Error(`${a} needs a value`);
            }
            return v;
        };
        switch (a) {
            case "--ns":
                o.ns = val()
                    .split(",")
                    .map((s) => Number(s.trim()))
                    .filter((n) => Number.isInteger(n) && n > 0);
                break;
            case "--runs":
                o.runs = Number(val());
                break;
            case "--repo":
                o.repo = path.resolve(val());
                break;
            case "--label":
                o.label = val();
                break;
            case "--out":
                o.out = path.resolve(val());
                break;
            case "--name":
                o.name = val();
                if (!/^[A-Za-z0-9._-]+$/.test(o.name)) {
                    throw new Error("--name takes a file base name (letters, digits, '.', '_', '-')");
                }
                break;
            case "--notes":
                o.notes = path.resolve(val());
                break;
            case "--profile":
                o.profile = true;
                break;
            case "--profile-only":
                o.profile = true;
                o.profileOnly = true;
                break;
            case "--keep":
                o.keep = true;
                break;
            case "--components-from": {
                const v = val();
                if (v !== "package" && v !== "source") {
                    throw new Error("--components-from takes package or source");
                }
                o.componentsFrom = v;
                break;
            }
            case "--components-api": {
                const v = val();
                if (v !== "per-namespace" && v !== "set") {
                    throw new Error("--components-api takes per-namespace or set");
                }
                o.componentsApi = v;
                break;
            }
            case "--help":
            case "-h":
                process.stdout.write(
                    "usage: peer.bench.ts [--ns 10,100] [--runs 5] [--repo DIR] [--label TEXT] [--out DIR] [--name BASE] [--notes FILE] [--profile | --profile-only] [--keep] [--components-from package|source] [--components-api per-namespace|set]\n",
                );
                process.exit(0);
            // eslint-disable-next-line no-fallthrough
            default:
                throw new Error(`unknown argument ${a} (see --help)`);
        }
    }
    if (!o.ns.length || !(o.runs >= 1)) {
        throw new Error("--ns needs positive integers, --runs >= 1");
    }
    if (!fs.existsSync(path.join(o.repo, "components", "index.ts"))) {
        throw new Error(`${o.repo} has no components/index.ts`);
    }
    return o;
}

// ------------------------------------------------------------------------------------------- helpers

export const log = (m: string) => process.stderr.write(`[peer] ${m}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
export const loadavg = () => os.loadavg().map((x) => round(x, 2)) as [number, number, number];
export const MiB = 2 ** 20;

/** Environment of `bash -c 'source FILE... ; env -0'`. */
export function sourcedEnv(files: string[], base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const script = files.map((f) => `source ${JSON.stringify(f)}`).join(" && ") + " && env -0";
    const out = execFileSync("bash", ["-c", script], { env: base, encoding: "utf8", maxBuffer: 16 * MiB });
    const env: NodeJS.ProcessEnv = {};
    for (const kv of out.split("\0")) {
        const eq = kv.indexOf("=");
        if (eq > 0) {
            env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
    }
    return env;
}

export async function freePort(): Promise<number> {
    for (;;) {
        const port = await new Promise<number>((resolve, reject) => {
            const s = net.createServer();
            s.once("error", reject);
            s.listen(0, "127.0.0.1", () => {
                const p = (s.address() as net.AddressInfo).port;
                s.close(() => resolve(p));
            });
        });
        // Vault's dev cluster listener takes port+1
        const next = await new Promise<boolean>((resolve) => {
            const s = net.createServer();
            s.once("error", () => resolve(false));
            s.listen(port + 1, "127.0.0.1", () => s.close(() => resolve(true)));
        });
        if (next && port !== 8200 && port !== 8201 && port < 65000) {
            return port;
        }
    }
}

export interface ProcSample {
    treeRss: number;
    byKind: Record<string, number>;
    maxNode: number;
    procs: number;
}

/** Reads the process tree below `root` from /proc: total RSS, RSS by kind, largest node process. */
export function sampleTree(root: number): ProcSample {
    const children = new Map<number, number[]>();
    const info = new Map<number, { comm: string; rss: number }>();
    const page = 4096;
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            const rp = stat.lastIndexOf(")");
            const comm = stat.slice(stat.indexOf("(") + 1, rp);
            const f = stat.slice(rp + 2).split(" ");
            const ppid = Number(f[1]);
            const rss = Number(f[21]) * page; // field 24 (rss, pages)
            const pid = Number(d);
            info.set(pid, { comm, rss });
            if (!children.has(ppid)) {
                children.set(ppid, []);
            }
            children.get(ppid)!.push(pid);
        } catch {
            /* process went away */
        }
    }
    const out: ProcSample = { treeRss: 0, byKind: {}, maxNode: 0, procs: 0 };
    const stack = [root];
    while (stack.length) {
        const pid = stack.pop()!;
        const p = info.get(pid);
        if (p) {
            const kind = kindOf(p.comm);
            if (kind !== "time") {
                out.treeRss += p.rss;
                out.byKind[kind] = (out.byKind[kind] ?? 0) + p.rss;
                out.procs++;
                if (kind === "node") {
                    out.maxNode = Math.max(out.maxNode, p.rss);
                }
            }
        }
        stack.push(...(children.get(pid) ?? []));
    }
    return out;
}

export function kindOf(comm: string): string {
    if (comm === "node" || comm === "npm" || comm.startsWith("npm ")) {
        return "node";
    }
    if (comm === "time") {
        return "time";
    }
    if (comm.startsWith("pulumi-resource")) {
        return "pulumi-resource-vault";
    }
    if (comm.startsWith("pulumi-language")) {
        return "pulumi-language-nodejs";
    }
    if (comm.startsWith("terraform-provi")) {
        return "terraform-provider-vault";
    }
    return comm; // pulumi, terraform, sh, bash, ...
}

export interface RunResult {
    seconds: number;
    exit: number;
    /** Max RSS of the largest single process in the tree (GNU time %M), MiB. */
    maxRssMiB: number;
    /**
     * CPU seconds (user + sys, GNU time %U + %S) of the command and every descendant it waited for (the
     * engine reaps its language host and plugins): the run's cost, less sensitive to other load than wall time.
     */
    cpuSeconds?: number;
    load1: number;
    /** Vault requests seen by the audit device during the run. */
    requests: number;
    /** Sampled tree memory (only when sampled). */
    tree?: { peakTreeMiB: number; peakNodeMiB: number; peakByKindMiB: Record<string, number> };
}

// ------------------------------------------------------------------------------------------- main

export type CheckKind = "tf-plan" | "tf-refresh-only" | "raw-preview" | "comp-preview" | "drift" | "drift-bin";
export const CHECKS: CheckKind[] = ["tf-plan", "tf-refresh-only", "raw-preview", "comp-preview", "drift", "drift-bin"];

export interface SizeResult {
    n: number;
    resourcesPerTool: number;
    setup: Record<string, RunResult>;
    firstApply: Record<"tf" | "raw" | "comp", RunResult>;
    warmup: Record<CheckKind, RunResult>;
    runs: Record<CheckKind, RunResult[]>;
    median: Record<CheckKind, number>;
    pairedRatios: Record<string, { median: number; perRun: number[] }>;
    ratioOfMedians: Record<string, number>;
    loadDuringChecks: { min: number; max: number; median: number };
}
