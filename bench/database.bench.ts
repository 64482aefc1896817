/**
 * Benchmark (issue 21): with a real PostgreSQL 15, the bed's Vault and its VSO, the homelab program with
 * one dynamic database role:
 *   - from the start of `pulumi up` to a usable credential (the Secret exists and its user logs in),
 *   - from the end of `up` to the same,
 *   - at the role's max TTL, from the new credential in the Secret to the Deployment's restart
 *     annotation (and, with the bed's node, to the new pod Ready).
 *   npm run bench:database        (PVV_BENCH_ROUNDS, default 3)
 * Writes bench/results/database.json and .md.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { kubeRequest } from "../ops/clients";
import { bedHasNode, bedStackConfig, createWorkload, freshStack, removeStack, startBed, waitFor } from "../test/integration/bed";
import { Postgres, postgresSetupSql } from "../test/integration/postgres";
import { PROJECT } from "../scripts/sandbox/stack-config";

const ROUNDS = Number(process.env.PVV_BENCH_ROUNDS ?? 3);
const MAX_TTL_S = 30;
const RESTARTED_AT = "vso.secrets.hashicorp.com/restartedAt";

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

async function main(): Promise<void> {
    const bed = startBed({ fresh: true });
    const node = bedHasNode();
    const pg = new Postgres();
    await pg.start();
    const adminPassword = crypto.randomBytes(18).toString("base64url");
    postgresSetupSql(pg, adminPassword);
    const rows: { round: number; upToUsableMs: number; afterUpToUsableMs: number; newCredToRestartMs: number; newCredToPodReadyMs?: number }[] = [];
    try {
        await createWorkload(bed, "benchdb", "app", "app-db");
        for (let round = 1; round <= ROUNDS; round++) {
            const name = `bench-db-${round}`;
            const config = bedStackConfig(bed, [{ name: "kv-app", namespace: "benchdb", path: "bench/kv", keys: ["k"], managed: true }], {
                "kv-app": { k: "v" },
            });
            config[`${PROJECT}:kv`] = { value: JSON.stringify({ path: "kv", protect: false }) };
            config[`${PROJECT}:database`] = {
                value: JSON.stringify({
                    connections: [
                        {
                            name: "appdb",
                            connectionUrl: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/appdb?sslmode=disable`,
                            username: "vault_admin",
                        },
                    ],
                    roles: [
                        {
                            name: "app-db",
                            namespace: "benchdb",
                            database: "appdb",
                            grantRoles: ["app_rw"],
                            defaultTtl: "10s",
                            maxTtl: `${MAX_TTL_S}s`,
                            rolloutRestartTargets: [{ kind: "Deployment", name: "app" }],
                        },
                    ],
                }),
            };
            config[`${PROJECT}:databasePasswords`] = { value: JSON.stringify({ appdb: adminPassword }), secret: true };
            const stack = await freshStack(bed, name, config);
            const t0 = Date.now();
            await stack.up({ onOutput: () => undefined });
            const tUp = Date.now();
            const secret = async () => {
                const r = await kubeRequest(bed.kube, "GET", "/api/v1/namespaces/benchdb/secrets/app-db");
                return r.status === 200
                    ? Object.fromEntries(Object.entries(r.body.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]))
                    : undefined;
            };
            const first = await waitFor("a usable credential", 120000, async () => {
                const s = await secret();
                return s && pg.as(s.username, s.password, "SELECT 1;").ok ? s : undefined;
            });
            const tUsable = Date.now();
            const dep0 = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/benchdb/deployments/app");
            const restarted0 = dep0.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
            await waitFor(
                "the credential replaced at max TTL",
                (MAX_TTL_S + 60) * 1000,
                async () => (await secret())?.username !== first.username,
                () => "",
            );
            const tNew = Date.now();
            await waitFor("the restart annotation", 60000, async () => {
                const d = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/benchdb/deployments/app");
                const a = d.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
                return a && a !== restarted0;
            });
            const tRestart = Date.now();
            let tReady: number | undefined;
            if (node) {
                await waitFor("the restarted pod Ready", 120000, async () => {
                    const d = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/benchdb/deployments/app");
                    const st = d.body.status ?? {};
                    return (
                        st.updatedReplicas === 1 && st.readyReplicas === 1 && (st.replicas ?? 1) === 1 && d.body.metadata.generation === st.observedGeneration
                    );
                });
                tReady = Date.now();
            }
            rows.push({
                round,
                upToUsableMs: tUsable - t0,
                afterUpToUsableMs: tUsable - tUp,
                newCredToRestartMs: tRestart - tNew,
                ...(tReady !== undefined ? { newCredToPodReadyMs: tReady - tNew } : {}),
            });
            process.stderr.write(`[bench] round ${round}: ${JSON.stringify(rows[rows.length - 1])}\n`);
            await stack.destroy({ onOutput: () => undefined });
            await removeStack(bed, name);
        }
    } finally {
        pg.stop();
    }
    const result = { date: new Date().toISOString(), node, rounds: ROUNDS, maxTtlS: MAX_TTL_S, rows };
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "database.json"), JSON.stringify(result, null, 2) + "\n");
    const med = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]).filter((x): x is number => typeof x === "number"));
    const md = [
        `Database credentials on the local bed (${result.date}; ${node ? "with" : "without"} the node; PostgreSQL 15, Vault and VSO local; ${ROUNDS} rounds, medians)`,
        "",
        "| measure | median ms | rounds |",
        "|---|---|---|",
        `| start of pulumi up → usable credential (Secret written, its user logs in) | ${med("upToUsableMs")} | ${rows.map((r) => r.upToUsableMs).join(", ")} |`,
        `| end of pulumi up → usable credential | ${med("afterUpToUsableMs")} | ${rows.map((r) => r.afterUpToUsableMs).join(", ")} |`,
        `| new credential at max TTL (${MAX_TTL_S}s) → restart annotation | ${med("newCredToRestartMs")} | ${rows.map((r) => r.newCredToRestartMs).join(", ")} |`,
        ...(node ? [`| new credential → restarted pod Ready | ${med("newCredToPodReadyMs")} | ${rows.map((r) => r.newCredToPodReadyMs).join(", ")} |`] : []),
    ].join("\n");
    fs.writeFileSync(path.join(dir, "database.md"), md + "\n");
    process.stdout.write(md + "\n");
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(e);
        process.exit(1);
    },
);
