#!/usr/bin/env node
/**
 * Doctor: does what VSO will do for each namespace and reports login/policy/key faults first.
 *   npm run doctor -- --stack NAME [--cwd DIR]          (the namespaces the stack created, checked against its Vault address,
 *                                                      in the stack's cluster: its kubernetes:kubeconfig unless --kubeconfig)
 *   npm run doctor -- --namespace cnpg [--namespace other] [--vault-addr URL] [--allow-insecure-vault] [--kubeconfig FILE] [--json]
 * Arguments are checked before any request. A ServiceAccount token is only sent to an address read from
 * the cluster when it is the stack's (--stack), $VAULT_ADDR or a --trust-vault-addr URL (an in-cluster
 * Service is reached through the API server), or with --allow-insecure-vault; --vault-addr URL is used
 * instead of the cluster's address.
 * Exit codes: 0 all ok, 2 problems found, 1 error (bad arguments, a stack that does not exist, ...).
 */
import type { PlatformInventory } from "../components/config/inventory";
import { DOCTOR_USAGE, DoctorCliArgs, parseDoctorArgs } from "./args";
import { KubeTarget, kubeconfigFromProviderConfig, loadKubeconfig, redactUrl, sanitizeText } from "../ops/clients";
import { doctorClusterLines, formatDoctorReport, runDoctor } from "../ops/doctor";
import { noInventoryMessage, stackInventory, stackKubeconfigValue } from "../ops/inventory";
import { describeStackError } from "../ops/drift";

async function doctor(a: DoctorCliArgs): Promise<number> {
    const namespaces = [...a.namespaces];
    let stackVaultAddr: string | undefined;
    let inventory: PlatformInventory | undefined;
    if (a.stack !== undefined) {
        try {
            inventory = await stackInventory(a.stack, a.cwd);
            namespaces.push(...(inventory?.namespaces ?? []).map((n) => n.namespace).filter((n) => !namespaces.includes(n)));
            stackVaultAddr = inventory?.vaultAddress || undefined;
        } catch (e) {
            process.stderr.write(`doctor: ${describeStackError(e, a.stack, a.cwd)}\n`);
            return 1;
        }
        if (namespaces.length === 0) {
            process.stderr.write(
                `doctor: ${inventory ? `stack ${JSON.stringify(a.stack)} has no namespaces in its inventory: run pulumi up first, or give --namespace NS` : noInventoryMessage(a.stack)}\n`,
            );
            return 1;
        }
    }
    // the cluster: --kubeconfig, else the stack's own (kubernetes:kubeconfig: one stack per cluster), else $KUBECONFIG
    const stackKc = a.stack !== undefined ? await stackKubeconfigValue(a.stack, a.cwd) : undefined;
    const stackLabel = "the stack's kubernetes:kubeconfig";
    let kube: KubeTarget;
    let from: string;
    let stackServer: string | undefined;
    if (a.kubeconfig !== undefined) {
        kube = loadKubeconfig(a.kubeconfig);
        from = `--kubeconfig ${a.kubeconfig}`;
        stackServer = stackKc === undefined ? undefined : kubeconfigFromProviderConfig(stackKc, stackLabel).server;
    } else if (stackKc !== undefined) {
        kube = kubeconfigFromProviderConfig(stackKc, stackLabel);
        from = stackLabel;
    } else {
        kube = loadKubeconfig();
        from = process.env.KUBECONFIG ? "$KUBECONFIG" : "~/.kube/config";
    }
    // which cluster: the first line on stderr (with --json, in the report; warnings stay on stderr)
    const [where, ...warnings] = doctorClusterLines({ cluster: inventory?.cluster, server: kube.server, from, stackServer });
    for (const line of a.json ? warnings : [where, ...warnings]) {
        process.stderr.write(`doctor: ${line}\n`);
    }
    const report = await runDoctor({
        kube,
        namespaces,
        vaultAddr: a.vaultAddr,
        stackVaultAddr,
        ...(a.trustVaultAddrs.length ? { trustedVaultAddrs: [...a.trustVaultAddrs, ...(process.env.VAULT_ADDR ? [process.env.VAULT_ADDR] : [])] } : {}),
        allowInsecureVault: a.allowInsecureVault,
        inventory,
    });
    const cluster = { ...(inventory?.cluster !== undefined ? { name: inventory.cluster } : {}), apiServer: redactUrl(kube.server), kubeconfigFrom: from };
    process.stdout.write(a.json ? JSON.stringify({ ...report, cluster }, null, 2) + "\n" : formatDoctorReport(report) + "\n");
    return report.ok ? 0 : 2;
}

async function main(): Promise<number> {
    const parsed = parseDoctorArgs(process.argv.slice(2), process.cwd());
    if ("error" in parsed) {
        process.stderr.write(`doctor: ${parsed.error}\n`);
        return 1;
    }
    if (parsed.args.help) {
        process.stdout.write(`${DOCTOR_USAGE}\n`);
        return 0;
    }
    return doctor(parsed.args);
}

main().then(
    (c) => process.exit(c),
    (e) => {
        process.stderr.write(`doctor: error: ${sanitizeText(e instanceof Error ? e.message : String(e), 500)}\n`);
        process.exit(1);
    },
);
