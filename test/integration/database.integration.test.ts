/**
 * Database credentials on real parts (issue 21): a real PostgreSQL 15 (Debian's package, a local server
 * on 127.0.0.1 that this suite starts as the `postgres` user), the bed's Vault and its VSO, and the
 * homelab program with a `database` section.
 *
 * Shown: the Secret's username/password log in; the lease is renewed; the user is replaced when its
 * max TTL ends and the Deployment is restarted; a static user's password is rotated and synced; the
 * user that created a table is revoked all the same; removing the app revokes its user and leaves no
 * role behind; the admin password appears in no plain state, log or Secret.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { kubeRequest, vaultRequest } from "../../ops/clients";
import {
    BED_DIR,
    BedEnv,
    REPO,
    bedStackConfig,
    createWorkload,
    freshStack,
    removeStack,
    requireBedOrSkip,
    runScript,
    startBed,
    waitFor,
    decodeSecretData,
} from "./bed";
import { PG_BIN, Postgres, postgresSetupSql } from "./postgres";
import { PROJECT } from "../../scripts/sandbox/stack-config";

const STACK = `it-db-${process.pid}`;
const RESTARTED_AT = "vso.secrets.hashicorp.com/restartedAt";
const VDS = "/apis/secrets.hashicorp.com/v1beta1/namespaces/cnpg/vaultdynamicsecrets";

const KV_APP = { name: "rustfs-cloudnativepg", namespace: "cnpg", path: "rustfs/cloudnativepg", keys: ["access_key"], managed: true };
const VALUES = { "rustfs-cloudnativepg": { access_key: "ak-db-suite" } };

function vsoTail(): string {
    try {
        return "\n--- last VSO log lines ---\n" + fs.readFileSync(path.join(BED_DIR, "logs/vso.log"), "utf8").split("\n").slice(-12).join("\n");
    } catch {
        return "";
    }
}

describe("integration: database credentials with a real PostgreSQL (VaultDynamicSecret)", function () {
    this.timeout(20 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;
    const pg = new Postgres();
    const adminPassword = crypto.randomBytes(18).toString("base64url");
    let started = false;

    const database = (roles: unknown[], extra: unknown[] = []) => ({
        connections: [
            { name: "appdb", connectionUrl: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/appdb?sslmode=disable`, username: "vault_admin" },
            ...extra,
        ],
        roles,
    });
    const DYNAMIC = {
        name: "app-db",
        namespace: "cnpg",
        database: "appdb",
        grantRoles: ["app_rw"],
        defaultTtl: "10s",
        maxTtl: "40s",
        renewalPercent: 50,
        rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
    };
    const STATIC = { name: "reporter", namespace: "cnpg", database: "appdb", kind: "static", username: "reporter", rotationPeriod: "20s" };

    async function secret(name: string): Promise<Record<string, string> | undefined> {
        const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/cnpg/secrets/${name}`);
        return r.status === 200 ? decodeSecretData(r.body.data) : undefined;
    }

    before(async function () {
        requireBedOrSkip(this);
        if (!fs.existsSync(`${PG_BIN}/postgres`)) {
            if (process.env.PVV_REQUIRE_INTEGRATION === "1") {
                throw new Error(`${PG_BIN}/postgres not found: install Debian's postgresql-15 (bash scripts/node-packages.sh ensure installs it)`);
            }
            console.warn(`  [integration] database suite skipped: ${PG_BIN}/postgres not found (apt-get install postgresql-15)`);
            this.skip();
        }
        bed = startBed({ fresh: true });
        await pg.start();
        started = true;
        // the README's SQL: a dedicated admin role for Vault (not the superuser) and a group role for the app
        postgresSetupSql(pg, adminPassword);
        const config = bedStackConfig(bed, [KV_APP], VALUES);
        config[`${PROJECT}:database`] = { value: JSON.stringify(database([DYNAMIC, STATIC])) };
        config[`${PROJECT}:databasePasswords`] = { value: JSON.stringify({ appdb: adminPassword }), secret: true };
        stack = await freshStack(bed, STACK, config);
        // the app: namespace cnpg and Deployment my-app, taking the credential as environment
        await createWorkload(bed, "cnpg", "my-app", "app-db");
    });

    after(async function () {
        if (stack) {
            await stack.destroy({ excludeProtected: true, onOutput: () => undefined }).catch((e) => console.warn(`  destroy: ${e}`));
            await removeStack(bed, STACK);
        }
        if (started) {
            pg.stop();
        }
    });

    it("pulumi up mounts the engine and writes the connection; the admin password is in no plain state or log", async () => {
        let log = "";
        const up = await stack.up({ onOutput: (o) => (log += o) });
        assert.strictEqual(up.summary.result, "succeeded");
        assert.ok(!log.includes(adminPassword), "not in the up's output");
        // the state file itself (exportStack would decrypt secrets: it exports with --show-secrets)
        const stateFile = path.join(new URL(bed.env.PULUMI_BACKEND_URL).pathname, ".pulumi/stacks/vault-vso-homelab", `${STACK}.json`);
        const stateText = fs.readFileSync(stateFile, "utf8");
        assert.ok(stateText.includes("homelab-db-appdb"), "the state holds the connection");
        const plainAt = stateText.includes(adminPassword) ? [stateFile] : [];
        assert.deepStrictEqual(plainAt, [], "not in plain state (only as a ciphertext)");
        const conn = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "database/config/appdb");
        assert.strictEqual(conn.status, 200, conn.text);
        assert.strictEqual(conn.body.data.connection_details.username, "vault_admin");
        assert.deepStrictEqual(conn.body.data.allowed_roles.sort(), ["cnpg-app-db", "cnpg-reporter"]);
        const pol = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/policies/acl/vso-cnpg-read");
        assert.match(pol.body.data.policy, /path "database\/creds\/cnpg-app-db"/);
        assert.match(pol.body.data.policy, /path "database\/static-creds\/cnpg-reporter"/);
        const role = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "auth/kubernetes/role/vso-cnpg");
        assert.ok(role.body.data.token_period > 0, `the namespace's auth role has a token period: ${JSON.stringify(role.body.data.token_period)}`);
    });

    it("VSO writes a working username/password; the lease is renewed; a table the user creates does not stop its revocation later", async () => {
        const creds = await waitFor("Secret cnpg/app-db", 90000, () => secret("app-db"), vsoTail);
        assert.deepStrictEqual(
            Object.keys(creds)
                .filter((k) => k === "username" || k === "password")
                .sort(),
            ["password", "username"],
        );
        assert.ok(creds.username.startsWith("v-"), creds.username);
        const login = pg.as(
            creds.username,
            creds.password,
            `SELECT current_user; CREATE TABLE owned_by_${creds.username.replace(/[^a-z0-9]/gi, "_").toLowerCase()} (id int); INSERT INTO items VALUES (1);`,
        );
        assert.ok(login.ok, login.out);
        assert.ok(!fs.readFileSync(path.join(BED_DIR, "logs/vso.log"), "utf8").includes(adminPassword), "the admin password is not in VSO's log");
        const first = (await kubeRequest(bed.kube, "GET", `${VDS}/app-db`)).body.status;
        const renewed = await waitFor("a lease renewal (status.lastRenewalTime moves, same user)", 30000, async () => {
            const st = (await kubeRequest(bed.kube, "GET", `${VDS}/app-db`)).body.status;
            const same = (await secret("app-db"))?.username === creds.username;
            return st?.lastRenewalTime !== first?.lastRenewalTime && st?.secretLease?.id === first?.secretLease?.id && same ? st : undefined;
        });
        assert.ok(renewed.lastRenewalTime > first.lastRenewalTime);
    });

    it("at max TTL VSO takes a new user, restarts the Deployment, and the old user is gone from Postgres", async () => {
        const before = await secret("app-db");
        const dep0 = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/cnpg/deployments/my-app");
        const restarted0 = dep0.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
        const next = await waitFor(
            "a new user in Secret cnpg/app-db",
            90000,
            async () => {
                const s = await secret("app-db");
                return s && s.username !== before!.username ? s : undefined;
            },
            vsoTail,
        );
        assert.ok(pg.as(next.username, next.password, "SELECT 1;").ok, "the new user logs in");
        await waitFor("the restart annotation on my-app", 30000, async () => {
            const d = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/cnpg/deployments/my-app");
            const a = d.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
            return a && a !== restarted0;
        });
        // the old user expired; Vault revokes it (it owned a table: the revocation hands it to app_rw)
        await waitFor(`the old user ${before!.username} dropped from Postgres`, 60000, async () => !pg.vaultUsers().includes(before!.username));
        const owner = pg.su(`SELECT tableowner FROM pg_tables WHERE tablename LIKE 'owned_by_%' ORDER BY 1 LIMIT 1;`, "appdb");
        assert.strictEqual(owner, "app_rw", "the dropped user's table now belongs to the group role");
    });

    it("a static user's password is rotated by Vault and the Secret follows", async () => {
        const s1 = await waitFor("Secret cnpg/reporter", 60000, () => secret("reporter"), vsoTail);
        assert.strictEqual(s1.username, "reporter");
        assert.ok(pg.as("reporter", s1.password, "SELECT 1;").ok, "the synced password works");
        assert.ok(!pg.as("reporter", "initial-reporter-pw", "SELECT 1;").ok, "the initial password no longer does");
        const s2 = await waitFor(
            "a rotated password in Secret cnpg/reporter",
            90000,
            async () => {
                const s = await secret("reporter");
                return s && s.password !== s1.password ? s : undefined;
            },
            vsoTail,
        );
        assert.ok(pg.as("reporter", s2.password, "SELECT 1;").ok, "the rotated password works");
    });

    it("the drift check reports a database role changed behind Pulumi's back, and up --refresh restores it", async () => {
        const clean = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(clean.code, 0, clean.out + clean.err);
        const cur = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "database/roles/cnpg-app-db");
        const w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", "database/roles/cnpg-app-db", {
            ...cur.body.data,
            default_ttl: 3600,
            max_ttl: 86400,
        });
        assert.ok(w.status < 300, w.text);
        const drift = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(drift.code, 2, drift.out + drift.err);
        assert.match(drift.out, /secretBackendRole|SecretBackendRole/);
        assert.ok(!(drift.out + drift.err).includes(adminPassword), "the report holds no password");
        const up = await stack.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const back = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "database/roles/cnpg-app-db");
        assert.deepStrictEqual([back.body.data.default_ttl, back.body.data.max_ttl], [10, 40]);
    });

    it("the doctor checks each VaultDynamicSecret as VSO would: login, then a credential it revokes at once", async () => {
        const before = pg.vaultUsers();
        const r = runScript(bed, "doctor", ["--stack", STACK, "--json"]);
        assert.strictEqual(r.code, 0, r.out + r.err);
        const report = JSON.parse(r.out);
        const dyn = report.checks.filter((c: { kind?: string }) => c.kind === "VaultDynamicSecret");
        assert.deepStrictEqual(dyn.map((c: { app: string; ok: boolean }) => [c.app, c.ok]).sort(), [
            ["app-db", true],
            ["reporter", true],
        ]);
        assert.match(dyn.find((c: { app: string }) => c.app === "app-db").message, /issued a test credential and revoked it at once/);
        assert.ok(!(r.out + r.err).includes(adminPassword));
        await waitFor(
            "the doctor's test user gone",
            30000,
            // only users VSO holds (or held before) are left: VSO may rotate meanwhile
            async () => {
                const cur = (await secret("app-db"))?.username;
                return pg.vaultUsers().every((u) => before.includes(u) || u === cur);
            },
            () => `\nnow: ${pg.vaultUsers()}`,
        );
    });

    it("removing the app revokes its user: no role Vault created is left in Postgres", async () => {
        const user = (await secret("app-db"))!.username;
        assert.ok(pg.vaultUsers().includes(user), `${user} exists before the removal`);
        const logAt = fs.statSync(path.join(BED_DIR, "logs/vso.log")).size;
        await stack.setConfig(`${PROJECT}:database`, { value: JSON.stringify(database([STATIC])) });
        const up = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const gone = await kubeRequest(bed.kube, "GET", `${VDS}/app-db`);
        assert.strictEqual(gone.status, 404, "the VaultDynamicSecret is deleted");
        await waitFor(
            "no Vault-created user left in Postgres",
            60000,
            async () => pg.vaultUsers().length === 0,
            () => `\nleft: ${pg.vaultUsers().join(", ")}`,
        );
        // VSO revoked it (not Vault at the lease's end): its log says so, without a failure
        const vsoSaid = fs
            .readFileSync(path.join(BED_DIR, "logs/vso.log"))
            .subarray(logAt)
            .toString("utf8")
            .split("\n")
            .filter((l) => l.includes('"name":"app-db"'));
        assert.ok(
            vsoSaid.some((l) => l.includes("Revoking lease")),
            `VSO revoked the lease:\n${vsoSaid.slice(-5).join("\n")}`,
        );
        assert.ok(!vsoSaid.some((l) => l.includes("Failed to revoke")), `without an error:\n${vsoSaid.slice(-5).join("\n")}`);
        const role = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "database/roles/cnpg-app-db");
        assert.strictEqual(role.status, 404, "its Vault role is deleted");
        const pol = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/policies/acl/vso-cnpg-read");
        assert.doesNotMatch(pol.body.data.policy, /cnpg-app-db/, "and its path is out of the namespace's policy");
    });
    it("the doctor names a database Vault cannot reach as the cause", async () => {
        const dead = {
            name: "deaddb",
            connectionUrl: "postgresql://{{username}}:{{password}}@127.0.0.1:1/none?sslmode=disable",
            username: "vault_admin",
            verifyConnection: false,
        };
        await stack.setConfig(`${PROJECT}:database`, {
            value: JSON.stringify(database([STATIC, { name: "dead-db", namespace: "cnpg", database: "deaddb", grantRoles: ["app_rw"] }], [dead])),
        });
        await stack.setConfig(`${PROJECT}:databasePasswords`, { value: JSON.stringify({ appdb: adminPassword, deaddb: adminPassword }), secret: true });
        const up = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const r = runScript(bed, "doctor", ["--stack", STACK, "--json"]);
        assert.strictEqual(r.code, 2, r.out + r.err);
        const c = JSON.parse(r.out).checks.find((x: { app: string }) => x.app === "dead-db");
        assert.deepStrictEqual([c.ok, c.step], [false, "creds"]);
        assert.match(c.message, /cannot use the database/);
        assert.match(c.fix, /not reachable from Vault/);
    });
    it("destroy with a lease still out revokes it (the connection is kept until the unmount) and leaves no user behind", async () => {
        await stack.setConfig(`${PROJECT}:database`, { value: JSON.stringify(database([DYNAMIC, STATIC])) });
        const up = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        // a credential read outside VSO: its lease is still out when the stack goes
        const extra = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "database/creds/cnpg-app-db");
        assert.strictEqual(extra.status, 200, extra.text);
        assert.ok(pg.vaultUsers().includes(extra.body.data.username));
        const down = await stack.destroy({ excludeProtected: true, onOutput: () => undefined });
        assert.strictEqual(down.summary.result, "succeeded");
        const mounts = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/mounts");
        assert.ok(!mounts.body.data["database/"], "the engine is unmounted");
        assert.deepStrictEqual(pg.vaultUsers(), [], "every user Vault created is dropped");
    });
});
