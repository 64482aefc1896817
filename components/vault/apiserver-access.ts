/**
 * How Pulumi reaches a Vault that runs inside the cluster, in the same `pulumi up` that installs it,
 * from a machine that reaches only the Kubernetes API server (a laptop, CI).
 *
 * Choice: the API server's Service proxy
 * (`https://<api-server>/api/v1/namespaces/<ns>/services/http:<svc>:8200/proxy`). It exists as soon as
 * the Service does, needs no local process (a port-forward would have to run before the first
 * `up` and again for every `refresh`, `destroy` and drift check), works through any network path
 * the kubeconfig already works through, and is authorised by Kubernetes RBAC: Pulumi authenticates
 * to the API server with a ServiceAccount token that may only proxy to Vault's Service. The API
 * server removes that `Authorization` header before forwarding; Vault sees only its own
 * `X-Vault-Token`. The address stays the same across runs, so `refresh`, `destroy` and
 * `preview --refresh` work without the program's help.
 */
import * as crypto from "crypto";
import { KubeCluster } from "../config/kubeconfig";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TYPE_PREFIX } from "../config/errors";

/** The Service proxy URL of a Service port on an API server (pure). */
export function serviceProxyAddress(server: string, namespace: string, service: string, port: number, scheme: "http" | "https" = "http"): string {
    return `${server.replace(/\/+$/, "")}/api/v1/namespaces/${namespace}/services/${scheme}:${service}:${port}/proxy`;
}

/**
 * Writes a public CA certificate where the Vault provider can read it and returns the path. The
 * name is the content's hash, so the provider's configuration (which records the path) is the same
 * at every run and on every machine with the same home directory layout. Not secret: a CA
 * certificate is public.
 */
export function writeCaFile(pem: string, dir = path.join(os.homedir(), ".cache", "pulumi-vault-vso", "ca")): string {
    const file = path.join(dir, `${crypto.createHash("sha256").update(pem).digest("hex").slice(0, 16)}.pem`);
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== pem) {
        fs.mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, pem, { mode: 0o644 });
        fs.renameSync(tmp, file);
    }
    return file;
}

export interface VaultApiServerAccessArgs {
    /** Namespace of Vault's Service (the ServiceAccount Pulumi uses is created there too). */
    namespace: string;
    /** Vault's Service name. */
    serviceName: string;
    /** Vault's Service port. Default 8200. */
    port?: number;
    /** `http` or `https` (Vault's listener). Default `"http"`. */
    scheme?: "http" | "https";
    /** The API server as the kubeconfig names it, and its CA. */
    cluster: pulumi.Input<KubeCluster>;
    /** Name of the ServiceAccount Pulumi proxies as. Default `"pulumi-vault-access"`. */
    serviceAccountName?: string;
    /**
     * A durable Vault's bootstrap (VaultInit): also proxy to these pods (init, unseal) and write the
     * keys Secret (when the keys live in one). Default: none (the Service proxy only).
     */
    bootstrap?: { pods: string[]; keysSecretName?: string };
}

/** The extra RBAC rules of a durable Vault's bootstrap: its pods' proxy, and its keys Secret only, if any (pure). */
export function bootstrapRules(b: VaultApiServerAccessArgs["bootstrap"], port: number): k8s.types.input.rbac.v1.PolicyRule[] {
    if (!b) {
        return [];
    }
    return [
        {
            apiGroups: [""],
            resources: ["pods/proxy"],
            resourceNames: b.pods.flatMap((p) => [p, `${p}:${port}`, `http:${p}:${port}`]),
            verbs: ["get", "create", "update"],
        },
        // create cannot be limited to one name by RBAC; read and replace can
        ...(b.keysSecretName === undefined
            ? []
            : [
                  { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
                  { apiGroups: [""], resources: ["secrets"], resourceNames: [b.keysSecretName], verbs: ["get", "update"] },
              ]),
    ];
}

/**
 * A ServiceAccount that may only proxy to Vault's Service, its long-lived token, and the Vault
 * provider settings that go through the API server: `address`, `headers` (the bearer token, a
 * secret) and `caCertFile`.
 */
export class VaultApiServerAccess extends pulumi.ComponentResource {
    /** Vault's address through the API server's Service proxy. */
    public readonly address: pulumi.Output<string>;
    /** Provider headers: `Authorization: Bearer <token>` (secret). */
    public readonly headers: pulumi.Output<{ name: string; value: string }[]>;
    /** File with the API server's CA, for the provider's `caCertFile`; undefined = the system CAs. */
    public readonly caCertFile: pulumi.Output<string | undefined>;
    /** Whether the kubeconfig skips TLS verification of the API server. */
    public readonly skipTLSVerify: pulumi.Output<boolean>;

    constructor(name: string, args: VaultApiServerAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}VaultApiServerAccess`, name, {}, opts);
        const saName = args.serviceAccountName ?? "pulumi-vault-access";
        const port = args.port ?? 8200;
        const scheme = args.scheme ?? "http";
        const meta = { namespace: args.namespace, labels: { "app.kubernetes.io/managed-by": "pulumi-vault-vso" } };
        const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: { ...meta, name: saName } }, { parent: this });
        const role = new k8s.rbac.v1.Role(
            `${name}-role`,
            {
                metadata: { ...meta, name: saName },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["services/proxy"],
                        // the proxy request names the Service as "<scheme>:<name>:<port>"
                        resourceNames: [args.serviceName, `${scheme}:${args.serviceName}:${port}`, `${args.serviceName}:${port}`],
                        verbs: ["get", "create", "update", "patch", "delete"],
                    },
                    ...bootstrapRules(args.bootstrap, port),
                ],
            },
            { parent: this },
        );
        const binding = new k8s.rbac.v1.RoleBinding(
            `${name}-binding`,
            {
                metadata: { ...meta, name: saName },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: args.namespace }],
            },
            { parent: this },
        );
        const token = new k8s.core.v1.Secret(
            `${name}-token`,
            {
                metadata: { ...meta, name: `${saName}-token`, annotations: { "kubernetes.io/service-account.name": saName } },
                type: "kubernetes.io/service-account-token",
            },
            { parent: this, dependsOn: [sa, binding], additionalSecretOutputs: ["data"] },
        );
        const cluster = pulumi.output(args.cluster);
        this.address = cluster.apply((c) => serviceProxyAddress(c.server, args.namespace, args.serviceName, port, scheme));
        this.headers = pulumi.secret(
            token.data.apply((d) => {
                const jwt = Buffer.from(d?.["token"] ?? "", "base64").toString("utf8");
                if (!jwt) {
                    throw new Error(`the token Secret ${args.namespace}/${saName}-token has no token yet: is the cluster's token controller running?`);
                }
                return [{ name: "Authorization", value: `Bearer ${jwt}` }];
            }),
        );
        this.caCertFile = cluster.apply((c) => (c.caPem ? writeCaFile(c.caPem) : undefined));
        this.skipTLSVerify = cluster.apply((c) => c.insecure === true);
        this.registerOutputs({ address: this.address, headers: this.headers, caCertFile: this.caCertFile, skipTLSVerify: this.skipTLSVerify });
    }
}
