/**
 * Reading a stack's inventory (see components/config/inventory.ts) from its outputs, with a fallback for
 * stacks last deployed by version 0.1 of the homelab program (separate outputs, no `inventory`).
 */
import { INVENTORY_OUTPUT, INVENTORY_VERSION, InventoryApp, InventoryNamespace, PlatformInventory } from "../components/config/inventory";

type Outputs = Record<string, { value?: unknown } | undefined>;

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, dflt = ""): string {
    return typeof v === "string" ? v : dflt;
}

function namespacesOf(v: unknown): InventoryNamespace[] {
    return (Array.isArray(v) ? v : [])
        .filter(isObject)
        .map((n) => ({
            namespace: str(n.namespace),
            role: str(n.role),
            policy: str(n.policy),
            serviceAccount: str(n.serviceAccount),
            ...(typeof n.audience === "string" ? { audience: n.audience } : {}),
            vaultAuth: str(n.vaultAuth),
            vaultConnection: str(n.vaultConnection),
        }))
        .filter((n) => n.namespace !== "");
}

function appsOf(v: unknown): InventoryApp[] {
    return (Array.isArray(v) ? v : [])
        .filter(isObject)
        .map((a) => ({
            name: str(a.name),
            namespace: str(a.namespace),
            path: str(a.path),
            destination: str(a.destination),
            keys: Array.isArray(a.keys) ? a.keys.filter((k): k is string => typeof k === "string") : [],
            refreshAfter: str(a.refreshAfter),
            managed: a.managed === true,
        }))
        .filter((a) => a.name !== "");
}

function versionsOf(v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(isObject(v) ? v : {})) {
        if (typeof x === "string" || typeof x === "number") {
            out[k] = String(x);
        }
    }
    return out;
}

/**
 * The inventory in a stack's outputs (pure): the output named `inventory`, else the only output
 * that is an inventory, else the separate outputs of a 0.1 homelab stack; undefined when the stack
 * exports none of these. Fields of the wrong type are dropped, never trusted as they are.
 */
export function inventoryFromOutputs(outputs: Outputs): PlatformInventory | undefined {
    const looksLike = (v: unknown) => isObject(v) && v.version === INVENTORY_VERSION && typeof v.kvPath === "string" && Array.isArray(v.namespaces);
    let raw: unknown = outputs[INVENTORY_OUTPUT]?.value;
    if (!looksLike(raw)) {
        const found = Object.values(outputs)
            .map((o) => o?.value)
            .filter(looksLike);
        raw = found.length === 1 ? found[0] : undefined;
    }
    if (isObject(raw)) {
        return {
            version: INVENTORY_VERSION,
            vaultAddress: str(raw.vaultAddress),
            kvPath: str(raw.kvPath, "kv"),
            authPath: str(raw.authPath, "kubernetes"),
            ...(typeof raw.cluster === "string" && raw.cluster !== "" ? { cluster: raw.cluster } : {}),
            namespaces: namespacesOf(raw.namespaces),
            apps: appsOf(raw.apps),
            managedVersions: versionsOf(raw.managedVersions),
        };
    }
    if (outputs.namespaces === undefined && outputs.apps === undefined && outputs.managedVersions === undefined) {
        return undefined;
    }
    return {
        version: INVENTORY_VERSION,
        vaultAddress: str(outputs.vaultAddress?.value),
        kvPath: str(outputs.kvPath?.value, "kv"),
        authPath: str(outputs.authPath?.value, "kubernetes"),
        namespaces: namespacesOf(outputs.namespaces?.value),
        apps: appsOf(outputs.apps?.value),
        managedVersions: versionsOf(outputs.managedVersions?.value),
    };
}

/** The message for a stack without an inventory (pure). */
export function noInventoryMessage(stack: string): string {
    return `stack ${JSON.stringify(stack)} exports no inventory: export the platform's inventory from the program (export const inventory = platform.inventory) and run pulumi up`;
}

/** The inventory a stack exported at its last `up` (reads the stack's outputs; changes nothing). */
export async function stackInventory(stack: string, workDir: string): Promise<PlatformInventory | undefined> {
    // loaded only here: the Automation API costs ~1 s to load, and the drift check reads outputs without it
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const s = await LocalWorkspace.selectStack({ stackName: stack, workDir });
    return inventoryFromOutputs(await s.outputs());
}

/**
 * The stack's `kubernetes:kubeconfig` (a path or a kubeconfig's contents), undefined when the stack
 * does not set it: the cluster the stack's Kubernetes provider talks to. Reads config; changes nothing.
 */
export async function stackKubeconfigValue(stack: string, workDir: string): Promise<string | undefined> {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const s = await LocalWorkspace.selectStack({ stackName: stack, workDir });
    const v = (await s.getAllConfig())["kubernetes:kubeconfig"]?.value;
    return v === undefined || v === "" ? undefined : v;
}
