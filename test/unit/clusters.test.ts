/**
 * Several clusters on one Vault (issue 22 item 1): `cluster` gives a stack its own auth mount and
 * role/policy names, so two clusters' namespaces of the same name never share a role; `kv.shared`
 * reads the first cluster's KV mount without managing it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VaultSecretsPlatform, VaultSecretsPlatformArgs, inventoryOf, planPlatformArgs, validatePlatformArgs, withClusterDefaults } from "../../components";
import { doctorClusterLines, inventoryFromOutputs, kubeconfigFromProviderConfig } from "../../ops";
import { platformArgsFromConfig } from "../../programs/homelab/config";
import { MockRecorder, articleArgs } from "./harness";

/** The article's args for cluster `c` on an external Vault (the auth path left to the cluster's default). */
function clusterArgs(c: string | undefined): VaultSecretsPlatformArgs {
    const a = articleArgs();
    a.vault = { install: false, address: "https://vault.lan:8200" };
    a.operator = { install: false };
    a.kubernetesAuth = { kubernetesHost: `https://${c ?? "k"}.lan:6443` };
    if (c !== undefined) {
        a.cluster = c;
    }
    return a;
}

describe("several clusters on one Vault (issue 22)", () => {
    it("a named cluster gets its own auth mount and role and policy names; none keeps today's names", () => {
        const one = planPlatformArgs(clusterArgs(undefined));
        assert.strictEqual(one.authPath, "kubernetes");
        assert.deepStrictEqual([one.namespaces[0].roleName, one.namespaces[0].policyName], ["vso-cnpg", "vso-cnpg-read"]);
        const nas = planPlatformArgs(clusterArgs("nas"));
        assert.strictEqual(nas.authPath, "kubernetes-nas");
        assert.deepStrictEqual([nas.namespaces[0].roleName, nas.namespaces[0].policyName], ["vso-nas-cnpg", "vso-nas-cnpg-read"]);
        const cloud = planPlatformArgs(clusterArgs("cloud"));
        assert.notStrictEqual(cloud.namespaces[0].roleName, nas.namespaces[0].roleName, "namespace cnpg of two clusters: two roles");
        assert.notStrictEqual(cloud.authPath, nas.authPath, "and two mounts");
        assert.deepStrictEqual(validatePlatformArgs(clusterArgs("nas")), []);
    });

    it("explicit settings win; a template may say {cluster}", () => {
        const a = clusterArgs("nas");
        a.kubernetesAuth = { ...a.kubernetesAuth, path: "k8s-nas", roleNameTemplate: "{cluster}-{namespace}-vso" };
        const filled = withClusterDefaults(a);
        assert.strictEqual(filled.kubernetesAuth?.path, "k8s-nas");
        assert.strictEqual(filled.kubernetesAuth?.roleNameTemplate, "nas-{namespace}-vso");
        assert.strictEqual(filled.kubernetesAuth?.policyNameTemplate, "vso-nas-{namespace}-read");
        assert.deepStrictEqual(withClusterDefaults(filled), filled, "filling twice changes nothing");
        assert.strictEqual(planPlatformArgs(a).namespaces[0].roleName, "nas-cnpg-vso");
    });

    it("rejects a bad cluster name, {cluster} without a cluster, a wrong type from YAML, and a mount both shared and adopted, naming the field", () => {
        for (const bad of ["NAS", "nas_1", "-nas", "x".repeat(33), ""]) {
            const a = clusterArgs(undefined);
            a.cluster = bad;
            assert.match(validatePlatformArgs(a).find((p) => p.field === "cluster")?.message ?? "", /is not a cluster name/, bad);
        }
        const a = clusterArgs(undefined);
        (a as any).cluster = 5;
        assert.match(validatePlatformArgs(a).find((p) => p.field === "cluster")?.message ?? "", /cluster name/);
        const t = clusterArgs(undefined);
        t.kubernetesAuth = { ...t.kubernetesAuth, policyNameTemplate: "vso-{cluster}-{namespace}-read" };
        assert.match(validatePlatformArgs(t).find((p) => p.field === "kubernetesAuth.policyNameTemplate")?.message ?? "", /no cluster is set/);
        const s = clusterArgs("nas");
        s.kv = { path: "kv", shared: true };
        s.adopted = { kvMount: true };
        assert.ok(
            validatePlatformArgs(s).some((p) => p.field === "kv.shared"),
            "shared (another stack's) and adopted (this stack's) at once",
        );
    });

    it("the homelab program passes cluster and kv.shared from stack config", () => {
        const { args, problems } = platformArgsFromConfig(
            { cluster: "nas", kv: { shared: true }, apps: [{ name: "a", namespace: "cnpg", path: "a/b" }] } as any,
            undefined,
        );
        assert.deepStrictEqual(problems, []);
        assert.strictEqual(args.cluster, "nas");
        assert.strictEqual(args.kv?.shared, true);
    });

    describe("under mocks", () => {
        const rec = new MockRecorder();
        beforeEach(() => rec.install());

        it("each cluster's VSO objects log in at its own mount with its own role; a shared KV mount is read, not created", async () => {
            const a = clusterArgs("nas");
            new VaultSecretsPlatform("a", a);
            const b = clusterArgs("cloud");
            b.kv = { path: "kv", shared: true };
            new VaultSecretsPlatform("b", b);
            await rec.settle();
            const backends = rec.ofType("vault:index/authBackend:AuthBackend").map((r) => r.inputs.path);
            assert.deepStrictEqual(backends.sort(), ["kubernetes-cloud", "kubernetes-nas"]);
            const roles = rec.ofType("vault:kubernetes/authBackendRole:AuthBackendRole").map((r) => `${r.inputs.backend}/${r.inputs.roleName}`);
            assert.deepStrictEqual(roles.sort(), ["kubernetes-cloud/vso-cloud-cnpg", "kubernetes-nas/vso-nas-cnpg"]);
            const auths = rec
                .ofType("kubernetes:secrets.hashicorp.com/v1beta1:VaultAuth")
                .map((r) => `${r.inputs.spec.mount}/${r.inputs.spec.kubernetes.role}`);
            assert.deepStrictEqual(auths.sort(), ["kubernetes-cloud/vso-cloud-cnpg", "kubernetes-nas/vso-nas-cnpg"]);
            assert.deepStrictEqual(
                rec
                    .ofType("vault:index/policy:Policy")
                    .map((r) => r.inputs.name)
                    .sort(),
                ["vso-cloud-cnpg-read", "vso-nas-cnpg-read"],
            );
            const mounts = rec.ofType("vault:index/mount:Mount").sort((x, y) => x.name.localeCompare(y.name));
            assert.deepStrictEqual(
                mounts.map((m) => [m.name, m.importId]),
                [
                    ["a-kv", undefined],
                    ["b-kv-shared", "kv"],
                ],
                "cluster a's stack manages the mount; cluster b's only reads it",
            );
        });
    });

    describe("the ops tools per cluster", () => {
        const kubeconfig = (server: string) =>
            [
                "apiVersion: v1",
                "kind: Config",
                "current-context: c",
                "contexts: [{ name: c, context: { cluster: k, user: u } }]",
                `clusters: [{ name: k, cluster: { server: "${server}" } }]`,
                "users: [{ name: u, user: { token: t0ken } }]",
            ].join("\n");

        it("the inventory names the cluster, and reading it back keeps it (a single-cluster stack has none)", () => {
            const inv = inventoryOf(planPlatformArgs(withClusterDefaults(clusterArgs("nas"))), "https://vault.lan:8200", {}, "nas");
            assert.strictEqual(inv.cluster, "nas");
            assert.strictEqual(inv.authPath, "kubernetes-nas");
            assert.strictEqual(inventoryFromOutputs({ inventory: { value: inv } })?.cluster, "nas");
            const single = inventoryOf(planPlatformArgs(clusterArgs(undefined)), "https://vault.lan:8200", {});
            assert.ok(!("cluster" in single));
            assert.ok(!("cluster" in inventoryFromOutputs({ inventory: { value: { ...single, cluster: 7 } } })!), "a wrong type is dropped");
        });

        it("kubernetes:kubeconfig is read as the provider reads it: a path or the contents", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-kc-"));
            try {
                const file = path.join(dir, "kubeconfig-b");
                fs.writeFileSync(file, kubeconfig("https://b.lan:6443"));
                assert.strictEqual(kubeconfigFromProviderConfig(file, "x").server, "https://b.lan:6443");
                const inline = kubeconfigFromProviderConfig(kubeconfig("https://c.lan:6443"), "the stack's kubernetes:kubeconfig");
                assert.deepStrictEqual([inline.server, inline.token], ["https://c.lan:6443", "t0ken"]);
                assert.throws(
                    () => kubeconfigFromProviderConfig("apiVersion: v1\nkind: Config\n", "the stack's kubernetes:kubeconfig"),
                    (e: Error) => {
                        assert.match(e.message, /the stack's kubernetes:kubeconfig has no context/);
                        return true;
                    },
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("the doctor names the cluster it checks, and warns when the given kubeconfig is not the stack's", () => {
            assert.deepStrictEqual(doctorClusterLines({ cluster: "b", server: "https://b.lan:6443", from: "the stack's kubernetes:kubeconfig" }), [
                'cluster "b": API server https://b.lan:6443 (kubeconfig from the stack\'s kubernetes:kubeconfig)',
            ]);
            const same = doctorClusterLines({ cluster: "b", server: "https://b.lan:6443/", from: "--kubeconfig f", stackServer: "https://b.lan:6443" });
            assert.strictEqual(same.length, 1, "the same server, written with a slash: no warning");
            const other = doctorClusterLines({ cluster: "b", server: "https://a.lan:6443", from: "--kubeconfig f", stackServer: "https://b.lan:6443" });
            assert.strictEqual(other.length, 2);
            assert.match(other[1], /^warning: the stack's own kubernetes:kubeconfig names API server https:\/\/b\.lan:6443; .*another cluster/);
            const noName = doctorClusterLines({ server: "https://u:p@k.lan:6443", from: "$KUBECONFIG" });
            assert.ok(noName[0].startsWith("the cluster: ") && !noName[0].includes("u:p"), `no cluster name, the URL redacted: ${noName[0]}`);
        });
    });
});
