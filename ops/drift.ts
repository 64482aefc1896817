/**
 * Drift detection: the engine's own refresh-and-diff, turned into a readable report (resource, field,
 * expected → actual, secrets masked), plus a check of managed KV v2 values that compares Vault's current
 * version with the one recorded at the last `up` (values are never read).
 *
 * Default ("state"): `pulumi refresh --preview-only --json` run by the pulumi CLI directly. The engine
 * reads every resource of the stack through its provider and, per resource, diffs the live state
 * against the state recorded at the last `up` with the provider's own Diff (the diff a no-change
 * `pulumi up` would show after a refresh, honouring ignoreChanges); nothing is written. The program is
 * not run, which is what makes it fast (no Node program, no TypeScript, no Automation API).
 *
 * What it catches compared with the program-based check (`--program`: `preview --refresh` through the
 * Automation API, the live state against the program):
 * - the same out-of-band changes to managed fields, and objects deleted out of band (a refresh `delete`);
 * - NOT a change to the program that was not applied yet (the program is not run: that is what
 *   `pulumi preview` is for, and it is not drift of the live system);
 * - NOT a drift that someone already accepted into the state with `pulumi refresh` (the state then
 *   matches the live system; `--program` still reports it against the program);
 * - resources read with `.get()` (external) are compared by their outputs, as the engine does.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { spawn } from "child_process";
import { redactUrl, sanitizeText, vaultRequest } from "./clients";
import type { PlatformInventory } from "../components/config/inventory";

/** One drifted field of one resource. */
export interface DriftRow {
    /** Resource type and name, e.g. `vault:index/policy:Policy homelab-cnpg-policy`. */
    resource: string;
    urn: string;
    /** What the preview would do to repair it: update, replace, create (missing), delete. */
    op: string;
    /** Field path, e.g. `boundServiceAccountNamespaces` or `spec.refreshAfter`; `*` for the whole resource. */
    field: string;
    /** Value in the program (what `up` would set), masked if secret. */
    expected: string;
    /** Value found in the live system, masked if secret. */
    actual: string;
}

export interface DriftReport {
    stack: string;
    drifted: boolean;
    rows: DriftRow[];
    /** Resources checked (steps seen in the preview). */
    checked: number;
    /**
     * What "expected" means: `state` (default check: the state recorded at the last `up`) or `program`
     * (`--program`: what the program would set). Absent in reports of version 0.1: the program.
     */
    basis?: DriftBasis;
}

/** What the live system is compared with: the state of the last `up` (fast, default) or the program. */
export type DriftBasis = "state" | "program";

/** Field names whose values are never printed, whatever the engine says. */
const SECRET_FIELDS = /^(tokenReviewerJwt|token|dataJson|data|stringData|values|password|devRootToken)$/;
const MASK = "[secret]";
const DRIFT_OPS: string[] = ["update", "replace", "create", "delete", "create-replacement", "delete-replaced"];

function getPath(obj: unknown, path: string): unknown {
    let cur: unknown = obj;
    for (const part of path
        .replace(/\[(\d+)\]/g, ".$1")
        .split(".")
        .filter(Boolean)) {
        if (cur === null || typeof cur !== "object") {
            return undefined;
        }
        cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
}

/** Renders a value for the report, masking secrets (engine-masked values and secret-looking fields). */
export function renderValue(field: string, v: unknown): string {
    if (v === undefined) {
        return "(none)";
    }
    const s = JSON.stringify(v);
    if (s.includes("[secret]") || s.includes("4dabf18193072939515e22adb298388d") || field.split(".").some((p) => SECRET_FIELDS.test(p))) {
        return MASK;
    }
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Turns preview engine events into drift rows (pure). */
export function driftRowsFromEvents(events: EngineEvent[]): { rows: DriftRow[]; checked: number } {
    const rows: DriftRow[] = [];
    const seen = new Set<string>();
    for (const e of events) {
        const m: StepEventMetadata | undefined = e.resourcePreEvent?.metadata;
        if (!m) {
            continue;
        }
        seen.add(m.urn);
        if (!DRIFT_OPS.includes(m.op) || m.type.startsWith("pulumi:providers:") || m.type === "pulumi:pulumi:Stack") {
            continue;
        }
        const resource = `${m.type} ${m.urn.split("::").pop()}`;
        if (m.op === "create" || m.op === "delete") {
            rows.push({
                resource,
                urn: m.urn,
                op: m.op,
                field: "*",
                expected: m.op === "create" ? "exists" : "(not in program)",
                actual: m.op === "create" ? "missing" : "exists",
            });
            continue;
        }
        const fields = m.detailedDiff ? Object.keys(m.detailedDiff) : (m.diffs ?? []);
        if (fields.length === 0) {
            rows.push({ resource, urn: m.urn, op: m.op, field: "*", expected: "(changed)", actual: "(changed)" });
            continue;
        }
        for (const field of fields.sort()) {
            rows.push({
                resource,
                urn: m.urn,
                op: m.op,
                field,
                expected: renderValue(field, getPath(m.new?.inputs, field)),
                actual: renderValue(field, getPath(m.old?.inputs, field) ?? getPath(m.old?.outputs, field)),
            });
        }
    }
    return { rows, checked: seen.size };
}

/** One step of `pulumi refresh --preview-only --json` (the fields used here). */
export interface RefreshPreviewStep {
    /** `refresh` (unchanged, or changed without details), `update` (drifted), `delete` (gone from the live system). */
    op: string;
    urn: string;
    oldState?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> } | null;
    newState?: { type?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> } | null;
    /** Field path → kind (`update`, `add`, `delete`, ...), from the provider's Diff; null when there is none. */
    detailedDiff?: Record<string, { kind?: string; inputDiff?: boolean }> | null;
    diffReasons?: string[] | null;
}

/**
 * The document `pulumi refresh --preview-only --json` prints (pulumi 3.248: the CLI's PreviewDigest).
 * Secret values are replaced by the string "[secret]" in it (the CLI never shows secrets in JSON
 * without --show-secrets, which is never passed).
 */
export interface RefreshPreviewJson {
    steps?: RefreshPreviewStep[] | null;
    diagnostics?: { urn?: string; message?: string; severity?: string }[] | null;
    changeSummary?: Record<string, number> | null;
}

function typeOfUrn(urn: string): string {
    return urn.split("::")[2]?.split("$").pop() ?? "";
}

/** The ops of a refresh's change summary that mean drift (the rest is `same`). */
const REFRESH_DRIFT_OPS = ["update", "delete", "replace", "create", "create-replacement", "delete-replaced"];

/**
 * Turns the JSON of `pulumi refresh --preview-only --json` into drift rows (pure). Expected = the state
 * recorded at the last `up`, actual = live. A resource deleted out of band is one row `*`: exists →
 * missing. The stack's outputs as recorded (secret ones as "[secret]") come back for the inventory. When
 * the engine counts more changed resources than it described (a provider without a detailed diff), one
 * row says so, so that the check never reports "no drift" while the engine saw a change.
 */
export function driftRowsFromRefreshPreview(doc: RefreshPreviewJson): { rows: DriftRow[]; checked: number; outputs: Record<string, unknown> } {
    const rows: DriftRow[] = [];
    const urns = new Set<string>();
    let outputs: Record<string, unknown> = {};
    for (const s of doc.steps ?? []) {
        const type = s.oldState?.type ?? s.newState?.type ?? typeOfUrn(s.urn);
        if (type === "pulumi:pulumi:Stack") {
            outputs = s.oldState?.outputs ?? s.newState?.outputs ?? {};
            continue;
        }
        if (type.startsWith("pulumi:providers:")) {
            continue;
        }
        urns.add(s.urn);
        const resource = `${type} ${s.urn.split("::").pop()}`;
        if (s.op === "delete") {
            rows.push({ resource, urn: s.urn, op: "delete", field: "*", expected: "exists", actual: "missing" });
            continue;
        }
        if (s.op !== "update" && s.op !== "replace") {
            continue;
        }
        const fields = s.detailedDiff ? Object.keys(s.detailedDiff) : (s.diffReasons ?? []);
        if (fields.length === 0) {
            rows.push({ resource, urn: s.urn, op: s.op, field: "*", expected: "(recorded)", actual: "(changed)" });
            continue;
        }
        const at = (st: RefreshPreviewStep["oldState"], field: string) => {
            const v = getPath(st?.inputs, field);
            return v === undefined ? getPath(st?.outputs, field) : v;
        };
        for (const field of [...fields].sort()) {
            rows.push({
                resource,
                urn: s.urn,
                op: s.op,
                field,
                expected: renderValue(field, at(s.oldState, field)),
                actual: renderValue(field, at(s.newState, field)),
            });
        }
    }
    const counted = REFRESH_DRIFT_OPS.reduce((n, op) => n + (doc.changeSummary?.[op] ?? 0), 0);
    const described = new Set(rows.map((r) => r.urn)).size;
    if (counted > described) {
        const n = counted - described;
        rows.push({
            resource: `(${n} more resource${n === 1 ? "" : "s"}: changed, the provider gave no details; see \`pulumi refresh --preview-only --diff\`)`,
            urn: "refresh-summary",
            op: "update",
            field: "*",
            expected: "(recorded)",
            actual: "(changed)",
        });
    }
    return { rows, checked: urns.size, outputs };
}

/**
 * How to repair drift: `pulumi up --refresh`. A plain `pulumi up` compares the program with the
 * state recorded at the last `up`, which still holds the old values, and so repairs nothing.
 */
export function repairHint(stack: string): string {
    return `Run \`pulumi up --refresh --stack ${stack}\` to repair (a plain \`pulumi up\` trusts the recorded state and repairs nothing).`;
}

/** Formats rows as a fixed-width table (pure). */
export function formatDriftTable(report: DriftReport): string {
    if (!report.drifted) {
        return `No drift: ${report.checked} resources of stack ${report.stack} match ${report.basis === "program" ? "the program" : "the state of the last `pulumi up`"}.`;
    }
    const head = ["RESOURCE", "FIELD", "EXPECTED", "ACTUAL"];
    const data = report.rows.map((r) => [r.resource, r.field, r.expected, r.actual]);
    const widths = head.map((h, i) => Math.min(70, Math.max(h.length, ...data.map((d) => d[i].length))));
    const line = (cols: string[]) =>
        cols
            .map((c, i) => (c.length > widths[i] ? c.slice(0, widths[i] - 1) + "…" : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    const resources = new Set(report.rows.map((r) => r.urn)).size;
    return [
        `Drift in stack ${report.stack}: ${resources} resource${resources === 1 ? "" : "s"}, ${report.rows.length} field${report.rows.length === 1 ? "" : "s"} (expected = ${report.basis === "program" ? "the program" : "the state of the last `pulumi up`"}, actual = live). ${repairHint(report.stack)}`,
        "",
        line(head),
        line(widths.map((w) => "-".repeat(w))),
        ...data.map(line),
    ].join("\n");
}

/** Reads a KV v2 secret's current version from its metadata (never its data). */
export async function kvCurrentVersion(vaultAddr: string, token: string, kvPath: string, path: string): Promise<string | undefined> {
    const res = await vaultRequest(vaultAddr, token, "GET", `${kvPath}/metadata/${path}`);
    if (res.status === 404) {
        return undefined;
    }
    if (res.status < 200 || res.status >= 300) {
        throw new Error(`reading ${kvPath}/metadata/${path} from Vault: HTTP ${res.status}`);
    }
    const body = (res.body ?? {}) as { data?: { current_version?: number } };
    return body.data?.current_version === undefined ? undefined : String(body.data.current_version);
}

/** Compares recorded managed versions with Vault's current ones (pure). */
export function managedVersionRows(
    apps: { name: string; path: string; namespace: string }[],
    recorded: Record<string, string | undefined>,
    current: Record<string, string | undefined>,
): DriftRow[] {
    const rows: DriftRow[] = [];
    for (const app of apps) {
        if (!(app.name in recorded)) {
            continue;
        }
        const want = recorded[app.name];
        const have = current[app.name];
        if (want !== have) {
            rows.push({
                resource: `vault:kv/secretV2:SecretV2 (value of app ${app.name})`,
                urn: `kv-version:${app.name}`,
                op: "update",
                field: "version (value changed outside Pulumi)",
                expected: want === undefined ? "(none)" : `v${want}`,
                actual: have === undefined ? "missing" : `v${have}`,
            });
        }
    }
    return rows;
}

export interface DriftCheckOptions {
    /** Stack name. */
    stack: string;
    /** Project directory (holds Pulumi.yaml). Default: the current directory. */
    workDir?: string;
    /** Vault address/token for the managed-value check. Default: VAULT_ADDR / VAULT_TOKEN. Skipped if absent. */
    vaultAddr?: string;
    vaultToken?: string;
    /** Extra environment for the Pulumi CLI. */
    envVars?: Record<string, string>;
    /** Progress callback (one line per message). */
    onProgress?: (msg: string) => void;
    /**
     * What the live system is compared with: `state` (default: `pulumi refresh --preview-only`, the
     * state of the last `up`, no program run) or `program` (`preview --refresh` through the Automation
     * API, which runs the program: slower, and also reports unapplied program changes).
     */
    basis?: DriftBasis;
    /** The pulumi CLI (default: `pulumi` on PATH). */
    pulumiBin?: string;
}

type Outputs = Record<string, { value?: unknown } | undefined>;

/** A failed pulumi command: its exit code and the CLI's error lines (no output values). */
export class PulumiCliError extends Error {
    constructor(
        message: string,
        public readonly exitCode: number | null,
    ) {
        super(message);
        this.name = "PulumiCliError";
    }
}

/** Runs the pulumi CLI with an argument array (no shell) and collects its output. */
function runPulumi(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
    });
}

function parseJsonOutput<T>(stdout: string, what: string): T {
    const at = stdout.indexOf("{");
    try {
        return JSON.parse(at > 0 ? stdout.slice(at) : stdout) as T;
    } catch {
        throw new PulumiCliError(`error: ${what} printed no readable JSON`, 0);
    }
}

function cliFailure(args: string[], r: { code: number | null; stdout: string; stderr: string }): PulumiCliError {
    let diagnostics: string[] = [];
    try {
        const doc = JSON.parse(r.stdout) as RefreshPreviewJson;
        diagnostics = (doc.diagnostics ?? []).filter((d) => d.severity === "error" && d.message).map((d) => `error: ${d.message!.replace(/^error:\s*/, "")}`);
    } catch {
        // no JSON: the CLI's stderr says what failed
    }
    return new PulumiCliError(`Command failed with exit code ${r.code}: pulumi ${args[0]}\n${r.stderr}\n${diagnostics.join("\n")}`, r.code);
}

/** The default check: the engine's refresh preview (live vs. the state of the last `up`), no program run. */
async function refreshPreview(opts: DriftCheckOptions, workDir: string, env: NodeJS.ProcessEnv, bin: string) {
    const args = [
        "refresh",
        "--preview-only",
        "--json",
        "--non-interactive",
        "--suppress-progress",
        "--color",
        "never",
        "--stack",
        opts.stack,
        "--cwd",
        workDir,
    ];
    const r = await runPulumi(bin, args, workDir, env);
    if (r.code !== 0) {
        throw cliFailure(args, r);
    }
    const { rows, checked, outputs } = driftRowsFromRefreshPreview(parseJsonOutput<RefreshPreviewJson>(r.stdout, "pulumi refresh --preview-only --json"));
    const recorded: Outputs = Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value }]));
    // a secret output is "[secret]" in the JSON: read the outputs themselves only if the inventory may be one
    const readSecret = async (): Promise<Outputs> => {
        const a = ["stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", opts.stack, "--cwd", workDir];
        const o = await runPulumi(bin, a, workDir, env);
        if (o.code !== 0) {
            throw cliFailure(a, o);
        }
        const values = parseJsonOutput<Record<string, unknown>>(o.stdout, "pulumi stack output --json");
        return Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value }]));
    };
    return { rows, checked, outputs: recorded, readSecret };
}

/** `--program`: preview --refresh through the Automation API (runs the program; loaded only here). */
async function programPreview(opts: DriftCheckOptions, workDir: string) {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir }, { envVars: opts.envVars });
    const events: EngineEvent[] = [];
    opts.onProgress?.(`refreshing and previewing stack ${opts.stack} against the program (no changes are made)...`);
    await stack.preview({
        refresh: true,
        diff: false,
        onEvent: (e) => {
            events.push(e);
        },
    });
    const { rows, checked } = driftRowsFromEvents(events);
    const outputs: Outputs = await stack.outputs();
    return { rows, checked, outputs, readSecret: undefined };
}

/**
 * Runs the drift check of a stack (see the top of this file: by default the engine's refresh preview,
 * the live system against the state of the last `up`) and the managed-value version check. Changes
 * nothing: neither the stack's state nor the live system.
 */
export async function runDriftCheck(opts: DriftCheckOptions): Promise<DriftReport> {
    const progress = opts.onProgress ?? (() => undefined);
    const basis: DriftBasis = opts.basis ?? "state";
    const workDir = opts.workDir ?? process.cwd();
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.envVars, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const { rows, checked, outputs, readSecret } =
        basis === "state" ? await refreshPreview(opts, workDir, env, opts.pulumiBin ?? "pulumi") : await programPreview(opts, workDir);

    const addr = opts.vaultAddr ?? opts.envVars?.VAULT_ADDR ?? process.env.VAULT_ADDR;
    const token = opts.vaultToken ?? opts.envVars?.VAULT_TOKEN ?? process.env.VAULT_TOKEN;
    let inventory: PlatformInventory | undefined;
    if (Object.keys(outputs).length === 0) {
        progress(`stack ${JSON.stringify(opts.stack)} has no outputs (no inventory); managed values were not checked by version`);
    } else {
        // loaded only for stacks with outputs: ops/inventory loads the Automation API
        const inv = await import("./inventory");
        inventory = inv.inventoryFromOutputs(outputs);
        if (!inventory && readSecret && Object.values(outputs).some((o) => o?.value === "[secret]")) {
            inventory = inv.inventoryFromOutputs(await readSecret());
        }
        if (!inventory) {
            progress(`${inv.noInventoryMessage(opts.stack)}; managed values were not checked by version`);
        }
    }
    const recorded = inventory?.managedVersions ?? {};
    const apps = inventory?.apps ?? [];
    const kvPath = inventory?.kvPath ?? "kv";
    if (Object.keys(recorded).length > 0 && !(addr && token)) {
        progress("VAULT_ADDR/VAULT_TOKEN not set: managed values were not checked by version");
    } else if (Object.keys(recorded).length > 0) {
        progress(`checking ${Object.keys(recorded).length} managed value(s) in Vault by version (values are not read)...`);
        // independent reads: all at once
        const managed = apps.filter((app) => app.name in recorded);
        const versions = await Promise.all(managed.map((app) => kvCurrentVersion(addr!, token!, kvPath, app.path)));
        const current: Record<string, string | undefined> = Object.fromEntries(managed.map((app, i) => [app.name, versions[i]]));
        // the provider may have reported the same value already (its resource is named <platform>-<app>-value)
        const reported = (appName: string) => rows.some((r) => r.resource.startsWith("vault:kv/secretV2:SecretV2 ") && r.urn.endsWith(`-${appName}-value`));
        rows.push(...managedVersionRows(apps, recorded, current).filter((r) => !reported(r.urn.slice("kv-version:".length))));
    }
    return { stack: opts.stack, drifted: rows.length > 0, rows, checked, basis };
}

/** A value shown in an argument error: quoted, without credentials or control characters, at most 100 characters (pure). */
export function quoteArg(value: string): string {
    return JSON.stringify(sanitizeText(redactUrl(value), 100));
}

/**
 * A Pulumi failure as a short message instead of the Automation API's dump (code, stdout, stderr,
 * err) or the CLI's output: one line for a stack that does not exist or a missing CLI, otherwise the CLI's `error:`
 * lines (sanitised, at most 10) (pure).
 */
export function describeStackError(e: unknown, stack: string, workDir: string): string {
    const raw = e instanceof Error ? e.message : String(e);
    const where = quoteArg(workDir);
    // by name, not instanceof: the Automation API's error classes are loaded only by --program
    const name = e instanceof Error ? e.name : "";
    if (name === "StackNotFoundError" || /no stack named .* found/.test(raw)) {
        return `stack ${quoteArg(stack)} does not exist (project in ${where}, on the backend you are logged in to): list the stacks with \`pulumi stack ls\` and pass one with --stack NAME`;
    }
    if (/ENOENT: pulumi|spawn pulumi ENOENT/.test(raw)) {
        return "the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) or add it to PATH";
    }
    if (/pass the fully qualified name|no Pulumi\.yaml project file found/i.test(raw)) {
        return `no Pulumi project in ${where}: run in the project's directory (it holds Pulumi.yaml) or pass --cwd DIR`;
    }
    // a CommandError's message is its result dumped: "code: ...", " stdout: ...", " stderr: ...", " err?: ..."
    const lines = raw
        .split("\n")
        .map((l) => l.trim().replace(/^(stdout|stderr|err\?):\s*/, ""))
        .filter((l) => l !== "" && !/^(code: -?\d+|Command failed with|Error: Command failed with)/.test(l));
    const errors = lines.filter((l) => /^error:/.test(l));
    const shown = [...new Set(errors.length ? errors : lines)].slice(0, 10).map((l) => sanitizeText(l, 300));
    const fromPulumi = ["CommandError", "StackNotFoundError", "StackAlreadyExistsError", "ConcurrentUpdateError", "PulumiCliError"].includes(name);
    return shown.join("\n") || (fromPulumi ? "pulumi failed without a message" : "failed without a message");
}
