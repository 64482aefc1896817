/**
 * The takeover suite's program (test/integration/takeover.integration.test.ts): one VaultNamespaceAccess
 * per entry of config `access` (all under one VaultNamespaceAccessSet with config `set: true`), or an
 * imported policy (`importPolicy`, `importText`). Run inline by the
 * Automation API (resource hooks guard the creates) and as a file program by the Node.js language host
 * (index.ts; TakeoverClaims guard them).
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { takeoverGuardOptions } from "../../../../components/vault-config/takeover";
import { VaultNamespaceAccess, VaultNamespaceAccessSet } from "../../../../components/vault-config/access";

export interface Access {
    namespace: string;
    paths: string[];
    policyName?: string;
}

export function takeoverProgram(address: string, token: pulumi.Input<string>): void {
    const config = new pulumi.Config();
    const provider = new vault.Provider("vault", { address, token: pulumi.secret(token), skipChildToken: true });
    const importName = config.get("importPolicy");
    if (importName) {
        // adoption on purpose: an `import` never runs a beforeCreate hook, so the guard lets it through
        const root = new pulumi.ComponentResource("test:index:Adopted", "adopted", {}, { providers: [provider] });
        new vault.Policy(
            "adopted-policy",
            { name: importName, policy: config.require("importText") },
            { parent: root, import: importName, retainOnDelete: true, ...takeoverGuardOptions("policy", "it-adopted-policy", root) },
        );
        return;
    }
    const access = config.requireObject<Access[]>("access");
    if (config.getBoolean("set")) {
        // every entry under one VaultNamespaceAccessSet (one claim set guards them all where claims are used)
        new VaultNamespaceAccessSet(
            "it-set",
            {
                kvPath: "kv",
                authPath: "kubernetes",
                namespaces: access.map((a) => ({ namespace: a.namespace, paths: a.paths, ...(a.policyName ? { policyName: a.policyName } : {}) })),
            },
            { providers: [provider] },
        );
        return;
    }
    for (const a of access) {
        new VaultNamespaceAccess(
            `it-${a.namespace}`,
            { namespace: a.namespace, paths: a.paths, kvPath: "kv", authPath: "kubernetes", ...(a.policyName ? { policyName: a.policyName } : {}) },
            { providers: [provider] },
        );
    }
}
