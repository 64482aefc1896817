/**
 * Several clusters on one Vault (issue 22), on real parts: the bed's cluster A (its API server and
 * VSO) and a second, node-less cluster B (`bash scripts/bed.sh cluster-b`: its own API server with its
 * own ServiceAccount signing key, and its own VSO), both served by the bed's Vault.
 *
 * One stack per cluster: stack A (cluster "a") manages the KV mount; stack B (cluster "b") shares it
 * (`kv.shared`). Both have a namespace `cnpg`. Each cluster's Secret is synced by its own VSO; B's
 * `cnpg` ServiceAccount cannot log in with A's role nor read A's path; a third stack that claims
 * cluster "a" again is refused; drift and doctor run per cluster; destroying B leaves A whole.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { KubeTarget, kubeRequest, loadKubeconfig, vaultRequest } from "../../ops/clients";
import { BED_DIR, BedEnv, REPO, bedStackConfig, freshStack, removeStack, requireBedOrSkip, runScript, startBed, waitFor } from "./bed";
import { ConfigEntry, PROJECT } from "../../scripts/sandbox/stack-config";

const STACK_A = `it-mc-a-${process.pid}`;
const STACK_B = `it-mc-b-${process.pid}`;
const STACK_DUP = `it-mc-dup-${process.pid}`;
const KV = "kvmc";

const appIn = (cluster: string) => ({
    name: "rustfs-cloudnativepg",
    namespace: "cnpg",
    path: `${cluster}/cnpg`,
    keys: ["access_key", "access_secret_key"],
    refreshAfter: "2s",
    managed: true,
});
const valuesIn = (cluster: string) => ({ "rustfs-cloudnativepg": { access_key: `ak-${cluster}`, access_secret_key: `sk-${cluster}` } });

function decode(data: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data ?? {})) {
        out[k] = Buffer.from(v, "base64").toString("utf8");
    }
    return out;
}

function logTail(file: string): string {
    try {
        return (
            `\n--- last lines of ${file} ---\n` +
            fs
                .readFileSync(path.join(BED_DIR, "logs", file), "utf8")
                .split("\n")
                .slice(-12)
                .join("\n")
        );
    } catch {
        return "";
    }
}

/** The bed's homelab config for one cluster of the pair. */
function clusterConfig(bed: BedEnv, cluster: string, opts: { kv: unknown; kubernetesHost: string; kubeconfig?: string }): Record<string, ConfigEntry> {
    const c = bedStackConfig(bed, [appIn(cluster)], valuesIn(cluster));
    c[`${PROJECT}:cluster`] = { value: cluster };
    c[`${PROJECT}:kv`] = { value: JSON.stringify(opts.kv) };
    // no explicit auth path: the cluster's default, auth/kubernetes-<cluster>
    c[`${PROJECT}:kubernetesAuth`] = { value: JSON.stringify({ kubernetesHost: opts.kubernetesHost }) };
    if (opts.kubeconfig) {
        // the stack's Kubernetes provider talks to this cluster, whatever $KUBECONFIG says
        c["kubernetes:kubeconfig"] = { value: opts.kubeconfig };
    }
    return c;
}

async function secretIn(kube: KubeTarget, vsoLog: string): Promise<Record<string, string>> {
    return waitFor(
        `Secret cnpg/rustfs-cloudnativepg (${vsoLog})`,
        90000,
        async () => {
            const r = await kubeRequest(kube, "GET", "/api/v1/namespaces/cnpg/secrets/rustfs-cloudnativepg");
            return r.status === 200 ? decode(r.body.data) : undefined;
        },
        () => logTail(vsoLog),
    );
}

/** A token for cnpg/vso-auth in `kube`'s cluster, as VSO requests it (TokenRequest, audience vault). */
async function saToken(kube: KubeTarget): Promise<string> {
    const r = await kubeRequest(kube, "POST", "/api/v1/namespaces/cnpg/serviceaccounts/vso-auth/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: ["vault"], expirationSeconds: 600 },
    });
    assert.strictEqual(r.status, 201, r.text);
    return r.body.status.token as string;
}

async function login(bed: BedEnv, mount: string, role: string, jwt: string): Promise<{ status: number; token?: string; text: string }> {
    const r = await vaultRequest(bed.vaultAddr, undefined, "POST", `auth/${mount}/login`, { role, jwt });
    return { status: r.status, token: r.body?.auth?.client_token, text: r.text };
}

describe("integration: two clusters on one Vault (one stack per cluster)", function () {
    this.timeout(20 * 60 * 1000);
    let bed: BedEnv;
    let kubeB: KubeTarget;
    let apiB: string;
    let stackA: Stack | undefined;
    let stackB: Stack | undefined;

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true });
        execFileSync("bash", [path.join(REPO, "scripts/bed.sh"), "cluster-b"], {
            stdio: ["ignore", "inherit", "inherit"],
            env: { ...process.env, PVV_BED_DIR: BED_DIR, PVV_BED_VSO: "1" },
        });
        kubeB = loadKubeconfig(path.join(BED_DIR, "kubeconfig-b"));
        apiB = fs.readFileSync(path.join(BED_DIR, "kube-apiserver-b-url"), "utf8").trim();
        assert.notStrictEqual(kubeB.server, bed.kube.server, "cluster B has an API server of its own");
    });

    after(async function () {
        for (const [s, name] of [
            [stackB, STACK_B],
            [stackA, STACK_A],
        ] as const) {
            if (s) {
                await s.destroy({ onOutput: () => undefined }).catch((e) => console.warn(`  destroy ${name}: ${e}`));
            }
            if (bed) {
                await removeStack(bed, name);
            }
        }
        if (bed) {
            await removeStack(bed, STACK_DUP);
            execFileSync("bash", [path.join(REPO, "scripts/bed.sh"), "cluster-b-stop"], { stdio: "ignore", env: { ...process.env, PVV_BED_DIR: BED_DIR } });
        }
    });

    it("stack A (cluster a) and stack B (cluster b, the KV mount shared) both come up, each with its own auth mount, role and policy", async () => {
        stackA = await freshStack(bed, STACK_A, clusterConfig(bed, "a", { kv: { path: KV, protect: false }, kubernetesHost: bed.kubeApi }));
        const upA = await stackA.up({ onOutput: () => undefined });
        assert.strictEqual(upA.summary.result, "succeeded");
        stackB = await freshStack(
            bed,
            STACK_B,
            clusterConfig(bed, "b", { kv: { path: KV, shared: true }, kubernetesHost: apiB, kubeconfig: path.join(BED_DIR, "kubeconfig-b") }),
        );
        const upB = await stackB.up({ onOutput: () => undefined });
        assert.strictEqual(upB.summary.result, "succeeded");

        const auths = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/auth");
        assert.ok(auths.body.data["kubernetes-a/"] && auths.body.data["kubernetes-b/"], `both auth mounts exist: ${Object.keys(auths.body.data)}`);
        for (const c of ["a", "b"]) {
            const cfg = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", `auth/kubernetes-${c}/config`);
            assert.strictEqual(
                cfg.body.data.kubernetes_host,
                c === "a" ? bed.kubeApi : apiB,
                `auth/kubernetes-${c} reviews tokens with cluster ${c}'s API server`,
            );
            const role = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", `auth/kubernetes-${c}/role/vso-${c}-cnpg`);
            assert.strictEqual(role.status, 200, role.text);
            assert.deepStrictEqual(role.body.data.token_policies, [`vso-${c}-cnpg-read`]);
            const pol = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", `sys/policies/acl/vso-${c}-cnpg-read`);
            assert.match(pol.body.data.policy, new RegExp(`path "${KV}/data/${c}/cnpg"`));
            assert.doesNotMatch(
                pol.body.data.policy,
                new RegExp(`path "${KV}/data/${c === "a" ? "b" : "a"}/`),
                "a cluster's policy names none of the other's paths",
            );
        }
        // the shared mount was created once, by A; B only read it
        const outB = await stackB.exportStack();
        const typesB = (outB.deployment.resources ?? []).map((r: { type: string; custom?: boolean; id?: string; external?: boolean; urn: string }) => r);
        const mountsB = typesB.filter((r: { type: string }) => r.type === "vault:index/mount:Mount");
        assert.ok(
            mountsB.every((r: { external?: boolean }) => r.external === true),
            `stack B holds the KV mount only as a read: ${JSON.stringify(mountsB.map((r: { urn: string }) => r.urn))}`,
        );
    });

    it("each cluster's VSO syncs its own Secret from its own path", async () => {
        const a = await secretIn(bed.kube, "vso.log");
        assert.deepStrictEqual(a, valuesIn("a")["rustfs-cloudnativepg"]);
        const b = await secretIn(kubeB, "vso-b.log");
        assert.deepStrictEqual(b, valuesIn("b")["rustfs-cloudnativepg"]);
        const vaB = await kubeRequest(kubeB, "GET", "/apis/secrets.hashicorp.com/v1beta1/namespaces/cnpg/vaultauths");
        const specs = (vaB.body.items as { spec: { mount: string; kubernetes: { role: string } } }[]).map((i) => [i.spec.mount, i.spec.kubernetes.role]);
        assert.deepStrictEqual(specs, [["kubernetes-b", "vso-b-cnpg"]]);
    });

    it("B's cnpg ServiceAccount cannot log in with A's role, and its own login cannot read A's path", async () => {
        const jwtB = await saToken(kubeB);
        // A's mount reviews tokens with A's API server, which cannot verify B's signature
        const atA = await login(bed, "kubernetes-a", "vso-a-cnpg", jwtB);
        assert.ok(atA.status >= 400 && !atA.token, `B's token is refused at auth/kubernetes-a: ${atA.status} ${atA.text}`);
        // A's role does not exist on B's mount: roles are per mount
        const roleAtB = await login(bed, "kubernetes-b", "vso-a-cnpg", jwtB);
        assert.ok(roleAtB.status >= 400 && !roleAtB.token, `A's role is unknown at auth/kubernetes-b: ${roleAtB.status} ${roleAtB.text}`);
        // and its own, working login reads only B's path
        const own = await login(bed, "kubernetes-b", "vso-b-cnpg", jwtB);
        assert.strictEqual(own.status, 200, own.text);
        const readB = await vaultRequest(bed.vaultAddr, own.token, "GET", `${KV}/data/b/cnpg`);
        assert.strictEqual(readB.status, 200, readB.text);
        const readA = await vaultRequest(bed.vaultAddr, own.token, "GET", `${KV}/data/a/cnpg`);
        assert.strictEqual(readA.status, 403, `B's token cannot read A's path: ${readA.status} ${readA.text}`);
        // the same the other way: A's token at B's mount
        const jwtA = await saToken(bed.kube);
        const aAtB = await login(bed, "kubernetes-b", "vso-b-cnpg", jwtA);
        assert.ok(aAtB.status >= 400 && !aAtB.token, `A's token is refused at auth/kubernetes-b: ${aAtB.status} ${aAtB.text}`);
    });

    it("a third stack that claims cluster a again is refused, and A is untouched", async () => {
        const dup = await freshStack(bed, STACK_DUP, clusterConfig(bed, "a", { kv: { path: KV, shared: true }, kubernetesHost: bed.kubeApi }));
        let err = "";
        try {
            await dup.up({ onOutput: () => undefined });
        } catch (e) {
            err = String(e);
        }
        assert.match(err, /kubernetes-a|vso-a-cnpg/, "the up fails on the names stack A owns");
        await dup.destroy({ onOutput: () => undefined });
        const role = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "auth/kubernetes-a/role/vso-a-cnpg");
        assert.strictEqual(role.status, 200, "A's role survives the refused stack and its destroy");
        const cfg = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "auth/kubernetes-a/config");
        assert.strictEqual(cfg.body.data.kubernetes_host, bed.kubeApi);
        const pol = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/policies/acl/vso-a-cnpg-read");
        assert.strictEqual(pol.status, 200);
    });

    it("drift is per cluster: a change in cluster B's VaultAuth is B's drift, not A's", async () => {
        const cleanB = runScript(bed, "drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(cleanB.code, 0, cleanB.out + cleanB.err);
        const p = await kubeRequest(kubeB, "PATCH", "/apis/secrets.hashicorp.com/v1beta1/namespaces/cnpg/vaultauths/vault-auth", {
            spec: { kubernetes: { role: "vso-a-cnpg" } },
        });
        assert.strictEqual(p.status, 200, p.text);
        const driftB = runScript(bed, "drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(driftB.code, 2, driftB.out + driftB.err);
        assert.match(driftB.out, /VaultAuth/);
        const driftA = runScript(bed, "drift", ["--stack", STACK_A, "--cwd", REPO]);
        assert.strictEqual(driftA.code, 0, driftA.out + driftA.err);
        // the repair: up --refresh (a plain up trusts the recorded state)
        const up = await stackB!.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const again = runScript(bed, "drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(again.code, 0, again.out + again.err);
    });

    it("the doctor with --stack checks the stack's own cluster (its kubernetes:kubeconfig)", async () => {
        for (const [name, cluster] of [
            [STACK_A, "a"],
            [STACK_B, "b"],
        ]) {
            const r = runScript(bed, "doctor", ["--stack", name, "--json"]);
            assert.strictEqual(r.code, 0, r.out + r.err);
            const report = JSON.parse(r.out.slice(r.out.indexOf("{")));
            assert.deepStrictEqual(
                report.checks.map((c: { namespace: string; ok: boolean }) => [c.namespace, c.ok]),
                [["cnpg", true]],
            );
            assert.match(r.err, new RegExp(`cluster "${cluster}": API server`), r.err);
        }
        // pointed at the other cluster, it says so before its report (whose VaultAuth is not the stack's)
        const wrong = runScript(bed, "doctor", ["--stack", STACK_B, "--kubeconfig", path.join(BED_DIR, "kubeconfig"), "--json"]);
        assert.match(wrong.err, /warning: the stack's own kubernetes:kubeconfig names API server .*another cluster/, wrong.err);
        assert.strictEqual(wrong.code, 2, wrong.out + wrong.err);
    });

    it("destroying B removes B's mount, role and policy and leaves the shared KV mount and A whole", async () => {
        await stackB!.destroy({ onOutput: () => undefined });
        stackB = undefined;
        const auths = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/auth");
        assert.ok(!auths.body.data["kubernetes-b/"], "B's auth mount is gone");
        assert.ok(auths.body.data["kubernetes-a/"], "A's auth mount is still there");
        const mounts = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/mounts");
        assert.ok(mounts.body.data[`${KV}/`], "the shared KV mount is still there");
        const polB = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/policies/acl/vso-b-cnpg-read");
        assert.strictEqual(polB.status, 404);
        const valueA = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", `${KV}/data/a/cnpg`);
        assert.deepStrictEqual(valueA.body.data.data, valuesIn("a")["rustfs-cloudnativepg"]);
        const driftA = runScript(bed, "drift", ["--stack", STACK_A, "--cwd", REPO]);
        assert.strictEqual(driftA.code, 0, driftA.out + driftA.err);
        await stackA!.destroy({ onOutput: () => undefined });
        stackA = undefined;
        const after = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/mounts");
        assert.ok(!after.body.data[`${KV}/`], "A, which created the KV mount, removes it on destroy");
    });
});
