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
    DatabaseArgs,
    DatabaseConnectionArgs,
    PkiArgs,
    closestName,
    knownFieldsAt,
    typeProblem,
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
    kv?: { path?: string; protect?: boolean; shared?: boolean };
    /** This cluster's name when one Vault serves several (see the platform's `cluster`). */
    cluster?: string;
    kubernetesAuth?: Omit<KubernetesAuthOptions, "kubernetesCaCert" | "tokenReviewerJwt">;
    serviceAccountName?: string;
    createNamespaces?: boolean;
    apps: HomelabApp[];
    /** A hand-built setup taken over as it is (written by `npm run adopt`; see the platform's `adopted`). */
    adopted?: AdoptedSetup;
    /**
     * Database credentials (see the platform's `database`). Each connection's password is not here (this
     * is plain text) but in the secret config `databasePasswords.<connection name>`.
     */
    database?: Omit<DatabaseArgs, "connections"> & { connections: Omit<DatabaseConnectionArgs, "password">[] };
    /** TLS certificates (see the platform's `pki`). */
    pki?: PkiArgs;
}

/**
 * The platform's `database` from stack config (pure): each connection's password is the secret config
 * `databasePasswords.<name>`. `passwordNames` are the names that secret config holds (names only; the
 * values stay in the Output). A password written in plain `database` config, or a connection without
 * its secret, is a problem naming the command that fixes it.
 */
export function databaseFromConfig(
    database: HomelabConfig["database"],
    passwords: pulumi.Output<Record<string, string>> | undefined,
    passwordNames: string[],
): { database?: DatabaseArgs; problems: ValidationProblem[] } {
    if (database === undefined) {
        return { problems: [] };
    }
    const problems: ValidationProblem[] = [];
    if (!database || typeof database !== "object" || !Array.isArray(database.connections)) {
        // the platform's checks name what is wrong with the shape
        return { database: database as unknown as DatabaseArgs, problems };
    }
    const connections = database.connections.map((c, i) => {
        const name = c && typeof c === "object" && typeof c.name === "string" ? c.name : `<connection ${i}>`;
        // no value on the command line (shell history, ps): pulumi prompts for it
        const fix = `pulumi config set --secret --path 'databasePasswords.${name}' (pulumi prompts for the password)`;
        if (c && typeof c === "object" && "password" in c) {
            problems.push({
                field: `database.connections[${i}].password`,
                message: `is not read from plain stack config (it would be plain text in git): remove it and run ${fix}`,
            });
        }
        if (!passwordNames.includes(name)) {
            problems.push({
                field: `databasePasswords.${name}`,
                message: `is missing: the password of database.connections[${i}].username, as a secret: ${fix}`,
            });
        }
        const { password: _plain, ...rest } = (c ?? {}) as DatabaseConnectionArgs;
        void _plain;
        return { ...rest, password: pulumi.secret((passwords ?? pulumi.output({} as Record<string, string>)).apply((p) => p?.[name] ?? "")) };
    });
    return { database: { ...database, connections }, problems };
}

/**
 * The `pki` section with, for `ca.type` "imported", the CA's PEM bundle from the secret config
 * `pkiCaBundle` (a certificate and its private key: never plain stack config). `bundleSet` says whether
 * that secret config exists (read without decrypting it).
 */
export function pkiFromConfig(
    pki: HomelabConfig["pki"],
    bundle: pulumi.Output<string> | undefined,
    bundleSet: boolean,
): { pki?: PkiArgs; problems: ValidationProblem[] } {
    if (pki === undefined) {
        return bundleSet
            ? { problems: [{ field: "pkiCaBundle", message: 'is set but pki.ca.type is not "imported": set it, or pulumi config rm pkiCaBundle' }] }
            : { problems: [] };
    }
    const ca = pki && typeof pki === "object" && pki.ca && typeof pki.ca === "object" ? (pki.ca as Record<string, unknown>) : undefined;
    const problems: ValidationProblem[] = [];
    const fix = "pulumi config set --secret pkiCaBundle < ca-bundle.pem";
    if (ca && "pemBundle" in ca) {
        // its text is never echoed: it holds a private key
        problems.push({
            field: "pki.ca.pemBundle",
            message: `is not read from plain stack config (a private key would be plain text in git): remove it and run ${fix}`,
        });
    }
    if (ca?.type === "imported") {
        if (!bundleSet) {
            problems.push({
                field: "pkiCaBundle",
                message: `is missing: the CA certificate and its private key (PEM) for pki.ca.type "imported", as a secret: ${fix}`,
            });
            return { pki, problems };
        }
        const { pemBundle: _plain, ...rest } = ca;
        void _plain;
        return { pki: { ...pki, ca: { ...rest, pemBundle: pulumi.secret(bundle ?? "") } }, problems };
    }
    if (bundleSet) {
        problems.push({ field: "pkiCaBundle", message: 'is set but pki.ca.type is not "imported": set it, or pulumi config rm pkiCaBundle' });
    }
    return { pki, problems };
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
        const { data, ...rest } = a as unknown as Record<string, unknown>;
        problems.push(...unknownFieldProblems(`apps[${i}]`, rest, HOMELAB_APP_FIELDS));
        if (data !== undefined) {
            problems.push({
                field: `apps[${i}].data`,
                message: `is not read from stack config, where it would be plain text: set apps[${i}].managed: true, list the keys in apps[${i}].keys and give each value as a secret: pulumi config set --secret --path 'values.${typeof a.name === "string" ? a.name : "<app>"}.<key>' <value>`,
            });
        }
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
        problems.push(
            ...unknownFieldProblems("operator", cfg.operator as Record<string, unknown>, ["install", "helm", "crdDir"], {
                helm: knownFieldsAt("operator.helm"),
            }),
        );
    }
    const args: VaultSecretsPlatformArgs = {
        vault: cfg?.vault ? { ...cfg.vault } : undefined,
        operator: { install: cfg?.operator?.install, helm: cfg?.operator?.helm, crdFiles },
        kv: cfg?.kv,
        kubernetesAuth: cfg?.kubernetesAuth,
        ...(cfg?.cluster !== undefined ? { cluster: cfg.cluster } : {}),
        serviceAccountName: cfg?.serviceAccountName,
        createNamespaces: cfg?.createNamespaces,
        apps,
        ...(cfg?.adopted !== undefined ? { adopted: cfg.adopted } : {}),
    };
    return { args, problems };
}

/** The fields of one app in stack config: the platform's, `data` replaced by `managed`. */
const HOMELAB_APP_FIELDS = [...APP_FIELD_NAMES.filter((f) => f !== "data"), "managed"];

/** Top-level config keys the program reads (under the project's namespace). */
export const HOMELAB_CONFIG_KEYS = [
    "vault",
    "operator",
    "kv",
    "cluster",
    "kubernetesAuth",
    "serviceAccountName",
    "createNamespaces",
    "apps",
    "values",
    "adopted",
    "database",
    "databasePasswords",
    "pki",
    "pkiCaBundle",
];

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
    const problems = unknownFieldProblems("", mine, HOMELAB_CONFIG_KEYS).map((p) => ({ ...p, field: `${project}:${p.field}` }));
    const raw = allConfig[`${project}:values`];
    if (raw !== undefined) {
        problems.push(...valuesKeyProblems(parseJson(raw), parseJson(allConfig[`${project}:apps`])));
    }
    return problems;
}

/** A config value as `getObject` reads it (JSON), or the string itself. */
function parseJson(text: string | undefined): unknown {
    if (text === undefined) {
        return undefined;
    }
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * Problems for the keys of the secret config `values` ({ app: { key: value } }) that no managed app
 * reads (pure; only key names are looked at, never a value): an app name that is not in `apps`, an app
 * that is not `managed`, a key that is not in the app's `keys`. Each would be ignored silently.
 */
export function valuesKeyProblems(values: unknown, apps: unknown): ValidationProblem[] {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    const setCmd = "pulumi config set --secret --path 'values.<app>.<key>' <value>";
    if (!isObject(values)) {
        return [typeProblem("values", `an object { <app>: { <key>: value } } (${setCmd})`, values)];
    }
    const list = (Array.isArray(apps) ? apps : []).map((a) => (isObject(a) ? a : {}));
    const managed = list.filter((a) => a.managed === true && typeof a.name === "string").map((a) => a.name as string);
    const problems: ValidationProblem[] = [];
    for (const [name, entry] of Object.entries(values)) {
        const field = `values.${name}`;
        const i = list.findIndex((a) => a.name === name);
        if (i < 0) {
            const near = closestName(name, managed);
            problems.push({
                field,
                message: `is not the name of an app in apps, so its values would be ignored: ${near ? `did you mean ${JSON.stringify(near)}? (` : ""}managed apps: ${managed.join(", ") || "none"}${near ? ")" : ""}. Rename it, or remove it with pulumi config rm --path '${field}'`,
            });
            continue;
        }
        if (list[i].managed !== true) {
            problems.push({
                field,
                message: `apps[${i}] is not managed, so these values would be ignored: set apps[${i}].managed: true (and list the keys in apps[${i}].keys), or remove them with pulumi config rm --path '${field}'`,
            });
            continue;
        }
        if (!isObject(entry)) {
            problems.push(typeProblem(field, `an object { <key>: value } (${setCmd.replace("<app>", name)})`, entry));
            continue;
        }
        const keys = Array.isArray(list[i].keys) ? (list[i].keys as unknown[]).filter((k): k is string => typeof k === "string") : [];
        for (const k of Object.keys(entry).filter((key) => keys.length > 0 && !keys.includes(key))) {
            const near = closestName(k, keys);
            problems.push({
                field: `${field}.${k}`,
                message: `is not in apps[${i}].keys, so it would not be written: ${near ? `did you mean ${JSON.stringify(near)}? (` : ""}keys: ${keys.join(", ")}${near ? ")" : ""}. Add it to apps[${i}].keys, or remove it with pulumi config rm --path '${field}.${k}'`,
            });
        }
    }
    return problems;
}
