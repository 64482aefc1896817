/**
 * Test harness for the unit layer: Pulumi's mock runtime, recording every registered resource with
 * its inputs, so tests can assert what a component would create.
 */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import type { VaultSecretsPlatformArgs } from "../../components";
import type { HomelabConfig } from "../../programs/homelab/config";

/** The unit layer reads this kubeconfig (never a developer's own); its API server is never called. */
export const FIXTURE_KUBECONFIG = path.join(__dirname, "fixtures", "kubeconfig");
process.env.KUBECONFIG = FIXTURE_KUBECONFIG;

export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Names of the top-level inputs that arrived as Pulumi secrets. */
    secretInputs: string[];
    provider: string;
    /** The import ID (the `import` resource option), when the resource is imported. */
    importId?: string;
    /** The `retainOnDelete` resource option, when given. */
    retainOnDelete?: boolean;
    /** The `ignoreChanges` resource option, when given. */
    ignoreChanges?: string[];
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecrets(v: any, path: string, found: Set<string>, top: string): any {
    if (v && typeof v === "object") {
        if (v["4dabf18193072939515e22adb298388d"] === SECRET_SIG) {
            found.add(top);
            return unwrapSecrets(v.value, path, found, top);
        }
        if (Array.isArray(v)) {
            return v.map((x) => unwrapSecrets(x, path, found, top));
        }
        const out: Record<string, any> = {};
        for (const [k, x] of Object.entries(v)) {
            out[k] = unwrapSecrets(x, `${path}.${k}`, found, top);
        }
        return out;
    }
    return v;
}

export class MockRecorder {
    public resources: Recorded[] = [];

    /** Installs the mocks. `state` lets a test add outputs a real provider would compute. */
    install(state: (type: string, inputs: Record<string, any>) => Record<string, any> = () => ({})): void {
        this.resources = [];
        const retained = new Map<string, boolean>();
        const ignored = new Map<string, string[]>();
        // (again per test: an integration suite in the same mocha run points KUBECONFIG at the bed)
        process.env.KUBECONFIG = FIXTURE_KUBECONFIG;
        pulumi.runtime.setMocks(
            {
                newResource: (args: pulumi.runtime.MockResourceArgs) => {
                    const secrets = new Set<string>();
                    const inputs: Record<string, any> = {};
                    for (const [k, v] of Object.entries(args.inputs ?? {})) {
                        inputs[k] = unwrapSecrets(v, k, secrets, k);
                    }
                    this.resources.push({
                        type: args.type,
                        name: args.name,
                        inputs,
                        secretInputs: [...secrets],
                        provider: args.provider ?? "",
                        importId: args.id || undefined,
                        ...(retained.has(`${args.type}::${args.name}`) ? { retainOnDelete: retained.get(`${args.type}::${args.name}`) } : {}),
                        ...(ignored.get(`${args.type}::${args.name}`)?.length ? { ignoreChanges: ignored.get(`${args.type}::${args.name}`) } : {}),
                    });
                    // like a cluster's token controller, fill ServiceAccount token Secrets
                    const filled =
                        args.type === "kubernetes:core/v1:Secret" && inputs.type === "kubernetes.io/service-account-token"
                            ? { data: { token: Buffer.from("sa.token.value").toString("base64") } }
                            : {};
                    return { id: `${args.name}-id`, state: { ...args.inputs, ...filled, ...state(args.type, inputs) } };
                },
                call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
            },
            "project",
            "stack",
            false,
        );
        // the mock monitor does not hand resource options to newResource: read retainOnDelete and ignoreChanges off the request
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const monitor = require("@pulumi/pulumi/runtime/settings").getMonitor() as {
            registerResource: (
                req: { getType(): string; getName(): string; getRetainondelete(): boolean; getIgnorechangesList(): string[] },
                cb: unknown,
            ) => void;
        };
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, cb) => {
            retained.set(`${req.getType()}::${req.getName()}`, req.getRetainondelete());
            ignored.set(`${req.getType()}::${req.getName()}`, req.getIgnorechangesList());
            register(req, cb);
        };
    }

    /** Waits until no new resource has been registered for a few event-loop turns. */
    async settle(): Promise<void> {
        let stable = 0;
        let last = -1;
        while (stable < 5) {
            await new Promise((r) => setTimeout(r, 5));
            if (this.resources.length === last) {
                stable++;
            } else {
                stable = 0;
                last = this.resources.length;
            }
        }
    }

    ofType(type: string): Recorded[] {
        return this.resources.filter((r) => r.type === type);
    }

    one(type: string, pred: (r: Recorded) => boolean = () => true): Recorded {
        const found = this.ofType(type).filter(pred);
        if (found.length !== 1) {
            throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
        }
        return found[0];
    }
}

/** Resolves an Output's value in tests. */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) =>
        o.apply((v) => {
            resolve(v);
            return v;
        }),
    );
}

/** Resolves whether an Output is secret. */
export function isSecret<T>(o: pulumi.Output<T>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** The article's setup, as the public API example writes it: valid, so a test adds exactly the mistake it checks. */
export function articleArgs(): VaultSecretsPlatformArgs {
    return {
        vault: { install: true, helm: { mode: "dev" } },
        operator: { install: true },
        kv: { path: "kv" },
        kubernetesAuth: { path: "kubernetes", kubernetesHost: "https://kubernetes.default.svc.cluster.local:443" },
        apps: [
            {
                name: "rustfs-cloudnativepg",
                namespace: "cnpg",
                path: "rustfs/cloudnativepg",
                keys: ["access_key", "access_secret_key"],
                refreshAfter: "60s",
                rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
            },
        ],
    };
}

/** Reads the shipped stack config (Pulumi.homelab.yaml) the way `pulumi config` presents it to the program. */
export function shippedHomelabConfig(): HomelabConfig {
    const doc = yaml.load(fs.readFileSync(path.join(__dirname, "../../Pulumi.homelab.yaml"), "utf8")) as { config: Record<string, unknown> };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc.config)) {
        if (k.startsWith("vault-vso-homelab:")) {
            out[k.slice("vault-vso-homelab:".length)] = v;
        }
    }
    return out as unknown as HomelabConfig;
}
