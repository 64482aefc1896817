/**
 * Steps 4–5 of `npm start` (scripts/sandbox.sh runs steps 1–3: packages, tools, bed): the homelab
 * stack `local` on the bed, `pulumi up`, then what a user must see before calling it working — the
 * Secret VSO wrote (with the stack's values; none printed), the Deployment VSO rolled, and a clean
 * drift check. Exits non-zero, naming what was not seen and where to look, when any is missing.
 *
 * A second run on the same bed (started with --keep) converges: the stack and its values are kept
 * and `pulumi up` only fixes what differs. A bed started anew (bed.sh writes a new .bed/instance)
 * makes the old stack stale: it is removed and created again.
 *
 *   node -r ts-node/register/transpile-only scripts/sandbox/run.ts incluster|external
 * Environment: the tools' env files and .bed/env.sh, PULUMI_BACKEND_URL and
 * PULUMI_CONFIG_PASSPHRASE_FILE (set by sandbox.sh).
 */
import { SpawnSyncOptions, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BedMode, PROJECT, REPO, SANDBOX_APP, SANDBOX_WORKLOAD, bedStackConfig, workloadDeployment } from "./stack-config";

const STACK = "local";
const SANDBOX = path.join(REPO, ".sandbox");
const BED_DIR = process.env.PVV_BED_DIR ?? path.join(REPO, ".bed");
const RESTARTED_AT = "vso.secrets.hashicorp.com/restartedAt";

function say(msg: string): void {
    process.stdout.write(`\n\x1b[1m== ${msg}\x1b[0m\n`);
}

class SandboxError extends Error {}

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { input?: string } = {}): { code: number; out: string; err: string } {
    const r = spawnSync(cmd, args, { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
    if (r.error) {
        throw new SandboxError(`${path.basename(cmd)}: ${r.error.message}`);
    }
    return { code: r.status ?? 1, out: String(r.stdout ?? ""), err: String(r.stderr ?? "") };
}

/** `pulumi <args>` on the sandbox stack; output captured unless `inherit` (then the user sees progress). */
function pulumi(args: string[], opts: { input?: string; inherit?: boolean; allowFail?: boolean } = {}): string {
    const r = run("pulumi", args, { input: opts.input, stdio: opts.inherit ? ["pipe", "inherit", "inherit"] : "pipe" });
    if (r.code !== 0 && !opts.allowFail) {
        throw new SandboxError(
            `pulumi ${args[0]} ${args[1] ?? ""} failed (exit ${r.code})${opts.inherit ? "" : `: ${r.err.trim().split("\n").slice(-3).join(" ")}`}`,
        );
    }
    return r.out;
}

const KUBECTL = process.env.PVV_KUBECTL_BIN ?? "kubectl";
function kubectl(args: string[], input?: string): { code: number; out: string; err: string } {
    return run(KUBECTL, args, { input, stdio: "pipe" });
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
    const until = Date.now() + seconds * 1000;
    let last = Date.now();
    for (;;) {
        const v = probe();
        if (v !== undefined) {
            return v;
        }
        if (Date.now() > until) {
            throw new SandboxError(`${what}: not seen within ${seconds}s`);
        }
        if (Date.now() - last > 15000) {
            process.stdout.write(`   still waiting for ${what}...\n`);
            last = Date.now();
        }
        await sleep(1000);
    }
}

function readOr(file: string, fallback: string): string {
    try {
        return fs.readFileSync(file, "utf8").trim();
    } catch {
        return fallback;
    }
}

/** Random demo values for the app's keys (never printed; kept encrypted in the stack config). */
function demoValues(): Record<string, Record<string, string>> {
    return {
        [SANDBOX_APP.name]: {
            access_key: `sandbox-${crypto.randomBytes(6).toString("hex")}`,
            access_secret_key: crypto.randomBytes(18).toString("base64"),
        },
    };
}

function stackExists(): boolean {
    const out = pulumi(["stack", "ls", "--json"], { allowFail: true });
    try {
        return (JSON.parse(out || "[]") as { name: string }[]).some((s) => s.name === STACK);
    } catch {
        return false;
    }
}

/** Creates the stack and its config afresh, or keeps it when it belongs to this very bed. */
function prepareStack(mode: BedMode): "fresh" | "kept" {
    const bedInstance = readOr(path.join(BED_DIR, "instance"), "");
    const markerFile = path.join(SANDBOX, "stack-bed");
    const marker = `${bedInstance} ${mode}`;
    if (bedInstance !== "" && readOr(markerFile, "") === marker && stackExists()) {
        say(`4/5 stack '${STACK}' kept from the last run on this bed: pulumi up converges it`);
        writeConfig(mode, undefined);
        return "kept";
    }
    say(`4/5 stack '${STACK}' (new: the bed started empty)`);
    pulumi(["stack", "rm", STACK, "--yes", "--force"], { allowFail: true });
    fs.rmSync(path.join(REPO, `Pulumi.${STACK}.yaml`), { force: true });
    pulumi(["stack", "init", STACK]);
    writeConfig(mode, demoValues());
    fs.writeFileSync(markerFile, `${marker}\n`);
    return "fresh";
}

/** Writes the shared bed config (scripts/sandbox/stack-config.ts); secret values go through stdin only. */
function writeConfig(mode: BedMode, values: Record<string, Record<string, string>> | undefined): void {
    const entries = bedStackConfig(mode, process.env, [SANDBOX_APP], values, { createNamespaces: false });
    const plain = Object.entries(entries).filter(([, e]) => !e.secret);
    pulumi(["config", "set-all", "--stack", STACK, ...plain.flatMap(([k, e]) => ["--plaintext", `${k}=${e.value}`])]);
    for (const [k, e] of Object.entries(entries).filter(([, e]) => e.secret)) {
        pulumi(["config", "set", "--stack", STACK, "--secret", k], { input: e.value });
    }
}

/** The user's workload exists before Pulumi runs: namespace and Deployment (apply: a rerun is a no-op). */
function applyWorkload(): void {
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: SANDBOX_APP.namespace } };
    const image = process.env.PVV_SANDBOX_IMAGE || undefined;
    const dep = workloadDeployment(SANDBOX_APP.namespace, SANDBOX_WORKLOAD, SANDBOX_APP.name, image);
    const r = kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [ns, dep] }));
    if (r.code !== 0) {
        throw new SandboxError(`creating the workload ${SANDBOX_APP.namespace}/${SANDBOX_WORKLOAD}: ${r.err.trim()}`);
    }
}

function getJson(args: string[]): Record<string, any> | undefined {
    const r = kubectl([...args, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.out) as Record<string, any>) : undefined;
}

/** The Secret VSO wrote holds exactly the stack's values (compared here, never printed). */
async function checkSecret(): Promise<string> {
    const expected = currentValues()[SANDBOX_APP.name];
    const where = `Secret ${SANDBOX_APP.namespace}/${SANDBOX_APP.name}`;
    return waitFor(`${where} with the stack's values`, 120, () => {
        const s = getJson(["-n", SANDBOX_APP.namespace, "get", "secret", SANDBOX_APP.name]);
        const data = (s?.data ?? {}) as Record<string, string>;
        const ok = SANDBOX_APP.keys.every((k) => data[k] !== undefined && Buffer.from(data[k], "base64").toString("utf8") === expected[k]);
        return ok ? `${where}: keys ${Object.keys(data).sort().join(", ")}, values equal to the stack's config (not shown)` : undefined;
    });
}

function currentValues(): Record<string, Record<string, string>> {
    return JSON.parse(pulumi(["config", "get", "--stack", STACK, `${PROJECT}:values`])) as Record<string, Record<string, string>>;
}

/** A new random value for the app's first key (stdin only, like every secret here). */
function rotateValue(): void {
    const values = currentValues();
    values[SANDBOX_APP.name][SANDBOX_APP.keys[0]] = demoValues()[SANDBOX_APP.name][SANDBOX_APP.keys[0]];
    pulumi(["config", "set", "--stack", STACK, "--secret", `${PROJECT}:values`], { input: JSON.stringify(values) });
}

/** When VSO last restarted the workload (its annotation on the pod template), if it has. */
function restartedAt(): string | undefined {
    const d = getJson(["-n", SANDBOX_APP.namespace, "get", "deployment", SANDBOX_WORKLOAD]);
    return d?.spec?.template?.metadata?.annotations?.[RESTARTED_AT] as string | undefined;
}

/** VSO restarted the Deployment (its restartedAt annotation) and, with a node, the new pods are up. */
async function checkRolled(mode: BedMode): Promise<string> {
    const where = `Deployment ${SANDBOX_APP.namespace}/${SANDBOX_WORKLOAD}`;
    return waitFor(`${where} rolled by VSO${mode === "incluster" ? " and available" : ""}`, 180, () => {
        const d = getJson(["-n", SANDBOX_APP.namespace, "get", "deployment", SANDBOX_WORKLOAD]);
        const at = d?.spec?.template?.metadata?.annotations?.[RESTARTED_AT] as string | undefined;
        if (!d || !at) {
            return undefined;
        }
        if (mode === "incluster") {
            const st = d.status ?? {};
            const done =
                (st.observedGeneration ?? 0) >= d.metadata.generation && st.updatedReplicas === 1 && st.availableReplicas === 1 && !st.unavailableReplicas;
            if (!done) {
                return undefined;
            }
            return `${where}: rolled by VSO at ${at}, new pod available`;
        }
        return `${where}: rolled by VSO at ${at} (no node: no pods run)`;
    });
}

function lookAround(): void {
    const tools = process.env.PVV_TOOLS_DIR ?? "$HOME/.cache/pulumi-vault-vso/tools";
    process.stdout.write(`
Look around (in another shell):
  source ${tools}/env.pulumi.sh; source ${tools}/env.servers.sh; source ${BED_DIR}/env.sh
  export PULUMI_BACKEND_URL=${process.env.PULUMI_BACKEND_URL} PULUMI_CONFIG_PASSPHRASE_FILE=${process.env.PULUMI_CONFIG_PASSPHRASE_FILE}
  $PVV_KUBECTL_BIN get vaultstaticsecrets -A
  $PVV_KUBECTL_BIN -n cnpg describe secret rustfs-cloudnativepg   # key names and sizes, not values
  $PVV_KUBECTL_BIN get pods -A                                      # with a node: Vault, VSO and my-app run as pods
  npm run doctor -- --namespace cnpg
  npm run drift -- --stack ${STACK}
  tail -f ${BED_DIR}/logs/vso.log                                  # external mode; in the cluster: kubectl logs
`);
}

function driftCheck(mode: BedMode): number {
    const env = { ...process.env };
    // in the cluster, VAULT_ADDR (the bed's local Vault) is not the stack's Vault: the engine's refresh
    // goes through the stack's own provider; the extra managed-version check is skipped
    if (mode === "incluster") {
        delete env.VAULT_ADDR;
        delete env.VAULT_TOKEN;
    }
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "cli/drift.ts", "--stack", STACK], { cwd: REPO, env, stdio: "inherit" });
    return r.status ?? 1;
}

async function main(): Promise<void> {
    const mode = process.argv[2] as BedMode;
    if (mode !== "incluster" && mode !== "external") {
        throw new SandboxError("usage: run.ts incluster|external");
    }
    fs.mkdirSync(SANDBOX, { recursive: true });
    const how = prepareStack(mode);
    applyWorkload();
    say(
        mode === "incluster"
            ? `pulumi up (stack '${STACK}', in the cluster: Vault and VSO installed with Helm, Vault reached through the API server)`
            : `pulumi up (stack '${STACK}', external-Vault mode: Vault and VSO run as local processes)`,
    );
    pulumi(["up", "--stack", STACK, "--yes", "--skip-preview"], { inherit: true });

    say("what now exists");
    process.stdout.write(pulumi(["stack", "output", "--stack", STACK]));
    const seen: string[] = [];
    const failed: string[] = [];
    const attempt = async (check: () => Promise<string>): Promise<boolean> => {
        try {
            seen.push(await check());
            return true;
        } catch (e) {
            if (!(e instanceof SandboxError)) {
                throw e;
            }
            failed.push(e.message);
            return false;
        }
    };
    if ((await attempt(checkSecret)) && !restartedAt()) {
        // VSO restarts the workload when a value changes, not at the first sync: change one, as a user
        // rotating a credential would (in Git nothing changes but the encrypted stack config)
        say(`a rotation: new ${SANDBOX_APP.keys[0]} in the stack's secret config, pulumi up, VSO syncs it and restarts ${SANDBOX_WORKLOAD}`);
        rotateValue();
        pulumi(["up", "--stack", STACK, "--yes", "--skip-preview"], { inherit: true });
        seen.pop();
        await attempt(checkSecret);
    }
    await attempt(() => checkRolled(mode));
    kubectl(["get", "vaultconnections,vaultauths,vaultstaticsecrets", "-A"])
        .out.split("\n")
        .forEach((l) => l && process.stdout.write(`${l}\n`));
    lookAround();

    say("5/5 drift check");
    const code = driftCheck(mode);
    process.stdout.write(`(drift check exit code: ${code}: 0 clean, 2 drift)\n`);
    if (code !== 0) {
        failed.push(`the drift check found ${code === 2 ? "drift" : "an error"} (exit ${code}) right after pulumi up`);
    }

    say(`sandbox ${how === "kept" ? "converged" : "up"} (${mode})`);
    for (const s of seen) {
        process.stdout.write(`  ok   ${s}\n`);
    }
    if (code === 0) {
        process.stdout.write("  ok   drift check clean\n");
    }
    for (const f of failed) {
        process.stdout.write(`  FAIL ${f}\n`);
    }
    if (failed.length > 0) {
        const logs =
            mode === "incluster" ? "kubectl -n vault-secrets-operator-system logs deploy/vault-secrets-operator-controller-manager" : `${BED_DIR}/logs/vso.log`;
        throw new SandboxError(`the sandbox is not working: ${failed.length} check(s) failed; VSO's log: ${logs}; npm run doctor -- --namespace cnpg`);
    }
}

main().catch((e: unknown) => {
    process.stderr.write(`\n[sandbox] ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
