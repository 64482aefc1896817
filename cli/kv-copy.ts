#!/usr/bin/env node
/**
 * kv-copy: copy a KV v2 tree between two Vaults (e.g. from a dev-mode Vault to the durable one).
 *   FROM_VAULT_TOKEN=... TO_VAULT_TOKEN=... npm run kv-copy -- --from http://127.0.0.1:8200 --to http://127.0.0.1:8201 [--prefix rustfs]
 * Values are never printed; only each secret's current version is copied. Exit 0 ok, 1 error or a failed write.
 */
import { KV_COPY_USAGE, parseKvCopyArgs } from "./args";
import { sanitizeText } from "../ops/clients";
import { KvCopyError, copyKvTree, formatKvCopyReport } from "../ops/kvcopy";

async function main(): Promise<number> {
    const parsed = parseKvCopyArgs(process.argv.slice(2), process.env);
    if ("error" in parsed) {
        process.stderr.write(`kv-copy: ${parsed.error}\n`);
        return 1;
    }
    const a = parsed.args;
    if (a.help) {
        process.stdout.write(`${KV_COPY_USAGE}\n`);
        return 0;
    }
    try {
        const report = await copyKvTree({
            from: { addr: a.from, token: a.fromToken, mount: a.fromMount },
            to: { addr: a.to, token: a.toToken, mount: a.toMount },
            prefix: a.prefix,
            overwrite: a.overwrite,
            dryRun: a.dryRun,
            progress: a.json ? undefined : (l) => process.stderr.write(`kv-copy: ${l}\n`),
        });
        process.stdout.write(a.json ? JSON.stringify(report, null, 2) + "\n" : formatKvCopyReport(report, a.dryRun) + "\n");
        return report.failed.length ? 1 : 0;
    } catch (e) {
        if (e instanceof KvCopyError) {
            process.stderr.write(`kv-copy: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

main().then(
    (c) => process.exit(c),
    (e) => {
        process.stderr.write(`kv-copy: error: ${sanitizeText(e instanceof Error ? e.message : String(e), 500)}\n`);
        process.exit(1);
    },
);
