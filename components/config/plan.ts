/**
 * Pure planning: from the user's app list to the exact set of Vault and Kubernetes objects to create.
 * No Pulumi resources are created here, so the plan can be tested (and benchmarked) as plain data.
 */
import * as crypto from "crypto";
import {
    FieldType,
    TypeCheck,
    ValidationProblem,
    checkAudience,
    checkKeysMatchData,
    checkLoginServiceAccount,
    checkKubernetesName,
    checkMountPath,
    checkRefreshAfter,
    checkRolloutRestartTarget,
    checkRoleBinding,
    checkSecretKey,
    checkSecretPath,
    checkTokenTtl,
    checkType,
    checkVaultName,
    mergeTypeProblems,
    typeProblem,
} from "./validate";
import { RolloutRestartTarget, VaultStaticSecretSpec } from "./vso-types";
import { DatabasePlan, renderDatabasePolicy } from "./database";
import { PkiPlan } from "./pki";

/** The fields of one app that the user writes (shared by `AppArgs` and `AppShape`). */
export interface AppFields {
    /** Name of the app; also the VaultStaticSecret's name and, by default, the destination Secret's. */
    name: string;
    /** Kubernetes namespace the Secret is created in (and where VSO's objects for it live). */
    namespace: string;
    /** Secret path relative to the KV v2 mount, e.g. `rustfs/cloudnativepg` (no `kv/`, no `data/`). */
    path: string;
    /** Key names the secret must contain (checked by the doctor). Default: the keys of `data`, if given. */
    keys?: string[];
    /** Name of the Kubernetes Secret VSO writes. Default: `name`. */
    destination?: string;
    /** How often VSO re-reads the secret, e.g. `"60s"`, `"5m"` (1s to 24h). Default `"60s"`. */
    refreshAfter?: string;
    /** Workloads VSO restarts when the secret changes (kinds: Deployment, StatefulSet, DaemonSet, argo.Rollout). Default: none. */
    rolloutRestartTargets?: RolloutRestartTarget[];
    /**
     * Lets apps in other namespaces read this app's path too. A path belongs to one namespace unless
     * every app that uses it says `shareAcrossNamespaces: true` (each namespace's policy then grants
     * it). Default `false`.
     */
    shareAcrossNamespaces?: boolean;
}

/** The structural description of one app (what `apps[]` holds, minus the secret values). */
export interface AppShape extends AppFields {
    /** Names of the keys of the managed value, when the app has one (values are never passed here). */
    dataKeys?: string[];
}

/** Options that shape the plan. */
export interface PlanOptions {
    /** KV v2 mount path. Default `"kv"`. */
    kvPath?: string;
    /** Kubernetes auth mount path. Default `"kubernetes"`. */
    authPath?: string;
    /** Name of the ServiceAccount VSO logs in with in each namespace. Default `"vso-auth"`. */
    serviceAccountName?: string;
    /** Vault role and policy name pattern: `{namespace}` is replaced. Defaults `"vso-{namespace}"` and `"vso-{namespace}-read"`. */
    roleNameTemplate?: string;
    policyNameTemplate?: string;
    /** Name of the per-namespace VaultConnection. Default `"vault-connection"`. */
    connectionName?: string;
    /** Name of the per-namespace VaultAuth. Default `"vault-auth"`. */
    authName?: string;
    /** Vault token TTL for the role, seconds. Default 3600. */
    tokenTtl?: number;
    /** Audience of the ServiceAccount tokens VSO presents; the role requires it. Default `"vault"`. */
    audience?: string;
    /** The database credentials (planDatabase): their namespaces' policies gain exactly their paths. Default none. */
    database?: DatabasePlan;
    /** The TLS certificates (planPki): their namespaces' policies gain exactly their issue paths. Default none. */
    pki?: PkiPlan;
}

export const DEFAULTS = {
    kvPath: "kv",
    authPath: "kubernetes",
    serviceAccountName: "vso-auth",
    roleNameTemplate: "vso-{namespace}",
    policyNameTemplate: "vso-{namespace}-read",
    connectionName: "vault-connection",
    authName: "vault-auth",
    tokenTtl: 3600,
    audience: "vault",
    refreshAfter: "60s",
    vaultNamespace: "vault",
    operatorNamespace: "vault-secrets-operator-system",
} as const;

/** One namespace's share of the plan. */
export interface NamespacePlan {
    namespace: string;
    /** Vault policy granting read on exactly this namespace's app paths. */
    policyName: string;
    policyText: string;
    /** Vault Kubernetes auth role bound to exactly this namespace and ServiceAccount. */
    roleName: string;
    serviceAccountName: string;
    connectionName: string;
    authName: string;
    /**
     * The audiences its VaultAuth asks for, comma-separated ("" = none), when they are not the
     * platform's (an adopted VaultAuth); default: the platform's audience.
     */
    audience?: string;
    apps: AppPlan[];
    /** Database credential paths its policy grants `read` on (absent when none). */
    databasePaths?: string[];
    /** PKI issue paths its policy grants `update` on (absent when none). */
    pkiPaths?: string[];
    /**
     * The role's token period, seconds, when the namespace reads database credentials: a periodic
     * token has no max TTL, so VSO never has to log in again and re-lease (VSO #285: every app rolled).
     */
    tokenPeriod?: number;
}

/** One app's share of the plan. */
export interface AppPlan {
    name: string;
    namespace: string;
    path: string;
    destination: string;
    refreshAfter: string;
    keys?: string[];
    rolloutRestartTargets: RolloutRestartTarget[];
    managed: boolean;
    /** Position of the app in the list the plan was made from (where its `data` is). */
    index: number;
}

export interface PlatformPlan {
    kvPath: string;
    authPath: string;
    tokenTtl: number;
    audience: string;
    namespaces: NamespacePlan[];
    /** The database credentials, when configured. */
    database?: DatabasePlan;
    /** The TLS certificates, when configured. */
    pki?: PkiPlan;
}

/** Replaces `{namespace}` in a name template. */
export function nameFor(template: string, namespace: string): string {
    return template.split("{namespace}").join(namespace);
}

/**
 * Renders the HCL of a read-only policy for the given KV v2 paths: one `path` block per secret,
 * granting `read` on exactly `<mount>/data/<path>` (what VSO's kv-v2 read needs). No globs.
 */
export function renderReadPolicy(kvPath: string, paths: string[], databasePaths: string[] = [], pkiPaths: string[] = []): string {
    const unique = Array.from(new Set(paths)).sort();
    return unique
        .map((p) => `path "${kvPath}/data/${p}" {\n  capabilities = ["read"]\n}\n`)
        .concat(databasePaths.length ? [renderDatabasePolicy(databasePaths)] : [])
        .concat(
            Array.from(new Set(pkiPaths))
                .sort()
                .map((p) => `path "${p}" {\n  capabilities = ["update"]\n}\n`),
        )
        .concat(SELF_TOKEN_POLICY)
        .join("\n");
}

/**
 * What VSO needs for its own token. Roles leave Vault's `default` policy out
 * (`token_no_default_policy`), so a path someone adds to `default` is not readable from every
 * namespace; these two paths are the part of `default` a client uses.
 */
export const SELF_TOKEN_POLICY = [
    "# VSO's own token (the part of Vault's default policy it uses; roles leave default out)",
    `path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}`,
    `path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n`,
].join("\n");

// ---------------------------------------------------------------------------------------------------
// Types of the config fields (checked before their values: YAML stack config arrives untyped)

const TEMPLATE_TYPE: FieldType = { type: "string", what: 'a name template string such as "vso-{namespace}"' };
const TOKEN_TTL_TYPE: FieldType = { type: "integer", what: "a whole number of seconds, e.g. 3600" };
const AUDIENCE_TYPE: FieldType = { type: "string", what: 'a string such as "vault"' };
const REFRESH_AFTER_TYPE: FieldType = { type: "string", what: 'a duration string such as "60s", "5m" or "1h"' };
const APP_WHAT = "an object with name, namespace and path";

/** The fields of an app, as both AppShape and the platform's apps[] hold them. */
const APP_FIELDS: Record<string, FieldType> = {
    name: "string",
    namespace: "string",
    path: "string",
    keys: { list: "string", what: "a list of key names" },
    destination: "string",
    refreshAfter: REFRESH_AFTER_TYPE,
    rolloutRestartTargets: { list: { fields: { kind: "string", name: "string" }, what: "an object { kind, name }" }, what: "a list of { kind, name } objects" },
    shareAcrossNamespaces: "boolean",
};

/** Field names of one app (`apps[]`), for programs that read apps from config. */
export const APP_FIELD_NAMES: string[] = [...Object.keys(APP_FIELDS), "data"];

/** Type of one AppShape (the planner's input). */
export const APP_SHAPE_TYPE: FieldType = { fields: { ...APP_FIELDS, dataKeys: { list: "string" } }, what: APP_WHAT };

/** Types of the plan options, by option, with the field's path in the platform's config. */
const PLAN_OPTION_TYPES: [keyof PlanOptions, string, FieldType][] = [
    ["kvPath", "kv.path", "string"],
    ["serviceAccountName", "serviceAccountName", "string"],
    ["roleNameTemplate", "kubernetesAuth.roleNameTemplate", TEMPLATE_TYPE],
    ["policyNameTemplate", "kubernetesAuth.policyNameTemplate", TEMPLATE_TYPE],
    ["tokenTtl", "kubernetesAuth.tokenTtl", TOKEN_TTL_TYPE],
    ["audience", "kubernetesAuth.audience", AUDIENCE_TYPE],
    ["connectionName", "connectionName", "string"],
    ["authName", "authName", "string"],
];

const HELM_FIELDS: Record<string, FieldType> = {
    namespace: "string",
    releaseName: "string",
    chartVersion: { type: "input", what: 'a version string such as "0.28.1"' },
    repository: "input",
    chartPath: "string",
    values: { type: "map", what: "an object (a map of chart values)" },
};

/** Type of every field of VaultSecretsPlatformArgs (see platform.ts), for config that comes from YAML. */
export const PLATFORM_ARGS_TYPE: FieldType = {
    fields: {
        vault: {
            fields: {
                install: "boolean",
                address: "input",
                providerAddress: "input",
                token: "input",
                caCert: "input",
                skipTLSVerify: "boolean",
                allowInsecureHttp: "boolean",
                helm: {
                    fields: {
                        ...HELM_FIELDS,
                        mode: "string",
                        devRootToken: "input",
                        haReplicas: "integer",
                        wait: "boolean",
                        unseal: {
                            fields: { keysIn: "string", keyShares: "integer", keyThreshold: "integer", keysSecretName: "string", unsealerImage: "string" },
                        },
                    },
                },
            },
        },
        operator: { fields: { install: "boolean", helm: { fields: HELM_FIELDS }, crdFiles: { list: "string", what: "a list of file paths" } } },
        kv: { fields: { path: "string", protect: "boolean", description: "input", shared: "boolean" } },
        kubernetesAuth: {
            fields: {
                path: "string",
                kubernetesHost: "input",
                kubernetesCaCert: "input",
                tokenReviewerJwt: "input",
                tokenReviewer: {
                    oneOf: ["boolean", { fields: { enabled: "boolean", namespace: "string", createNamespace: "boolean", serviceAccountName: "string" } }],
                },
                tokenTtl: TOKEN_TTL_TYPE,
                audience: AUDIENCE_TYPE,
                roleNameTemplate: TEMPLATE_TYPE,
                policyNameTemplate: TEMPLATE_TYPE,
            },
        },
        cluster: { type: "string", what: 'a cluster name such as "nas"' },
        serviceAccountName: "string",
        createNamespaces: "boolean",
        apps: { list: { fields: { ...APP_FIELDS, data: { mapOf: "input", what: "an object of key: value" } }, what: APP_WHAT }, what: "a list of apps" },
        kubeconfig: "input",
        // checked field by field by validateDatabaseArgs (database.ts)
        database: { type: "map", what: "an object { path, connections, roles }" },
        // checked field by field by validatePkiArgs (pki.ts)
        pki: { type: "map", what: "an object { path, certificates }" },
        // checked field by field by validateAdoptedSetup (adopt.ts)
        adopted: { type: "map", what: "an object (the section `npm run adopt` writes)" },
    },
    required: ["apps"],
};

/**
 * The known fields of the object at `path` in the platform's args (e.g. `"operator.helm"`, `""` for
 * the top level), for programs that read parts of it from config themselves; [] for no such object.
 */
export function knownFieldsAt(path: string): string[] {
    let t: FieldType | undefined = PLATFORM_ARGS_TYPE;
    for (const part of path ? path.split(".") : []) {
        const inner: FieldType | undefined = typeof t === "object" && "oneOf" in t ? t.oneOf.find((x) => typeof x === "object" && "fields" in x) : t;
        t = typeof inner === "object" && "fields" in inner ? inner.fields[part] : undefined;
    }
    const last = typeof t === "object" && "oneOf" in t ? t.oneOf.find((x) => typeof x === "object" && "fields" in x) : t;
    return typeof last === "object" && "fields" in last ? Object.keys(last.fields) : [];
}

/**
 * Checks the type of every field of the platform's args (pure; values are never echoed). Returns the
 * problems and a copy of the args without the badly typed fields, safe for the value checks.
 */
export function checkPlatformArgTypes(args: unknown): TypeCheck {
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
        return { problems: [typeProblem("args", "an object (the platform's configuration)", args)], value: { apps: [] } };
    }
    return checkType("", args, PLATFORM_ARGS_TYPE);
}

/**
 * Runs the type checks, then `validate` on the args without their badly typed fields, and returns
 * every problem together (one per field). `validate` is the platform's value validation
 * (`validatePlatformArgs`); it never sees a value of the wrong type, so it cannot crash on one.
 */
export function withPlatformTypeChecks<T>(args: T, validate: (args: T) => ValidationProblem[]): ValidationProblem[] {
    const typed = checkPlatformArgTypes(args);
    return mergeTypeProblems(typed.problems, validate(typed.value as T));
}

// ---------------------------------------------------------------------------------------------------
// Values

/** Checks the types of the plan options; returns the problems and the options without bad ones. */
function checkPlanOptionTypes(opts: PlanOptions): { problems: ValidationProblem[]; value: PlanOptions } {
    if (typeof opts !== "object" || opts === null) {
        return { problems: [], value: {} };
    }
    const problems: ValidationProblem[] = [];
    const value: Record<string, unknown> = { ...opts };
    for (const [key, field, type] of PLAN_OPTION_TYPES) {
        const r = checkType(field, opts[key], type);
        problems.push(...r.problems);
        value[key] = r.value;
    }
    return { problems, value: value as PlanOptions };
}

/** Checks the values of (well-typed) plan options. */
function validatePlanOptions(opts: PlanOptions): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    problems.push(...checkMountPath("kv.path", opts.kvPath ?? DEFAULTS.kvPath));
    const sa = opts.serviceAccountName ?? DEFAULTS.serviceAccountName;
    const saProblems = checkLoginServiceAccount("serviceAccountName", sa);
    problems.push(...saProblems);
    if (saProblems.length === 0) {
        // each namespace's Vault role binds the ServiceAccount by name, and VaultNamespaceAccess takes
        // only an RFC 1123 label there (no '.', at most 63), stricter than a ServiceAccount's own name
        problems.push(
            ...checkRoleBinding("serviceAccountName", sa, false).map((p) => ({
                ...p,
                message: `${p.message}; each namespace's Vault role binds the ServiceAccount by this name, which takes an RFC 1123 label (no '.', at most 63 characters)`,
            })),
        );
    }
    for (const [field, tmpl] of [
        ["kubernetesAuth.roleNameTemplate", opts.roleNameTemplate],
        ["kubernetesAuth.policyNameTemplate", opts.policyNameTemplate],
    ] as const) {
        if (tmpl !== undefined && !tmpl.includes("{namespace}")) {
            problems.push({
                field,
                message: `${JSON.stringify(tmpl)} must contain "{namespace}", so that each namespace gets its own ${field.includes("role") ? "role" : "policy"}`,
            });
        }
    }
    if (opts.tokenTtl !== undefined) {
        problems.push(...checkTokenTtl("kubernetesAuth.tokenTtl", opts.tokenTtl));
    }
    if (opts.audience !== undefined) {
        problems.push(...checkAudience("kubernetesAuth.audience", opts.audience));
    }
    return problems;
}

/**
 * Checks one (well-typed) app's values; `p` prefixes field names (e.g. `apps[0].`). The one place
 * the per-app rules live: the platform and `VaultStaticSecretApp` both use it.
 */
export function validateAppValues(p: string, app: AppShape | undefined, kvPath: string): ValidationProblem[] {
    if (typeof app !== "object" || app === null) {
        return [{ field: p.replace(/\.$/, ""), message: `must be ${APP_WHAT}` }];
    }
    const problems: ValidationProblem[] = [];
    problems.push(...checkKubernetesName(`${p}name`, app.name, "subdomain"));
    problems.push(...checkKubernetesName(`${p}namespace`, app.namespace, "label"));
    problems.push(...checkSecretPath(`${p}path`, app.path, kvPath));
    if (app.destination !== undefined) {
        problems.push(...checkKubernetesName(`${p}destination`, app.destination, "subdomain"));
    }
    if (app.refreshAfter !== undefined) {
        problems.push(...checkRefreshAfter(`${p}refreshAfter`, app.refreshAfter));
    }
    (app.rolloutRestartTargets ?? []).forEach((t, j) => problems.push(...checkRolloutRestartTarget(`${p}rolloutRestartTargets[${j}]`, t)));
    (app.keys ?? []).forEach((k, j) => problems.push(...checkSecretKey(`${p}keys[${j}]`, k)));
    if (app.keys && new Set(app.keys).size !== app.keys.length) {
        problems.push({ field: `${p}keys`, message: "lists a key more than once; list each key once" });
    }
    (app.dataKeys ?? []).forEach((k) => problems.push(...checkSecretKey(`${p}data.${k}`, k)));
    if (app.dataKeys) {
        const dataObj: Record<string, true> = {};
        app.dataKeys.forEach((k) => (dataObj[k] = true));
        problems.push(...checkKeysMatchData(`${p}keys`, app.keys, dataObj));
        if (app.dataKeys.length === 0) {
            problems.push({ field: `${p}data`, message: "is empty; give at least one key, or leave data out to manage the value outside Pulumi" });
        }
    }
    return problems;
}

/** Checks that app names, and Secrets per namespace, are unique. */
/**
 * One path, one owner: at most one app writes a managed value at a path (two would overwrite each
 * other, and removing either would delete the other's value), and a path is read from one namespace
 * unless every app that uses it opts in with `shareAcrossNamespaces` (otherwise any namespace could
 * read another's secret just by naming its path).
 */
export function checkPathOwners(apps: (AppShape | undefined)[]): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const managedAt = new Map<string, number>();
    const firstAt = new Map<string, number>();
    apps.forEach((app, i) => {
        if (typeof app?.path !== "string" || typeof app.namespace !== "string") {
            return;
        }
        const f = `apps[${i}]`;
        if (app.dataKeys !== undefined) {
            const prev = managedAt.get(app.path);
            if (prev !== undefined) {
                problems.push({
                    field: `${f}.data`,
                    message: `apps[${prev}] already manages the value at path ${JSON.stringify(app.path)}; a path has one owner. Keep data on one app and leave it off the other (it still reads the path)`,
                });
            } else {
                managedAt.set(app.path, i);
            }
        }
        const first = firstAt.get(app.path);
        if (first === undefined) {
            firstAt.set(app.path, i);
            return;
        }
        const other = apps[first] as AppShape;
        if (other.namespace !== app.namespace && !(app.shareAcrossNamespaces === true && other.shareAcrossNamespaces === true)) {
            problems.push({
                field: `${f}.path`,
                message: `${JSON.stringify(app.path)} is also read by apps[${first}] in namespace ${JSON.stringify(other.namespace)}; a path belongs to one namespace. If ${JSON.stringify(app.namespace)} really needs it, set shareAcrossNamespaces: true on both apps`,
            });
        }
    });
    return problems;
}

function checkUnique(apps: (AppShape | undefined)[]): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const byName = new Map<string, number>();
    const byDestination = new Map<string, number>();
    apps.forEach((app, i) => {
        const f = `apps[${i}]`;
        if (typeof app?.name === "string") {
            const prev = byName.get(app.name);
            if (prev !== undefined) {
                problems.push({
                    field: `${f}.name`,
                    message: `${JSON.stringify(app.name)} is also the name of apps[${prev}]; app names must be unique (they name the Pulumi resources and the VaultStaticSecrets)`,
                });
            } else {
                byName.set(app.name, i);
            }
        }
        if (typeof app?.namespace === "string") {
            const dest = app.destination ?? app.name;
            const key = `${app.namespace}/${dest}`;
            const prev = byDestination.get(key);
            if (prev !== undefined) {
                problems.push({
                    field: `${f}.destination`,
                    message: `apps[${prev}] already writes Secret ${JSON.stringify(dest)} in namespace ${JSON.stringify(app.namespace)}; two VaultStaticSecrets would overwrite each other. Give one a different destination`,
                });
            } else {
                byDestination.set(key, i);
            }
        }
    });
    return problems;
}

/**
 * Checks a policy or role name after its template is expanded for `ns`; problems name the template,
 * and for uppercase suggest its lowercase form.
 */
function checkTemplatedName(kind: "policy" | "role", ns: string, template: string | undefined): ValidationProblem[] {
    const tmpl = template ?? (kind === "policy" ? DEFAULTS.policyNameTemplate : DEFAULTS.roleNameTemplate);
    const problems = checkVaultName(`${kind} name for namespace ${JSON.stringify(ns)}`, nameFor(tmpl, ns));
    if (template === undefined) {
        return problems;
    }
    const lower = template !== template.toLowerCase() ? `; set it to ${JSON.stringify(template.toLowerCase())}` : "";
    return problems.map((p) => ({
        ...p,
        message: `${p.message} (the name comes from kubernetesAuth.${kind}NameTemplate ${JSON.stringify(template)}${lower})`,
    }));
}

/** Checks each namespace's policy and role names (after template expansion) and its role binding. */
function checkNamespaceNames(namespaces: Set<string>, opts: PlanOptions): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    for (const ns of namespaces) {
        if (checkKubernetesName("ns", ns, "label").length > 0) {
            continue;
        }
        problems.push(...checkTemplatedName("policy", ns, opts.policyNameTemplate));
        problems.push(...checkTemplatedName("role", ns, opts.roleNameTemplate));
        problems.push(...checkRoleBinding(`role binding for namespace ${JSON.stringify(ns)}`, ns, false));
    }
    return problems;
}

/**
 * Validates the app list and plan options; returns every problem found. Types are checked first
 * (YAML config may hold a string where a list is expected, null where an object is...), and each
 * field with a wrong type gets one problem saying what was expected and what was found.
 */
export function validateApps(apps: AppShape[], opts: PlanOptions = {}): ValidationProblem[] {
    const typedOpts = checkPlanOptionTypes(opts);
    const o = typedOpts.value;
    const problems = [...typedOpts.problems, ...validatePlanOptions(o)];
    if (!Array.isArray(apps)) {
        problems.push(typeProblem("apps", "a list of apps", apps));
        return problems;
    }
    const kvPath = o.kvPath ?? DEFAULTS.kvPath;
    const typed = apps.map((app, i) => checkType(`apps[${i}]`, app, APP_SHAPE_TYPE));
    const shapes = typed.map((t) => t.value as AppShape | undefined);
    typed.forEach((t, i) => problems.push(...mergeTypeProblems(t.problems, validateAppValues(`apps[${i}].`, shapes[i], kvPath))));
    problems.push(...checkUnique(shapes), ...checkPathOwners(shapes));
    const namespaces = new Set(shapes.map((a) => a?.namespace).filter((n): n is string => typeof n === "string"));
    problems.push(...checkNamespaceNames(namespaces, o));
    return problems;
}

/** Plans one validated app (pure): its defaults filled in. */
export function planApp(app: AppShape, index = 0): AppPlan {
    return {
        name: app.name,
        namespace: app.namespace,
        path: app.path,
        destination: app.destination ?? app.name,
        refreshAfter: app.refreshAfter ?? DEFAULTS.refreshAfter,
        keys: app.keys ?? app.dataKeys,
        rolloutRestartTargets: (app.rolloutRestartTargets ?? []).map((t) => ({ kind: t.kind, name: t.name })),
        managed: app.dataKeys !== undefined,
        index,
    };
}

/**
 * Plans the objects for a validated app list: one NamespacePlan per namespace that has apps (in
 * first-seen order), each with its policy text and role, and one AppPlan per app.
 * Call `validateApps` first; this function assumes valid input.
 */
export function planPlatform(apps: AppShape[], opts: PlanOptions = {}): PlatformPlan {
    const kvPath = opts.kvPath ?? DEFAULTS.kvPath;
    const byNs = new Map<string, AppPlan[]>();
    for (const [index, app] of apps.entries()) {
        const plan = planApp(app, index);
        let list = byNs.get(app.namespace);
        if (!list) {
            list = [];
            byNs.set(app.namespace, list);
        }
        list.push(plan);
    }
    // a namespace that only reads database credentials gets its access too
    for (const r of [...(opts.database?.roles ?? []), ...(opts.pki?.certificates ?? [])]) {
        if (!byNs.has(r.namespace)) {
            byNs.set(r.namespace, []);
        }
    }
    const namespaces: NamespacePlan[] = [];
    for (const [namespace, nsApps] of byNs) {
        const databasePaths = (opts.database?.roles ?? []).filter((r) => r.namespace === namespace).map((r) => r.policyPath);
        const pkiPaths = (opts.pki?.certificates ?? []).filter((c) => c.namespace === namespace).map((c) => c.policyPath);
        namespaces.push({
            namespace,
            policyName: nameFor(opts.policyNameTemplate ?? DEFAULTS.policyNameTemplate, namespace),
            policyText: renderReadPolicy(
                kvPath,
                nsApps.map((a) => a.path),
                databasePaths,
                pkiPaths,
            ),
            ...(databasePaths.length ? { databasePaths, tokenPeriod: opts.tokenTtl ?? DEFAULTS.tokenTtl } : {}),
            ...(pkiPaths.length ? { pkiPaths } : {}),
            roleName: nameFor(opts.roleNameTemplate ?? DEFAULTS.roleNameTemplate, namespace),
            serviceAccountName: opts.serviceAccountName ?? DEFAULTS.serviceAccountName,
            connectionName: opts.connectionName ?? DEFAULTS.connectionName,
            authName: opts.authName ?? DEFAULTS.authName,
            apps: nsApps,
        });
    }
    return {
        kvPath,
        authPath: opts.authPath ?? DEFAULTS.authPath,
        tokenTtl: opts.tokenTtl ?? DEFAULTS.tokenTtl,
        audience: opts.audience ?? DEFAULTS.audience,
        namespaces,
        ...(opts.database ? { database: opts.database } : {}),
        ...(opts.pki ? { pki: opts.pki } : {}),
    };
}

/** The VaultStaticSecret spec VSO expects for one app (plain data; rendered into the custom resource). */
export function staticSecretSpec(app: AppPlan, kvPath: string, authName: string): VaultStaticSecretSpec {
    const spec: VaultStaticSecretSpec = {
        vaultAuthRef: authName,
        mount: kvPath,
        type: "kv-v2",
        path: app.path,
        refreshAfter: app.refreshAfter,
        hmacSecretData: true,
        // excludeRaw: the Secret holds exactly the secret's keys (no `_raw` JSON copy), as consumers
        // such as CloudNativePG expect.
        destination: { name: app.destination, create: true, transformation: { excludeRaw: true } },
    };
    if (app.rolloutRestartTargets.length > 0) {
        spec.rolloutRestartTargets = app.rolloutRestartTargets.map((t) => ({ kind: t.kind, name: t.name }));
    }
    return spec;
}

/**
 * Fingerprint of what a namespace's role and policy grant (pure): role and policy names, the policy
 * text, bound ServiceAccount, audience and token TTL. Any change yields a new value.
 */
export function accessRevision(parts: {
    roleName: string;
    policyName: string;
    policy: string;
    serviceAccountName: string;
    audience: string;
    tokenTtl: number;
    authPath: string;
}): string {
    const canonical = JSON.stringify([
        parts.authPath,
        parts.roleName,
        parts.policyName,
        parts.policy,
        parts.serviceAccountName,
        parts.audience,
        parts.tokenTtl,
    ]);
    return crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
