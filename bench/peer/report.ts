/**
 * The peer benchmark's report: the machine, and the results as JSON and Markdown in bench/results/.
 */
import { Options, median, round, loadavg, CheckKind, CHECKS, SizeResult } from "./common";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// ------------------------------------------------------------------------------------------- output

export function machine(): Record<string, unknown> {
    const cpus = os.cpus();
    return {
        cores: cpus.length,
        cpuModel: cpus[0]?.model,
        ramGiB: round(os.totalmem() / 2 ** 30, 1),
        kernel: os.release(),
        loadavgAtWrite: loadavg(),
    };
}

/** The header sentence on the components API of a run (empty for results of a version without the option). */
export function componentsApiText(versions: Record<string, unknown>): string {
    if (versions.componentsApi === "set") {
        return " Components API (`--components-api set`): one `VaultNamespaceAccessSet` for all N namespaces' policies and roles (one component resource).";
    }
    if (versions.componentsApi === "per-namespace") {
        return ` Components API (\`--components-api per-namespace\`): one \`${versions.componentsAccessClass}\` per namespace (N component resources).`;
    }
    return "";
}

export function writeResults(
    opt: Options,
    started: Date,
    versions: Record<string, unknown>,
    commit: string,
    coldBuildLine: string | undefined,
    sizes: SizeResult[],
): void {
    fs.mkdirSync(opt.out, { recursive: true });
    const m = machine();
    const result = {
        benchmark: "peer (issue 12)",
        baseline: opt.label?.toLowerCase().includes("before") ? "before optimisation" : undefined,
        started: started.toISOString(),
        written: new Date().toISOString(),
        measured: opt.repo,
        commit,
        machine: m,
        versions,
        terraformProviderBuild: coldBuildLine,
        runs: opt.runs,
        componentsApi: versions.componentsApi,
        sizes,
    };
    fs.writeFileSync(path.join(opt.out, `${opt.name}.json`), JSON.stringify(result, null, 2) + "\n");
    const s = (x: number) => `${x.toFixed(2)} s`;
    const lines: string[] = [];
    lines.push(`# Peer benchmark: Terraform vs Pulumi vs our components vs our drift CLI`);
    lines.push("");
    lines.push(
        `Measured: ${commit}${result.baseline ? ` — the **${result.baseline}** baseline` : ""}. ${started.toISOString()}, ${m.cores} cores (${m.cpuModel}), ${m.ramGiB} GiB RAM, Linux ${m.kernel}, Node ${versions.node}.`,
    );
    lines.push(
        `Tools: pulumi ${versions.pulumi} (nodejs language host from the tools cache, ${versions.pulumiVaultProvider}), ${versions.terraform} with terraform-provider-vault ${versions.terraformProvider} (same Go module version as our Pulumi Vault provider), Vault ${versions.vault} dev server on 127.0.0.1.${versions.driftCli ? ` Drift CLI: ${versions.driftCli}.` : ""}${versions.componentsImport ? ` Components program imports ${versions.componentsImport}.` : ""}${componentsApiText(versions)}`,
    );
    lines.push(
        `Same Vault configuration per tool (own mounts): kv-v2 mount, Kubernetes auth + config, one read policy and one role per namespace (2N+3 resources). Median of ${opt.runs} after a warm-up; the order of the checks rotates per repetition.`,
    );
    lines.push("");
    lines.push(
        "| N namespaces | Terraform `plan -detailed-exitcode` | raw `pulumi preview --refresh` (plain @pulumi/vault) | same via our components | our drift CLI (`npm run drift`) | drift CLI without npm (`node lib/cli/drift.js`) | Terraform `plan -refresh-only` |",
    );
    lines.push("|---|---|---|---|---|---|---|");
    for (const z of sizes) {
        lines.push(
            `| ${z.n} | ${s(z.median["tf-plan"])} | ${s(z.median["raw-preview"])} | ${s(z.median["comp-preview"])} | ${s(z.median["drift"])} | ${z.median["drift-bin"] === undefined ? "—" : s(z.median["drift-bin"])} | ${s(z.median["tf-refresh-only"])} |`,
        );
    }
    lines.push("");
    lines.push("Ratios (median of the per-repetition ratios; in brackets the ratio of the medians):");
    lines.push("");
    lines.push(
        "| N | raw preview / TF plan | components / TF plan | drift / TF plan | drift without npm / TF plan | components / raw | drift / components preview |",
    );
    lines.push("|---|---|---|---|---|---|---|");
    for (const z of sizes) {
        const p = (k: string) => (z.pairedRatios[k] ? `${z.pairedRatios[k].median.toFixed(2)}× (${z.ratioOfMedians[k].toFixed(2)}×)` : "—");
        lines.push(
            `| ${z.n} | ${p("raw-preview / tf-plan")} | ${p("comp-preview / tf-plan")} | ${p("drift / tf-plan")} | ${p("drift-bin / tf-plan")} | ${p("comp-preview / raw-preview")} | ${p("drift / comp-preview")} |`,
        );
    }
    if (sizes.some((z) => z.pairedRatios["cpu comp-preview / raw-preview"])) {
        lines.push("");
        lines.push(
            "CPU time, components vs raw (user + sys of the whole process tree, GNU time: what a run costs, less sensitive than wall time to other load on the machine; medians, ratio = median of the per-repetition ratios; first apply: one run):",
        );
        lines.push("");
        lines.push("| N | raw preview CPU | components preview CPU | components / raw | first apply raw CPU | first apply components CPU | components / raw |");
        lines.push("|---|---|---|---|---|---|---|");
        for (const z of sizes) {
            const cpu = (k: CheckKind) => s(median(z.runs[k].map((x) => x.cpuSeconds ?? NaN)));
            const pr = z.pairedRatios["cpu comp-preview / raw-preview"];
            const fa = z.ratioOfMedians["cpu first apply comp / raw"];
            lines.push(
                `| ${z.n} | ${cpu("raw-preview")} | ${cpu("comp-preview")} | ${pr ? `${pr.median.toFixed(2)}× (${pr.perRun.map((x) => x.toFixed(2)).join(", ")})` : "—"} | ${s(z.firstApply.raw.cpuSeconds ?? NaN)} | ${s(z.firstApply.comp.cpuSeconds ?? NaN)} | ${fa ? `${fa.toFixed(2)}×` : "—"} |`,
            );
        }
    }
    lines.push("");
    lines.push("First apply (one run each; `terraform apply -auto-approve` / `pulumi up --yes`, preview included):");
    lines.push("");
    lines.push("| N | Terraform | raw Pulumi | components | raw / TF | components / TF | components / raw |");
    lines.push("|---|---|---|---|---|---|---|");
    for (const z of sizes) {
        const f = z.firstApply;
        lines.push(
            `| ${z.n} | ${s(f.tf.seconds)} | ${s(f.raw.seconds)} | ${s(f.comp.seconds)} | ${z.ratioOfMedians["first apply raw / tf"].toFixed(2)}× | ${z.ratioOfMedians["first apply comp / tf"].toFixed(2)}× | ${z.ratioOfMedians["first apply comp / raw"].toFixed(2)}× |`,
        );
    }
    lines.push("");
    lines.push(
        "Peak memory, MiB. *Largest process*: max RSS of the biggest single process (GNU time), max over the timed runs. *Tree*: sum of RSS over the whole process tree, sampled every 50 ms in the warm-up run (first apply: in the apply). *Node*: the largest Node process (sampled).",
    );
    lines.push("");
    lines.push("| N | run | largest process | tree (sampled) | largest node process (sampled) | by process kind (sampled peak) |");
    lines.push("|---|---|---|---|---|---|");
    for (const z of sizes) {
        for (const k of CHECKS) {
            const w = z.warmup[k];
            const maxRss = Math.max(...z.runs[k].map((x) => x.maxRssMiB), w.maxRssMiB);
            lines.push(
                `| ${z.n} | ${k} | ${maxRss.toFixed(0)} | ${w.tree?.peakTreeMiB.toFixed(0)} | ${w.tree?.peakNodeMiB ? w.tree.peakNodeMiB.toFixed(0) : "—"} | ${Object.entries(
                    w.tree?.peakByKindMiB ?? {},
                )
                    .sort((a, b) => b[1] - a[1])
                    .map(([kk, v]) => `${kk} ${v.toFixed(0)}`)
                    .join(", ")} |`,
            );
        }
        for (const k of ["tf", "raw", "comp"] as const) {
            const a = z.firstApply[k];
            lines.push(
                `| ${z.n} | first apply ${k} | ${a.maxRssMiB.toFixed(0)} | ${a.tree?.peakTreeMiB.toFixed(0)} | ${a.tree?.peakNodeMiB ? a.tree.peakNodeMiB.toFixed(0) : "—"} | ${Object.entries(
                    a.tree?.peakByKindMiB ?? {},
                )
                    .sort((x, y) => y[1] - x[1])
                    .map(([kk, v]) => `${kk} ${v.toFixed(0)}`)
                    .join(", ")} |`,
            );
        }
    }
    lines.push("");
    lines.push(
        "Vault requests per run (file audit device: the same work for every tool) and the 1-minute load average at the start of the timed runs (it includes the benchmark's own processes: a Pulumi run alone keeps about 2 runnable on this machine):",
    );
    lines.push("");
    lines.push(
        "| N | TF plan | TF refresh-only | raw preview | components preview | drift | drift without npm | first apply TF / raw / comp | load1 min–max (median) |",
    );
    lines.push("|---|---|---|---|---|---|---|---|---|");
    for (const z of sizes) {
        const rq = (k: CheckKind) => [...new Set(z.runs[k].map((x) => x.requests))].join("/");
        lines.push(
            `| ${z.n} | ${rq("tf-plan")} | ${rq("tf-refresh-only")} | ${rq("raw-preview")} | ${rq("comp-preview")} | ${rq("drift")} | ${rq("drift-bin")} | ${z.firstApply.tf.requests} / ${z.firstApply.raw.requests} / ${z.firstApply.comp.requests} | ${z.loadDuringChecks.min}–${z.loadDuringChecks.max} (${z.loadDuringChecks.median}) |`,
        );
    }
    lines.push("");
    lines.push("Every timed run (seconds, load1 at its start):");
    lines.push("");
    for (const z of sizes) {
        for (const k of CHECKS) {
            lines.push(
                `- N=${z.n} ${k}: ${z.runs[k].map((x) => `${x.seconds.toFixed(2)} (${x.load1})`).join(", ")}; warm-up ${z.warmup[k].seconds.toFixed(2)}`,
            );
        }
    }
    lines.push("");
    if (coldBuildLine) {
        lines.push(`terraform-provider-vault (scripts/tools/build-terraform-provider.sh): ${coldBuildLine}.`);
    }
    lines.push(
        `Machine at write time: ${m.cores} cores, ${m.ramGiB} GiB RAM, load average ${(m.loadavgAtWrite as number[]).join(" / ")} (1/5/15 min). Another engineer may use this machine at the same time: compare ratios within one run rather than seconds across runs.`,
    );
    if (opt.notes && fs.existsSync(opt.notes)) {
        lines.push("");
        lines.push(fs.readFileSync(opt.notes, "utf8").trim());
    }
    lines.push("");
    lines.push(
        "Reproduce: `npm run bench:peer` (options: `--ns 10,100 --runs 5 --profile --repo DIR --label TEXT --name BASE --components-api per-namespace|set`).",
    );
    fs.writeFileSync(path.join(opt.out, `${opt.name}.md`), lines.join("\n") + "\n");
}

export function writeProfile(opt: Options, started: Date, versions: Record<string, unknown>, commit: string, profile: Record<string, unknown>): void {
    fs.mkdirSync(opt.out, { recursive: true });
    fs.writeFileSync(
        path.join(opt.out, `${opt.name}-profile.json`),
        JSON.stringify({ started: started.toISOString(), written: new Date().toISOString(), commit, machine: machine(), versions, profile }, null, 2) + "\n",
    );
}
