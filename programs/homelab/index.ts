/**
 * The homelab program: the whole "Kubernetes secrets the GitOps way" setup from stack config.
 *   pulumi config set --secret --path 'values.rustfs-cloudnativepg.access_key' ...   (managed apps only)
 *   pulumi up
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { VaultSecretsPlatform, formatProblems, validatePlatformArgs } from "../../components";
import { HomelabConfig, platformArgsFromConfig } from "./config";

const config = new pulumi.Config();
const cfg: HomelabConfig = {
    vault: config.getObject("vault"),
    operator: config.getObject("operator"),
    kv: config.getObject("kv"),
    kubernetesAuth: config.getObject("kubernetesAuth"),
    serviceAccountName: config.get("serviceAccountName"),
    createNamespaces: config.getBoolean("createNamespaces"),
    apps: config.requireObject("apps"),
};
const values = config.getSecretObject<Record<string, Record<string, string>>>("values");

let crdFiles: string[] = [];
const crdDir = cfg.operator?.crdDir ?? process.env.VSO_CRDS_DIR;
if (cfg.operator?.install === false && crdDir) {
    crdFiles = fs.readdirSync(crdDir).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(crdDir, f));
}

const { args, problems } = platformArgsFromConfig(cfg, values, crdFiles);
// one message for every problem, whether in the program's config or in the platform's rules
problems.push(...validatePlatformArgs(args));
if (problems.length > 0) {
    throw new pulumi.RunError(formatProblems("homelab stack config", problems));
}
const platform = new VaultSecretsPlatform("homelab", args);

export const vaultAddress = platform.vaultAddress;
export const kvPath = platform.plan.kvPath;
export const authPath = platform.plan.authPath;
export const namespaces = platform.plan.namespaces.map((n) => ({
    namespace: n.namespace,
    role: n.roleName,
    policy: n.policyName,
    serviceAccount: n.serviceAccountName,
    vaultAuth: n.authName,
    vaultConnection: n.connectionName,
}));
export const apps = platform.plan.namespaces.flatMap((n) => n.apps.map((a) => ({
    name: a.name,
    namespace: a.namespace,
    path: a.path,
    destination: a.destination,
    keys: a.keys ?? [],
    refreshAfter: a.refreshAfter,
    managed: a.managed,
})));
/** KV v2 version of each managed value at this `up` (the drift check compares it with Vault's). */
export const managedVersions = platform.managedVersions;
