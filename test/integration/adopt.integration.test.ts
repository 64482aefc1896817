/**
 * Adopt on the bed (issue 10): the article's setup built by hand — Vault's HTTP API for the mount,
 * the value, the auth method and its config, the glob policy and the one role; kubectl-style YAML for
 * the VaultConnection/VaultAuth/VaultStaticSecret with the `default` ServiceAccount — and VSO syncing
 * it. Then `npm run adopt`, an `up` that only imports (Vault and the cluster unchanged, object by
 * object), the convention step with the destination Secret watched throughout, a second `up` with no
 * changes, and a clean drift check.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { HttpResult, kubeRequest, vaultRequest } from "../../ops/clients";
import { BedEnv, REPO, removeStack, requireBedOrSkip, runScript, sleep, startBed, waitFor, decodeSecretData } from "./bed";
import { PG_BIN, Postgres, postgresSetupSql } from "./postgres";

const STACK = `it-adopt-${process.pid}`;
const NS = "adopt-cnpg";
const VSO = "/apis/secrets.hashicorp.com/v1beta1";
const POLICY = 'path "kv/data/rustfs/*" {\n  capabilities = ["read"]\n}\n';
const KUBECTL = "kubectl.kubernetes.io/last-applied-configuration";

/** The article's three manifests, for namespace NS. */
function manifests(vaultAddr: string): Record<string, any>[] {
    return [
        {
            apiVersion: "secrets.hashicorp.com/v1beta1",
            kind: "VaultConnection",
            metadata: { name: "vault-connection", namespace: NS },
            spec: { address: vaultAddr },
        },
        {
            apiVersion: "secrets.hashicorp.com/v1beta1",
            kind: "VaultAuth",
            metadata: { name: "vault-auth", namespace: NS },
            spec: {
                method: "kubernetes",
                mount: "kubernetes",
                kubernetes: { role: "vso-role", serviceAccount: "default" },
                vaultConnectionRef: "vault-connection",
            },
        },
        {
            apiVersion: "secrets.hashicorp.com/v1beta1",
            kind: "VaultStaticSecret",
            metadata: { name: "rustfs-cloudnativepg", namespace: NS },
            spec: {
                vaultAuthRef: "vault-auth",
                mount: "kv",
                type: "kv-v2",
                path: "rustfs/cloudnativepg",
                refreshAfter: "3s",
                destination: { name: "rustfs-cloudnativepg", create: true },
            },
        },
    ];
}

function ok(r: HttpResult, what: string): HttpResult {
    if (r.status >= 300) {
        throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    }
    return r;
}

const plural = (kind: string) => `${kind.toLowerCase()}s`;

describe("integration: adopting the article's hand-built setup (issue 10) on the bed", function () {
    this.timeout(20 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;
    const vault = (method: string, p: string, body?: unknown) => vaultRequest(bed.vaultAddr, bed.vaultToken, method, p, body);
    const kube = (method: string, p: string, body?: unknown) => kubeRequest(bed.kube, method, p, body);

    before(function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true });
    });

    after(async function () {
        if (!bed) {
            return;
        }
        await removeStack(bed, STACK);
        // the adopted objects outlive the stack on purpose (retained, protected): remove them here
        await kube("DELETE", `/api/v1/namespaces/${NS}`);
        await kube("DELETE", `/api/v1/namespaces/adopt-reviewer`);
        await kube("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/adopt-reviewer`);
        for (const p of ["sys/mounts/kv", "sys/auth/kubernetes", "sys/policies/acl/rustfs-read", "sys/policies/acl/vso-adopt-cnpg-read"]) {
            await vault("DELETE", p);
        }
    });

    /** The article's steps, by hand. Vault runs outside the cluster here, so its auth config carries a reviewer JWT and the CA. */
    async function buildByHand(): Promise<void> {
        ok(await vault("POST", "sys/mounts/kv", { type: "kv", options: { version: "2" } }), "vault secrets enable -path=kv kv-v2");
        ok(await vault("POST", "kv/data/rustfs/cloudnativepg", { data: { access_key: "hand-ak", access_secret_key: "hand-sk" } }), "writing the value");
        ok(await vault("POST", "sys/auth/kubernetes", { type: "kubernetes" }), "vault auth enable kubernetes");
        ok(await kube("POST", "/api/v1/namespaces", { metadata: { name: "adopt-reviewer" } }), "reviewer namespace");
        ok(await kube("POST", "/api/v1/namespaces/adopt-reviewer/serviceaccounts", { metadata: { name: "reviewer" } }), "reviewer ServiceAccount");
        ok(
            await kube("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                metadata: { name: "adopt-reviewer" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
                subjects: [{ kind: "ServiceAccount", name: "reviewer", namespace: "adopt-reviewer" }],
            }),
            "auth-delegator binding",
        );
        ok(
            await kube("POST", "/api/v1/namespaces/adopt-reviewer/secrets", {
                metadata: { name: "reviewer-token", annotations: { "kubernetes.io/service-account.name": "reviewer" } },
                type: "kubernetes.io/service-account-token",
            }),
            "reviewer token Secret",
        );
        const tok = await waitFor("the reviewer token", 60000, async () => {
            const r = await kube("GET", "/api/v1/namespaces/adopt-reviewer/secrets/reviewer-token");
            return r.body?.data?.token ? r.body.data : undefined;
        });
        ok(
            await vault("POST", "auth/kubernetes/config", {
                kubernetes_host: bed.kubeApi,
                kubernetes_ca_cert: Buffer.from(tok["ca.crt"], "base64").toString("utf8"),
                token_reviewer_jwt: Buffer.from(tok.token, "base64").toString("utf8"),
            }),
            "vault write auth/kubernetes/config",
        );
        ok(await vault("PUT", "sys/policies/acl/rustfs-read", { policy: POLICY }), "the rustfs-read policy");
        ok(
            await vault("POST", "auth/kubernetes/role/vso-role", {
                bound_service_account_names: ["default"],
                bound_service_account_namespaces: [NS],
                token_policies: ["rustfs-read"],
                token_ttl: 3600,
            }),
            "the vso-role role",
        );
        ok(await kube("POST", "/api/v1/namespaces", { metadata: { name: NS } }), "the app namespace");
        await waitFor(
            "the namespace's default ServiceAccount",
            60000,
            async () => (await kube("GET", `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200,
        );
        for (const m of manifests(bed.vaultAddr)) {
            // as `kubectl apply` leaves it: the last-applied annotation and kubectl's field manager
            const body = { ...m, metadata: { ...m.metadata, annotations: { [KUBECTL]: JSON.stringify(m) } } };
            ok(
                await kubeRequest(bed.kube, "POST", `${VSO}/namespaces/${NS}/${plural(m.kind)}?fieldManager=kubectl-client-side-apply`, body),
                `kubectl apply ${m.kind}`,
            );
        }
    }

    async function secret(): Promise<HttpResult> {
        return kube("GET", `/api/v1/namespaces/${NS}/secrets/rustfs-cloudnativepg`);
    }

    function decoded(r: HttpResult): Record<string, string> {
        return Object.fromEntries(
            Object.entries((r.body?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
        );
    }

    /** Every object the take-over must not change: Vault's texts and settings, the VSO objects' spec/labels/annotations, the Secret. */
    async function snapshot(): Promise<Record<string, unknown>> {
        const out: Record<string, unknown> = {};
        out.mount = ok(await vault("GET", "sys/mounts"), "mounts").body.data["kv/"];
        out.auth = ok(await vault("GET", "sys/auth"), "auth mounts").body.data["kubernetes/"];
        out.authConfig = ok(await vault("GET", "auth/kubernetes/config"), "auth config").body.data;
        out.policy = ok(await vault("GET", "sys/policies/acl/rustfs-read"), "policy").body.data.policy;
        out.role = ok(await vault("GET", "auth/kubernetes/role/vso-role"), "role").body.data;
        out.value = ok(await vault("GET", "kv/metadata/rustfs/cloudnativepg"), "kv metadata").body.data.current_version;
        for (const m of manifests(bed.vaultAddr)) {
            const o = ok(await kube("GET", `${VSO}/namespaces/${NS}/${plural(m.kind)}/${m.metadata.name}`), m.kind).body;
            out[m.kind] = {
                uid: o.metadata.uid,
                generation: o.metadata.generation,
                labels: o.metadata.labels,
                annotations: o.metadata.annotations,
                spec: o.spec,
            };
        }
        const s = ok(await secret(), "Secret").body;
        out.secret = { uid: s.metadata.uid, resourceVersion: s.metadata.resourceVersion, keys: Object.keys(s.data ?? {}).sort() };
        return out;
    }

    /** The operations of a preview or up, as "op type" for every custom resource (components and providers left out). */
    function customOps(events: EngineEvent[]): string[] {
        return events
            .filter((e) => e.resourcePreEvent)
            .map((e) => e.resourcePreEvent!.metadata)
            .filter((m) => !m.type.startsWith("vault-vso:") && !m.type.startsWith("pulumi:"))
            .map((m) => `${m.op} ${m.type} ${m.urn.split("::").pop()}`);
    }

    it("the article's setup, adopt, an up that only imports, the convention step without a missing Secret, then no changes and no drift", async () => {
        await buildByHand();
        await waitFor("VSO to sync the hand-built VaultStaticSecret", 120000, async () => decoded(await secret()).access_key === "hand-ak");

        // adopt: reads Vault and the cluster, writes the stack's config
        stack = await LocalWorkspace.createStack({ stackName: STACK, workDir: REPO }, { envVars: bed.env });
        const adopted = runScript(bed, "adopt", ["--stack", STACK, "--vault-addr", bed.vaultAddr]);
        assert.strictEqual(adopted.code, 0, `adopt: ${adopted.out}\n${adopted.err}`);
        assert.match(adopted.out, /import policy rustfs-read/);
        assert.match(adopted.out, /policy rustfs-read grants a glob/);
        assert.match(adopted.out, /default ServiceAccount/);
        assert.ok(!/hand-ak|hand-sk/.test(adopted.out + adopted.err), "no value is ever printed");
        const file = path.join(REPO, `Pulumi.${STACK}.yaml`);
        const written = fs.readFileSync(file, "utf8");
        assert.ok(!/hand-ak|hand-sk/.test(written), "no value is written");
        assert.strictEqual(fs.statSync(file).mode & 0o077, 0, "the stack config is not readable by others");
        const cfg = (yaml.load(written) as { config: Record<string, any> }).config;
        assert.deepStrictEqual(cfg["vault-vso-homelab:apps"][0].keys, ["access_key", "access_secret_key"], "key names from the synced Secret");
        const again = runScript(bed, "adopt", ["--stack", STACK, "--vault-addr", bed.vaultAddr]);
        assert.strictEqual(again.code, 1, "a second adopt into the same stack refuses");
        assert.match(again.err, /already has config.*--force/);

        // the first up: imports only, nothing in Vault or the cluster changes
        const before = await snapshot();
        const pre: EngineEvent[] = [];
        let preText = "";
        await stack.preview({ diff: true, onEvent: (e) => void pre.push(e), onOutput: (o) => void (preText += o) });
        const preOps = customOps(pre);
        assert.ok(preOps.length >= 8, preOps.join("\n"));
        // Two provider quirks follow an import with an update that changes nothing, both checked against
        // the snapshot below: the Vault provider re-applies an auth mount's computed `tune` block, and
        // the Kubernetes provider records only the metadata of an imported custom resource, so it
        // applies the identical spec (server-side apply: generation, spec, labels, annotations unchanged)
        const tuneOnly = (o: string) =>
            /^update (vault:index\/authBackend:AuthBackend|kubernetes:secrets\.hashicorp\.com\/v1beta1:Vault(Connection|Auth|StaticSecret)) /.test(o);
        assert.deepStrictEqual(
            preOps.filter((o) => !o.startsWith("import ") && !tuneOnly(o)),
            [],
            `the preview shows only imports:\n${preText}`,
        );
        const upEvents: EngineEvent[] = [];
        const up = await stack.up({ onEvent: (e) => void upEvents.push(e), onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        assert.deepStrictEqual(
            customOps(upEvents).filter((o) => !o.startsWith("import ") && !tuneOnly(o)),
            [],
        );
        await sleep(4000); // a refresh interval of VSO's
        assert.deepStrictEqual(await snapshot(), before, "Vault and the cluster are unchanged, object by object");
        const quiet = await stack.preview({ onOutput: () => undefined });
        assert.deepStrictEqual(
            Object.keys(quiet.changeSummary).filter((k) => k !== "same"),
            [],
            "nothing left to do after the import",
        );
        const adoptedDrift = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(adoptedDrift.code, 0, `no drift right after the take-over: ${adoptedDrift.out}\n${adoptedDrift.err}`);

        // the convention step: the destination Secret is watched all along
        let watching = true;
        const seen: string[] = [];
        const watcher = (async () => {
            while (watching) {
                const r = await secret().catch((e) => ({ status: -1, text: String(e), body: undefined }) as HttpResult);
                if (r.status !== 200) {
                    seen.push(`HTTP ${r.status}`);
                } else if (r.body.metadata.uid !== (before.secret as { uid: string }).uid) {
                    seen.push("recreated");
                } else if (!decoded(r).access_key) {
                    seen.push("empty");
                }
                await sleep(100);
            }
        })();
        try {
            await stack.removeConfig("vault-vso-homelab:adopted");
            const convEvents: EngineEvent[] = [];
            const conv = await stack.up({ onEvent: (e) => void convEvents.push(e), onOutput: () => undefined });
            assert.strictEqual(conv.summary.result, "succeeded");
            const convOps = customOps(convEvents);
            assert.deepStrictEqual(
                convOps.filter((o) => /^(replace|create-replacement|delete-replaced) /.test(o)),
                [],
                `nothing is replaced:\n${convOps.join("\n")}`,
            );
            assert.deepStrictEqual(
                convOps.filter((o) => /^update /.test(o) && /VaultStaticSecret/.test(o)).length,
                1,
                `the VaultStaticSecret is updated in place:\n${convOps.join("\n")}`,
            );
            // VSO now logs in with the namespace's own role and ServiceAccount: a new value reaches the Secret
            ok(await vault("POST", "kv/data/rustfs/cloudnativepg", { data: { access_key: "hand-ak-2", access_secret_key: "hand-sk-2" } }), "new value");
            await waitFor("VSO to sync through the conventional VaultAuth", 120000, async () => decoded(await secret()).access_key === "hand-ak-2");
        } finally {
            watching = false;
            await watcher;
        }
        assert.deepStrictEqual(seen, [], "the destination Secret never went missing, was never recreated or emptied");
        const auth = ok(await kube("GET", `${VSO}/namespaces/${NS}/vaultauths/vault-auth`), "VaultAuth").body;
        assert.strictEqual(auth.spec.kubernetes.serviceAccount, "vso-auth");
        assert.strictEqual(auth.spec.kubernetes.role, `vso-${NS}`);
        assert.strictEqual(auth.metadata.uid, (before.VaultAuth as { uid: string }).uid, "the same VaultAuth, updated in place");
        assert.strictEqual((await vault("GET", "sys/policies/acl/rustfs-read")).status, 200, "the old policy is released, not deleted");
        assert.strictEqual((await vault("GET", "auth/kubernetes/role/vso-role")).status, 200, "the old role is released, not deleted");
        assert.strictEqual(ok(await vault("GET", "kv/metadata/rustfs/cloudnativepg"), "kv").body.data.current_version, 2, "no value deleted");

        const second = await stack.preview({ onOutput: () => undefined });
        assert.deepStrictEqual(
            Object.keys(second.changeSummary).filter((k) => k !== "same"),
            [],
            `a second up has nothing to do: ${JSON.stringify(second.changeSummary)}`,
        );
        const drift = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(drift.code, 0, `no drift: ${drift.out}\n${drift.err}`);
    });

    it("bad input stops adopt with the fix and writes nothing: unreachable Vault, a token that cannot read policies", async () => {
        const other = `${STACK}-bad`;
        const file = path.join(REPO, `Pulumi.${other}.yaml`);
        try {
            const down = runScript(bed, "adopt", ["--stack", other, "--vault-addr", "http://127.0.0.1:1"]);
            assert.strictEqual(down.code, 1);
            assert.match(down.err, /cannot reach Vault at http:\/\/127\.0\.0\.1:1/);
            const weak = ok(await vault("POST", "auth/token/create", { policies: ["default"], ttl: "5m" }), "a weak token").body.auth.client_token;
            const tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "adopt-")), "token");
            fs.writeFileSync(tokenFile, weak, { mode: 0o600 });
            const denied = runScript(bed, "adopt", ["--stack", other, "--vault-addr", bed.vaultAddr, "--token-file", tokenFile]);
            assert.strictEqual(denied.code, 1);
            assert.match(denied.err, /the token cannot read .*permission denied/);
            assert.ok(!denied.err.includes(weak), "the token is never printed");
            assert.ok(!fs.existsSync(file), "nothing written");
        } finally {
            fs.rmSync(file, { force: true });
        }
    });
});

/**
 * Adopt with the database and PKI engines (issue 21, item 4): a real PostgreSQL, a database mount with a
 * connection, a dynamic role (its own statements) and a static role, a PKI mount with a root and a wide
 * role, all by hand; VaultDynamicSecrets and a VaultPKISecret syncing through the article's VaultAuth.
 * Then adopt (the password command printed, no value), the password set as secret config, an up that
 * only imports (and writes the connection again), the roles, CA and VSO objects unchanged, and the
 * convention step: the same objects updated in place, the roles keep their names, the PKI role narrowed.
 */
describe("integration: adopting hand-built database and PKI engines (issue 21) on the bed", function () {
    this.timeout(20 * 60 * 1000);
    const STACK2 = `it-adopt-eng-${process.pid}`;
    const NS2 = "adopt-eng";
    const pg = new Postgres();
    const adminPassword = crypto.randomBytes(18).toString("base64url");
    const CREATE = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT;`, `GRANT "app_rw" TO "{{name}}";`];
    const REVOKE = [`REASSIGN OWNED BY "{{name}}" TO "app_rw";`, `DROP OWNED BY "{{name}}";`, `DROP ROLE IF EXISTS "{{name}}";`];
    const ENGINES = [
        'path "database/creds/app-rw" {\n  capabilities = ["read"]\n}',
        'path "database/static-creds/reporter" {\n  capabilities = ["read"]\n}',
        'path "pki/issue/web" {\n  capabilities = ["update"]\n}',
        'path "sys/leases/renew" {\n  capabilities = ["update"]\n}',
        'path "sys/leases/revoke" {\n  capabilities = ["update"]\n}\n',
    ].join("\n");
    let bed: BedEnv;
    let stack: Stack;
    let started = false;
    const vault = (method: string, p: string, body?: unknown) => vaultRequest(bed.vaultAddr, bed.vaultToken, method, p, body);
    const kube = (method: string, p: string, body?: unknown) => kubeRequest(bed.kube, method, p, body);
    const objects = (): Record<string, any>[] => [
        { kind: "VaultConnection", metadata: { name: "vault-connection" }, spec: { address: bed.vaultAddr } },
        {
            kind: "VaultAuth",
            metadata: { name: "vault-auth" },
            spec: {
                method: "kubernetes",
                mount: "kubernetes",
                kubernetes: { role: "vso-role", serviceAccount: "default" },
                vaultConnectionRef: "vault-connection",
            },
        },
        {
            kind: "VaultDynamicSecret",
            metadata: { name: "app-db" },
            spec: { vaultAuthRef: "vault-auth", mount: "database", path: "creds/app-rw", destination: { name: "app-db", create: true } },
        },
        {
            kind: "VaultDynamicSecret",
            metadata: { name: "reporter" },
            spec: {
                vaultAuthRef: "vault-auth",
                mount: "database",
                path: "static-creds/reporter",
                allowStaticCreds: true,
                destination: { name: "reporter-creds", create: true },
            },
        },
        {
            kind: "VaultPKISecret",
            metadata: { name: "web-cert" },
            spec: {
                vaultAuthRef: "vault-auth",
                mount: "pki",
                role: "web",
                commonName: "web.homelab.lan",
                ttl: "1h",
                expiryOffset: "20m",
                format: "pem",
                destination: { name: "web-tls", create: true, type: "kubernetes.io/tls" },
            },
        },
    ];
    const secretOf = async (name: string) => {
        const r = await kube("GET", `/api/v1/namespaces/${NS2}/secrets/${name}`);
        return r.status === 200 ? r.body : undefined;
    };

    before(async function () {
        requireBedOrSkip(this);
        if (!fs.existsSync(`${PG_BIN}/postgres`)) {
            if (process.env.PVV_REQUIRE_INTEGRATION === "1") {
                throw new Error(`${PG_BIN}/postgres not found: install Debian's postgresql-15 (bash scripts/node-packages.sh ensure installs it)`);
            }
            console.warn(`  [integration] adopt engines case skipped: ${PG_BIN}/postgres not found (apt-get install postgresql-15)`);
            this.skip();
        }
        bed = startBed({ fresh: true });
        await pg.start();
        started = true;
        postgresSetupSql(pg, adminPassword);
    });

    after(async function () {
        if (bed) {
            await removeStack(bed, STACK2);
            await kube("DELETE", `/api/v1/namespaces/${NS2}`);
            await kube("DELETE", `/api/v1/namespaces/adopt-eng-reviewer`);
            await kube("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/adopt-eng-reviewer`);
            for (const p of [
                "sys/mounts/database",
                "sys/mounts/pki",
                "sys/mounts/kv",
                "sys/auth/kubernetes",
                "sys/policies/acl/engines",
                `sys/policies/acl/vso-${NS2}-read`,
            ]) {
                await vault("DELETE", p);
            }
        }
        if (started) {
            pg.stop();
        }
    });

    /** The engines, the auth method and the VSO objects, by hand (Vault's HTTP API, kubectl-style objects). */
    async function buildByHand(): Promise<void> {
        ok(await vault("POST", "sys/mounts/database", { type: "database" }), "vault secrets enable database");
        ok(
            await vault("POST", "database/config/appdb", {
                plugin_name: "postgresql-database-plugin",
                connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${pg.port}/appdb?sslmode=disable`,
                username: "vault_admin",
                password: adminPassword,
                allowed_roles: ["app-rw", "reporter"],
            }),
            "the connection",
        );
        ok(
            await vault("POST", "database/roles/app-rw", {
                db_name: "appdb",
                creation_statements: CREATE,
                revocation_statements: REVOKE,
                default_ttl: 300,
                max_ttl: 3600,
            }),
            "the dynamic role",
        );
        ok(await vault("POST", "database/static-roles/reporter", { db_name: "appdb", username: "reporter", rotation_period: 3600 }), "the static role");
        ok(await vault("POST", "sys/mounts/pki", { type: "pki", config: { max_lease_ttl: "87600h" } }), "vault secrets enable pki");
        ok(await vault("POST", "pki/root/generate/internal", { common_name: "hand-built CA", ttl: "87600h" }), "the root CA");
        ok(await vault("POST", "pki/roles/web", { allowed_domains: ["homelab.lan"], allow_subdomains: true, max_ttl: "72h" }), "the wide PKI role");
        ok(await vault("PUT", "sys/policies/acl/engines", { policy: ENGINES }), "the engines policy");
        ok(await vault("POST", "sys/mounts/kv", { type: "kv", options: { version: "2" } }), "the KV mount (the platform always has one)");
        ok(await vault("POST", "sys/auth/kubernetes", { type: "kubernetes" }), "vault auth enable kubernetes");
        const rns = "adopt-eng-reviewer";
        ok(await kube("POST", "/api/v1/namespaces", { metadata: { name: rns } }), "reviewer namespace");
        ok(await kube("POST", `/api/v1/namespaces/${rns}/serviceaccounts`, { metadata: { name: "reviewer" } }), "reviewer ServiceAccount");
        ok(
            await kube("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
                metadata: { name: rns },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
                subjects: [{ kind: "ServiceAccount", name: "reviewer", namespace: rns }],
            }),
            "auth-delegator binding",
        );
        ok(
            await kube("POST", `/api/v1/namespaces/${rns}/secrets`, {
                metadata: { name: "reviewer-token", annotations: { "kubernetes.io/service-account.name": "reviewer" } },
                type: "kubernetes.io/service-account-token",
            }),
            "reviewer token Secret",
        );
        const tok = await waitFor("the reviewer token", 60000, async () => {
            const r = await kube("GET", `/api/v1/namespaces/${rns}/secrets/reviewer-token`);
            return r.body?.data?.token ? r.body.data : undefined;
        });
        ok(
            await vault("POST", "auth/kubernetes/config", {
                kubernetes_host: bed.kubeApi,
                kubernetes_ca_cert: Buffer.from(tok["ca.crt"], "base64").toString("utf8"),
                token_reviewer_jwt: Buffer.from(tok.token, "base64").toString("utf8"),
            }),
            "vault write auth/kubernetes/config",
        );
        ok(
            await vault("POST", "auth/kubernetes/role/vso-role", {
                bound_service_account_names: ["default"],
                bound_service_account_namespaces: [NS2],
                token_policies: ["engines"],
                token_ttl: 3600,
            }),
            "the vso-role role",
        );
        ok(await kube("POST", "/api/v1/namespaces", { metadata: { name: NS2 } }), "the app namespace");
        await waitFor("the default ServiceAccount", 60000, async () => (await kube("GET", `/api/v1/namespaces/${NS2}/serviceaccounts/default`)).status === 200);
        for (const o of objects()) {
            const m = { apiVersion: "secrets.hashicorp.com/v1beta1", ...o, metadata: { ...o.metadata, namespace: NS2 } };
            const body = { ...m, metadata: { ...m.metadata, annotations: { [KUBECTL]: JSON.stringify(m) } } };
            ok(await kube("POST", `${VSO}/namespaces/${NS2}/${plural(o.kind)}?fieldManager=kubectl-client-side-apply`, body), `kubectl apply ${o.kind}`);
        }
    }

    /** What the take-over must not change: the roles as Vault holds them, the CA, the VSO objects. */
    async function snapshot(): Promise<Record<string, unknown>> {
        const out: Record<string, unknown> = {};
        out.role = ok(await vault("GET", "database/roles/app-rw"), "role").body.data;
        out.staticRole = ((d) => ({ ...d, last_vault_rotation: undefined, ttl: undefined }))(
            ok(await vault("GET", "database/static-roles/reporter"), "static role").body.data,
        );
        out.pkiRole = ok(await vault("GET", "pki/roles/web"), "pki role").body.data;
        out.ca = ok(await vault("GET", "pki/cert/ca"), "the CA certificate").body.data.certificate;
        const conn = ok(await vault("GET", "database/config/appdb"), "connection").body.data;
        out.connection = { allowed: conn.allowed_roles, user: conn.connection_details.username, url: conn.connection_details.connection_url };
        for (const o of objects()) {
            const got = ok(await kube("GET", `${VSO}/namespaces/${NS2}/${plural(o.kind)}/${o.metadata.name}`), o.kind).body;
            out[`${o.kind}/${o.metadata.name}`] = {
                uid: got.metadata.uid,
                generation: got.metadata.generation,
                annotations: got.metadata.annotations,
                spec: got.spec,
            };
        }
        return out;
    }

    function customOps(events: EngineEvent[]): string[] {
        return events
            .filter((e) => e.resourcePreEvent)
            .map((e) => e.resourcePreEvent!.metadata)
            .filter((m) => !m.type.startsWith("vault-vso:") && !m.type.startsWith("pulumi:"))
            .map((m) => `${m.op} ${m.type} ${m.urn.split("::").pop()}`);
    }

    it("adopt takes the engines over: an up that imports (the connection written again with its password), then the convention step in place", async () => {
        await buildByHand();
        await waitFor("VSO to sync the hand-built credentials and certificate", 180000, async () => {
            const [db, rep, tls] = [await secretOf("app-db"), await secretOf("reporter-creds"), await secretOf("web-tls")];
            return db?.data?.username && rep?.data?.password && tls?.data?.["tls.crt"] ? true : undefined;
        });
        stack = await LocalWorkspace.createStack({ stackName: STACK2, workDir: REPO }, { envVars: bed.env });
        const adopted = runScript(bed, "adopt", ["--stack", STACK2, "--vault-addr", bed.vaultAddr]);
        assert.strictEqual(adopted.code, 0, `adopt: ${adopted.out}\n${adopted.err}`);
        assert.ok(adopted.out.includes(`pulumi config set --secret --path 'databasePasswords.appdb' --stack ${STACK2}`), adopted.out);
        assert.match(adopted.out, /import database connection appdb/);
        assert.match(adopted.out, /PKI role web .*allows every subdomain/);
        assert.ok(!(adopted.out + adopted.err).includes(adminPassword), "the password is never printed");
        const written = fs.readFileSync(path.join(REPO, `Pulumi.${STACK2}.yaml`), "utf8");
        assert.ok(!written.includes(adminPassword), "nor written");
        const cfg = (yaml.load(written) as { config: Record<string, any> }).config;
        assert.deepStrictEqual(cfg["vault-vso-homelab:database"].roles[0].revocationStatements, REVOKE, "the role's own statements, verbatim");
        assert.deepStrictEqual(cfg["vault-vso-homelab:pki"].ca, { type: "existing" });
        // what adopt prints, done as the Automation API does it (a secret, never on a command line)
        await stack.setConfig("vault-vso-homelab:databasePasswords", { value: JSON.stringify({ appdb: adminPassword }), secret: true });

        const before = await snapshot();
        const events: EngineEvent[] = [];
        const up = await stack.up({ onEvent: (e) => void events.push(e), onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const allowed = (o: string) =>
            o.startsWith("import ") ||
            /^update (vault:index\/authBackend:AuthBackend|vault:database\/secretBackendConnection:SecretBackendConnection|kubernetes:secrets\.hashicorp\.com\/v1beta1:Vault(Connection|Auth|DynamicSecret|PKISecret)) /.test(
                o,
            );
        const ops = customOps(events);
        assert.deepStrictEqual(
            ops.filter((o) => !allowed(o)),
            [],
            `only imports (and the connection's password):\n${ops.join("\n")}`,
        );
        assert.ok(ops.some((o) => /^import vault:pkiSecret\/secretBackendRole/.test(o)) && !ops.some((o) => /secretBackendRootCert/.test(o)), ops.join("\n"));
        assert.deepStrictEqual(await snapshot(), before, "roles, CA, connection and VSO objects unchanged");
        const quiet = await stack.preview({ onOutput: () => undefined });
        assert.deepStrictEqual(
            Object.keys(quiet.changeSummary).filter((k) => k !== "same"),
            [],
            "nothing left to do after the first up",
        );

        // the convention step
        await stack.removeConfig("vault-vso-homelab:adopted");
        const convEvents: EngineEvent[] = [];
        const conv = await stack.up({ onEvent: (e) => void convEvents.push(e), onOutput: () => undefined });
        assert.strictEqual(conv.summary.result, "succeeded");
        const convOps = customOps(convEvents);
        assert.deepStrictEqual(
            convOps.filter((o) => /^(replace|create-replacement|delete-replaced) /.test(o)),
            [],
            convOps.join("\n"),
        );
        const after = await snapshot();
        for (const k of ["VaultDynamicSecret/app-db", "VaultDynamicSecret/reporter", "VaultPKISecret/web-cert"]) {
            assert.strictEqual((after[k] as { uid: string }).uid, (before[k] as { uid: string }).uid, `${k}: the same object, updated in place`);
        }
        assert.strictEqual((after.pkiRole as { allow_subdomains: boolean }).allow_subdomains, false, "the PKI role is narrowed");
        assert.strictEqual(after.ca, before.ca, "the CA is never touched");
        const pol = ok(await vault("GET", `sys/policies/acl/vso-${NS2}-read`), "the namespace's policy").body.data.policy;
        for (const p of ["database/creds/app-rw", "database/static-creds/reporter", "pki/issue/web"]) {
            assert.ok(pol.includes(`path "${p}"`), pol);
        }
        // the app's credential keeps working across the switch to the conventional VaultAuth: for 60 s
        // (VSO logs in with the new role at once) the Secret's user exists in Postgres and logs in
        const until = Date.now() + 60000;
        const seenUsers = new Set<string>();
        while (Date.now() < until) {
            const s = decodeSecretData((await secretOf("app-db"))!.data);
            seenUsers.add(s.username);
            const login = pg.as(s.username, s.password, "SELECT current_user;");
            assert.ok(login.ok && login.out === s.username, `the Secret's user ${s.username} logs in after the convention step: ${login.out}`);
            await new Promise((r) => setTimeout(r, 5000));
        }
        console.log(`    (users seen in app-db after the convention step: ${seenUsers.size})`);
        const second = await stack.preview({ onOutput: () => undefined });
        assert.deepStrictEqual(
            Object.keys(second.changeSummary).filter((k) => k !== "same"),
            [],
            `a second up has nothing to do: ${JSON.stringify(second.changeSummary)}`,
        );
    });
});
