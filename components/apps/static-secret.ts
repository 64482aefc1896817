/**
 * VaultStaticSecretApp: one app's VaultStaticSecret (the synced Secret and the rollout restart of its workloads).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { AdoptedObject, adoptedManifest } from "../config/adopt";
import { ComponentPlan, TYPE_PREFIX, planOf } from "../config/errors";
import { AppPlan, DEFAULTS, planApp, staticSecretSpec, validateAppValues } from "../config/plan";
import { ValidationProblem, checkKubernetesName, checkMountPath } from "../config/validate";
import { KEYS_ANNOTATION, PATCH_FORCE, RolloutRestartTarget, VSO_API_VERSION, VaultStaticSecretSpec } from "../config/vso-types";

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
    return {
        planned: "VaultStaticSecretApp",
        app: planApp(appShapeOf(name, args)),
        kvPath: args.kvPath ?? DEFAULTS.kvPath,
        vaultAuthRef: args.vaultAuthRef ?? DEFAULTS.authName,
        data: args.data,
        adopted: args.adopted,
    };
}

/**
 * One app's secret: a VaultStaticSecret that makes VSO copy `<kv>/<path>` into the Secret
 * `destination` (creating it), refresh it every `refreshAfter` and restart `rolloutRestartTargets`
 * when it changes; plus, when `data` is given, the KV v2 secret itself (values are Pulumi secrets).
 */
export class VaultStaticSecretApp extends pulumi.ComponentResource {
    public readonly staticSecret: k8s.apiextensions.CustomResource;
    /** The managed KV v2 secret, when `data` was given. */
    public readonly kvSecret?: vault.kv.SecretV2;
    /** Name of the Kubernetes Secret VSO writes. */
    public readonly destination: string;
    /** KV v2 version of the managed value at the last `pulumi up` (for drift checks); undefined when unmanaged. */
    public readonly managedVersion?: pulumi.Output<string | undefined>;

    /** `args`: checked and planned here once; or its plan (`planStaticSecretApp`, the platform's), used as it is. */
    constructor(name: string, args: VaultStaticSecretAppArgs | VaultStaticSecretAppPlan, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultStaticSecretApp`, name, {}, opts);
        const { app, kvPath, vaultAuthRef, data, adopted } = planOf(
            "VaultStaticSecretApp",
            args,
            (a: VaultStaticSecretAppArgs) => validateStaticSecretArgs(name, a),
            (a: VaultStaticSecretAppArgs) => planStaticSecretApp(name, a),
            this,
        );
        this.destination = app.destination;
        const deps: pulumi.Resource[] = [];
        if (data !== undefined) {
            this.kvSecret = this.managedValue(name, kvPath, app.path, data);
            this.managedVersion = this.kvSecret.metadata.apply((m) => m?.["version"]);
            deps.push(this.kvSecret);
        }
        const spec: VaultStaticSecretSpec = staticSecretSpec(app, kvPath, vaultAuthRef);
        if (adopted) {
            this.staticSecret = new k8s.apiextensions.CustomResource(
                `${name}-vss`,
                adoptedManifest("VaultStaticSecret", VSO_API_VERSION, adopted) as k8s.apiextensions.CustomResourceArgs,
                // while adopted, the stack never deletes what it did not create (deleting it would delete its Secret)
                { parent: this, dependsOn: deps, import: `${adopted.namespace}/${adopted.name}`, retainOnDelete: true },
            );
            this.registerOutputs({ destination: this.destination, managedVersion: this.managedVersion });
            return;
        }
        this.staticSecret = new k8s.apiextensions.CustomResource(
            `${name}-vss`,
            {
                apiVersion: VSO_API_VERSION,
                kind: "VaultStaticSecret",
                metadata: {
                    name: app.name,
                    namespace: app.namespace,
                    annotations: app.keys ? { ...PATCH_FORCE, [KEYS_ANNOTATION]: app.keys.join(",") } : PATCH_FORCE,
                },
                spec,
            },
            { parent: this, dependsOn: deps },
        );
        this.registerOutputs({ destination: this.destination, managedVersion: this.managedVersion });
    }

    private managedValue(name: string, kvPath: string, path: string, data: Record<string, pulumi.Input<string>>): vault.kv.SecretV2 {
        const dataJson = pulumi.secret(pulumi.all(data).apply((d) => JSON.stringify(d)));
        return new vault.kv.SecretV2(
            `${name}-value`,
            { mount: kvPath, name: path, dataJson },
            {
                parent: this,
                additionalSecretOutputs: ["dataJson", "data"],
                // the value outlives the app entry: removing or renaming the app, or `destroy`, leaves it
                // in Vault (the provider's delete would soft-delete the path's latest version, which after
                // a rename is the one just written). Delete it on purpose with `vault kv metadata delete`.
                retainOnDelete: true,
            },
        );
    }
}
