/**
 * A throwaway PostgreSQL 15 server for the database suite and its benchmark: Debian's binaries, run as
 * the `postgres` user on 127.0.0.1, in a private temp dir, stopped with its owner (spawnOwned).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChildProcess, execFileSync, spawnSync } from "child_process";
import { BED_DIR, freePort, spawnOwned, waitFor } from "./bed";

export const PG_BIN = "/usr/lib/postgresql/15/bin";

/** A throwaway PostgreSQL server owned by this process. */
export class Postgres {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-pg-"));
    port = 0;
    private child?: ChildProcess;

    async start(): Promise<void> {
        const uid = parseInt(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }), 10);
        const gid = parseInt(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }), 10);
        fs.chmodSync(this.dir, 0o700);
        fs.chownSync(this.dir, uid, gid);
        // local socket (in the 0700 dir): trust for the superuser's setup; TCP: passwords (SCRAM)
        execFileSync(
            "runuser",
            ["-u", "postgres", "--", `${PG_BIN}/initdb`, "-D", `${this.dir}/data`, "--auth-local=trust", "--auth-host=scram-sha-256", "-U", "postgres"],
            {
                stdio: "ignore",
            },
        );
        this.port = await freePort();
        const log = fs.openSync(path.join(BED_DIR, "logs", "postgres-db-suite.log"), "w");
        this.child = spawnOwned(
            "runuser",
            ["-u", "postgres", "--", `${PG_BIN}/postgres`, "-D", `${this.dir}/data`, "-k", this.dir, "-h", "127.0.0.1", "-p", String(this.port)],
            { stdio: ["ignore", log, log] },
        );
        await waitFor("PostgreSQL", 30000, async () => spawnSync(`${PG_BIN}/pg_isready`, ["-h", "127.0.0.1", "-p", String(this.port)]).status === 0);
    }

    /** SQL as the superuser over the local socket; the SQL goes on stdin (never on a command line). */
    su(sql: string, db = "postgres"): string {
        return execFileSync(
            "runuser",
            ["-u", "postgres", "--", `${PG_BIN}/psql`, "-h", this.dir, "-p", String(this.port), "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"],
            {
                input: sql,
                encoding: "utf8",
            },
        ).trim();
    }

    /** SQL as `user` over TCP with its password (PGPASSWORD in the environment, not on the command line). */
    as(user: string, password: string, sql: string): { ok: boolean; out: string } {
        const r = spawnSync(
            `${PG_BIN}/psql`,
            ["-h", "127.0.0.1", "-p", String(this.port), "-U", user, "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"],
            {
                input: sql,
                encoding: "utf8",
                env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
            },
        );
        return { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
    }

    /** The login roles Vault created (its usernames start with "v-"). */
    vaultUsers(): string[] {
        return this.su("SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%' ORDER BY 1;")
            .split("\n")
            .filter((l) => l !== "");
    }

    stop(): void {
        this.child?.kill("SIGINT");
        spawnSync("bash", ["-c", `for i in $(seq 50); do [ -e "${this.dir}/data/postmaster.pid" ] || exit 0; sleep 0.2; done`]);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/**
 * docs/database.md's SQL: a dedicated admin role for Vault (CREATEROLE, not the superuser), a group
 * role for the app's privileges, an existing user for the static role, the app's database and a table.
 */
export function postgresSetupSql(pg: Postgres, adminPassword: string): void {
    pg.su(
        [
            `CREATE ROLE vault_admin WITH LOGIN CREATEROLE PASSWORD '${adminPassword}';`,
            `GRANT pg_signal_backend TO vault_admin;`,
            `CREATE ROLE app_rw NOLOGIN;`,
            `GRANT app_rw TO vault_admin WITH ADMIN OPTION;`,
            `CREATE ROLE reporter WITH LOGIN PASSWORD 'initial-reporter-pw';`,
            `CREATE DATABASE appdb;`,
        ].join("\n"),
    );
    pg.su(`GRANT USAGE, CREATE ON SCHEMA public TO app_rw; CREATE TABLE items (id int); ALTER TABLE items OWNER TO app_rw;`, "appdb");
}
