/**
 * Several clusters on one Vault (issue 22), on real parts: the bed's cluster A and a second, node-less
 * cluster B (`bash scripts/bed.sh cluster-b`: its own API server with its own ServiceAccount signing
 * key, and its own VSO), both served by one Vault.
 *
 * With the bed's node (CI), stack A installs Vault (dev) and VSO into cluster A with Helm, and stack B
 * reaches that Vault at its Service's cluster IP (kube-proxy on this machine); Vault, in its pod, reviews
 * B's tokens with B's API server. Without a node, Vault and A's VSO are the bed's local processes.
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
import {
    BED_DIR,
    BedEnv,
    REPO,
    bedHasNode,
    bedStackConfig,
    freshStack,
    inClusterStackConfig,
    removeStack,
    requireBedOrSkip,
    runScript,
    startBed,
    waitFor,
    decodeSecretData,
} from "./bed";
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

/** The one Vault both clusters use, as this machine reaches it. */
interface SharedVault {
    addr: string;
    token: string;
    /** Vault runs in cluster A (installed by stack A), else it is the bed's local process. */
    inClusterA: boolean;
}

/**
 * The bed's homelab config for one cluster of the pair. Stack A with `installIn` installs Vault and VSO
 * into its cluster; every other stack uses `vault` as an external Vault (`vault:token` when it is not the bed's).
 */
function clusterConfig(
    bed: BedEnv,
    cluster: string,
    opts: { kv: unknown; kubernetesHost?: string; kubeconfig?: string; installIn?: boolean; vault?: SharedVault },
): Record<string, ConfigEntry> {
    const apps = [appIn(cluster)];
    const c = opts.installIn ? inClusterStackConfig(bed, apps, valuesIn(cluster)) : bedStackConfig(bed, apps, valuesIn(cluster));
    c[`${PROJECT}:cluster`] = { value: cluster };
    c[`${PROJECT}:createNamespaces`] = { value: "true" };
    c[`${PROJECT}:kv`] = { value: JSON.stringify(opts.kv) };
    // no explicit auth path: the cluster's default, auth/kubernetes-<cluster>
    c[`${PROJECT}:kubernetesAuth`] = { value: JSON.stringify(opts.kubernetesHost ? { kubernetesHost: opts.kubernetesHost } : {}) };
    if (opts.vault?.inClusterA) {
        c[`${PROJECT}:vault`] = { value: JSON.stringify({ install: false, address: opts.vault.addr, allowInsecureHttp: true }) };
        c["vault:token"] = { value: opts.vault.token, secret: true };
    }
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
            return r.status === 200 ? decodeSecretData(r.body.data) : undefined;
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

async function login(v: SharedVault, mount: string, role: string, jwt: string): Promise<{ status: number; token?: string; text: string }> {
    const r = await vaultRequest(v.addr, undefined, "POST", `auth/${mount}/login`, { role, jwt });
    return { status: r.status, token: r.body?.auth?.client_token, text: r.text };
}

describe("integration: two clusters on one Vault (one stack per cluster)", function () {
    this.timeout(25 * 60 * 1000);
    let bed: BedEnv;
    let kubeB: KubeTarget;
    let apiB: string;
    let v: SharedVault;
    let stackA: Stack | undefined;
    let stackB: Stack | undefined;
    /** The ops CLIs with the shared Vault as VAULT_ADDR/VAULT_TOKEN (the drift check reads managed versions there). */
    const cli = (name: string, args: string[]) => runScript({ ...bed, env: { ...bed.env, VAULT_ADDR: v.addr, VAULT_TOKEN: v.token } }, name, args);
    const vaultA = () => (v.inClusterA ? "VSO of cluster A (in-cluster)" : "vso.log");

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true, vso: false });
        const inClusterA = bedHasNode();
        if (!inClusterA) {
            // no node: Vault is the bed's process, and cluster A's VSO too
            bed = startBed({ vso: true });
        }
        v = { addr: bed.vaultAddr, token: bed.vaultToken, inClusterA };
        console.log(`  [multicluster] Vault: ${inClusterA ? "installed in cluster A by stack A (the bed has a node)" : "the bed's local process (no node)"}`);
        execFileSync("bash", [path.join(REPO, "scripts/bed.sh"), "cluster-b"], {
            stdio: ["ignore", "inherit", "inherit"],
            env: { ...process.env, PVV_BED_DIR: BED_DIR },
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
        stackA = await freshStack(
            bed,
            STACK_A,
            clusterConfig(bed, "a", { kv: { path: KV, protect: false }, installIn: v.inClusterA, kubernetesHost: v.inClusterA ? undefined : bed.kubeApi }),
        );
        const upA = await stackA.up({ onOutput: () => undefined });
        assert.strictEqual(upA.summary.result, "succeeded");
        if (v.inClusterA) {
            // the Vault stack A installed, at its Service's cluster IP (kube-proxy routes it on this machine)
            const addr = String((await stackA.outputs()).vaultAddress?.value);
            const m = /^http:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:(\d+)$/.exec(addr);
            assert.ok(m, `stack A's Vault address: ${addr}`);
            const svc = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${m[2]}/services/${m[1]}`);
            assert.strictEqual(svc.status, 200, svc.text);
            v = { ...v, addr: `http://${svc.body.spec.clusterIP}:${m[3]}`, token: "root" };
            await waitFor(`Vault at ${v.addr}`, 60000, async () => (await vaultRequest(v.addr, undefined, "GET", "sys/health")).status === 200);
        }
        stackB = await freshStack(
            bed,
            STACK_B,
            clusterConfig(bed, "b", { kv: { path: KV, shared: true }, kubernetesHost: apiB, kubeconfig: path.join(BED_DIR, "kubeconfig-b"), vault: v }),
        );
        const upB = await stackB.up({ onOutput: () => undefined });
        assert.strictEqual(upB.summary.result, "succeeded");

        const auths = await vaultRequest(v.addr, v.token, "GET", "sys/auth");
        assert.ok(auths.body.data["kubernetes-a/"] && auths.body.data["kubernetes-b/"], `both auth mounts exist: ${Object.keys(auths.body.data)}`);
        for (const c of ["a", "b"]) {
            const cfg = await vaultRequest(v.addr, v.token, "GET", `auth/kubernetes-${c}/config`);
            if (c === "b" || !v.inClusterA) {
                assert.strictEqual(
                    cfg.body.data.kubernetes_host,
                    c === "a" ? bed.kubeApi : apiB,
                    `auth/kubernetes-${c} reviews tokens with cluster ${c}'s API server`,
                );
            } else {
                assert.notStrictEqual(cfg.body.data.kubernetes_host, apiB, "A's mount reviews with A's own API server (in-cluster)");
            }
            const role = await vaultRequest(v.addr, v.token, "GET", `auth/kubernetes-${c}/role/vso-${c}-cnpg`);
            assert.strictEqual(role.status, 200, role.text);
            assert.deepStrictEqual(role.body.data.token_policies, [`vso-${c}-cnpg-read`]);
            const pol = await vaultRequest(v.addr, v.token, "GET", `sys/policies/acl/vso-${c}-cnpg-read`);
            assert.match(pol.body.data.policy, new RegExp(`path "${KV}/data/${c}/cnpg"`));
            assert.doesNotMatch(
                pol.body.data.policy,
                new RegExp(`path "${KV}/data/${c === "a" ? "b" : "a"}/`),
                "a cluster's policy names none of the other's paths",
            );
        }
        // the shared mount was created once, by A; B only read it
        const mountsB = ((await stackB.exportStack()).deployment.resources ?? []).filter((r: { type: string }) => r.type === "vault:index/mount:Mount");
        assert.ok(
            mountsB.length === 1 && mountsB.every((r: { external?: boolean }) => r.external === true),
            `stack B holds the KV mount only as a read: ${JSON.stringify(mountsB.map((r: { urn: string }) => r.urn))}`,
        );
    });

    it("each cluster's VSO syncs its own Secret from its own path", async () => {
        const a = await secretIn(bed.kube, vaultA());
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
        const atA = await login(v, "kubernetes-a", "vso-a-cnpg", jwtB);
        assert.ok(atA.status >= 400 && !atA.token, `B's token is refused at auth/kubernetes-a: ${atA.status} ${atA.text}`);
        // A's role does not exist on B's mount: roles are per mount
        const roleAtB = await login(v, "kubernetes-b", "vso-a-cnpg", jwtB);
        assert.ok(roleAtB.status >= 400 && !roleAtB.token, `A's role is unknown at auth/kubernetes-b: ${roleAtB.status} ${roleAtB.text}`);
        // and its own, working login reads only B's path
        const own = await login(v, "kubernetes-b", "vso-b-cnpg", jwtB);
        assert.strictEqual(own.status, 200, own.text);
        const readB = await vaultRequest(v.addr, own.token, "GET", `${KV}/data/b/cnpg`);
        assert.strictEqual(readB.status, 200, readB.text);
        const readA = await vaultRequest(v.addr, own.token, "GET", `${KV}/data/a/cnpg`);
        assert.strictEqual(readA.status, 403, `B's token cannot read A's path: ${readA.status} ${readA.text}`);
        // the same the other way: A's token at B's mount
        const jwtA = await saToken(bed.kube);
        const aAtB = await login(v, "kubernetes-b", "vso-b-cnpg", jwtA);
        assert.ok(aAtB.status >= 400 && !aAtB.token, `A's token is refused at auth/kubernetes-b: ${aAtB.status} ${aAtB.text}`);
    });

    it("a third stack that claims cluster a again is refused, and A is untouched", async () => {
        const before = await vaultRequest(v.addr, v.token, "GET", "auth/kubernetes-a/config");
        const dup = await freshStack(bed, STACK_DUP, clusterConfig(bed, "a", { kv: { path: KV, shared: true }, kubernetesHost: bed.kubeApi, vault: v }));
        let err = "";
        try {
            await dup.up({ onOutput: () => undefined });
        } catch (e) {
            err = String(e);
        }
        assert.match(err, /kubernetes-a|vso-a-cnpg/, "the up fails on the names stack A owns");
        console.log(
            `  [multicluster] the duplicate's up: ${err
                .split("\n")
                .filter((l) => /already|in use|refus|exists|\* /i.test(l))
                .slice(0, 3)
                .join(" | ")
                .slice(0, 400)}`,
        );
        await dup.destroy({ onOutput: () => undefined });
        const role = await vaultRequest(v.addr, v.token, "GET", "auth/kubernetes-a/role/vso-a-cnpg");
        assert.strictEqual(role.status, 200, "A's role survives the refused stack and its destroy");
        const cfg = await vaultRequest(v.addr, v.token, "GET", "auth/kubernetes-a/config");
        assert.strictEqual(cfg.body.data.kubernetes_host, before.body.data.kubernetes_host, "A's mount still reviews with A's API server");
        const pol = await vaultRequest(v.addr, v.token, "GET", "sys/policies/acl/vso-a-cnpg-read");
        assert.strictEqual(pol.status, 200);
    });

    it("drift is per cluster: a change in cluster B's VaultAuth is B's drift, not A's", async () => {
        const cleanB = cli("drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(cleanB.code, 0, cleanB.out + cleanB.err);
        const p = await kubeRequest(kubeB, "PATCH", "/apis/secrets.hashicorp.com/v1beta1/namespaces/cnpg/vaultauths/vault-auth", {
            spec: { kubernetes: { role: "vso-a-cnpg" } },
        });
        assert.strictEqual(p.status, 200, p.text);
        const driftB = cli("drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(driftB.code, 2, driftB.out + driftB.err);
        assert.match(driftB.out, /VaultAuth/);
        const driftA = cli("drift", ["--stack", STACK_A, "--cwd", REPO]);
        assert.strictEqual(driftA.code, 0, driftA.out + driftA.err);
        // the repair: up --refresh (a plain up trusts the recorded state)
        const up = await stackB!.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const again = cli("drift", ["--stack", STACK_B, "--cwd", REPO]);
        assert.strictEqual(again.code, 0, again.out + again.err);
    });

    it("the doctor with --stack checks the stack's own cluster (its kubernetes:kubeconfig)", async () => {
        for (const [name, cluster] of [
            [STACK_A, "a"],
            [STACK_B, "b"],
        ]) {
            const r = cli("doctor", ["--stack", name, "--json"]);
            assert.strictEqual(r.code, 0, r.out + r.err);
            const report = JSON.parse(r.out);
            assert.deepStrictEqual(
                report.checks.map((c: { namespace: string; ok: boolean }) => [c.namespace, c.ok]),
                [["cnpg", true]],
            );
            assert.strictEqual(report.cluster.name, cluster, "the report names the cluster it checked");
            // B's stack names its kubeconfig; A's uses the ambient one
            assert.strictEqual(report.cluster.kubeconfigFrom, cluster === "b" ? "the stack's kubernetes:kubeconfig" : "$KUBECONFIG");
            const text = cli("doctor", ["--stack", name]);
            assert.match(text.err, new RegExp(`cluster "${cluster}": API server`), text.err);
        }
        // pointed at the other cluster, it says so before its report (whose VaultAuth is not the stack's)
        const wrong = cli("doctor", ["--stack", STACK_B, "--kubeconfig", path.join(BED_DIR, "kubeconfig"), "--json"]);
        assert.match(wrong.err, /warning: the stack's own kubernetes:kubeconfig names API server .*another cluster/, wrong.err);
        assert.strictEqual(wrong.code, 2, wrong.out + wrong.err);
    });

    it("destroying B removes B's mount, role and policy and leaves the shared KV mount and A whole", async () => {
        await stackB!.destroy({ onOutput: () => undefined });
        stackB = undefined;
        const auths = await vaultRequest(v.addr, v.token, "GET", "sys/auth");
        assert.ok(!auths.body.data["kubernetes-b/"], "B's auth mount is gone");
        assert.ok(auths.body.data["kubernetes-a/"], "A's auth mount is still there");
        const mounts = await vaultRequest(v.addr, v.token, "GET", "sys/mounts");
        assert.ok(mounts.body.data[`${KV}/`], "the shared KV mount is still there");
        const polB = await vaultRequest(v.addr, v.token, "GET", "sys/policies/acl/vso-b-cnpg-read");
        assert.strictEqual(polB.status, 404);
        const valueA = await vaultRequest(v.addr, v.token, "GET", `${KV}/data/a/cnpg`);
        assert.deepStrictEqual(valueA.body.data.data, valuesIn("a")["rustfs-cloudnativepg"]);
        const secretA = await kubeRequest(bed.kube, "GET", "/api/v1/namespaces/cnpg/secrets/rustfs-cloudnativepg");
        assert.deepStrictEqual(decodeSecretData(secretA.body?.data), valuesIn("a")["rustfs-cloudnativepg"], "A's Secret is still there");
        const driftA = cli("drift", ["--stack", STACK_A, "--cwd", REPO]);
        assert.strictEqual(driftA.code, 0, driftA.out + driftA.err);
        await stackA!.destroy({ onOutput: () => undefined });
        stackA = undefined;
        if (!v.inClusterA) {
            const after = await vaultRequest(v.addr, v.token, "GET", "sys/mounts");
            assert.ok(!after.body.data[`${KV}/`], "A, which created the KV mount, removes it on destroy");
        }
    });
});
