/**
 * Steps 4–5 of `npm start` (scripts/sandbox.sh runs steps 1–3: packages, tools, bed): the homelab
 * stack `local` on the bed, `pulumi up`, then what a user must see before calling it working — the
 * Secret VSO wrote (with the stack's values; none printed), the Deployment VSO rolled, and a clean
 * drift check. Exits non-zero, naming what was not seen and where to look, when any is missing.
 *
 * With the bed's PostgreSQL (`bed.sh postgres`, started by sandbox.sh where Debian's postgresql-15 is
 * installed or installable), the dynamic-credential variant too: the app's Postgres user comes from
 * Vault's database engine, VSO writes it to the Secret `app-db`, the user logs in, and at its max TTL
 * a new user replaces it, the old one is dropped and `my-db-app` is restarted.
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
import {
    BedMode,
    PROJECT,
    REPO,
    SANDBOX_APP,
    SANDBOX_DB_ROLE,
    SANDBOX_DB_WORKLOAD,
    SANDBOX_WORKLOAD,
    bedStackConfig,
    workloadDeployment,
} from "./stack-config";

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

/** The bed's PostgreSQL for the dynamic-credential variant (scripts/bed/postgres.sh), if it runs. */
interface SandboxPostgres {
    host: string;
    port: string;
    bin: string;
    /** vault_admin's password (a file of mode 0600 in the bed; goes to the stack's secret config). */
    adminPassword: string;
}

/** Why the variant does not run, or the database it uses. */
function sandboxPostgres(): SandboxPostgres | string {
    if (process.env.PVV_SANDBOX_DATABASE === "0") {
        return "PVV_SANDBOX_DATABASE=0";
    }
    const env = readOr(path.join(BED_DIR, "postgres.env"), "");
    const get = (k: string) => new RegExp(`^export ${k}='([^']*)'`, "m").exec(env)?.[1];
    const [host, port, bin] = [get("PVV_PG_HOST"), get("PVV_PG_PORT"), get("PVV_PG_BIN")];
    const adminPassword = readOr(path.join(BED_DIR, "postgres-admin-password"), "");
    if (!host || !port || !bin || adminPassword === "") {
        return "the bed's PostgreSQL is not running (see `bash scripts/bed.sh postgres` above)";
    }
    return { host, port, bin, adminPassword };
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
function prepareStack(mode: BedMode, db: SandboxPostgres | undefined): "fresh" | "kept" {
    const bedInstance = readOr(path.join(BED_DIR, "instance"), "");
    const markerFile = path.join(SANDBOX, "stack-bed");
    const marker = `${bedInstance} ${mode}`;
    if (bedInstance !== "" && readOr(markerFile, "") === marker && stackExists()) {
        say(`4/5 stack '${STACK}' kept from the last run on this bed: pulumi up converges it`);
        writeConfig(mode, undefined, db);
        return "kept";
    }
    say(`4/5 stack '${STACK}' (new: the bed started empty)`);
    pulumi(["stack", "rm", STACK, "--yes", "--force"], { allowFail: true });
    fs.rmSync(path.join(REPO, `Pulumi.${STACK}.yaml`), { force: true });
    pulumi(["stack", "init", STACK]);
    writeConfig(mode, demoValues(), db);
    fs.writeFileSync(markerFile, `${marker}\n`);
    return "fresh";
}

/** Writes the shared bed config (scripts/sandbox/stack-config.ts); secret values go through stdin only. */
function writeConfig(mode: BedMode, values: Record<string, Record<string, string>> | undefined, db: SandboxPostgres | undefined): void {
    const database = db ? { host: db.host, port: db.port, adminPassword: db.adminPassword } : undefined;
    const entries = bedStackConfig(mode, process.env, [SANDBOX_APP], values, { createNamespaces: false, database });
    if (!db) {
        // a kept stack that had the variant: without the database it would delete the engine
        pulumi(["config", "rm", "--stack", STACK, `${PROJECT}:database`], { allowFail: true });
        pulumi(["config", "rm", "--stack", STACK, `${PROJECT}:databasePasswords`], { allowFail: true });
    }
    const plain = Object.entries(entries).filter(([, e]) => !e.secret);
    pulumi(["config", "set-all", "--stack", STACK, ...plain.flatMap(([k, e]) => ["--plaintext", `${k}=${e.value}`])]);
    for (const [k, e] of Object.entries(entries).filter(([, e]) => e.secret)) {
        pulumi(["config", "set", "--stack", STACK, "--secret", k], { input: e.value });
    }
}

/** The user's workload exists before Pulumi runs: namespace and Deployment (apply: a rerun is a no-op). */
function applyWorkload(db: SandboxPostgres | undefined): void {
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: SANDBOX_APP.namespace } };
    const image = process.env.PVV_SANDBOX_IMAGE || undefined;
    const items = [ns, workloadDeployment(SANDBOX_APP.namespace, SANDBOX_WORKLOAD, SANDBOX_APP.name, image)];
    if (db) {
        items.push(workloadDeployment(SANDBOX_DB_ROLE.namespace, SANDBOX_DB_WORKLOAD, SANDBOX_DB_ROLE.name, image));
    }
    const r = kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
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
function restartedAt(workload = SANDBOX_WORKLOAD): string | undefined {
    const d = getJson(["-n", SANDBOX_APP.namespace, "get", "deployment", workload]);
    return d?.spec?.template?.metadata?.annotations?.[RESTARTED_AT] as string | undefined;
}

/**
 * VSO restarted the Deployment (its restartedAt annotation, other than `before` when given) and, with
 * a node, the new pods are up.
 */
async function checkRolled(mode: BedMode, workload = SANDBOX_WORKLOAD, before?: string): Promise<string> {
    const where = `Deployment ${SANDBOX_APP.namespace}/${workload}`;
    return waitFor(`${where} rolled by VSO${mode === "incluster" ? " and available" : ""}`, 180, () => {
        const d = getJson(["-n", SANDBOX_APP.namespace, "get", "deployment", workload]);
        const at = d?.spec?.template?.metadata?.annotations?.[RESTARTED_AT] as string | undefined;
        if (!d || !at || at === before) {
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

/** The Secret VSO wrote from the database engine (username shown, password never). */
function dbSecret(): { username: string; password: string } | undefined {
    const s = getJson(["-n", SANDBOX_DB_ROLE.namespace, "get", "secret", SANDBOX_DB_ROLE.name]);
    const data = (s?.data ?? {}) as Record<string, string>;
    if (!data.username || !data.password) {
        return undefined;
    }
    const dec = (v: string) => Buffer.from(v, "base64").toString("utf8");
    return { username: dec(data.username), password: dec(data.password) };
}

/** SQL as the Secret's user over TCP (the password in the environment, the SQL on stdin). */
function psqlAs(db: SandboxPostgres, cred: { username: string; password: string }, sql: string): { ok: boolean; out: string } {
    const r = run(path.join(db.bin, "psql"), ["-h", db.host, "-p", db.port, "-U", cred.username, "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"], {
        input: sql,
        env: { ...process.env, PGPASSWORD: cred.password, PGCONNECT_TIMEOUT: "5" },
    });
    return { ok: r.code === 0, out: (r.out + r.err).trim() };
}

/** The Secret's Postgres user logs in and writes the app's table. */
async function checkDbLogin(db: SandboxPostgres): Promise<{ seen: string; username: string }> {
    const where = `Secret ${SANDBOX_DB_ROLE.namespace}/${SANDBOX_DB_ROLE.name}`;
    let last = "";
    const username = await waitFor(`${where} with a Postgres user that logs in`, 120, () => {
        const cred = dbSecret();
        if (!cred) {
            return undefined;
        }
        const r = psqlAs(db, cred, "INSERT INTO items VALUES (1, 'npm start'); SELECT current_user;");
        last = r.out;
        return r.ok && r.out === cred.username ? cred.username : undefined;
    }).catch((e: unknown) => {
        throw new SandboxError(`${e instanceof Error ? e.message : String(e)}${last ? ` (psql: ${last.split("\n").slice(-1)[0]})` : ""}`);
    });
    return { seen: `${where}: Postgres user ${username}, created by Vault for this lease, logs in and writes appdb.items (password not shown)`, username };
}

/** At max TTL: a new user in the Secret, the old one dropped from Postgres, my-db-app restarted. */
async function checkDbRotation(mode: BedMode, db: SandboxPostgres, first: string, rolledBefore: string | undefined): Promise<string[]> {
    say(`the database credential's max TTL (${SANDBOX_DB_ROLE.maxTtl}): VSO takes a new user, Vault drops the old one, VSO restarts ${SANDBOX_DB_WORKLOAD}`);
    const where = `Secret ${SANDBOX_DB_ROLE.namespace}/${SANDBOX_DB_ROLE.name}`;
    const next = await waitFor(`${where} with a new Postgres user (max TTL ${SANDBOX_DB_ROLE.maxTtl})`, 150, () => {
        const cred = dbSecret();
        return cred && cred.username !== first && psqlAs(db, cred, "SELECT current_user;").ok ? cred : undefined;
    });
    await waitFor(`the old user ${first} dropped from Postgres`, 60, () => {
        const r = psqlAs(db, next, `SELECT count(*) FROM pg_roles WHERE rolname = '${first.replace(/'/g, "''")}';`);
        return r.ok && r.out === "0" ? true : undefined;
    });
    const out = [`${where}: rotated to ${next.username}, which logs in; ${first} is dropped from Postgres (revoked)`];
    out.push(await checkRolled(mode, SANDBOX_DB_WORKLOAD, rolledBefore));
    return out;
}

function lookAround(): void {
    const tools = process.env.PVV_TOOLS_DIR ?? "$HOME/.cache/pulumi-vault-vso/tools";
    process.stdout.write(`
Look around (in another shell):
  source ${tools}/env.pulumi.sh; source ${tools}/env.servers.sh; source ${BED_DIR}/env.sh
  export PULUMI_BACKEND_URL=${process.env.PULUMI_BACKEND_URL} PULUMI_CONFIG_PASSPHRASE_FILE=${process.env.PULUMI_CONFIG_PASSPHRASE_FILE}
  $PVV_KUBECTL_BIN get vaultstaticsecrets,vaultdynamicsecrets -A
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
    const pg = sandboxPostgres();
    const db = typeof pg === "string" ? undefined : pg;
    const skipped: string[] = [];
    if (typeof pg === "string") {
        const why = `the dynamic-credential variant (Postgres user from Vault's database engine): ${pg}`;
        if (process.env.PVV_SANDBOX_DATABASE === "1") {
            throw new SandboxError(`PVV_SANDBOX_DATABASE=1 but ${why}`);
        }
        skipped.push(why);
        process.stdout.write(`[sandbox] skipped: ${why}\n`);
    }
    const how = prepareStack(mode, db);
    applyWorkload(db);
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
    if (db) {
        let first = "";
        const rolledBefore = restartedAt(SANDBOX_DB_WORKLOAD);
        const ok = await attempt(async () => {
            const r = await checkDbLogin(db);
            first = r.username;
            return r.seen;
        });
        if (ok) {
            try {
                seen.push(...(await checkDbRotation(mode, db, first, rolledBefore)));
            } catch (e) {
                if (!(e instanceof SandboxError)) {
                    throw e;
                }
                failed.push(e.message);
            }
        }
    }
    kubectl(["get", `vaultconnections,vaultauths,vaultstaticsecrets${db ? ",vaultdynamicsecrets" : ""}`, "-A"])
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
    for (const k of skipped) {
        process.stdout.write(`  skip ${k}\n`);
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
