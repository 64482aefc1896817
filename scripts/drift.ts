#!/usr/bin/env node
/**
 * Drift check for a scheduled job:
 *   npm run drift -- --stack NAME [--json] [--cwd DIR]
 * Exit codes: 0 no drift, 2 drift found, 1 error.
 */
import { formatDriftTable, runDriftCheck } from "../components/drift";

function usage(): never {
    process.stderr.write("usage: drift --stack NAME [--json] [--cwd DIR]\n  exit 0 = no drift, 2 = drift, 1 = error\n");
    process.exit(1);
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    let stack: string | undefined;
    let json = false;
    let cwd = process.cwd();
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "-s") { stack = argv[++i]; }
        else if (a.startsWith("--stack=")) { stack = a.slice(8); }
        else if (a === "--json") { json = true; }
        else if (a === "--cwd") { cwd = argv[++i]; }
        else if (a === "--help" || a === "-h") { usage(); }
        else { process.stderr.write(`unknown argument ${JSON.stringify(a)}\n`); usage(); }
    }
    if (!stack) {
        process.stderr.write("--stack is required: the Pulumi stack to check (see `pulumi stack ls`)\n");
        usage();
    }
    const report = await runDriftCheck({ stack, workDir: cwd, onProgress: (m) => { if (!json) { process.stderr.write(`[drift] ${m}\n`); } } });
    process.stdout.write(json ? JSON.stringify(report, null, 2) + "\n" : formatDriftTable(report) + "\n");
    return report.drifted ? 2 : 0;
}

main().then((code) => process.exit(code), (e) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`[drift] error: ${msg.split("\n").slice(0, 20).join("\n")}\n`);
    process.exit(1);
});
