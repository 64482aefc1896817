/**
 * Nothing lost, nobody let in (issue 8), against the real engine, Vault and API server of the bed:
 * a managed value outlives renames, removals and `destroy`; namespaces Pulumi created for apps are
 * never deleted with the workloads in them; VSO's tokens do not carry Vault's `default` policy.
 */
import * as assert from "assert";
import { Stack } from "@pulumi/pulumi/automation";
import { kubeRequest, vaultRequest } from "../../ops/clients";
import { BedEnv, bedStackConfig, freshStack, removeStack, requireBedOrSkip, startBed } from "./bed";

const STACK = `it-datasafety-${process.pid}`;
const APP = { name: "rustfs-cloudnativepg", namespace: "ds-cnpg", path: "ds/rustfs", keys: ["access_key"], managed: true };
const OTHER = { name: "grafana-admin", namespace: "ds-monitoring", path: "ds/grafana", keys: ["admin_password"] };

describe("integration: data safety and least privilege (issue 8) on the bed", function () {
    this.timeout(15 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;
    const v = (method: string, p: string, body?: unknown) => vaultRequest(bed.vaultAddr, bed.vaultToken, method, p, body);

    /** The managed value as Vault serves it now (undefined when deleted or absent). */
    async function value(): Promise<Record<string, string> | undefined> {
        const r = await v("GET", `kv/data/${APP.path}`);
        return r.status === 200 ? (r.body.data.data ?? undefined) : undefined;
    }

    async function up(apps: unknown[], values: unknown): Promise<void> {
        await stack.setAllConfig(bedStackConfig(bed, apps, values));
        const res = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
    }

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true });
        stack = await freshStack(bed, STACK, bedStackConfig(bed, [APP, OTHER], { [APP.name]: { access_key: "ds-1" } }));
    });

    after(async function () {
        if (bed) {
            await removeStack(bed, STACK);
        }
    });

    it("a managed value survives renaming its app, removing it, and destroy", async () => {
        await up([APP, OTHER], { [APP.name]: { access_key: "ds-1" } });
        assert.deepStrictEqual(await value(), { access_key: "ds-1" });
        // something of the user's in the namespace Pulumi created for the app
        const cm = await kubeRequest(bed.kube, "POST", `/api/v1/namespaces/${APP.namespace}/configmaps`, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "user-data" },
            data: { keep: "me" },
        });
        assert.strictEqual(cm.status, 201, cm.text);

        // rename: Pulumi sees a new resource and an old one to delete; the value must stay.
        // (every step runs before any assertion, so the namespace test below sees a real destroy)
        const seen: Record<string, unknown> = {};
        const renamed = { ...APP, name: "rustfs-renamed" };
        await up([renamed, OTHER], { [renamed.name]: { access_key: "ds-1" } });
        seen["after the rename"] = await value();
        await up([OTHER], {});
        seen["after the app was removed"] = await value();
        const res = await stack.destroy({ excludeProtected: true, onOutput: () => undefined });
        assert.strictEqual(res.summary.result, "succeeded");
        seen["after destroy"] = await value();
        for (const [when, got] of Object.entries(seen)) {
            assert.deepStrictEqual(got, { access_key: "ds-1" }, `still readable ${when}`);
        }
    });

    it("namespaces created for apps (with the workloads in them) and VSO's CRDs are kept after their apps are gone and after destroy", async () => {
        for (const ns of [APP.namespace, OTHER.namespace]) {
            const r = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${ns}`);
            assert.strictEqual(r.status, 200, `namespace ${ns}: ${r.status}`);
            assert.ok(!r.body.metadata.deletionTimestamp, `namespace ${ns} is not being deleted`);
        }
        const cm = await kubeRequest(bed.kube, "GET", `/api/v1/namespaces/${APP.namespace}/configmaps/user-data`);
        assert.strictEqual(cm.status, 200, "the user's object in it survived");
        // VSO's CRDs (operator.crdFiles) are cluster-wide: destroying the stack must not delete them,
        // or every VaultStaticSecret in the cluster (and the Secrets VSO wrote) would go with them
        const crd = await kubeRequest(bed.kube, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/vaultstaticsecrets.secrets.hashicorp.com");
        assert.strictEqual(crd.status, 200, `VSO's CRD is still there after destroy: ${crd.status}`);
        assert.ok(!crd.body.metadata.deletionTimestamp, "and not being deleted");
    });

    it("VSO's tokens do not carry Vault's default policy: a path added to default is not readable with them", async () => {
        // fresh stack over the kept value; then the article's mistake: a secret path added to `default`
        await up([APP, OTHER], { [APP.name]: { access_key: "ds-1" } });
        const def = await v("GET", "sys/policies/acl/default");
        const original = def.body.data.policy as string;
        await v("PUT", "sys/policies/acl/default", { policy: `${original}\npath "kv/data/ds/*" {\n  capabilities = ["read"]\n}\n` });
        try {
            // log in as VSO does for ds-monitoring: its ServiceAccount's token, audience "vault"
            const tr = await kubeRequest(bed.kube, "POST", `/api/v1/namespaces/${OTHER.namespace}/serviceaccounts/vso-auth/token`, {
                apiVersion: "authentication.k8s.io/v1",
                kind: "TokenRequest",
                spec: { audiences: ["vault"], expirationSeconds: 600 },
            });
            assert.strictEqual(tr.status, 201, tr.text);
            const login = await v("POST", `auth/kubernetes/login`, { role: `vso-${OTHER.namespace}`, jwt: tr.body.status.token });
            assert.strictEqual(login.status, 200, login.text);
            assert.ok(!login.body.auth.policies.includes("default"), `policies: ${login.body.auth.policies}`);
            const token = login.body.auth.client_token as string;
            const other = await vaultRequest(bed.vaultAddr, token, "GET", `kv/data/${APP.path}`);
            assert.strictEqual(other.status, 403, "another namespace's path stays unreadable although default grants it");
            // and what VSO needs of its own token still works
            assert.strictEqual((await vaultRequest(bed.vaultAddr, token, "GET", "auth/token/lookup-self")).status, 200);
            assert.strictEqual((await vaultRequest(bed.vaultAddr, token, "POST", "auth/token/renew-self", {})).status, 200);
        } finally {
            await v("PUT", "sys/policies/acl/default", { policy: original });
        }
    });
});
