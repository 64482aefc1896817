#!/usr/bin/env node
/**
 * Drift check for a scheduled job:
 *   npm run drift -- --stack NAME [--json] [--cwd DIR] [--program]
 * By default the engine's refresh preview (`pulumi refresh --preview-only`): the live system against the
 * state recorded at the last `up`, without running the program. `--program` compares with the program
 * instead (`preview --refresh`, slower; it also reports program changes not applied yet).
 * Exit codes: 0 no drift, 2 drift found, 1 error (bad arguments, a stack that does not exist, ...).
 * Repair drift with `pulumi up --refresh` (a plain `pulumi up` trusts the recorded state).
 */
import { describeStackError, formatDriftTable, runDriftCheck } from "../ops/drift";
import { DRIFT_USAGE, checkVaultAddrArg, parseDriftArgs } from "./args";

async function main(): Promise<number> {
    const parsed = parseDriftArgs(process.argv.slice(2), process.cwd());
    if ("error" in parsed) {
        process.stderr.write(`drift: ${parsed.error}\n`);
        return 1;
    }
    const { stack, json, cwd, help, program } = parsed.args;
    if (help) {
        process.stdout.write(`${DRIFT_USAGE}\n`);
        return 0;
    }
    const badAddr = process.env.VAULT_ADDR ? checkVaultAddrArg(process.env.VAULT_ADDR, "VAULT_ADDR") : undefined;
    if (badAddr) {
        process.stderr.write(`drift: ${badAddr}\n`);
        return 1;
    }
    try {
        const report = await runDriftCheck({
            stack,
            workDir: cwd,
            basis: program ? "program" : "state",
            onProgress: (m) => {
                if (!json) {
                    process.stderr.write(`[drift] ${m}\n`);
                }
            },
        });
        process.stdout.write(json ? JSON.stringify(report, null, 2) + "\n" : formatDriftTable(report) + "\n");
        return report.drifted ? 2 : 0;
    } catch (e) {
        process.stderr.write(`drift: ${describeStackError(e, stack, cwd)}\n`);
        return 1;
    }
}

main().then(
    (code) => process.exit(code),
    (e) => {
        process.stderr.write(`drift: ${describeStackError(e, "", process.cwd())}\n`);
        process.exit(1);
    },
);
