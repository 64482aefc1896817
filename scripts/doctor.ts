#!/usr/bin/env node
/**
 * Doctor: does what VSO will do for each namespace and reports login/policy/key faults first.
 *   npm run doctor -- --stack NAME [--cwd DIR]          (the namespaces the stack created)
 *   npm run doctor -- --namespace cnpg [--namespace other] [--vault-addr URL] [--kubeconfig FILE] [--json]
 * Exit codes: 0 all ok, 2 problems found, 1 error.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { loadKubeconfig } from "../components/clients";
import { formatDoctorReport, runDoctor } from "../components/doctor";

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const namespaces: string[] = [];
    let vaultAddr: string | undefined;
    let kubeconfig: string | undefined;
    let json = false;
    let stack: string | undefined;
    let cwd = process.cwd();
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--namespace" || a === "-n") { namespaces.push(argv[++i]); }
        else if (a === "--stack" || a === "-s") { stack = argv[++i]; }
        else if (a === "--cwd") { cwd = argv[++i]; }
        else if (a === "--vault-addr") { vaultAddr = argv[++i]; }
        else if (a === "--kubeconfig") { kubeconfig = argv[++i]; }
        else if (a === "--json") { json = true; }
        else { process.stderr.write(`unknown argument ${JSON.stringify(a)}\nusage: doctor (--stack NAME | --namespace NS [--namespace NS2]) [--vault-addr URL] [--kubeconfig FILE] [--json]\n`); return 1; }
    }
    if (stack) {
        const outputs = await (await LocalWorkspace.selectStack({ stackName: stack, workDir: cwd })).outputs();
        for (const n of (outputs.namespaces?.value ?? []) as { namespace: string }[]) {
            namespaces.push(n.namespace);
        }
    }
    if (namespaces.length === 0) {
        process.stderr.write("give --stack NAME, or --namespace NS (repeat it for several)\n");
        return 1;
    }
    const report = await runDoctor({ kube: loadKubeconfig(kubeconfig), namespaces, vaultAddr });
    process.stdout.write(json ? JSON.stringify(report, null, 2) + "\n" : formatDoctorReport(report) + "\n");
    return report.ok ? 0 : 2;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`[doctor] error: ${e instanceof Error ? e.message : e}\n`); process.exit(1); });
