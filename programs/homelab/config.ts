/**
 * Typed stack config of the homelab program, turned into VaultSecretsPlatform args by a pure function
 * (tested beside the component tests).
 */
import * as pulumi from "@pulumi/pulumi";
import {
    APP_FIELD_NAMES,
    AppArgs,
    ValidationProblem,
    unknownFieldProblems,
    VaultSecretsPlatformArgs,
    VaultHelmInstallArgs,
    VaultSecretsOperatorInstallArgs,
    KubernetesAuthOptions,
    AdoptedSetup,
} from "../../components";

/** One app in stack config (`apps:`): the platform's app fields, values replaced by `managed`. */
export interface HomelabApp extends Omit<AppArgs, "data"> {
    /** Write the value into Vault from the secret config `values.<name>.<key>`. Default false. */
    managed?: boolean;
}

/** The program's config, as `pulumi config` holds it under the project's namespace. */
export interface HomelabConfig {
    vault?: { install?: boolean; address?: string; providerAddress?: string; helm?: VaultHelmInstallArgs };
    operator?: { install?: boolean; helm?: VaultSecretsOperatorInstallArgs; crdDir?: string };
    kv?: { path?: string; protect?: boolean };
    kubernetesAuth?: Omit<KubernetesAuthOptions, "kubernetesCaCert" | "tokenReviewerJwt">;
    serviceAccountName?: string;
    createNamespaces?: boolean;
    apps: HomelabApp[];
    /** A hand-built setup taken over as it is (written by `npm run adopt`; see the platform's `adopted`). */
    adopted?: AdoptedSetup;
}

/**
 * Builds the platform args. `values` is the secret config object `values` ({ app: { key: value } }),
 * or undefined when no app is managed; `crdFiles` lists the YAML files of `operator.crdDir`.
 */
export function platformArgsFromConfig(
    cfg: HomelabConfig,
    values: pulumi.Output<Record<string, Record<string, string>>> | undefined,
    crdFiles: string[] = [],
): { args: VaultSecretsPlatformArgs; problems: ValidationProblem[] } {
    const problems: ValidationProblem[] = [];
    if (!cfg || !Array.isArray(cfg.apps)) {
        const found = cfg?.apps === undefined ? "" : `; found ${cfg.apps === null ? "null" : typeof cfg.apps} (a YAML map? write a list: "- name: ...")`;
        problems.push({ field: "apps", message: `is required: list the apps in stack config (see Pulumi.homelab.yaml)${found}` });
    }
    const cfgApps: HomelabApp[] = Array.isArray(cfg?.apps) ? cfg.apps : [];
    const apps: AppArgs[] = cfgApps.map((a, i) => {
        if (!a || typeof a !== "object" || Array.isArray(a)) {
            problems.push({
                field: `apps[${i}]`,
                message: `must be an object (name, namespace, path, ...), found ${a === null ? "null" : Array.isArray(a) ? "a list" : typeof a}`,
            });
            return a as unknown as AppArgs;
        }
        problems.push(
            ...unknownFieldProblems(`apps[${i}]`, a as unknown as Record<string, unknown>, [...APP_FIELD_NAMES.filter((f) => f !== "data"), "managed"]),
        );
        if (a.managed !== undefined && typeof a.managed !== "boolean") {
            problems.push({ field: `apps[${i}].managed`, message: `must be true or false (unquoted in YAML), found ${typeof a.managed}` });
        }
        const app: AppArgs = {
            name: a.name,
            namespace: a.namespace,
            path: a.path,
            keys: a.keys,
            destination: a.destination,
            refreshAfter: a.refreshAfter,
            rolloutRestartTargets: a.rolloutRestartTargets,
            shareAcrossNamespaces: a.shareAcrossNamespaces,
        };
        if (a.managed === true) {
            if (!Array.isArray(a.keys) || a.keys.length === 0) {
                problems.push({
                    field: `apps[${i}].keys`,
                    message: "is required when managed is true: list the keys whose values come from `pulumi config set --secret --path values.<app>.<key>`",
                });
            } else if (!values) {
                problems.push({
                    field: `values`,
                    message: `apps[${i}] is managed but the secret config "values" is missing: run pulumi config set --secret --path 'values.${a.name}.${a.keys[0]}' <value>`,
                });
            } else {
                const keys = a.keys;
                // the key names are not secret; checking them here keeps values out of errors
                const checked = values.apply((v) => {
                    const got = Object.keys(v?.[a.name] ?? {});
                    const missing = keys.filter((k) => !got.includes(k));
                    const extra = got.filter((k) => !keys.includes(k));
                    if (missing.length || extra.length) {
                        throw new Error(
                            `secret config values.${a.name} must hold exactly keys ${keys.join(", ")}` +
                                (missing.length
                                    ? `; missing ${missing.join(", ")}: run pulumi config set --secret --path 'values.${a.name}.${missing[0]}' <value>`
                                    : "") +
                                (extra.length
                                    ? `; not in apps[${i}].keys: ${extra.join(", ")} (add them to keys or remove them with pulumi config rm --path 'values.${a.name}.${extra[0]}')`
                                    : ""),
                        );
                    }
                    return v[a.name];
                });
                const data: Record<string, pulumi.Input<string>> = {};
                for (const k of keys) {
                    data[k] = checked.apply((v) => v[k]);
                }
                app.data = data;
            }
        }
        return app;
    });
    if (cfg?.operator && typeof cfg.operator === "object") {
        problems.push(...unknownFieldProblems("operator", cfg.operator as Record<string, unknown>, ["install", "helm", "crdDir"]));
    }
    const args: VaultSecretsPlatformArgs = {
        vault: cfg?.vault ? { ...cfg.vault } : undefined,
        operator: { install: cfg?.operator?.install, helm: cfg?.operator?.helm, crdFiles },
        kv: cfg?.kv,
        kubernetesAuth: cfg?.kubernetesAuth,
        serviceAccountName: cfg?.serviceAccountName,
        createNamespaces: cfg?.createNamespaces,
        apps,
        ...(cfg?.adopted !== undefined ? { adopted: cfg.adopted } : {}),
    };
    return { args, problems };
}

/** Top-level config keys the program reads (under the project's namespace). */
export const HOMELAB_CONFIG_KEYS = ["vault", "operator", "kv", "kubernetesAuth", "serviceAccountName", "createNamespaces", "apps", "values", "adopted"];

/**
 * Problems for config keys in the project's namespace that the program does not read (pure): a
 * misspelled key (`app:` for `apps:`) would otherwise be ignored silently. `allConfig` is
 * `pulumi.runtime.allConfig()` (keys `project:key`); other namespaces (`vault:`, `kubernetes:`) are not checked.
 */
export function unknownConfigKeys(allConfig: Record<string, string>, project: string): ValidationProblem[] {
    const mine: Record<string, unknown> = {};
    for (const k of Object.keys(allConfig)) {
        if (k.startsWith(`${project}:`)) {
            mine[k.slice(project.length + 1)] = true;
        }
    }
    return unknownFieldProblems("", mine, HOMELAB_CONFIG_KEYS).map((p) => ({ ...p, field: `${project}:${p.field}` }));
}
