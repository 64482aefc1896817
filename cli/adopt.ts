#!/usr/bin/env node
/**
 * Adopt: take over a hand-built Vault + VSO setup without recreating or losing anything.
 *   VAULT_TOKEN=... npm run adopt -- --stack NAME [--vault-addr URL] [--include policy:NAME]... [--dry-run] [--json]
 * Reads Vault (mounts, auth mounts and config, ACL policies, roles; database connections and roles and
 * PKI roles, never a credential, password or key) and the cluster (VSO's objects, the key names of the
 * Secrets VaultStaticSecrets write; never a value) and writes Pulumi.NAME.yaml for the homelab
 * program with an `adopted` section: the first `pulumi up` imports what exists and changes nothing.
 * Exit codes: 0 written (or --dry-run), 1 error (nothing written).
 */
import * as fs from "fs";
import { ADOPT_USAGE, AdoptCliArgs, parseAdoptArgs } from "./args";
import { loadKubeconfig, sanitizeText } from "../ops/clients";
import { AdoptError, formatAdoptionReport, planAdoption, readLiveCluster, readLiveVault } from "../ops/adopt";
import { projectOf, stackConfigFile, writeStackConfig } from "../ops/stack-config";

async function adopt(a: AdoptCliArgs): Promise<number> {
    const token = a.tokenFile !== undefined ? fs.readFileSync(a.tokenFile, "utf8").trim() : (process.env.VAULT_TOKEN ?? "");
    const project = projectOf(a.cwd);
    const file = stackConfigFile(a.cwd, a.stack);
    // refuse before reading anything when the stack already has this project's config
    const refusal = a.dryRun ? undefined : writeStackConfig(file, project, undefined, a.force);
    if (refusal) {
        process.stderr.write(`adopt: ${refusal}\n`);
        return 1;
    }
    process.stderr.write(`adopt: reading Vault at ${a.vaultAddr} and the cluster...\n`);
    const plan = planAdoption(await readLiveVault(a.vaultAddr, token), await readLiveCluster(loadKubeconfig(a.kubeconfig)), {
        vaultAddr: a.vaultAddr,
        include: a.include,
        stack: a.stack,
    });
    let written: string | undefined;
    if (!plan.errors.length && !a.dryRun) {
        writeStackConfig(file, project, plan.config as unknown as Record<string, unknown>, a.force);
        written = file;
    }
    process.stdout.write(a.json ? JSON.stringify({ ...plan, written: written ?? null }, null, 2) + "\n" : formatAdoptionReport(plan, written) + "\n");
    return plan.errors.length ? 1 : 0;
}

async function main(): Promise<number> {
    const parsed = parseAdoptArgs(process.argv.slice(2), process.cwd(), process.env);
    if ("error" in parsed) {
        process.stderr.write(`adopt: ${parsed.error}\n`);
        return 1;
    }
    if (parsed.args.help) {
        process.stdout.write(`${ADOPT_USAGE}\n`);
        return 0;
    }
    try {
        return await adopt(parsed.args);
    } catch (e) {
        if (e instanceof AdoptError) {
            process.stderr.write(`adopt: nothing written: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

main().then(
    (c) => process.exit(c),
    (e) => {
        process.stderr.write(`adopt: error (nothing written): ${sanitizeText(e instanceof Error ? e.message : String(e), 500)}\n`);
        process.exit(1);
    },
);
