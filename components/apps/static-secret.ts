/**
 * VaultStaticSecretApp: one app's VaultStaticSecret (the synced Secret and the rollout restart of its workloads).
 */
import * as k8s from "@pulumi/kubernetes";
import { VaultStaticSecretAppArgs, validateStaticSecretArgs, VaultStaticSecretAppPlan, planStaticSecretApp } from "../config/static-secret";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { adoptedManifest } from "../config/adopt";
import { TYPE_PREFIX, planOf } from "../config/errors";
import { staticSecretSpec } from "../config/plan";
import { KEYS_ANNOTATION, PATCH_FORCE, VSO_API_VERSION, VaultStaticSecretSpec } from "../config/vso-types";

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
