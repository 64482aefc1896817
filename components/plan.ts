/**
 * Pure planning: from the user's app list to the exact set of Vault and Kubernetes objects to create.
 * No Pulumi resources are created here, so the plan can be tested (and benchmarked) as plain data.
 */
import * as crypto from "crypto";
import {
    RestartTargetKind,
    ValidationProblem,
    checkKeysMatchData,
    checkLoginServiceAccount,
    checkKubernetesName,
    checkMountPath,
    checkRefreshAfter,
    checkRestartTarget,
    checkRoleBinding,
    checkSecretKey,
    checkSecretPath,
    checkVaultName,
} from "./validate";

/** A workload VSO restarts when the secret changes. */
export interface RestartTarget {
    /** One of `Deployment`, `StatefulSet`, `DaemonSet`, `argo.Rollout`. */
    kind: RestartTargetKind | string;
    /** The workload's name, in the app's namespace. */
    name: string;
}

/** The structural description of one app (what `apps[]` holds, minus the secret values). */
export interface AppShape {
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
    /** How often VSO re-reads the secret. Default: `"60s"`. */
    refreshAfter?: string;
    /** Workloads to restart when the secret changes. Default: none. */
    restartTargets?: RestartTarget[];
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
    apps: AppPlan[];
}

/** One app's share of the plan. */
export interface AppPlan {
    name: string;
    namespace: string;
    path: string;
    destination: string;
    refreshAfter: string;
    keys?: string[];
    restartTargets: { kind: string; name: string }[];
    managed: boolean;
}

export interface PlatformPlan {
    kvPath: string;
    authPath: string;
    tokenTtl: number;
    audience: string;
    namespaces: NamespacePlan[];
}

/** Replaces `{namespace}` in a name template. */
export function nameFor(template: string, namespace: string): string {
    return template.split("{namespace}").join(namespace);
}

/**
 * Renders the HCL of a read-only policy for the given KV v2 paths: one `path` block per secret,
 * granting `read` on exactly `<mount>/data/<path>` (what VSO's kv-v2 read needs). No globs.
 */
export function renderReadPolicy(kvPath: string, paths: string[]): string {
    const unique = Array.from(new Set(paths)).sort();
    return unique
        .map((p) => `path "${kvPath}/data/${p}" {\n  capabilities = ["read"]\n}\n`)
        .join("\n");
}

/** Validates the app list and plan options; returns every problem found. */
export function validateApps(apps: AppShape[], opts: PlanOptions = {}): ValidationProblem[] {
    const problems: ValidationProblem[] = [];
    const kvPath = opts.kvPath ?? DEFAULTS.kvPath;
    problems.push(...checkMountPath("kv.path", kvPath));
    problems.push(...checkLoginServiceAccount("serviceAccountName", opts.serviceAccountName ?? DEFAULTS.serviceAccountName));
    for (const [field, tmpl] of [["roleNameTemplate", opts.roleNameTemplate], ["policyNameTemplate", opts.policyNameTemplate]] as const) {
        if (tmpl !== undefined && !tmpl.includes("{namespace}")) {
            problems.push({ field, message: `${JSON.stringify(tmpl)} must contain "{namespace}", so that each namespace gets its own ${field.startsWith("role") ? "role" : "policy"}` });
        }
    }
    if (opts.tokenTtl !== undefined && (!Number.isInteger(opts.tokenTtl) || opts.tokenTtl <= 0)) {
        problems.push({ field: "kubernetesAuth.tokenTtl", message: `${opts.tokenTtl} must be a positive whole number of seconds, e.g. 3600` });
    }
    if (!Array.isArray(apps)) {
        problems.push({ field: "apps", message: "must be a list of apps" });
        return problems;
    }
    const byName = new Map<string, number>();
    const byDestination = new Map<string, number>();
    const namespaces = new Set<string>();
    apps.forEach((app, i) => {
        const f = `apps[${i}]`;
        if (typeof app !== "object" || app === null) {
            problems.push({ field: f, message: "must be an object with name, namespace and path" });
            return;
        }
        problems.push(...checkKubernetesName(`${f}.name`, app.name, "subdomain"));
        problems.push(...checkKubernetesName(`${f}.namespace`, app.namespace, "label"));
        problems.push(...checkSecretPath(`${f}.path`, app.path, kvPath));
        if (app.destination !== undefined) {
            problems.push(...checkKubernetesName(`${f}.destination`, app.destination, "subdomain"));
        }
        if (app.refreshAfter !== undefined) {
            problems.push(...checkRefreshAfter(`${f}.refreshAfter`, app.refreshAfter));
        }
        (app.restartTargets ?? []).forEach((t, j) => problems.push(...checkRestartTarget(`${f}.restartTargets[${j}]`, t)));
        (app.keys ?? []).forEach((k, j) => problems.push(...checkSecretKey(`${f}.keys[${j}]`, k)));
        if (app.keys && new Set(app.keys).size !== app.keys.length) {
            problems.push({ field: `${f}.keys`, message: "lists a key more than once; list each key once" });
        }
        (app.dataKeys ?? []).forEach((k) => problems.push(...checkSecretKey(`${f}.data.${k}`, k)));
        if (app.dataKeys) {
            const dataObj: Record<string, true> = {};
            app.dataKeys.forEach((k) => (dataObj[k] = true));
            problems.push(...checkKeysMatchData(`${f}.keys`, app.keys, dataObj));
            if (app.dataKeys.length === 0) {
                problems.push({ field: `${f}.data`, message: "is empty; give at least one key, or leave data out to manage the value outside Pulumi" });
            }
        }
        if (typeof app.name === "string") {
            const prev = byName.get(app.name);
            if (prev !== undefined) {
                problems.push({ field: `${f}.name`, message: `${JSON.stringify(app.name)} is also the name of apps[${prev}]; app names must be unique (they name the Pulumi resources and the VaultStaticSecrets)` });
            } else {
                byName.set(app.name, i);
            }
        }
        if (typeof app.namespace === "string") {
            namespaces.add(app.namespace);
            const dest = app.destination ?? app.name;
            const key = `${app.namespace}/${dest}`;
            const prev = byDestination.get(key);
            if (prev !== undefined) {
                problems.push({ field: `${f}.destination`, message: `apps[${prev}] already writes Secret ${JSON.stringify(dest)} in namespace ${JSON.stringify(app.namespace)}; two VaultStaticSecrets would overwrite each other. Give one a different destination` });
            } else {
                byDestination.set(key, i);
            }
        }
    });
    for (const ns of namespaces) {
        if (typeof ns !== "string" || checkKubernetesName("ns", ns, "label").length > 0) {
            continue;
        }
        problems.push(...checkVaultName(`policy name for namespace ${JSON.stringify(ns)}`, nameFor(opts.policyNameTemplate ?? DEFAULTS.policyNameTemplate, ns)));
        problems.push(...checkVaultName(`role name for namespace ${JSON.stringify(ns)}`, nameFor(opts.roleNameTemplate ?? DEFAULTS.roleNameTemplate, ns)));
        problems.push(...checkRoleBinding(`role binding for namespace ${JSON.stringify(ns)}`, ns, false));
    }
    return problems;
}

/**
 * Plans the objects for a validated app list: one NamespacePlan per namespace that has apps (in
 * first-seen order), each with its policy text and role, and one AppPlan per app.
 * Call `validateApps` first; this function assumes valid input.
 */
export function planPlatform(apps: AppShape[], opts: PlanOptions = {}): PlatformPlan {
    const kvPath = opts.kvPath ?? DEFAULTS.kvPath;
    const byNs = new Map<string, AppPlan[]>();
    for (const app of apps) {
        const plan: AppPlan = {
            name: app.name,
            namespace: app.namespace,
            path: app.path,
            destination: app.destination ?? app.name,
            refreshAfter: app.refreshAfter ?? DEFAULTS.refreshAfter,
            keys: app.keys ?? app.dataKeys,
            restartTargets: (app.restartTargets ?? []).map((t) => ({ kind: t.kind, name: t.name })),
            managed: app.dataKeys !== undefined,
        };
        let list = byNs.get(app.namespace);
        if (!list) {
            list = [];
            byNs.set(app.namespace, list);
        }
        list.push(plan);
    }
    const namespaces: NamespacePlan[] = [];
    for (const [namespace, nsApps] of byNs) {
        namespaces.push({
            namespace,
            policyName: nameFor(opts.policyNameTemplate ?? DEFAULTS.policyNameTemplate, namespace),
            policyText: renderReadPolicy(kvPath, nsApps.map((a) => a.path)),
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
    };
}

/** The VaultStaticSecret spec VSO expects for one app (plain data; rendered into the custom resource). */
export function staticSecretSpec(app: AppPlan, kvPath: string, authName: string): Record<string, unknown> {
    const spec: Record<string, unknown> = {
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
    if (app.restartTargets.length > 0) {
        spec.rolloutRestartTargets = app.restartTargets.map((t) => ({ kind: t.kind, name: t.name }));
    }
    return spec;
}

/**
 * Fingerprint of what a namespace's role and policy grant (pure): role and policy names, the policy
 * text, bound ServiceAccount, audience and token TTL. Any change yields a new value.
 */
export function accessRevision(parts: { roleName: string; policyName: string; policy: string; serviceAccountName: string; audience: string; tokenTtl: number; authPath: string }): string {
    const canonical = JSON.stringify([parts.authPath, parts.roleName, parts.policyName, parts.policy, parts.serviceAccountName, parts.audience, parts.tokenTtl]);
    return crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
