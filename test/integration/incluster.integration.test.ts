/**
 * The homelab for real: on the bed's node (containerd + kubelet + kube-proxy + CoreDNS), one
 * `pulumi up` of programs/homelab installs Vault (dev) and VSO with their real Helm charts from local
 * chart directories, reaches the in-cluster Vault through the API server (no port-forward), configures
 * Kubernetes auth for in-cluster review, and VSO (a pod) writes the Secret and rolls `my-app`.
 * Then: the article's broken role behind Pulumi's back, seen by VSO, the drift check and the doctor,
 * repaired by `up --refresh`; a path added to the namespace's policy syncs without restarting VSO;
 * standalone and ha install and their pods start.
 */
import * as assert from "assert";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HttpResult, InClusterService, kubeRequest, vaultRequestViaKube } from "../../ops/clients";
import { ACCESS_REVISION_HEADER } from "../../components/config/vso-types";
import {
    BedEnv,
    REPO,
    bedHasNode,
    createWorkload,
    freshStack,
    inClusterStackConfig,
    removeStack,
    requireBedOrSkip,
    runScript,
    startBed,
    toolVersions,
    waitFor,
} from "./bed";

const STACK = `it-incluster-${process.pid}`;
const VSO_API = "/apis/secrets.hashicorp.com/v1beta1";
const VAULT_SVC: InClusterService = { scheme: "http", service: "vault", namespace: "vault", port: 8200 };
const ROOT = "root"; // the dev-mode root token the platform defaults to

const APP = {
    name: "rustfs-cloudnativepg",
    namespace: "cnpg",
    path: "rustfs/cloudnativepg",
    keys: ["access_key", "access_secret_key"],
    refreshAfter: "3s",
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
    managed: true,
};
const OTHER = { name: "rustfs-backup", namespace: "cnpg", path: "rustfs/backup", keys: ["token"], refreshAfter: "3s", managed: true };

describe("integration: the homelab in the cluster (node, Helm charts, in-cluster auth, VSO as a pod)", function () {
    this.timeout(30 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;
    const versions = toolVersions();
    const kube = (method: string, p: string, body?: unknown, ct?: string): Promise<HttpResult> => kubeRequest(bed.kube, method, p, body, ct);
    const vault = (method: string, p: string, body?: unknown): Promise<HttpResult> => vaultRequestViaKube(bed.kube, VAULT_SVC, ROOT, method, p, body);

    const stackConfig = (apps: unknown[], values: unknown) => inClusterStackConfig(bed, apps, values);

    async function podsReady(ns: string, selector: string): Promise<any[] | undefined> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`);
        const pods = (r.body?.items ?? []) as any[];
        const ready = pods.filter(
            (p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"),
        );
        return ready.length > 0 && ready.length === pods.filter((p) => !p.metadata.deletionTimestamp).length ? ready : undefined;
    }

    async function secretData(ns: string, name: string): Promise<Record<string, string> | undefined> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/secrets/${name}`);
        if (r.status !== 200) {
            return undefined;
        }
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries((r.body.data ?? {}) as Record<string, string>)) {
            out[k] = Buffer.from(v, "base64").toString("utf8");
        }
        return out;
    }

    /** VSO's own words about the namespace's VaultStaticSecrets (its events). */
    async function vsoEvents(ns: string): Promise<string[]> {
        const r = await kube("GET", `/api/v1/namespaces/${ns}/events`);
        return ((r.body?.items ?? []) as any[]).filter((e) => e.involvedObject?.kind === "VaultStaticSecret").map((e) => `${e.reason}: ${e.message}`);
    }

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true, vso: false });
        if (!bedHasNode()) {
            if (process.env.PVV_REQUIRE_NODE === "1") {
                throw new Error("this suite needs the bed's node (root on Linux with containerd, runc and the CNI plugins): see scripts/bed.sh status");
            }
            console.warn("  [integration] in-cluster suite skipped: the bed has no node (scripts/bed.sh explains why at start)");
            this.skip();
        }
        // the user's workload exists before Pulumi runs: namespace cnpg and Deployment my-app
        await createWorkload(bed, "cnpg", "my-app", APP.name);
        stack = await freshStack(bed, STACK, stackConfig([APP], { [APP.name]: { access_key: "ak-1", access_secret_key: "sk-1" } }));
    });

    after(async function () {
        if (bed && stack) {
            await removeStack(bed, STACK);
        }
    });

    it("pulumi preview of the fresh stack works (nothing exists yet, nothing is touched)", async () => {
        const pre = await stack.preview({ onOutput: () => undefined });
        assert.ok((pre.changeSummary.create ?? 0) > 20, JSON.stringify(pre.changeSummary));
        const ns = await kube("GET", "/api/v1/namespaces/vault");
        assert.strictEqual(ns.status, 404, "preview installs nothing");
    });

    let firstPod = "";
    it("one pulumi up: Vault and VSO pods Ready, auth configured for in-cluster review, VSO writes the Secret with exactly its keys", async () => {
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.ok(await podsReady("vault", "app.kubernetes.io/name=vault"), "Vault's pod is Ready");
        assert.ok(await waitFor("VSO's pod Ready", 120000, () => podsReady("vault-secrets-operator-system", "app.kubernetes.io/name=vault-secrets-operator")));

        const cfg = await vault("GET", "auth/kubernetes/config");
        assert.strictEqual(cfg.status, 200, cfg.text);
        assert.strictEqual(cfg.body.data.kubernetes_host, "https://kubernetes.default.svc.cluster.local:443");
        assert.strictEqual(cfg.body.data.token_reviewer_jwt_set, false, "Vault reviews tokens with its own ServiceAccount");
        assert.strictEqual(cfg.body.data.disable_local_ca_jwt, false);
        const role = await vault("GET", "auth/kubernetes/role/vso-cnpg");
        assert.deepStrictEqual(role.body.data.bound_service_account_namespaces, ["cnpg"]);

        const data = await waitFor("VSO's Secret cnpg/rustfs-cloudnativepg", 180000, () => secretData("cnpg", APP.name));
        assert.deepStrictEqual(Object.keys(data).sort(), ["access_key", "access_secret_key"], "exactly the two keys (no _raw)");
        assert.deepStrictEqual(data, { access_key: "ak-1", access_secret_key: "sk-1" });
        const pods = await waitFor("my-app Ready", 120000, () => podsReady("cnpg", "app=my-app"));
        firstPod = pods[0].metadata.name;
    });

    it("a value change reaches the Secret and rolls my-app (new pods)", async () => {
        const restartedAt = async (): Promise<string | undefined> =>
            (await kube("GET", "/apis/apps/v1/namespaces/cnpg/deployments/my-app")).body?.spec?.template?.metadata?.annotations?.[
                "vso.secrets.hashicorp.com/restartedAt"
            ];
        const before = await restartedAt();
        await stack.setConfig("vault-vso-homelab:values", {
            value: JSON.stringify({ [APP.name]: { access_key: "ak-2", access_secret_key: "sk-2" } }),
            secret: true,
        });
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        await waitFor("the new value in the Secret", 120000, async () => (await secretData("cnpg", APP.name))?.access_key === "ak-2");
        // VSO writes the Secret, then patches the Deployment: the new annotation follows within moments
        await waitFor("VSO's new restart annotation on my-app", 30000, async () => {
            const now = await restartedAt();
            return now !== undefined && now !== before;
        });
        const pods = await waitFor("a new my-app pod Ready and the old one gone", 120000, async () => {
            const ready = await podsReady("cnpg", "app=my-app");
            return ready && ready.every((p) => p.metadata.name !== firstPod) ? ready : undefined;
        });
        assert.strictEqual(pods.length, 1);
    });

    it("a second up reports no changes", async () => {
        const res = await stack.up({ onOutput: () => undefined });
        const changes = Object.entries(res.summary.resourceChanges ?? {}).filter(([k]) => k !== "same");
        assert.deepStrictEqual(changes, [], JSON.stringify(res.summary.resourceChanges));
    });

    it("the article's broken role: VSO reports it, drift exits 2, the doctor names it, up --refresh repairs it, VSO syncs again by itself", async () => {
        const broken = await vault("POST", "auth/kubernetes/role/vso-cnpg", { bound_service_account_namespaces: ['"*"'] });
        assert.ok([200, 204].includes(broken.status), broken.text);
        // VSO's current token stays valid until it expires: revoke it so VSO must log in again, as after a TTL
        const rev = await vault("PUT", "sys/leases/revoke-prefix/auth/kubernetes/login");
        assert.ok([200, 204].includes(rev.status), rev.text);
        await waitFor("VSO's event: namespace not authorized", 120000, async () => (await vsoEvents("cnpg")).some((e) => /namespace not authorized/i.test(e)));

        // the drift check goes to Vault through the stack's provider (API server proxy); VAULT_ADDR of the bed is another Vault
        const env = { ...bed.env, VAULT_ADDR: "", VAULT_TOKEN: "" };
        const drift = runScript({ ...bed, env }, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(drift.code, 2, drift.out + drift.err);
        assert.match(drift.out, /AuthBackendRole homelab-cnpg-role/);
        assert.match(drift.out, /bound_?[sS]ervice_?[aA]ccount_?[nN]amespaces|boundServiceAccountNamespaces/);

        // the doctor sends a ServiceAccount token only to the Vault the stack configured (the in-cluster Service, through the API server)
        const doc = runScript({ ...bed, env }, "doctor", ["--stack", STACK, "--cwd", REPO, "--json"]);
        assert.strictEqual(doc.code, 2, doc.out + doc.err);
        const report = JSON.parse(doc.out);
        const check = report.checks.find((c: any) => c.app === APP.name);
        assert.strictEqual(check.step, "login");
        assert.match(check.message, /namespace not authorized/);
        assert.match(check.fix, /pulumi up --refresh/);

        const fixed = await stack.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(fixed.summary.result, "succeeded");
        const role = await vault("GET", "auth/kubernetes/role/vso-cnpg");
        assert.deepStrictEqual(role.body.data.bound_service_account_namespaces, ["cnpg"]);
        const clean = runScript({ ...bed, env }, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(clean.code, 0, clean.out + clean.err);
        const ok = runScript({ ...bed, env }, "doctor", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(ok.code, 0, ok.out + ok.err);

        // nobody restarts VSO: a new value still arrives
        const vsoPods = await podsReady("vault-secrets-operator-system", "app.kubernetes.io/name=vault-secrets-operator");
        await stack.setConfig("vault-vso-homelab:values", {
            value: JSON.stringify({ [APP.name]: { access_key: "ak-3", access_secret_key: "sk-3" } }),
            secret: true,
        });
        await stack.up({ onOutput: () => undefined });
        await waitFor("VSO syncs again after the repair", 180000, async () => (await secretData("cnpg", APP.name))?.access_key === "ak-3");
        const after = await podsReady("vault-secrets-operator-system", "app.kubernetes.io/name=vault-secrets-operator");
        assert.deepStrictEqual(
            after?.map((p) => [p.metadata.name, p.status.containerStatuses.map((c: any) => c.restartCount)]),
            vsoPods?.map((p) => [p.metadata.name, p.status.containerStatuses.map((c: any) => c.restartCount)]),
            "VSO was not restarted",
        );
    });

    it("a path added to the namespace's policy gives the VaultAuth a new generation, and VSO syncs the new app without a restart", async () => {
        const before = await kube("GET", `${VSO_API}/namespaces/cnpg/vaultauths/vault-auth`);
        await stack.setAllConfig(
            stackConfig([APP, OTHER], {
                [APP.name]: { access_key: "ak-3", access_secret_key: "sk-3" },
                [OTHER.name]: { token: "backup-token-1" },
            }),
        );
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        const pol = await vault("GET", "sys/policies/acl/vso-cnpg-read");
        assert.match(pol.body.data.policy, /kv\/data\/rustfs\/backup/);
        const after = await kube("GET", `${VSO_API}/namespaces/cnpg/vaultauths/vault-auth`);
        assert.ok(after.body.metadata.generation > before.body.metadata.generation, "new VaultAuth generation");
        assert.notStrictEqual(after.body.spec.headers[ACCESS_REVISION_HEADER], before.body.spec.headers[ACCESS_REVISION_HEADER]);
        const data = await waitFor("VSO's Secret cnpg/rustfs-backup", 180000, () => secretData("cnpg", OTHER.name));
        assert.deepStrictEqual(data, { token: "backup-token-1" });
    });

    for (const [mode, replicas] of [
        ["standalone", 1],
        ["ha", 3],
    ] as const) {
        it(`${mode}: the real chart installs and its ${replicas} pod(s) start (sealed until initialised)`, async () => {
            const name = `it-${mode}-${process.pid}`;
            const workDir = path.join(REPO, "test/integration/programs/vault-modes");
            const ws = await LocalWorkspace.create({ workDir, envVars: bed.env });
            await ws.removeStack(name, { force: true } as any).catch(() => undefined);
            const s = await LocalWorkspace.createStack({ stackName: name, workDir }, { envVars: bed.env });
            try {
                await s.setAllConfig({
                    "vault-vso-vault-modes:mode": { value: mode },
                    "vault-vso-vault-modes:namespace": { value: `vault-${mode}` },
                    "vault-vso-vault-modes:releaseName": { value: `vault-${mode}` },
                    "vault-vso-vault-modes:chartPath": { value: bed.env.PVV_VAULT_CHART_DIR },
                    // (one node: the chart's one-pod-per-node anti-affinity would leave two ha pods Pending)
                    "vault-vso-vault-modes:values": {
                        value: JSON.stringify({
                            server: {
                                image: { tag: versions.VAULT_VERSION, pullPolicy: "Never" },
                                dataStorage: { size: "1Gi" },
                                ...(mode === "ha" ? { affinity: "" } : {}),
                            },
                        }),
                    },
                });
                const res = await s.up({ onOutput: () => undefined });
                assert.strictEqual(res.summary.result, "succeeded");
                const pods = await waitFor(`${replicas} running Vault pod(s) in vault-${mode}`, 300000, async () => {
                    const r = await kube("GET", `/api/v1/namespaces/vault-${mode}/pods?labelSelector=${encodeURIComponent("component=server")}`);
                    const running = ((r.body?.items ?? []) as any[]).filter(
                        (p) => p.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c: any) => c.state?.running),
                    );
                    return running.length === replicas ? running : undefined;
                });
                assert.strictEqual(pods.length, replicas);
                const pvcs = await kube("GET", `/api/v1/namespaces/vault-${mode}/persistentvolumeclaims`);
                assert.strictEqual(pvcs.body.items.length, replicas);
                assert.ok(
                    pvcs.body.items.every((p: any) => p.status.phase === "Bound"),
                    "raft data on the bed's local StorageClass",
                );
                for (const pod of pods) {
                    // each server answers (through the API server's pod proxy): not initialised, sealed
                    // (a running container may not listen yet: wait for the first answer)
                    const st = await waitFor(`seal status of ${pod.metadata.name}`, 60000, async () => {
                        const r = await kube("GET", `/api/v1/namespaces/vault-${mode}/pods/${pod.metadata.name}:8200/proxy/v1/sys/seal-status`);
                        return r.status === 200 ? r : undefined;
                    });
                    assert.deepStrictEqual([st.body.initialized, st.body.sealed, st.body.storage_type], [false, true, "raft"]);
                }
                await s.destroy({ onOutput: () => undefined });
            } finally {
                await ws.removeStack(name, { force: true } as any).catch(() => undefined);
            }
        });
    }
});
