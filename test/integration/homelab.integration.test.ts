/**
 * The homelab program against the real Pulumi engine, a real Vault server and a real Kubernetes API
 * server (scripts/bed.sh): up, idempotence, drift (detected, reported, repaired), managed-value drift,
 * and destroy.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { kubeRequest, vaultRequest } from "../../ops/clients";
import { runDriftCheck } from "../../ops/drift";
import { renderReadPolicy } from "../../components/config/plan";
import { BED_DIR, BedEnv, REPO, bedStackConfig, freshStack, removeStack, requireBedOrSkip, runScript, startBed } from "./bed";

const STACK = `it-homelab-${process.pid}`;
const VSO = "/apis/secrets.hashicorp.com/v1beta1";

/** The article's CloudNativePG case (managed, values from secret config) plus an unmanaged app in another namespace. */
export const APPS = [
    {
        name: "rustfs-cloudnativepg",
        namespace: "cnpg",
        path: "rustfs/cloudnativepg",
        keys: ["access_key", "access_secret_key"],
        refreshAfter: "60s",
        rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
        managed: true,
    },
    { name: "grafana-admin", namespace: "monitoring", path: "homelab/grafana", keys: ["admin_user", "admin_password"] },
];
export const VALUES = { "rustfs-cloudnativepg": { access_key: "it-access-key", access_secret_key: "it-s3cr3t-value" } };

function runDriftCli(bed: BedEnv, extra: string[] = []): { code: number; out: string; err: string } {
    return runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO, ...extra]);
}

describe("integration: homelab program on the local bed (external-Vault mode)", function () {
    this.timeout(15 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true });
        stack = await freshStack(bed, STACK, bedStackConfig(bed, APPS, VALUES));
    });

    after(async function () {
        if (bed) {
            await removeStack(bed, STACK);
        }
    });

    it("pulumi up creates everything", async () => {
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        // the unmanaged app's value is written in Vault by hand, as the article does
        await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", "kv/data/homelab/grafana", {
            data: { admin_user: "admin", admin_password: "it-grafana-pw" },
        });

        const v = (p: string) => vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", p);
        const mounts = await v("sys/mounts");
        assert.strictEqual(mounts.body.data["kv/"].type, "kv");
        assert.strictEqual(mounts.body.data["kv/"].options.version, "2");
        const auths = await v("sys/auth");
        assert.strictEqual(auths.body.data["kubernetes/"].type, "kubernetes");
        const cfg = await v("auth/kubernetes/config");
        assert.strictEqual(cfg.body.data.kubernetes_host, bed.kubeApi);
        assert.match(cfg.body.data.kubernetes_ca_cert, /BEGIN CERTIFICATE/, "the reviewer token's CA is configured");
        assert.strictEqual(cfg.body.data.token_reviewer_jwt_set, true, "external Vault has a token reviewer JWT");
        for (const [ns, paths] of [
            ["cnpg", ["rustfs/cloudnativepg"]],
            ["monitoring", ["homelab/grafana"]],
        ] as const) {
            const pol = await v(`sys/policies/acl/vso-${ns}-read`);
            assert.strictEqual(pol.body.data.policy, renderReadPolicy("kv", [...paths]));
            const role = await v(`auth/kubernetes/role/vso-${ns}`);
            assert.deepStrictEqual(role.body.data.bound_service_account_names, ["vso-auth"]);
            assert.deepStrictEqual(role.body.data.bound_service_account_namespaces, [ns]);
            assert.deepStrictEqual(role.body.data.token_policies, [`vso-${ns}-read`]);
            assert.strictEqual(role.body.data.token_ttl, 3600);
            assert.strictEqual(role.body.data.audience, "vault");
        }
        const def = await v("sys/policies/acl/default");
        assert.ok(!def.body.data.policy.includes("kv/"), "nothing is added to the default policy");
        const managed = await v("kv/data/rustfs/cloudnativepg");
        assert.deepStrictEqual(Object.keys(managed.body.data.data).sort(), ["access_key", "access_secret_key"]);

        const k = (p: string) => kubeRequest(bed.kube, "GET", p);
        for (const ns of ["cnpg", "monitoring"]) {
            assert.strictEqual((await k(`/api/v1/namespaces/${ns}`)).status, 200);
            assert.strictEqual((await k(`/api/v1/namespaces/${ns}/serviceaccounts/vso-auth`)).status, 200);
            const conn = await k(`${VSO}/namespaces/${ns}/vaultconnections/vault-connection`);
            assert.strictEqual(conn.body.spec.address, bed.vaultAddr);
            const auth = await k(`${VSO}/namespaces/${ns}/vaultauths/vault-auth`);
            assert.strictEqual(auth.body.spec.method, "kubernetes");
            assert.strictEqual(auth.body.spec.mount, "kubernetes");
            assert.strictEqual(auth.body.spec.vaultConnectionRef, "vault-connection");
            assert.deepStrictEqual(auth.body.spec.kubernetes.role, `vso-${ns}`);
            assert.deepStrictEqual(auth.body.spec.kubernetes.serviceAccount, "vso-auth");
        }
        const vss = await k(`${VSO}/namespaces/cnpg/vaultstaticsecrets/rustfs-cloudnativepg`);
        assert.strictEqual(vss.body.spec.mount, "kv");
        assert.strictEqual(vss.body.spec.type, "kv-v2");
        assert.strictEqual(vss.body.spec.path, "rustfs/cloudnativepg");
        assert.strictEqual(vss.body.spec.refreshAfter, "60s");
        assert.strictEqual(vss.body.spec.vaultAuthRef, "vault-auth");
        assert.strictEqual(vss.body.spec.destination.name, "rustfs-cloudnativepg");
        assert.strictEqual(vss.body.spec.destination.create, true);
        assert.strictEqual(vss.body.spec.destination.transformation.excludeRaw, true);
        assert.deepStrictEqual(vss.body.spec.rolloutRestartTargets, [{ kind: "Deployment", name: "my-app" }]);

        const outputs = await stack.outputs();
        assert.strictEqual(outputs.vaultAddress.value, bed.vaultAddr);
        assert.deepStrictEqual(outputs.inventory.value.managedVersions, { "rustfs-cloudnativepg": "1" });
        // the state file as it sits on disk (exportStack() would decrypt secrets for display)
        const stateFile = path.join(BED_DIR, "pulumi-state/.pulumi/stacks/vault-vso-homelab", `${STACK}.json`);
        const state = fs.readFileSync(stateFile, "utf8");
        assert.match(state, /"ciphertext"/, "secret values are stored encrypted");
        for (const secret of ["it-s3cr3t-value", "it-access-key"]) {
            const at = state.indexOf(secret);
            assert.ok(
                at < 0,
                `secret values are never in plain state; found one in: ...${state.slice(Math.max(0, at - 300), at).replace(/it-[a-z0-9-]+/g, "***")}`,
            );
        }
    });

    it("a second up reports no changes", async () => {
        const res = await stack.up({ onOutput: () => undefined });
        const changes = Object.entries(res.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
        assert.deepStrictEqual(changes, [], `expected only 'same', got ${JSON.stringify(res.summary.resourceChanges)}`);
    });

    it("the drift check is clean after up (exit 0)", async () => {
        const r = runDriftCli(bed);
        assert.strictEqual(r.code, 0, `${r.out}\n${r.err}`);
        assert.match(r.out, /No drift/);
    });

    it("detects drift made behind Pulumi's back, exactly those resources, exit 2; up repairs it", async () => {
        // the article's broken binding, a policy edit and a VaultStaticSecret edit
        let w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", "auth/kubernetes/role/vso-cnpg", { bound_service_account_namespaces: ['"*"'] });
        assert.strictEqual(w.status, 204, w.text);
        w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "PUT", "sys/policies/acl/vso-monitoring-read", {
            policy: 'path "kv/data/*" {\n  capabilities = ["read", "list"]\n}\n',
        });
        assert.strictEqual(w.status, 204, w.text);
        const p = await kubeRequest(bed.kube, "PATCH", `${VSO}/namespaces/monitoring/vaultstaticsecrets/grafana-admin`, { spec: { refreshAfter: "1h" } });
        assert.strictEqual(p.status, 200, p.text);

        const report = await runDriftCheck({ stack: STACK, workDir: REPO, envVars: bed.env });
        const resources = [...new Set(report.rows.map((r) => r.resource))].sort();
        assert.deepStrictEqual(resources, [
            "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret homelab-grafana-admin-vss",
            "vault:index/policy:Policy homelab-monitoring-policy",
            "vault:kubernetes/authBackendRole:AuthBackendRole homelab-cnpg-role",
        ]);
        const role = report.rows.find((r) => r.resource.includes("AuthBackendRole"))!;
        assert.match(role.field, /^boundServiceAccountNamespaces/);
        assert.match(role.actual, /\\"\*\\"/);
        assert.match(role.expected, /cnpg/);

        const cli = runDriftCli(bed);
        assert.strictEqual(cli.code, 2, `${cli.out}\n${cli.err}`);
        assert.match(cli.out, /homelab-cnpg-role/);
        assert.match(cli.out, /Drift in stack/);
        const json = runDriftCli(bed, ["--json"]);
        assert.strictEqual(json.code, 2);
        assert.strictEqual(JSON.parse(json.out).drifted, true);

        const up = await stack.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const role2 = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "auth/kubernetes/role/vso-cnpg");
        assert.deepStrictEqual(role2.body.data.bound_service_account_namespaces, ["cnpg"]);
        const after = runDriftCli(bed);
        assert.strictEqual(after.code, 0, `${after.out}\n${after.err}`);
    });

    it("notices a managed value changed in Vault behind Pulumi's back, without printing it", async () => {
        const w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", "kv/data/rustfs/cloudnativepg", {
            data: { access_key: "rotated-by-hand", access_secret_key: "rotated-s3cr3t" },
        });
        assert.strictEqual(w.status, 200, w.text);
        const cli = runDriftCli(bed);
        assert.strictEqual(cli.code, 2, `${cli.out}\n${cli.err}`);
        assert.match(cli.out, /vault:kv\/secretV2:SecretV2 homelab-rustfs-cloudnativepg-value/);
        for (const s of ["rotated-by-hand", "rotated-s3cr3t", "it-s3cr3t-value"]) {
            assert.ok(!cli.out.includes(s) && !cli.err.includes(s), "values are never printed");
        }
        await stack.up({ refresh: true, onOutput: () => undefined });
        const repaired = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "kv/data/rustfs/cloudnativepg");
        assert.deepStrictEqual(repaired.body.data.data, VALUES["rustfs-cloudnativepg"], "up --refresh wrote the program's value back");
        const after = runDriftCli(bed);
        assert.strictEqual(after.code, 0, `${after.out}\n${after.err}`);
    });

    it("destroy removes everything except the protected KV mount, and says so", async () => {
        let out = "";
        const res = await stack.destroy({
            excludeProtected: true,
            onOutput: (s) => {
                out += s;
            },
        });
        assert.strictEqual(res.summary.result, "succeeded");
        assert.match(out, /protected/i);
        const v = (p: string) => vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", p);
        assert.strictEqual((await v("sys/mounts")).body.data["kv/"]?.type, "kv", "the KV mount and its secrets survive");
        assert.strictEqual((await v("kv/data/homelab/grafana")).status, 200);
        assert.strictEqual((await v("sys/auth")).body.data["kubernetes/"], undefined);
        assert.strictEqual((await v("sys/policies/acl/vso-cnpg-read")).status, 404);
        assert.strictEqual((await kubeRequest(bed.kube, "GET", `${VSO}/namespaces/cnpg/vaultstaticsecrets/rustfs-cloudnativepg`)).status, 404);
        const remaining = (await stack.exportStack()).deployment.resources?.filter((r: any) => r.custom && !r.type.startsWith("pulumi:providers:")) ?? [];
        assert.deepStrictEqual(
            remaining.map((r: any) => r.type),
            ["vault:index/mount:Mount"],
        );
    });
});
