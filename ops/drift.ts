/**
 * Drift detection: a refresh-preview through Pulumi's Automation API, turned into a readable report
 * (resource, field, expected → actual, secrets masked), plus a check of managed KV v2 values that
 * compares Vault's current version with the one recorded at the last `up` (values are never read).
 */
import { CommandError, EngineEvent, LocalWorkspace, OpType, StackNotFoundError, StepEventMetadata } from "@pulumi/pulumi/automation";
import { redactUrlCredentials, sanitizeText } from "./clients";
import { inventoryFromOutputs, noInventoryMessage } from "./inventory";

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
}

/** Field names whose values are never printed, whatever the engine says. */
const SECRET_FIELDS = /^(tokenReviewerJwt|token|dataJson|data|values|password|devRootToken)$/;
const MASK = "[secret]";
const DRIFT_OPS: OpType[] = ["update", "replace", "create", "delete", "create-replacement", "delete-replaced"];

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
        return `No drift: ${report.checked} resources of stack ${report.stack} match the program.`;
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
        `Drift in stack ${report.stack}: ${resources} resource${resources === 1 ? "" : "s"}, ${report.rows.length} field${report.rows.length === 1 ? "" : "s"} (expected = the program, actual = live). ${repairHint(report.stack)}`,
        "",
        line(head),
        line(widths.map((w) => "-".repeat(w))),
        ...data.map(line),
    ].join("\n");
}

/** Reads a KV v2 secret's current version from its metadata (never its data). */
export async function kvCurrentVersion(vaultAddr: string, token: string, kvPath: string, path: string): Promise<string | undefined> {
    const res = await fetch(`${vaultAddr.replace(/\/$/, "")}/v1/${kvPath}/metadata/${path}`, { headers: { "X-Vault-Token": token } });
    if (res.status === 404) {
        return undefined;
    }
    if (!res.ok) {
        throw new Error(`reading ${kvPath}/metadata/${path} from Vault: HTTP ${res.status}`);
    }
    const body = (await res.json()) as { data?: { current_version?: number } };
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
}

/**
 * Runs a refresh-preview of the stack (the live state against the program, changing nothing) and the
 * managed-value version check. The stack's state is not modified.
 */
export async function runDriftCheck(opts: DriftCheckOptions): Promise<DriftReport> {
    const progress = opts.onProgress ?? (() => undefined);
    const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir: opts.workDir ?? process.cwd() }, { envVars: opts.envVars });
    const events: EngineEvent[] = [];
    progress(`refreshing and previewing stack ${opts.stack} (no changes are made)...`);
    await stack.preview({
        refresh: true,
        diff: false,
        onEvent: (e) => {
            events.push(e);
        },
    });
    const { rows, checked } = driftRowsFromEvents(events);

    const addr = opts.vaultAddr ?? opts.envVars?.VAULT_ADDR ?? process.env.VAULT_ADDR;
    const token = opts.vaultToken ?? opts.envVars?.VAULT_TOKEN ?? process.env.VAULT_TOKEN;
    const inventory = inventoryFromOutputs(await stack.outputs());
    if (!inventory) {
        progress(`${noInventoryMessage(opts.stack)}; managed values were not checked by version`);
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
    return { stack: opts.stack, drifted: rows.length > 0, rows, checked };
}

/** A value shown in an argument error: quoted, without credentials or control characters, at most 100 characters (pure). */
export function quoteArg(value: string): string {
    return JSON.stringify(sanitizeText(redactUrlCredentials(value), 100));
}

/**
 * A Pulumi failure as a short message instead of the Automation API's dump (code, stdout, stderr,
 * err): one line for a stack that does not exist or a missing CLI, otherwise the CLI's `error:`
 * lines (sanitised, at most 10) (pure).
 */
export function describeStackError(e: unknown, stack: string, workDir: string): string {
    const raw = e instanceof Error ? e.message : String(e);
    const where = quoteArg(workDir);
    if (e instanceof StackNotFoundError || /no stack named .* found/.test(raw)) {
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
    return shown.join("\n") || (e instanceof CommandError ? "pulumi failed without a message" : "failed without a message");
}
