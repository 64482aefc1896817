/**
 * The platform's inventory: one documented, versioned output that says what a stack manages. The
 * ops tools (drift check, doctor) read it from the stack's outputs, so any program that uses
 * `VaultSecretsPlatform` and exports `platform.inventory` (as `export const inventory = ...`) gets both.
 */
import { PlatformPlan } from "./plan";

/** Name of the stack output the ops tools read. */
export const INVENTORY_OUTPUT = "inventory";
/** Version of the inventory's shape; bumped on incompatible changes. */
export const INVENTORY_VERSION = 1;

/** One workload namespace and the objects the stack created for it. */
export interface InventoryNamespace {
    namespace: string;
    /** Vault Kubernetes auth role (bound to exactly this namespace and ServiceAccount). */
    role: string;
    /** Vault ACL policy (read on exactly the namespace's paths). */
    policy: string;
    /** ServiceAccount VSO logs in with. */
    serviceAccount: string;
    /**
     * Audience the role requires and the VaultAuth requests ("" = any; an adopted VaultAuth's several
     * audiences comma-separated). Absent only when read from a 0.1 stack.
     */
    audience?: string;
    /** Names of the VaultAuth and VaultConnection in the namespace. */
    vaultAuth: string;
    vaultConnection: string;
}

/** One app: a VaultStaticSecret and, when managed, its value in Vault. */
export interface InventoryApp {
    name: string;
    namespace: string;
    /** Secret path relative to the KV v2 mount. */
    path: string;
    /** Kubernetes Secret VSO writes. */
    destination: string;
    /** Key names declared (names only, never values). */
    keys: string[];
    refreshAfter: string;
    /** The value is written by Pulumi (`data`). */
    managed: boolean;
}

/** What a stack manages, as the ops tools need it. Values and tokens are never part of it. */
export interface PlatformInventory {
    version: number;
    /** Vault address as VSO reaches it (the VaultConnections' address). */
    vaultAddress: string;
    /** KV v2 mount path and Kubernetes auth mount path. */
    kvPath: string;
    authPath: string;
    /**
     * The platform's `cluster` when one Vault serves several clusters (absent for a single-cluster
     * stack). The doctor names it, and checks the stack's own cluster (see docs/multi-cluster.md).
     */
    cluster?: string;
    namespaces: InventoryNamespace[];
    apps: InventoryApp[];
    /** KV v2 version of each managed value at the last `up`, by app name. */
    managedVersions: Record<string, string>;
}

/** The inventory of a plan, once the Vault address and the managed versions are known (pure). */
export function inventoryOf(
    plan: PlatformPlan,
    vaultAddress: string,
    managedVersions: Record<string, string | undefined>,
    cluster?: string,
): PlatformInventory {
    return {
        version: INVENTORY_VERSION,
        vaultAddress,
        kvPath: plan.kvPath,
        authPath: plan.authPath,
        ...(cluster !== undefined ? { cluster } : {}),
        namespaces: plan.namespaces.map((n) => ({
            namespace: n.namespace,
            role: n.roleName,
            policy: n.policyName,
            serviceAccount: n.serviceAccountName,
            audience: n.audience ?? plan.audience,
            vaultAuth: n.authName,
            vaultConnection: n.connectionName,
        })),
        apps: plan.namespaces.flatMap((n) =>
            n.apps.map((a) => ({
                name: a.name,
                namespace: a.namespace,
                path: a.path,
                destination: a.destination,
                keys: a.keys ?? [],
                refreshAfter: a.refreshAfter,
                managed: a.managed,
            })),
        ),
        managedVersions: Object.fromEntries(Object.entries(managedVersions).filter((e): e is [string, string] => typeof e[1] === "string")),
    };
}
