/**
 * The one source of the homelab stack config for the local bed: `npm start` (scripts/sandbox/run.ts)
 * and the integration tests (test/integration/bed.ts) both build it here, and a unit test runs it
 * through the homelab program's own validation (test/unit/sandbox-config.test.ts), so a renamed field
 * fails a test instead of the README's first command.
 */
import * as fs from "fs";
import * as path from "path";

export const REPO = path.resolve(__dirname, "../..");
export const PROJECT = "vault-vso-homelab";

/** How the homelab reaches Vault and VSO on the bed. */
export type BedMode =
    /** Vault (dev) and VSO installed by Helm into the bed's cluster (needs the bed's node). */
    | "incluster"
    /** Vault and VSO run as local processes beside the API server (no node). */
    | "external";

/** What of the bed's environment (bed.sh env, tools' env files) the config names. */
export interface BedConfigEnv {
    /** external: the bed's local Vault. */
    VAULT_ADDR?: string;
    /** external: the VSO CRD files (env.servers.sh). */
    VSO_CRDS_DIR?: string;
    /** external: the API server Vault's Kubernetes auth reviews tokens with. */
    KUBE_API_SERVER?: string;
    /** incluster: the Vault chart (env.images.sh / env.servers.sh). */
    PVV_VAULT_CHART_DIR?: string;
    /** incluster: the VSO chart. */
    PVV_VSO_CHART_DIR?: string;
}

/** One stack config entry, as the Automation API's `setAllConfig` takes it. */
export interface ConfigEntry {
    value: string;
    secret?: boolean;
}

/** The versions of scripts/tools/versions.env, e.g. VAULT_VERSION. */
export function toolVersions(file = path.join(REPO, "scripts/tools/versions.env")): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^([A-Z0-9_]+)=([^\s#]+)/.exec(line);
        if (m) {
            out[m[1]] = m[2];
        }
    }
    return out;
}

function need(env: BedConfigEnv, key: keyof BedConfigEnv, mode: BedMode): string {
    const v = env[key];
    if (!v) {
        throw new Error(`${key} is not set: the ${mode} bed config needs it (source the tools' env files and .bed/env.sh)`);
    }
    return v;
}

/**
 * The homelab stack config (keys `vault-vso-homelab:<name>`) for the bed in `mode`, serving `apps`
 * with the secret `values` ({ app: { key: value } }; omitted when undefined). `createNamespaces`
 * (external mode; default true) lets the stack create the apps' namespaces; `npm start` creates its
 * workload's namespace before Pulumi runs, as a user's cluster has it, and passes false.
 * `database` adds the dynamic-credential variant (sandboxDatabase) for the bed's PostgreSQL at
 * host:port, with the admin role's password as the secret `databasePasswords` (omitted when undefined,
 * as on a rerun that keeps the stack's config).
 */
export function bedStackConfig(
    mode: BedMode,
    env: BedConfigEnv,
    apps: unknown[],
    values: unknown,
    opts: {
        createNamespaces?: boolean;
        versions?: Record<string, string>;
        database?: { host: string; port: number | string; adminPassword?: string };
    } = {},
): Record<string, ConfigEntry> {
    const versions = opts.versions ?? toolVersions();
    const c: Record<string, unknown> = { kv: { path: "kv", protect: true }, apps };
    if (mode === "incluster") {
        c.vault = {
            install: true,
            helm: {
                mode: "dev",
                chartPath: need(env, "PVV_VAULT_CHART_DIR", mode),
                values: { server: { image: { tag: versions.VAULT_VERSION, pullPolicy: "Never" } } },
            },
        };
        c.operator = {
            install: true,
            helm: {
                chartPath: need(env, "PVV_VSO_CHART_DIR", mode),
                values: { controller: { manager: { image: { pullPolicy: "Never" } }, kubeRbacProxy: { image: { pullPolicy: "Never" } } } },
            },
        };
        c.kubernetesAuth = { path: "kubernetes" };
    } else {
        c.vault = { install: false, address: need(env, "VAULT_ADDR", mode), allowInsecureHttp: true };
        c.operator = { install: false, crdDir: need(env, "VSO_CRDS_DIR", mode) };
        c.kubernetesAuth = { path: "kubernetes", kubernetesHost: need(env, "KUBE_API_SERVER", mode) };
        if (opts.createNamespaces !== false) {
            c.createNamespaces = true;
        }
    }
    if (opts.database) {
        c.database = sandboxDatabase(opts.database.host, opts.database.port);
    }
    const out: Record<string, ConfigEntry> = {};
    for (const [k, v] of Object.entries(c)) {
        out[`${PROJECT}:${k}`] = { value: JSON.stringify(v) };
    }
    if (values !== undefined) {
        out[`${PROJECT}:values`] = { value: JSON.stringify(values), secret: true };
    }
    if (opts.database?.adminPassword !== undefined) {
        out[`${PROJECT}:databasePasswords`] = { value: JSON.stringify({ appdb: opts.database.adminPassword }), secret: true };
    }
    return out;
}

/** The article's CloudNativePG case that `npm start` deploys: one app whose values the stack writes. */
export const SANDBOX_APP = {
    name: "rustfs-cloudnativepg",
    namespace: "cnpg",
    path: "rustfs/cloudnativepg",
    keys: ["access_key", "access_secret_key"],
    refreshAfter: "10s",
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
    managed: true,
} as const;

/** The workload `npm start` runs beside the app: the Deployment VSO restarts. */
export const SANDBOX_WORKLOAD = "my-app";

/** The pause image every bed node has (the runtime's sandbox image): a workload that does nothing. */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10";

/**
 * The user's workload: a one-replica Deployment `name` in `ns` that takes the Secret `secretName` as
 * environment (optional, so it starts before the Secret exists), with a local image (never pulled).
 */
export function workloadDeployment(ns: string, name: string, secretName: string, image = PAUSE_IMAGE): Record<string, unknown> {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: ns },
        spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels: { app: name } },
                spec: {
                    terminationGracePeriodSeconds: 1,
                    containers: [{ name: "app", image, imagePullPolicy: "Never", envFrom: [{ secretRef: { name: secretName, optional: true } }] }],
                },
            },
        },
    };
}

/**
 * `npm start`'s dynamic-credential variant of the article's case: instead of a password kept in Vault's
 * KV, the app's Postgres user is created by Vault's database engine for each lease, synced by VSO into
 * the Secret `app-db`, replaced when its max TTL ends (VSO then restarts `my-db-app`) and revoked
 * (dropped from Postgres) by Vault. Short TTLs so that `npm start` shows a rotation.
 */
export const SANDBOX_DB_ROLE = {
    name: "app-db",
    namespace: "cnpg",
    database: "appdb",
    kind: "dynamic",
    grantRoles: ["app_rw"],
    defaultTtl: "20s",
    maxTtl: "1m",
    renewalPercent: 50,
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-db-app" }],
} as const;

/** The workload that takes the database credential: the Deployment VSO restarts on a new user. */
export const SANDBOX_DB_WORKLOAD = "my-db-app";

/**
 * The homelab `database` config for the bed's PostgreSQL (scripts/bed/postgres.sh, docs/database.md's
 * SQL): one connection as the dedicated admin role `vault_admin` (its password goes in the secret config
 * `databasePasswords.appdb`, never here) and SANDBOX_DB_ROLE.
 */
export function sandboxDatabase(host: string, port: number | string): Record<string, unknown> {
    return {
        connections: [
            { name: "appdb", connectionUrl: `postgresql://{{username}}:{{password}}@${host}:${port}/appdb?sslmode=disable`, username: "vault_admin" },
        ],
        roles: [SANDBOX_DB_ROLE],
    };
}
