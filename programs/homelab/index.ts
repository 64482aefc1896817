/**
 * The homelab program: the whole "Kubernetes secrets the GitOps way" setup from stack config.
 *   pulumi config set --secret --path 'values.rustfs-cloudnativepg.access_key' ...   (managed apps only)
 *   pulumi up
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ValidationError, VaultSecretsPlatform, validatePlatformArgs } from "../../components";
import { HomelabConfig, databaseFromConfig, pkiFromConfig, platformArgsFromConfig, unknownConfigKeys } from "./config";

const config = new pulumi.Config();
const cfg: HomelabConfig = {
    vault: config.getObject("vault"),
    operator: config.getObject("operator"),
    kv: config.getObject("kv"),
    kubernetesAuth: config.getObject("kubernetesAuth"),
    cluster: config.get("cluster"),
    serviceAccountName: config.get("serviceAccountName"),
    createNamespaces: config.getBoolean("createNamespaces"),
    apps: config.requireObject("apps"),
    adopted: config.getObject("adopted"),
    database: config.getObject("database"),
    pki: config.getObject("pki"),
};
const values = config.getSecretObject<Record<string, Record<string, string>>>("values");

let crdFiles: string[] = [];
const crdDir = cfg.operator?.crdDir;
if (cfg.operator?.install === false && crdDir) {
    crdFiles = fs
        .readdirSync(crdDir)
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .map((f) => path.join(crdDir, f));
}

const { args, problems } = platformArgsFromConfig(cfg, values, crdFiles);
problems.unshift(...unknownConfigKeys(pulumi.runtime.allConfig(), pulumi.getProject()));
// the connections' passwords: secret config; only the names are read here
const passwordNames = (() => {
    try {
        return Object.keys(JSON.parse(pulumi.runtime.allConfig()[`${pulumi.getProject()}:databasePasswords`] ?? "{}"));
    } catch {
        return [];
    }
})();
const db = databaseFromConfig(cfg.database, config.getSecretObject<Record<string, string>>("databasePasswords"), passwordNames);
problems.push(...db.problems);
if (db.database !== undefined) {
    args.database = db.database;
}
const pkiBundleSet = `${pulumi.getProject()}:pkiCaBundle` in pulumi.runtime.allConfig();
const pki = pkiFromConfig(cfg.pki, pkiBundleSet ? config.getSecret("pkiCaBundle") : undefined, pkiBundleSet);
problems.push(...pki.problems);
if (pki.pki !== undefined) {
    args.pki = pki.pki;
}
if (problems.length > 0) {
    // one message for every problem, whether in the program's config or in the platform's rules
    // (on the good path the platform validates its args once, itself)
    throw new ValidationError("homelab stack config", [...problems, ...validatePlatformArgs(args)]);
}
const platform = new VaultSecretsPlatform("homelab", args);

/** Vault address as VSO reaches it. */
export const vaultAddress = platform.vaultAddress;
/**
 * What the stack manages (namespaces, roles, policies, apps, managed value versions, mount and auth
 * paths): the drift check and the doctor read this output (see PlatformInventory).
 */
export const inventory = platform.inventory;
