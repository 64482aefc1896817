/**
 * Benchmark (issue: the whole flow): latency from a value change in Vault to the updated Kubernetes
 * Secret, and to the restart annotation on the target Deployment, with the real VSO running against
 * the local bed, for 1, 10 and 50 apps, over repeated updates. Compared with refreshAfter.
 *   npm run bench:vso        (builds/starts the bed if needed)
 * Writes bench/results/vso-latency.json and .md.
 */
import * as fs from "fs";
import * as path from "path";
import { kubeRequest, vaultRequest } from "../ops/clients";
import { bedStackConfig, freshStack, removeStack, startBed } from "../test/integration/bed";

const SIZES = (process.env.PVV_BENCH_SIZES ?? "1,10,50").split(",").map(Number);
const ROUNDS = Number(process.env.PVV_BENCH_ROUNDS ?? 3);
const REFRESH_AFTER_S = 5;
const RESTARTED_AT = "vso.secrets.hashicorp.com/restartedAt";

function pct(xs: number[], p: number): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function main(): Promise<void> {
    const bed = startBed({ fresh: true });
    const rows = [];
    for (const n of SIZES) {
        const stackName = `bench-vso-${n}`;
        const nsCount = Math.max(1, Math.min(5, n));
        const apps = Array.from({ length: n }, (_, i) => ({
            name: `app-${i}`,
            namespace: `bench-${i % nsCount}`,
            path: `bench/app-${i}`,
            keys: ["value"],
            refreshAfter: `${REFRESH_AFTER_S}s`,
            rolloutRestartTargets: [{ kind: "Deployment", name: `app-${i}` }],
        }));
        process.stderr.write(`[bench] ${n} apps: pulumi up...\n`);
        await vaultRequest(bed.vaultAddr, bed.vaultToken, "DELETE", "sys/mounts/kv");
        const stack = await freshStack(bed, stackName, bedStackConfig(bed, apps, {}));
        await stack.up({ onOutput: () => undefined });
        for (const a of apps) {
            await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", `kv/data/${a.path}`, { data: { value: "v0" } });
            await kubeRequest(bed.kube, "POST", `/apis/apps/v1/namespaces/${a.namespace}/deployments`, {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: a.name, namespace: a.namespace },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: { app: a.name } },
                    template: { metadata: { labels: { app: a.name } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
                },
            });
        }
        // wait for the initial sync of every app
        for (const a of apps) {
            for (let t = 0; t < 240; t++) {
                const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${a.namespace}/secrets/${a.name}`);
                if (r.status === 200) {
                    break;
                }
                await new Promise((res) => setTimeout(res, 250));
            }
        }
        const secretLat: number[] = [];
        const restartLat: number[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
            const before: Record<string, string | undefined> = {};
            for (const a of apps) {
                const d = await kubeRequest(bed.kube, "GET", `/apis/apps/v1/namespaces/${a.namespace}/deployments/${a.name}`);
                before[a.name] = d.body?.spec?.template?.metadata?.annotations?.[RESTARTED_AT];
            }
            const written: Record<string, number> = {};
            for (const a of apps) {
                await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", `kv/data/${a.path}`, { data: { value: `v${round}` } });
                written[a.name] = Date.now();
            }
            const pendingSecret = new Set(apps.map((a) => a.name));
            const pendingRestart = new Set(apps.map((a) => a.name));
            const deadline = Date.now() + 10 * REFRESH_AFTER_S * 1000 + 60000;
            while ((pendingSecret.size || pendingRestart.size) && Date.now() < deadline) {
                for (const a of apps) {
                    if (pendingSecret.has(a.name)) {
                        const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${a.namespace}/secrets/${a.name}`);
                        if (r.status === 200 && Buffer.from(r.body.data.value, "base64").toString() === `v${round}`) {
                            secretLat.push(Date.now() - written[a.name]);
                            pendingSecret.delete(a.name);
                        }
                    }
                    if (pendingRestart.has(a.name)) {
                        const d = await kubeRequest(bed.kube, "GET", `/apis/apps/v1/namespaces/${a.namespace}/deployments/${a.name}`);
                        const v = d.body?.spec?.template?.metadata?.annotations?.[RESTARTED_AT];
                        if (v && v !== before[a.name]) {
                            restartLat.push(Date.now() - written[a.name]);
                            pendingRestart.delete(a.name);
                        }
                    }
                }
                await new Promise((res) => setTimeout(res, 100));
            }
            process.stderr.write(`[bench] ${n} apps, round ${round}: ${n - pendingSecret.size}/${n} synced, ${n - pendingRestart.size}/${n} restarted\n`);
        }
        await stack.destroy({ excludeProtected: true, onOutput: () => undefined });
        await removeStack(bed, stackName);
        rows.push({
            apps: n,
            rounds: ROUNDS,
            refreshAfterS: REFRESH_AFTER_S,
            samples: secretLat.length,
            secretP50Ms: pct(secretLat, 50),
            secretP95Ms: pct(secretLat, 95),
            secretMaxMs: Math.max(...secretLat),
            restartP50Ms: pct(restartLat, 50),
            restartP95Ms: pct(restartLat, 95),
            restartMaxMs: Math.max(...restartLat),
            missed: n * ROUNDS - secretLat.length,
        });
    }
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    const result = { date: new Date().toISOString(), vso: process.env.VSO_VERSION ?? "see versions.env", rows };
    fs.writeFileSync(path.join(dir, "vso-latency.json"), JSON.stringify(result, null, 2) + "\n");
    const md = [
        `VSO sync latency on the local bed (${result.date}); refreshAfter = ${REFRESH_AFTER_S}s; ${ROUNDS} rounds; all apps updated at once each round`,
        "",
        "| apps | samples | Secret p50 ms | p95 | max | restart p50 ms | p95 | max | p95 / refreshAfter | missed |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${r.apps} | ${r.samples} | ${r.secretP50Ms} | ${r.secretP95Ms} | ${r.secretMaxMs} | ${r.restartP50Ms} | ${r.restartP95Ms} | ${r.restartMaxMs} | ${(r.secretP95Ms / (REFRESH_AFTER_S * 1000)).toFixed(2)} | ${r.missed} |`,
        ),
    ].join("\n");
    fs.writeFileSync(path.join(dir, "vso-latency.md"), md + "\n");
    process.stdout.write(md + "\n");
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
