/**
 * Benchmark: construct VaultSecretsPlatform under Pulumi's mocks for 10, 100 and 1000 apps (over 10,
 * 50 and 100 namespaces) and record wall time and peak memory. Each size runs in its own process so
 * peak memory is not shared. Writes bench/results/platform.json and .md.
 *   npm run bench
 */
import * as os from "os";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const SIZES: [number, number][] = [
    [10, 10],
    [100, 50],
    [1000, 100],
];
const REPEATS = 3;

async function one(apps: number, namespaces: number): Promise<{ ms: number; peakRssMiB: number; peakHeapMiB: number; resources: number }> {
    const pulumi = await import("@pulumi/pulumi");
    let resources = 0;
    pulumi.runtime.setMocks(
        {
            newResource: (a) => {
                resources++;
                return { id: `${a.name}-id`, state: a.inputs };
            },
            call: (a) => a.inputs,
        },
        "bench",
        "bench",
        false,
    );
    const { VaultSecretsPlatform } = await import("../components");
    let peakRss = 0;
    let peakHeap = 0;
    const sample = () => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const timer = setInterval(sample, 5);
    // Waits until every resource has been registered with the (mock) engine.
    const settle = async () => {
        let last = -1;
        let stable = 0;
        while (stable < 5) {
            await new Promise((r) => setTimeout(r, 2));
            if (resources === last) {
                stable++;
            } else {
                stable = 0;
                last = resources;
            }
        }
    };
    const list = [];
    for (let i = 0; i < apps; i++) {
        list.push({
            name: `app-${i}`,
            namespace: `ns-${i % namespaces}`,
            path: `team-${i % namespaces}/app-${i}`,
            keys: ["user", "password"],
            rolloutRestartTargets: [{ kind: "Deployment", name: `app-${i}` }],
        });
    }
    // Warm-up: the first construction loads the providers' modules lazily; keep that out of the figure.
    new VaultSecretsPlatform("warmup", { apps: [{ name: "warm", namespace: "warm", path: "warm/up" }] });
    await settle();
    resources = 0;
    const t0 = process.hrtime.bigint();
    new VaultSecretsPlatform("bench", { apps: list });
    await settle();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 - 5 * 2; // minus the settle window
    clearInterval(timer);
    sample();
    return { ms, peakRssMiB: peakRss / 2 ** 20, peakHeapMiB: peakHeap / 2 ** 20, resources };
}

async function main(): Promise<void> {
    if (process.argv[2] === "--one") {
        const r = await one(Number(process.argv[3]), Number(process.argv[4]));
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
    }
    const rows = [];
    for (const [apps, ns] of SIZES) {
        const runs = [];
        for (let i = 0; i < REPEATS; i++) {
            const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", __filename, "--one", String(apps), String(ns)], {
                encoding: "utf8",
            });
            runs.push(JSON.parse(out.trim().split("\n").pop()!));
        }
        runs.sort((a, b) => a.ms - b.ms);
        const med = runs[Math.floor(runs.length / 2)];
        rows.push({
            apps,
            namespaces: ns,
            resources: med.resources,
            medianMs: Math.round(med.ms),
            msPerApp: +(med.ms / apps).toFixed(2),
            peakRssMiB: Math.round(Math.max(...runs.map((r) => r.peakRssMiB))),
            peakHeapMiB: Math.round(Math.max(...runs.map((r) => r.peakHeapMiB))),
        });
        process.stderr.write(`[bench] ${apps} apps / ${ns} namespaces: ${Math.round(med.ms)} ms, ${med.resources} resources\n`);
    }
    const result = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, repeats: REPEATS, rows };
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "platform.json"), JSON.stringify(result, null, 2) + "\n");
    const md = [
        "| apps | namespaces | resources | median ms | ms/app | peak RSS MiB | peak heap MiB |",
        "|---|---|---|---|---|---|---|",
        ...rows.map((r) => `| ${r.apps} | ${r.namespaces} | ${r.resources} | ${r.medianMs} | ${r.msPerApp} | ${r.peakRssMiB} | ${r.peakHeapMiB} |`),
    ].join("\n");
    fs.writeFileSync(
        path.join(dir, "platform.md"),
        `Construct VaultSecretsPlatform under mocks (${result.date}, Node ${result.node}, ${result.cpus} cores, median of ${REPEATS})\n\n${md}\n`,
    );
    process.stdout.write(md + "\n");
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
