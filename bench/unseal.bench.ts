/**
 * Time to unsealed (issue 9): on the bed's node, a durable Vault (standalone, then ha with 3 pods)
 * installed and initialised by the homelab program; its pods are deleted ROUNDS times and the time
 * from the deletion until every pod answers sealed=false (through the API server's pod proxy) is
 * recorded. Figures: bench/results/unseal.{json,md}.
 *   npm run bench:unseal
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubeRequest } from "../ops/clients";
import { BedEnv, bedHasNode, freshStack, inClusterStackConfig, removeStack, startBed } from "../test/integration/bed";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function uid(bed: BedEnv, ns: string, pod: string): Promise<string | undefined> {
    const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${ns}/pods/${pod}`).catch(() => undefined);
    return r?.status === 200 && !r.body.metadata.deletionTimestamp ? r.body.metadata.uid : undefined;
}

/** Every pod is a new one (not one of `old`) and answers sealed=false. */
async function unsealedAll(bed: BedEnv, ns: string, pods: string[], old: Set<string>): Promise<boolean> {
    for (const pod of pods) {
        const u = await uid(bed, ns, pod);
        if (!u || old.has(u)) {
            return false;
        }
        const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${ns}/pods/${pod}:8200/proxy/v1/sys/seal-status`).catch(() => undefined);
        if (r?.status !== 200 || r.body?.sealed !== false) {
            return false;
        }
    }
    return true;
}

async function measure(bed: BedEnv, mode: "standalone" | "ha", replicas: number): Promise<number[]> {
    const stackName = `bench-unseal-${mode}`;
    const ns = `vault-${mode}`;
    const release = `vault-${mode}`;
    const c = inClusterStackConfig(bed, [{ name: "b-app", namespace: `b-${mode}`, path: `b/${mode}`, keys: ["k"], managed: true }], { "b-app": { k: "v" } });
    const v = JSON.parse(c["vault-vso-homelab:vault"].value);
    Object.assign(v.helm, { mode, namespace: ns, releaseName: release });
    v.helm.values.server.dataStorage = { size: "1Gi" };
    if (mode === "ha") {
        v.helm.values.server.affinity = "";
    }
    c["vault-vso-homelab:vault"] = { value: JSON.stringify(v) };
    c["vault-vso-homelab:createNamespaces"] = { value: "true" };
    const stack = await freshStack(bed, stackName, c);
    const pods = Array.from({ length: replicas }, (_, i) => `${release}-${i}`);
    const out: number[] = [];
    try {
        await stack.up({ onOutput: () => undefined });
        for (let round = 0; round < ROUNDS; round++) {
            const old = new Set((await Promise.all(pods.map((p) => uid(bed, ns, p)))).filter((u): u is string => !!u));
            const t0 = Date.now();
            for (const pod of pods) {
                await kubeRequest(bed.kube, "DELETE", `/api/v1/namespaces/${ns}/pods/${pod}`, { gracePeriodSeconds: 1 });
            }
            while (!(await unsealedAll(bed, ns, pods, old))) {
                if (Date.now() - t0 > 300000) {
                    throw new Error(`${mode}: not unsealed within 300 s`);
                }
                await sleep(250);
            }
            out.push((Date.now() - t0) / 1000);
            process.stderr.write(`[bench] ${mode} round ${round + 1}: unsealed ${out[out.length - 1].toFixed(1)} s after deleting ${replicas} pod(s)\n`);
        }
    } finally {
        await stack.destroy({ excludeProtected: true, onOutput: () => undefined }).catch(() => undefined);
        await removeStack(bed, stackName);
    }
    return out;
}

(async () => {
    const bed = startBed({ fresh: true, vso: false });
    if (!bedHasNode()) {
        throw new Error("the bed has no node: see scripts/bed.sh status");
    }
    const rows: { mode: string; pods: number; seconds: number[]; median: number; max: number }[] = [];
    for (const [mode, n] of [
        ["standalone", 1],
        ["ha", 3],
    ] as const) {
        const s = await measure(bed, mode, n);
        const sorted = [...s].sort((a, b) => a - b);
        rows.push({ mode, pods: n, seconds: s, median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] });
    }
    const dir = path.join(__dirname, "results");
    const result = { date: new Date().toISOString(), machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`, rounds: ROUNDS, rows };
    fs.writeFileSync(path.join(dir, "unseal.json"), JSON.stringify(result, null, 2) + "\n");
    const md = [
        "# Time to unsealed after pod deletion (durable Vault, unsealer sidecar)",
        "",
        `${result.date}, ${result.machine}, the bed's one node; Vault 1.21.4, vault-helm 0.31.0; ${ROUNDS} rounds each; from the DELETE of every Vault pod to every replacement pod (new UID) answering sealed=false through the API server's pod proxy.`,
        "",
        "| mode | pods deleted | median | max | all rounds (s) |",
        "|---|---|---|---|---|",
        ...rows.map((r) => `| ${r.mode} | ${r.pods} | ${r.median.toFixed(1)} s | ${r.max.toFixed(1)} s | ${r.seconds.map((x) => x.toFixed(1)).join(", ")} |`),
        "",
        "Most of it is the pod's restart (termination, PVC re-attach, container start); the sidecar polls every 3 s.",
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "unseal.md"), md);
    process.stdout.write(md);
    // the bed is left running, like the other benchmarks; `npm run bed -- stop` stops it
})().catch((e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
