/**
 * VaultStaticSecretApp's args, their checks and their plan (pure).
 */
import * as pulumi from "@pulumi/pulumi";
import { AdoptedObject } from "./adopt";
import { ComponentPlan } from "./errors";
import { AppPlan, DEFAULTS, planApp, validateAppValues } from "./plan";
import { ValidationProblem, checkKubernetesName, checkMountPath } from "./validate";
import { RolloutRestartTarget } from "./vso-types";

export interface VaultStaticSecretAppArgs {
    /** Namespace of the app (where the VaultAuth is and the Secret is written). */
    namespace: string;
    /** Secret path relative to the KV v2 mount, e.g. `rustfs/cloudnativepg`. */
    path: string;
    /** KV v2 mount. Default `"kv"`. */
    kvPath?: string;
    /** The VaultAuth in the same namespace. Default `"vault-auth"`. */
    vaultAuthRef?: string;
    /** Kubernetes Secret to write. Default: the resource name. */
    destination?: string;
    /** Key names expected. Default: the keys of `data`. */
    keys?: string[];
    /** How often VSO re-reads. Default `"60s"`. */
    refreshAfter?: string;
    /** Workloads restarted when the secret changes. Default none. */
    rolloutRestartTargets?: RolloutRestartTarget[];
    /**
     * Optional managed value: key → value (Pulumi secrets). When given, the KV v2 secret is written
     * by Pulumi; values are stored as secrets in state. Default: not managed (write it in Vault).
     */
    data?: Record<string, pulumi.Input<string>>;
    /** Object name of the VaultStaticSecret. Default: the resource name. */
    secretName?: string;
    /**
     * The VaultStaticSecret already exists (a hand-built setup, see `npm run adopt`): import it exactly
     * as it is. Without it (the convention step) it is updated in place, so its Secret stays. Default: none.
     */
    adopted?: AdoptedObject;
}

/** The app as the planner sees it (pure; values never go there). */
function appShapeOf(name: string, args: VaultStaticSecretAppArgs) {
    return {
        name: args.secretName ?? name,
        namespace: args.namespace,
        path: args.path,
        destination: args.destination,
        keys: args.keys,
        refreshAfter: args.refreshAfter,
        rolloutRestartTargets: args.rolloutRestartTargets,
        dataKeys: args.data ? Object.keys(args.data) : undefined,
    };
}

/** Checks VaultStaticSecretApp's arguments (pure): the platform's per-app rules, plus the mount and the VaultAuth reference. */
export function validateStaticSecretArgs(name: string, args: VaultStaticSecretAppArgs, prefix = ""): ValidationProblem[] {
    const kvPath = args.kvPath ?? DEFAULTS.kvPath;
    const problems = [...checkMountPath(`${prefix}kvPath`, kvPath), ...validateAppValues(prefix, appShapeOf(name, args), kvPath)];
    problems.push(...checkKubernetesName(`${prefix}vaultAuthRef`, args.vaultAuthRef ?? DEFAULTS.authName, "subdomain"));
    if (typeof args.vaultAuthRef === "string" && args.vaultAuthRef.includes("/")) {
        problems.push({
            field: `${prefix}vaultAuthRef`,
            message: "points at another namespace; the VaultAuth must be in the same namespace as the VaultStaticSecret",
        });
    }
    return problems;
}

/** VaultStaticSecretApp's args after the validation pass: the app's plan, the mount and VaultAuth, its value. */
export interface VaultStaticSecretAppPlan extends ComponentPlan<"VaultStaticSecretApp"> {
    app: AppPlan;
    kvPath: string;
    vaultAuthRef: string;
    data?: Record<string, pulumi.Input<string>>;
    adopted?: AdoptedObject;
}

/** Plans VaultStaticSecretApp's checked args (pure): the app as the platform plans each of its apps. */
export function planStaticSecretApp(name: string, args: VaultStaticSecretAppArgs): VaultStaticSecretAppPlan {
    return staticSecretAppPlanOf(
        planApp(appShapeOf(name, args)),
        args.kvPath ?? DEFAULTS.kvPath,
        args.vaultAuthRef ?? DEFAULTS.authName,
        args.data,
        args.adopted,
    );
}

/** A VaultStaticSecretApp's plan from its parts (pure): the app's plan, where it reads, its VaultAuth; the platform's and the component's. */
export function staticSecretAppPlanOf(
    app: AppPlan,
    kvPath: string,
    vaultAuthRef: string,
    data: Record<string, pulumi.Input<string>> | undefined,
    adopted: AdoptedObject | undefined,
): VaultStaticSecretAppPlan {
    return { planned: "VaultStaticSecretApp", app, kvPath, vaultAuthRef, data, adopted };
}
