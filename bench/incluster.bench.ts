/**
 * Benchmark (issue 7, item 9): the homelab stack in the cluster, from an empty cluster to VSO's
 * synced Secret, on the bed's node (real kubelet, containerd, Helm charts from the Go module copies).
 *   npm run bench:incluster      (starts the bed with its node; needs root on Linux, see scripts/bed.sh)
 * Per round, on a freshly restarted bed (empty etcd, no pods):
 *   - up:         wall time of one `pulumi up` (Vault + VSO installed by Helm, auth, policy, role, apps)
 *   - secret:     from the start of `up` until VSO's Secret cnpg/rustfs-cloudnativepg exists
 *   - preview:    wall time of `pulumi preview --refresh` of the same stack right after (no changes)
 * Writes bench/results/incluster.json and .md. PVV_BENCH_ROUNDS (default 2) rounds.
 */
import * as os from "os";
import * as fs from "fs";
import * as path from "path";
import { kubeRequest } from "../ops/clients";
import { bedHasNode, createWorkload, freshStack, inClusterStackConfig, removeStack, startBed } from "../test/integration/bed";

const ROUNDS = Number(process.env.PVV_BENCH_ROUNDS ?? 2);
const APP = {
    name: "rustfs-cloudnativepg",
    namespace: "cnpg",
    path: "rustfs/cloudnativepg",
    keys: ["access_key", "access_secret_key"],
    refreshAfter: "5s",
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
    managed: true,
};

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function round(i: number): Promise<{ up: number; secret: number; preview: number; resources: number }> {
    const bed = startBed({ fresh: true, vso: false });
    if (!bedHasNode()) {
        throw new Error("the bed has no node (scripts/bed.sh start says why); this benchmark needs pods to run");
    }
    await createWorkload(bed, APP.namespace, "my-app", APP.name);
    const stackName = `bench-incluster-${i}`;
    const stack = await freshStack(bed, stackName, inClusterStackConfig(bed, [APP], { [APP.name]: { access_key: "bench-ak", access_secret_key: "bench-sk" } }));
    try {
        const t0 = Date.now();
        let secretAt = 0;
        let polling = true;
        // the Secret is watched while `up` runs: VSO may write it before Pulumi finishes
        const watcher = (async () => {
            while (polling || !secretAt) {
                const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${APP.namespace}/secrets/${APP.name}`).catch(() => undefined);
                if (r?.status === 200) {
                    secretAt = Date.now();
                    return;
                }
                if (Date.now() - t0 > 15 * 60 * 1000) {
                    throw new Error("VSO's Secret did not appear within 15 minutes");
                }
                await new Promise((res) => setTimeout(res, 250));
            }
        })();
        const res = await stack.up({ onOutput: () => undefined });
        const upMs = Date.now() - t0;
        polling = false;
        await watcher;
        const t1 = Date.now();
        const pre = await stack.preview({ refresh: true, onOutput: () => undefined } as any);
        const previewMs = Date.now() - t1;
        const changes = Object.entries(pre.changeSummary ?? {}).filter(([k]) => k !== "same");
        if (changes.length) {
            throw new Error(`preview --refresh after up should report no changes: ${JSON.stringify(pre.changeSummary)}`);
        }
        const resources = Object.values(res.summary.resourceChanges ?? {}).reduce((a, b) => a + (b ?? 0), 0);
        process.stderr.write(
            `[bench] round ${i}: up ${(upMs / 1000).toFixed(1)}s, Secret at ${((secretAt - t0) / 1000).toFixed(1)}s, preview --refresh ${(previewMs / 1000).toFixed(1)}s (${resources} resources)\n`,
        );
        return { up: upMs, secret: secretAt - t0, preview: previewMs, resources };
    } finally {
        await removeStack(bed, stackName);
    }
}

async function main(): Promise<void> {
    const rows: Awaited<ReturnType<typeof round>>[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
        rows.push(await round(i));
    }
    const s = (k: "up" | "secret" | "preview") => ({ median: median(rows.map((r) => r[k])) / 1000, max: Math.max(...rows.map((r) => r[k])) / 1000 });
    const out = {
        date: new Date().toISOString(),
        rounds: ROUNDS,
        resources: rows[0].resources,
        machine: `${os.cpus().length} cores`,
        up: s("up"),
        secret: s("secret"),
        previewRefresh: s("preview"),
        samples: rows,
    };
    const dir = path.join(__dirname, "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "incluster.json"), JSON.stringify(out, null, 2) + "\n");
    const f = (x: { median: number; max: number }) => `${x.median.toFixed(1)} s (max ${x.max.toFixed(1)} s)`;
    fs.writeFileSync(
        path.join(dir, "incluster.md"),
        [
            "# In-cluster homelab: empty cluster → synced Secret",
            "",
            `${out.date}, ${out.machine}, ${ROUNDS} round(s), each on a freshly restarted bed (real node; Vault dev + VSO by Helm; ${out.resources} resources).`,
            "",
            "| measure | median |",
            "| --- | --- |",
            `| \`pulumi up\` (empty cluster → everything Ready) | ${f(out.up)} |`,
            `| start of \`up\` → VSO's Secret exists | ${f(out.secret)} |`,
            `| \`pulumi preview --refresh\` right after (no changes) | ${f(out.previewRefresh)} |`,
            "",
        ].join("\n"),
    );
    process.stderr.write(`[bench] wrote bench/results/incluster.{json,md}\n`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
