/**
 * Adopt, pure layer: from what a hand-built setup holds (the article's) to the stack config, the
 * import plan, the problems with their fixes and the unmanaged rest; and the platform turning the
 * `adopted` section into imports that keep the same resources the convention step updates.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { AdoptedSetup, VaultSecretsPlatform, inventoryOf, planPlatformArgs, validateAdoptedSetup, validatePlatformArgs } from "../../components";
import { loginTargetProblem } from "../../ops/doctor";
import * as pulumi from "@pulumi/pulumi";
import {
    AdoptError,
    LiveCluster,
    LiveObject,
    LiveVault,
    formatAdoptionReport,
    mergedStackConfig,
    planAdoption,
    policyPaths,
    readLiveCluster,
    readLiveVault,
    redactUrl,
} from "../../ops";
import { goDurationSeconds, policiesGrant, policyRules } from "../../ops/adopt-engines";
import { planDatabase } from "../../components/config/database";
import { planPki } from "../../components/config/pki";
import { parseAdoptArgs } from "../../cli/args";
import { HomelabConfig, databaseFromConfig, platformArgsFromConfig } from "../../programs/homelab/config";
import { MockRecorder } from "./harness";

const GLOB_POLICY = 'path "kv/data/rustfs/*" {\n  capabilities = ["read"]\n}\n';

/** The article's Vault: kv-v2 at kv, kubernetes auth with its host, a glob policy, one role for two namespaces. */
function articleVault(): LiveVault {
    return {
        mounts: {
            "kv/": { type: "kv", options: { version: "2" } },
            "secret/": { type: "kv", options: { version: "2" } },
            "sys/": { type: "system" },
            "cubbyhole/": { type: "cubbyhole" },
            "identity/": { type: "identity" },
        },
        authMounts: { "token/": { type: "token" }, "kubernetes/": { type: "kubernetes" } },
        authConfigs: {
            kubernetes: {
                kubernetes_host: "https://kubernetes.default.svc.cluster.local:443",
                kubernetes_ca_cert: "",
                disable_iss_validation: true,
                disable_local_ca_jwt: false,
                issuer: "",
                token_reviewer_jwt_set: false,
            },
        },
        policies: {
            root: "",
            default: 'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n',
            "rustfs-read": GLOB_POLICY,
            unrelated: 'path "secret/data/x" {}',
        },
        roles: {
            kubernetes: {
                "vso-role": {
                    bound_service_account_names: ["default"],
                    bound_service_account_namespaces: ["cnpg", "rustfs"],
                    token_policies: ["rustfs-read"],
                    token_ttl: 3600,
                    token_max_ttl: 0,
                    audience: "",
                    alias_name_source: "serviceaccount_uid",
                },
            },
        },
    };
}

function obj(kind: string, namespace: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): LiveObject {
    return { kind, metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec };
}

/** The article's manifests in namespace cnpg, applied with kubectl (hence last-applied-configuration). */
function articleCluster(): LiveCluster {
    const kubectl = { "kubectl.kubernetes.io/last-applied-configuration": "{...}" };
    return {
        connections: [
            obj("VaultConnection", "cnpg", "vault-connection", { address: "http://vault.vault.svc.cluster.local:8200", skipTLSVerify: false }, kubectl),
        ],
        auths: [
            obj(
                "VaultAuth",
                "cnpg",
                "vault-auth",
                {
                    method: "kubernetes",
                    mount: "kubernetes",
                    kubernetes: { role: "vso-role", serviceAccount: "default" },
                    vaultConnectionRef: "vault-connection",
                },
                kubectl,
            ),
        ],
        staticSecrets: [
            obj(
                "VaultStaticSecret",
                "cnpg",
                "rustfs-cloudnativepg",
                {
                    vaultAuthRef: "vault-auth",
                    mount: "kv",
                    type: "kv-v2",
                    path: "rustfs/cloudnativepg",
                    refreshAfter: "60s",
                    hmacSecretData: true,
                    destination: { name: "rustfs-cloudnativepg", create: true },
                    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
                },
                kubectl,
            ),
        ],
        others: [],
        secretKeys: { "cnpg/rustfs-cloudnativepg": ["_raw", "access_secret_key", "access_key"] },
    };
}

const OPTS = { vaultAddr: "http://127.0.0.1:8200" };

describe("adopt: planning the take-over (pure)", () => {
    it("reproduces the article's setup: the app with its key names, the adopted objects verbatim, the imports", () => {
        const plan = planAdoption(articleVault(), articleCluster(), OPTS);
        assert.deepStrictEqual(plan.errors, []);
        const cfg = plan.config!;
        assert.deepStrictEqual(cfg.apps, [
            {
                name: "rustfs-cloudnativepg",
                namespace: "cnpg",
                path: "rustfs/cloudnativepg",
                refreshAfter: "60s",
                rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
                keys: ["access_key", "access_secret_key"],
            },
        ]);
        assert.deepStrictEqual(cfg.vault, {
            install: false,
            address: "http://vault.vault.svc.cluster.local:8200",
            providerAddress: OPTS.vaultAddr,
            allowInsecureHttp: true,
        });
        assert.deepStrictEqual(cfg.kv, { path: "kv", protect: true });
        assert.deepStrictEqual(cfg.adopted.policies, [{ name: "rustfs-read", policy: GLOB_POLICY }], "the policy text byte for byte");
        assert.deepStrictEqual(cfg.adopted.roles, [
            {
                name: "vso-role",
                boundServiceAccountNames: ["default"],
                boundServiceAccountNamespaces: ["cnpg", "rustfs"],
                tokenPolicies: ["rustfs-read"],
                tokenTtl: 3600,
            },
        ]);
        const vss = cfg.adopted.staticSecrets![0];
        assert.deepStrictEqual(
            vss.annotations,
            { "kubectl.kubernetes.io/last-applied-configuration": "{...}" },
            "metadata kept as it is (the import re-applies it)",
        );
        assert.deepStrictEqual(vss.spec, articleCluster().staticSecrets[0].spec, "the spec verbatim, CRD defaults included");
        assert.deepStrictEqual(
            plan.imports.map((s) => s.id),
            [
                "kv",
                "kubernetes",
                "auth/kubernetes/config",
                "rustfs-read",
                "auth/kubernetes/role/vso-role",
                "cnpg/vault-connection",
                "cnpg/vault-auth",
                "cnpg/rustfs-cloudnativepg",
            ],
        );
    });

    it("names the article's pitfalls with their fix: glob policy, default ServiceAccount, plain http", () => {
        const plan = planAdoption(articleVault(), articleCluster(), OPTS);
        const whats = plan.problems.map((p) => p.what).join("\n");
        assert.match(whats, /policy rustfs-read grants a glob \("kv\/data\/rustfs\/\*"\)/);
        assert.match(whats, /VaultAuth cnpg\/vault-auth logs in as the namespace's default ServiceAccount/);
        assert.match(whats, /plain http/);
        assert.ok(
            plan.problems.every((p) => p.fix.length > 10),
            "every problem has a fix",
        );
    });

    it("the quoted wildcard the UI stores is named, and a role bound to any namespace too", () => {
        const v = articleVault();
        v.roles.kubernetes["vso-role"].bound_service_account_namespaces = ['"*"'];
        let plan = planAdoption(v, articleCluster(), OPTS);
        assert.ok(
            plan.problems.some((p) => /quote characters/.test(p.what) && /vso-role/.test(p.what)),
            JSON.stringify(plan.problems),
        );
        v.roles.kubernetes["vso-role"].bound_service_account_namespaces = ["*"];
        plan = planAdoption(v, articleCluster(), OPTS);
        assert.ok(
            plan.problems.some((p) => /is "\*": any namespace/.test(p.what)),
            JSON.stringify(plan.problems),
        );
    });

    it("secret paths in the default policy are named: the convention step does not fix them", () => {
        const v = articleVault();
        v.policies.default += 'path "kv/data/rustfs/cloudnativepg" {\n  capabilities = ["read"]\n}\n';
        const plan = planAdoption(v, articleCluster(), OPTS);
        const p = plan.problems.find((x) => /default policy grants/.test(x.what));
        assert.ok(p, JSON.stringify(plan.problems));
        assert.match(p.fix, /by hand/);
        assert.ok(!plan.config!.adopted.policies!.some((x) => x.name === "default"), "the default policy is never adopted");
    });

    it("a VaultAuth in another namespace is named, and its VaultStaticSecret left unmanaged", () => {
        const c = articleCluster();
        c.staticSecrets.push(
            obj("VaultStaticSecret", "rustfs", "rustfs-app", { vaultAuthRef: "cnpg/vault-auth", mount: "kv", type: "kv-v2", path: "rustfs/app" }),
        );
        const plan = planAdoption(articleVault(), c, OPTS);
        assert.ok(plan.problems.some((p) => /rustfs\/rustfs-app uses the VaultAuth cnpg\/vault-auth of another namespace/.test(p.what)));
        assert.ok(plan.unmanaged.some((u) => u.kind === "VaultStaticSecret" && u.name === "rustfs-app"));
        assert.deepStrictEqual(
            plan.config!.apps.map((a) => a.name),
            ["rustfs-cloudnativepg"],
        );
    });

    it("what the stack will not manage is listed, and a policy or role can be taken in on request", () => {
        const plan = planAdoption(articleVault(), articleCluster(), OPTS);
        const listed = plan.unmanaged.map((u) => `${u.kind} ${u.name}`);
        assert.ok(listed.includes("secrets mount secret"), listed.join(", "));
        assert.ok(listed.includes("policy unrelated"), listed.join(", "));
        assert.ok(!listed.some((l) => /policy (root|default)|mount (sys|cubbyhole|identity)|auth mount token/.test(l)), listed.join(", "));
        const withIt = planAdoption(articleVault(), articleCluster(), { ...OPTS, include: ["policy:unrelated"] });
        assert.ok(withIt.config!.adopted.policies!.some((p) => p.name === "unrelated"));
        assert.ok(!withIt.unmanaged.some((u) => u.name === "unrelated"));
        const missing = planAdoption(articleVault(), articleCluster(), { ...OPTS, include: ["policy:nope"] });
        assert.match(missing.errors.join("\n"), /--include policy:nope: no such policy/);
        assert.strictEqual(missing.config, undefined, "nothing to write on an error");
    });

    it("an object of a kind the package does not manage that shares an adopted VaultAuth is flagged before the convention step", () => {
        const c = articleCluster();
        c.others.push(obj("VaultDynamicSecret", "cnpg", "db-creds", { vaultAuthRef: "vault-auth", mount: "database", path: "creds/app" }));
        const plan = planAdoption(articleVault(), c, OPTS);
        const u = plan.unmanaged.find((x) => x.name === "db-creds");
        assert.ok(u && /convention step changes/.test(u.why), JSON.stringify(plan.unmanaged));
    });

    it("two apps writing the same Secret stop adopt with the fix; so does nothing to adopt", () => {
        const c = articleCluster();
        c.staticSecrets.push({ ...c.staticSecrets[0], metadata: { ...c.staticSecrets[0].metadata, name: "second" } });
        const plan = planAdoption(articleVault(), c, OPTS);
        assert.match(plan.errors.join("\n"), /both write the Secret cnpg\/rustfs-cloudnativepg.*another destination\.name/);
        assert.strictEqual(plan.config, undefined);
        const empty = planAdoption(articleVault(), { ...articleCluster(), staticSecrets: [] }, OPTS);
        assert.match(empty.errors.join("\n"), /nothing to take over/);
    });

    it("a missing role, auth mount or KV mount is named (the errors users meet at login)", () => {
        const v = articleVault();
        v.roles.kubernetes = {};
        assert.ok(planAdoption(v, articleCluster(), OPTS).problems.some((p) => /role vso-role does not exist.*invalid role name/.test(p.what)));
        const noAuth = articleVault();
        delete noAuth.authMounts["kubernetes/"];
        assert.match(planAdoption(noAuth, articleCluster(), OPTS).errors.join("\n"), /auth mount kubernetes, which is not enabled/);
        const noKv = articleVault();
        delete noKv.mounts["kv/"];
        assert.match(planAdoption(noKv, articleCluster(), OPTS).errors.join("\n"), /mount kv, which does not exist/);
    });

    it("a conventional name that already exists in Vault is named before the convention step could overwrite it", () => {
        const v = articleVault();
        v.policies["vso-cnpg-read"] = 'path "kv/data/other" {}';
        const plan = planAdoption(v, articleCluster(), OPTS);
        assert.ok(plan.problems.some((p) => /vso-cnpg-read already exists/.test(p.what) && /policyNameTemplate/.test(p.fix)));
    });

    it("the written config is valid for the homelab program as it is, and after the convention step", () => {
        const cfg = planAdoption(articleVault(), articleCluster(), OPTS).config!;
        const asYaml = yaml.load(yaml.dump(cfg)) as unknown as HomelabConfig;
        const { args, problems } = platformArgsFromConfig(asYaml, undefined);
        assert.deepStrictEqual(problems, []);
        assert.deepStrictEqual(validatePlatformArgs(args), []);
        const { adopted: _dropped, ...conventions } = asYaml;
        const after = platformArgsFromConfig(conventions as HomelabConfig, undefined);
        assert.deepStrictEqual([...after.problems, ...validatePlatformArgs(after.args)], []);
    });

    it("the inventory of an adopted namespace has the adopted VaultAuth's audiences, so the doctor checks against those", () => {
        const withAud = articleCluster();
        const cfgs = [planAdoption(articleVault(), articleCluster(), OPTS).config!];
        (withAud.auths[0].spec as { kubernetes: Record<string, unknown> }).kubernetes.audiences = ["vault", "sts"];
        cfgs.push(planAdoption(articleVault(), withAud, OPTS).config!);
        const want = [[], ["sts", "vault"]];
        cfgs.forEach((cfg, i) => {
            const { args } = platformArgsFromConfig(yaml.load(yaml.dump(cfg)) as unknown as HomelabConfig, undefined);
            const inv = inventoryOf(planPlatformArgs(args), "http://vault.vault.svc.cluster.local:8200", {});
            const login = { mount: "kubernetes", role: "vso-role", sa: "default", audiences: want[i] };
            assert.strictEqual(loginTargetProblem(login, "cnpg", inv), undefined, JSON.stringify(inv.namespaces));
            // and a VaultAuth changed afterwards is still caught
            assert.match(loginTargetProblem({ ...login, audiences: ["evil"] }, "cnpg", inv) ?? "", /audiences \["evil"\]/);
        });
    });

    it("policyPaths finds each path block and whether it is a glob", () => {
        assert.deepStrictEqual(policyPaths('path "kv/data/a" {}\npath "kv/data/b/*" {}\npath "kv/+/c" {}'), [
            { path: "kv/data/a", glob: false },
            { path: "kv/data/b/*", glob: true },
            { path: "kv/+/c", glob: true },
        ]);
    });
});

describe("adopt: the adopted section", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("wrong types from YAML are named by field before any API call", () => {
        const problems = validateAdoptedSetup({
            kvMount: "yes",
            policies: { a: 1 },
            roles: [{ name: "r" }],
            staticSecrets: [{ name: "x" }],
        } as unknown as AdoptedSetup);
        const fields = problems.map((p) => p.field);
        assert.ok(fields.includes("adopted.kvMount"), fields.join(", "));
        assert.ok(fields.includes("adopted.policies"), fields.join(", "));
        assert.ok(fields.includes("adopted.roles[0].boundServiceAccountNames"), fields.join(", "));
        assert.ok(fields.includes("adopted.staticSecrets[0].namespace"), fields.join(", "));
        assert.ok(
            validateAdoptedSetup({ polices: [] } as unknown as AdoptedSetup).some((p) => /did you mean "policies"/.test(p.message)),
            "a misspelled key is named",
        );
    });

    async function platformResources(withAdopted: boolean) {
        rec.install();
        const cfg = planAdoption(articleVault(), articleCluster(), OPTS).config!;
        const hc = { ...cfg, ...(withAdopted ? {} : { adopted: undefined }) } as unknown as HomelabConfig;
        const { args } = platformArgsFromConfig(hc, undefined);
        new VaultSecretsPlatform("homelab", { ...args, vault: { ...args.vault, token: "t" } });
        await rec.settle();
        return [...rec.resources];
    }

    it("the platform imports every adopted object as it is and creates nothing of its own for the namespace", async () => {
        const res = await platformResources(true);
        const imported = Object.fromEntries(res.filter((r) => r.importId).map((r) => [r.importId, r.type]));
        assert.deepStrictEqual(imported, {
            kv: "vault:index/mount:Mount",
            kubernetes: "vault:index/authBackend:AuthBackend",
            "auth/kubernetes/config": "vault:kubernetes/authBackendConfig:AuthBackendConfig",
            "rustfs-read": "vault:index/policy:Policy",
            "auth/kubernetes/role/vso-role": "vault:kubernetes/authBackendRole:AuthBackendRole",
            "cnpg/vault-connection": "kubernetes:secrets.hashicorp.com/v1beta1:VaultConnection",
            "cnpg/vault-auth": "kubernetes:secrets.hashicorp.com/v1beta1:VaultAuth",
            "cnpg/rustfs-cloudnativepg": "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret",
        });
        const created = res.filter((r) => !r.importId && !r.type.startsWith("vault-vso:") && !r.type.startsWith("pulumi:providers:"));
        assert.deepStrictEqual(
            created.map((r) => r.type),
            [],
            "the first up only imports",
        );
        const vss = res.find((r) => r.importId === "cnpg/rustfs-cloudnativepg")!;
        assert.deepStrictEqual(vss.inputs.metadata, {
            name: "rustfs-cloudnativepg",
            namespace: "cnpg",
            annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{...}" },
        });
        assert.deepStrictEqual(vss.inputs.spec, articleCluster().staticSecrets[0].spec);
        const role = res.find((r) => r.importId === "auth/kubernetes/role/vso-role")!;
        assert.deepStrictEqual(role.inputs.boundServiceAccountNamespaces, ["cnpg", "rustfs"]);
    });

    it("the convention step keeps the same VaultConnection, VaultAuth and VaultStaticSecret resources (updated in place, never recreated)", async () => {
        const before = await platformResources(true);
        const after = await platformResources(false);
        for (const kind of ["VaultConnection", "VaultAuth", "VaultStaticSecret"]) {
            const type = `kubernetes:secrets.hashicorp.com/v1beta1:${kind}`;
            const b = before.find((r) => r.type === type)!;
            const a = after.find((r) => r.type === type)!;
            assert.strictEqual(a.name, b.name, `${kind}: same resource name, so the same URN`);
            assert.strictEqual(a.inputs.metadata.name, b.inputs.metadata.name, `${kind}: same object`);
        }
        const auth = after.find((r) => r.type.endsWith(":VaultAuth"))!;
        assert.strictEqual(auth.inputs.spec.kubernetes.serviceAccount, "vso-auth");
        assert.strictEqual(auth.inputs.spec.kubernetes.role, "vso-cnpg");
        assert.ok(!after.some((r) => r.importId), "nothing imported after the convention step");
    });
});

describe("adopt: stack config file and arguments", () => {
    it("keeps the secrets salt and other namespaces' config; refuses to replace this project's config without --force", () => {
        const existing = "encryptionsalt: v1:abc\nconfig:\n  vault:token:\n    secure: xyz\n";
        const r = mergedStackConfig(existing, "vault-vso-homelab", { apps: [{ name: "a" }] }, false);
        assert.ok("text" in r);
        const doc = yaml.load(r.text) as Record<string, any>;
        assert.strictEqual(doc.encryptionsalt, "v1:abc");
        assert.deepStrictEqual(doc.config["vault:token"], { secure: "xyz" });
        assert.deepStrictEqual(doc.config["vault-vso-homelab:apps"], [{ name: "a" }]);
        const again = mergedStackConfig(r.text, "vault-vso-homelab", { apps: [] }, false);
        assert.ok("refusal" in again && /already has config of vault-vso-homelab/.test(again.refusal));
        assert.ok("text" in mergedStackConfig(r.text, "vault-vso-homelab", { apps: [] }, true));
    });

    it("needs a stack, Vault's address and a token from the environment or a file, never the command line", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-args-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
        const env = { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t" };
        assert.ok("args" in parseAdoptArgs(["--stack", "s"], dir, env));
        const err = (argv: string[], e: Record<string, string | undefined> = env) => {
            const r = parseAdoptArgs(argv, dir, e);
            return "error" in r ? r.error : "";
        };
        assert.match(err([]), /--stack is required/);
        assert.match(err(["--stack", "s", "--token", "x"]), /unknown argument "--token"/);
        assert.match(err(["--stack", "s"], { VAULT_ADDR: "http://127.0.0.1:8200" }), /no Vault token: set \$VAULT_TOKEN or give --token-file/);
        assert.match(err(["--stack", "s"], { VAULT_TOKEN: "t" }), /give Vault's address/);
        assert.match(err(["--stack", "s", "--include", "mount:kv"]), /must be policy:NAME or role:NAME/);
        fs.rmSync(dir, { recursive: true });
    });
});

describe("adopt: reading the live setup (against local fake APIs)", () => {
    let server: http.Server;
    let routes: Record<string, { status: number; body: unknown }> = {};
    let base = "";
    before(async () => {
        server = http.createServer((req, res) => {
            const key = `${req.method} ${req.url}`;
            const r = routes[key] ?? { status: 404, body: { errors: [] } };
            res.writeHead(r.status, { "Content-Type": "application/json" });
            res.end(JSON.stringify(r.body));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    it("a cluster without VSO's CRDs is an error with the fix", async () => {
        routes = {};
        await assert.rejects(readLiveCluster({ server: base }), (e: Error) => e instanceof AdoptError && /VSO's CRDs are not installed/.test(e.message));
    });

    it("only the key names of a destination Secret are kept, never its values", async () => {
        const vss = obj("VaultStaticSecret", "cnpg", "app", {
            vaultAuthRef: "vault-auth",
            mount: "kv",
            type: "kv-v2",
            path: "a",
            destination: { name: "app-secret", create: true },
        });
        routes = {
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultstaticsecrets": { status: 200, body: { items: [vss] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultauths": { status: 200, body: { items: [] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultconnections": { status: 200, body: { items: [] } },
            "GET /api/v1/namespaces/cnpg/secrets/app-secret": {
                status: 200,
                body: { metadata: { name: "app-secret" }, data: { password: Buffer.from("s3cr3t-value").toString("base64"), _raw: "e30=" } },
            },
        };
        const live = await readLiveCluster({ server: base });
        assert.deepStrictEqual(live.secretKeys, { "cnpg/app-secret": ["password", "_raw"] });
        const dump = JSON.stringify(live);
        assert.ok(!dump.includes("s3cr3t") && !dump.includes(Buffer.from("s3cr3t-value").toString("base64")), "no value kept");
    });

    it("a token that cannot read the auth mounts, and an unreachable Vault, are errors naming what is needed", async () => {
        routes = { "GET /v1/sys/mounts": { status: 200, body: { data: {} } }, "GET /v1/sys/auth": { status: 403, body: { errors: ["permission denied"] } } };
        await assert.rejects(readLiveVault(base, "t"), (e: Error) => e instanceof AdoptError && /cannot read the auth mounts .*sys\/auth/.test(e.message));
        await assert.rejects(
            readLiveVault("http://127.0.0.1:1", "t"),
            (e: Error) => e instanceof AdoptError && /cannot reach Vault at http:\/\/127\.0\.0\.1:1/.test(e.message),
        );
    });
});

// ---------------------------------------------------------------------------------------------------
// The database and PKI engines (issue 21, item 4)

const CREATE = [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`, `GRANT app_rw TO "{{name}}";`];
const ENGINES_POLICY =
    'path "database/creds/app-rw" {\n  capabilities = ["read"]\n}\npath "database/static-creds/reporter" {\n  capabilities = ["read"]\n}\npath "sys/leases/renew" {\n  capabilities = ["update"]\n}\n';

/** The article's Vault plus a hand-built database engine (a connection as postgres, a dynamic, a static and an unused role) and a PKI engine with a wide role. */
function enginesVault(): LiveVault {
    const v = articleVault();
    v.mounts["database/"] = { type: "database", config: { default_lease_ttl: 0, max_lease_ttl: 0 } };
    v.mounts["pki/"] = { type: "pki", config: { default_lease_ttl: 0, max_lease_ttl: 315360000 } };
    v.policies.engines = ENGINES_POLICY;
    v.roles.kubernetes["vso-role"].token_policies = ["rustfs-read", "engines"];
    v.databases = {
        database: {
            connections: {
                appdb: {
                    plugin_name: "postgresql-database-plugin",
                    allowed_roles: ["app-rw", "reporter", "legacy"],
                    verify_connection: true,
                    connection_details: {
                        connection_url: "postgresql://{{username}}:{{password}}@db.lan:5432/app?sslmode=require",
                        username: "postgres",
                        max_open_connections: 4,
                        max_idle_connections: 0,
                        max_connection_lifetime: "0s",
                    },
                },
            },
            roles: {
                "app-rw": {
                    db_name: "appdb",
                    creation_statements: CREATE,
                    revocation_statements: [],
                    renew_statements: [],
                    rollback_statements: [],
                    default_ttl: 3600,
                    max_ttl: 0,
                },
                legacy: { db_name: "appdb", creation_statements: CREATE, revocation_statements: [], default_ttl: 60, max_ttl: 120 },
            },
            staticRoles: { reporter: { db_name: "appdb", username: "reporter", rotation_period: 86400, rotation_statements: [] } },
            unreadable: [],
        },
    };
    v.pkis = {
        pki: {
            roles: {
                web: {
                    allowed_domains: ["homelab.lan"],
                    allow_bare_domains: false,
                    allow_subdomains: true,
                    allow_glob_domains: false,
                    allow_any_name: false,
                    allow_ip_sans: true,
                    allow_localhost: true,
                    enforce_hostnames: true,
                    server_flag: true,
                    client_flag: true,
                    key_type: "rsa",
                    key_bits: 2048,
                    key_usage: ["DigitalSignature", "KeyAgreement", "KeyEncipherment"],
                    ttl: 0,
                    max_ttl: 2592000,
                    no_store: false,
                    generate_lease: false,
                    require_cn: true,
                },
            },
            unreadable: [],
        },
    };
    return v;
}

const VDS_SPEC = {
    vaultAuthRef: "vault-auth",
    mount: "database",
    path: "creds/app-rw",
    destination: { name: "app-db", create: true },
    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
};
const VPKIS_SPEC = {
    vaultAuthRef: "vault-auth",
    mount: "pki",
    role: "web",
    commonName: "web.homelab.lan",
    altNames: ["api.homelab.lan"],
    ttl: "720h",
    expiryOffset: "240h",
    format: "pem",
    destination: { name: "web-tls", create: true, type: "kubernetes.io/tls" },
};

/** The article's cluster plus a VaultDynamicSecret per role (dynamic and static) and a VaultPKISecret, in cnpg. */
function enginesCluster(): LiveCluster {
    const c = articleCluster();
    c.dynamicSecrets = [
        obj("VaultDynamicSecret", "cnpg", "app-db", VDS_SPEC),
        obj("VaultDynamicSecret", "cnpg", "reporter", {
            vaultAuthRef: "vault-auth",
            mount: "database",
            path: "static-creds/reporter",
            allowStaticCreds: true,
            destination: { name: "reporter-creds", create: true },
        }),
    ];
    c.pkiSecrets = [obj("VaultPKISecret", "cnpg", "web-cert", VPKIS_SPEC)];
    return c;
}

/** The homelab program's args from adopt's config, as programs/homelab/index.ts builds them (a password for each connection). */
function homelabArgs(cfg: unknown) {
    const hc = yaml.load(yaml.dump(cfg)) as unknown as HomelabConfig;
    const { args, problems } = platformArgsFromConfig(hc, undefined);
    const names = (hc.database?.connections ?? []).map((c) => c.name);
    const db = databaseFromConfig(hc.database, pulumi.secret(Object.fromEntries(names.map((n) => [n, "pw"]))), names);
    if (db.database) {
        args.database = db.database;
    }
    if (hc.pki) {
        args.pki = hc.pki;
    }
    return { args, problems: [...problems, ...db.problems] };
}

describe("adopt: database and PKI engines (pure)", () => {
    it("maps the engines and their VSO objects to the typed database/pki config, statements verbatim, role names kept, with their import ids", () => {
        const plan = planAdoption(enginesVault(), enginesCluster(), { ...OPTS, stack: "adopted" });
        assert.deepStrictEqual(plan.errors, []);
        const cfg = plan.config!;
        assert.deepStrictEqual(cfg.database, {
            path: "database",
            connections: [
                {
                    name: "appdb",
                    connectionUrl: "postgresql://{{username}}:{{password}}@db.lan:5432/app?sslmode=require",
                    username: "postgres",
                    allowSuperuser: true,
                    maxOpenConnections: 4,
                    maxIdleConnections: 0,
                    maxConnectionLifetime: 0,
                },
            ],
            roles: [
                {
                    name: "app-db",
                    namespace: "cnpg",
                    database: "appdb",
                    roleName: "app-rw",
                    creationStatements: CREATE,
                    revocationStatements: [],
                    defaultTtl: "3600s",
                    maxTtl: `${768 * 3600}s`,
                    rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
                },
                {
                    name: "reporter",
                    namespace: "cnpg",
                    database: "appdb",
                    kind: "static",
                    username: "reporter",
                    rotationPeriod: "86400s",
                    destination: "reporter-creds",
                    roleName: "reporter",
                },
            ],
        });
        assert.ok(!JSON.stringify(cfg).includes('password"'), "no password field anywhere in the config");
        assert.deepStrictEqual(cfg.pki, {
            path: "pki",
            ca: { type: "existing" },
            certificates: [
                {
                    name: "web-cert",
                    namespace: "cnpg",
                    commonName: "web.homelab.lan",
                    altNames: ["api.homelab.lan"],
                    ttl: `${720 * 3600}s`,
                    expiryOffset: `${240 * 3600}s`,
                    destination: "web-tls",
                    roleName: "web",
                },
            ],
        });
        const a = cfg.adopted;
        assert.strictEqual(a.databaseMount, true);
        assert.deepStrictEqual(a.databaseConnections, [{ name: "appdb", allowedRoles: ["app-rw", "reporter", "legacy"] }], "allowed_roles kept as found");
        assert.deepStrictEqual(a.databaseRoles, ["app-rw", "reporter"]);
        assert.deepStrictEqual(
            a.dynamicSecrets!.map((o) => [o.name, o.spec]),
            [
                ["app-db", VDS_SPEC],
                ["reporter", enginesCluster().dynamicSecrets![1].spec],
            ],
        );
        assert.strictEqual(a.pkiMount, true);
        assert.deepStrictEqual(a.pkiRoles![0], {
            name: "web",
            allowedDomains: ["homelab.lan"],
            allowBareDomains: false,
            allowSubdomains: true,
            allowGlobDomains: false,
            allowAnyName: false,
            allowIpSans: true,
            allowLocalhost: true,
            enforceHostnames: true,
            serverFlag: true,
            clientFlag: true,
            keyType: "rsa",
            keyBits: 2048,
            keyUsages: ["DigitalSignature", "KeyAgreement", "KeyEncipherment"],
            maxTtl: "2592000",
            noStore: false,
            generateLease: false,
            requireCn: true,
        });
        assert.deepStrictEqual(
            a.pkiSecrets!.map((o) => o.spec),
            [VPKIS_SPEC],
        );
        assert.deepStrictEqual(
            plan.imports.slice(plan.imports.findIndex((s) => s.id === "database")).map((s) => [s.type, s.id]),
            [
                ["vault:index/mount:Mount", "database"],
                ["vault:database/secretBackendConnection:SecretBackendConnection", "database/config/appdb"],
                ["vault:database/secretBackendRole:SecretBackendRole", "database/roles/app-rw"],
                ["vault:database/secretBackendStaticRole:SecretBackendStaticRole", "database/static-roles/reporter"],
                ["kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret", "cnpg/app-db"],
                ["kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret", "cnpg/reporter"],
                ["vault:index/mount:Mount", "pki"],
                ["vault:pkiSecret/secretBackendRole:SecretBackendRole", "pki/roles/web"],
                ["kubernetes:secrets.hashicorp.com/v1beta1:VaultPKISecret", "cnpg/web-cert"],
            ],
        );
    });

    it("says what the first up changes and prints the password command, never a value", () => {
        const plan = planAdoption(enginesVault(), enginesCluster(), { ...OPTS, stack: "adopted" });
        assert.deepStrictEqual(plan.commands, ["pulumi config set --secret --path 'databasePasswords.appdb' --stack adopted"]);
        const changes = plan.firstUpChanges.join("\n");
        assert.match(changes, /connection database\/config\/appdb: written again with the password you set in databasePasswords\.appdb \(Vault never returns/);
        assert.match(changes, /app-rw: max_ttl 0 \(the mount's default\) is written out as 2764800s/);
        const report = formatAdoptionReport(plan);
        assert.match(report, /the first pulumi up also changes/);
        assert.match(report, /pulumi prompts for it; adopt never reads, prints or stores one/);
        assert.match(report, /import database connection appdb \(then written again with its password\)\s+\(id database\/config\/appdb\)/);
        assert.match(report, /adopted 1 app\(s\), 2 database credential\(s\), 1 certificate\(s\)/);
    });

    it("names the engines' pitfalls with their fix", () => {
        const plan = planAdoption(enginesVault(), enginesCluster(), OPTS);
        const find = (re: RegExp) => plan.problems.find((p) => re.test(p.what));
        assert.match(find(/connection appdb connects as "postgres", a superuser/)?.fix ?? "", /dedicated role.*remove allowSuperuser/);
        assert.match(
            find(/connection appdb allows roles .*more than the adopted/)?.fix ?? "",
            /convention step narrows allowed_roles to exactly \["app-rw","reporter"\]/,
        );
        assert.match(
            find(/PKI role web .*allows every subdomain of \["homelab\.lan"\].*IP SANs.*localhost/)?.fix ?? "",
            /narrows it to exactly \["web\.homelab\.lan","api\.homelab\.lan"\]/,
        );
        assert.match(
            find(/VaultPKISecret cnpg\/web-cert: .*no policy granting update on pki\/issue\/web/)?.fix ?? "",
            /convention step's policy for cnpg grants exactly pki\/issue\/web/,
        );
        assert.ok(!find(/VaultDynamicSecret cnpg\/app-db: .*no policy granting/), "the engines policy grants the credential");
        assert.ok(find(/VaultDynamicSecret cnpg\/app-db does not revoke its lease/));
        assert.ok(find(/database role app-rw has no revocation statements/));
        assert.ok(
            plan.problems.every((p) => p.fix.length > 10),
            "every problem has a fix",
        );
        const unmanaged = plan.unmanaged.map((u) => `${u.kind} ${u.name}`);
        assert.ok(unmanaged.includes("database role database/roles/legacy"), unmanaged.join(", "));
        assert.ok(
            unmanaged.some((u) => /^PKI CA pki/.test(u)),
            unmanaged.join(", "),
        );
        assert.ok(!unmanaged.some((u) => /secrets mount (database|pki)/.test(u)), "the adopted engine mounts are not listed as unused");
    });

    it("a database role read from two namespaces is adopted for one app; the other is named with the fix and left as it is", () => {
        const c = enginesCluster();
        const rustfsConn = { ...c.connections[0], metadata: { ...c.connections[0].metadata, namespace: "rustfs" } };
        const rustfsAuth = { ...c.auths[0], metadata: { ...c.auths[0].metadata, namespace: "rustfs" } };
        c.connections.push(rustfsConn);
        c.auths.push(rustfsAuth);
        c.dynamicSecrets!.push(obj("VaultDynamicSecret", "rustfs", "other-db", { ...VDS_SPEC, destination: { name: "other-db", create: true } }));
        const plan = planAdoption(enginesVault(), c, OPTS);
        assert.match(
            plan.problems.map((p) => p.what).join("\n"),
            /database role app-rw is used by VaultDynamicSecrets cnpg\/app-db and rustfs\/other-db, in two namespaces/,
        );
        const u = plan.unmanaged.find((x) => x.name === "other-db")!;
        assert.match(u.why, /its database role app-rw is adopted for cnpg\/app-db \(one role per app\)/);
        assert.deepStrictEqual(
            plan.config!.database!.roles.map((r) => r.name),
            ["app-db", "reporter"],
        );
    });

    it("a connection or role the package cannot manage, and a token that could not list the roles, leave their objects unmanaged with why", () => {
        const v = enginesVault();
        v.databases!.database.connections.appdb.connection_details.connection_url = "postgresql://vault:hunter2@db.lan/app";
        v.pkis!.pki.roles = {};
        v.pkis!.pki.unreadable = ["LIST pki/roles: permission denied"];
        const plan = planAdoption(v, enginesCluster(), OPTS);
        const why = (n: string) => plan.unmanaged.find((x) => x.name === n)?.why ?? "";
        assert.match(why("app-db"), /without the \{\{username\}\}\/\{\{password\}\} placeholders/);
        assert.ok(!JSON.stringify(plan).includes("hunter2"), "a password written into the URL is never repeated");
        assert.match(why("web-cert"), /the token could not list the roles/);
        assert.ok(plan.problems.some((p) => /cannot read the PKI mount's LIST pki\/roles: permission denied/.test(p.what) && /never issue/.test(p.fix)));
        assert.strictEqual(plan.config!.database, undefined);
        assert.strictEqual(plan.config!.pki, undefined);
        assert.deepStrictEqual(plan.errors, [], "the KV apps are still adopted");
    });

    it("the config passes the homelab program's validation while adopted and after the convention step, whose policy grants every credential and issue path", () => {
        const cfg = planAdoption(enginesVault(), enginesCluster(), OPTS).config!;
        const adopted = homelabArgs(cfg);
        assert.deepStrictEqual([...adopted.problems, ...validatePlatformArgs(adopted.args)], []);
        const { adopted: _dropped, ...conventions } = cfg;
        const after = homelabArgs(conventions);
        assert.deepStrictEqual([...after.problems, ...validatePlatformArgs(after.args)], []);
        const ns = planPlatformArgs(after.args).namespaces.find((n) => n.namespace === "cnpg")!;
        for (const p of ['path "database/creds/app-rw"', 'path "database/static-creds/reporter"', 'path "pki/issue/web"', 'path "sys/leases/renew"']) {
            assert.ok(ns.policyText.includes(p), `${p} in\n${ns.policyText}`);
        }
        // and without the password's secret config, the program names the command
        const hc = yaml.load(yaml.dump(cfg)) as unknown as HomelabConfig;
        const missing = databaseFromConfig(hc.database, undefined, []);
        assert.match(missing.problems[0].message, /pulumi config set --secret --path 'databasePasswords\.appdb'/);
    });

    it("policiesGrant follows Vault's globs and deny", () => {
        assert.ok(policiesGrant(['path "database/creds/*" {\n capabilities = ["read"]\n}'], "database/creds/x", "read"));
        assert.ok(policiesGrant(['path "database/+/x" { capabilities = ["read"] }'], "database/creds/x", "read"));
        assert.ok(!policiesGrant(['path "database/creds/x" { capabilities = ["read"] }'], "database/creds/xy", "read"));
        assert.ok(!policiesGrant(['path "pki/issue/*" { capabilities = ["read"] }'], "pki/issue/web", "update"));
        assert.ok(
            !policiesGrant(['path "pki/*" { capabilities = ["update"] }', 'path "pki/issue/web" { capabilities = ["deny"] }'], "pki/issue/web", "update"),
        );
    });
});

describe("adopt: the adopted database and PKI engines (mocked engine)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    async function resources(withAdopted: boolean) {
        rec.install();
        const cfg = planAdoption(enginesVault(), enginesCluster(), OPTS).config!;
        const { args } = homelabArgs(withAdopted ? cfg : { ...cfg, adopted: undefined });
        new VaultSecretsPlatform("homelab", { ...args, vault: { ...args.vault, token: "t" } });
        await rec.settle();
        return [...rec.resources];
    }

    it("imports the database mount, connection and roles, the PKI mount and role and the VSO objects, retainOnDelete, and creates no CA", async () => {
        const res = await resources(true);
        const imported = Object.fromEntries(res.filter((r) => r.importId).map((r) => [`${r.type} ${r.importId}`, r.retainOnDelete]));
        for (const k of [
            "vault:index/mount:Mount database",
            "vault:database/secretBackendConnection:SecretBackendConnection database/config/appdb",
            "vault:database/secretBackendRole:SecretBackendRole database/roles/app-rw",
            "vault:database/secretBackendStaticRole:SecretBackendStaticRole database/static-roles/reporter",
            "kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret cnpg/app-db",
            "kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret cnpg/reporter",
            "vault:index/mount:Mount pki",
            "vault:pkiSecret/secretBackendRole:SecretBackendRole pki/roles/web",
            "kubernetes:secrets.hashicorp.com/v1beta1:VaultPKISecret cnpg/web-cert",
        ]) {
            assert.strictEqual(imported[k], true, `${k} imported and retainOnDelete (${JSON.stringify(imported)})`);
        }
        assert.ok(!res.some((r) => r.type === "vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert"), "no root CA on the adopted mount");
        const created = res.filter((r) => !r.importId && !r.type.startsWith("vault-vso:") && !r.type.startsWith("pulumi:providers:"));
        assert.deepStrictEqual(
            created.map((r) => r.type),
            [],
            "the first up only imports",
        );
        const conn = res.find((r) => r.importId === "database/config/appdb")!;
        assert.deepStrictEqual(conn.inputs.allowedRoles, ["app-rw", "reporter", "legacy"], "allowed_roles as found while adopted");
        assert.strictEqual(conn.inputs.postgresql.maxOpenConnections, 4);
        assert.ok(conn.secretInputs.includes("postgresql"), "the password is a secret");
        const role = res.find((r) => r.importId === "database/roles/app-rw")!;
        assert.deepStrictEqual(role.inputs.creationStatements, CREATE);
        assert.deepStrictEqual(role.inputs.revocationStatements, [], "verbatim: none stays none");
        const pkiRole = res.find((r) => r.importId === "pki/roles/web")!;
        assert.strictEqual(pkiRole.inputs.allowSubdomains, true, "kept exactly as found while adopted");
        const vds = res.find((r) => r.importId === "cnpg/app-db")!;
        assert.deepStrictEqual(vds.inputs.spec, VDS_SPEC);
    });

    it("the convention step keeps every role's name and the VSO objects' resources, narrows the PKI role and allowed_roles, and still creates no CA", async () => {
        const before = await resources(true);
        const after = await resources(false);
        for (const kind of ["VaultDynamicSecret", "VaultPKISecret"]) {
            const type = `kubernetes:secrets.hashicorp.com/v1beta1:${kind}`;
            assert.deepStrictEqual(
                after.filter((r) => r.type === type).map((r) => r.name),
                before.filter((r) => r.type === type).map((r) => r.name),
                `${kind}: the same resources (updated in place)`,
            );
        }
        const vds = after.find((r) => r.type.endsWith(":VaultDynamicSecret") && r.inputs.metadata.name === "app-db")!;
        assert.strictEqual(vds.inputs.spec.path, "creds/app-rw", "the role keeps its name");
        assert.strictEqual(vds.inputs.spec.revoke, true);
        const pkiRole = after.find((r) => r.type === "vault:pkiSecret/secretBackendRole:SecretBackendRole")!;
        assert.strictEqual(pkiRole.inputs.name, "web");
        assert.strictEqual(pkiRole.inputs.allowSubdomains, false);
        assert.deepStrictEqual(pkiRole.inputs.allowedDomains, ["web.homelab.lan", "api.homelab.lan"]);
        const conn = after.find((r) => r.type === "vault:database/secretBackendConnection:SecretBackendConnection")!;
        assert.deepStrictEqual(conn.inputs.allowedRoles, ["app-rw", "reporter"]);
        assert.ok(!after.some((r) => r.type === "vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert"), 'ca.type "existing" stays');
        const policy = after.find((r) => r.type === "vault:index/policy:Policy" && r.inputs.name === "vso-cnpg-read")!;
        assert.match(policy.inputs.policy, /database\/creds\/app-rw[\s\S]*pki\/issue\/web/);
    });
});

describe("adopt: reading the database and PKI engines (against a local fake Vault)", () => {
    let server: net.Server;
    let routes: Record<string, { status: number; body: unknown }> = {};
    const seen: string[] = [];
    let base = "";
    before(async () => {
        // a raw server: Node's HTTP parser refuses Vault's LIST method
        server = net.createServer((sock) => {
            let head = "";
            sock.on("data", (d) => {
                head += d.toString("latin1");
                if (!head.includes("\r\n\r\n")) {
                    return;
                }
                const [method, url] = head.split("\r\n")[0].split(" ");
                const key = `${method} ${url}`;
                seen.push(key);
                const r = routes[key] ?? { status: 404, body: { errors: [] } };
                const body = JSON.stringify(r.body);
                sock.end(
                    `HTTP/1.1 ${r.status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
                );
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    it("reads connections (no password), roles and static roles, a refused list is a problem line, and no credential is ever requested", async () => {
        const ok = (data: unknown) => ({ status: 200, body: { data } });
        routes = {
            "GET /v1/sys/mounts": ok({ "database/": { type: "database" }, "pki/": { type: "pki" } }),
            "GET /v1/sys/auth": ok({ "token/": { type: "token" } }),
            "LIST /v1/sys/policies/acl": ok({ keys: [] }),
            "LIST /v1/database/config": ok({ keys: ["appdb"] }),
            "GET /v1/database/config/appdb": ok({
                plugin_name: "postgresql-database-plugin",
                allowed_roles: ["app-rw"],
                connection_details: { connection_url: "postgresql://{{username}}:{{password}}@db:5432/app", username: "vault_admin", private_key: "KEY" },
            }),
            "LIST /v1/database/roles": ok({ keys: ["app-rw"] }),
            "GET /v1/database/roles/app-rw": ok({ db_name: "appdb", creation_statements: ["x {{name}}"], default_ttl: 60, max_ttl: 120 }),
            "LIST /v1/database/static-roles": { status: 403, body: { errors: ["permission denied"] } },
            "LIST /v1/pki/roles": { status: 403, body: { errors: ["permission denied"] } },
        };
        const live = await readLiveVault(base, "t");
        assert.deepStrictEqual(live.databases!.database.connections.appdb, {
            plugin_name: "postgresql-database-plugin",
            allowed_roles: ["app-rw"],
            connection_details: { connection_url: "postgresql://{{username}}:{{password}}@db:5432/app", username: "vault_admin" },
            tls_set: ["private_key"],
        });
        assert.deepStrictEqual(live.databases!.database.roles["app-rw"].creation_statements, ["x {{name}}"]);
        assert.deepStrictEqual(live.databases!.database.unreadable, ["LIST database/static-roles: permission denied"]);
        assert.deepStrictEqual(live.pkis!.pki.unreadable, ["LIST pki/roles: permission denied"]);
        assert.ok(!JSON.stringify(live).includes("KEY"), "only known fields are kept");
        assert.deepStrictEqual(live.databases!.database.connections.appdb.tls_set, ["private_key"], "TLS material: only whether it is set");
        assert.ok(!seen.some((s) => /\/(creds|static-creds|issue|sign)\/|\/cert\/|\/keys?\b/.test(s)), seen.join("\n"));
    });

    it("a LIST whose keys is not a list is an unreadable-path problem line, not an abort", async () => {
        const ok = (data: unknown) => ({ status: 200, body: { data } });
        routes = {
            "GET /v1/sys/mounts": ok({ "database/": { type: "database" } }),
            "GET /v1/sys/auth": ok({ "token/": { type: "token" } }),
            "LIST /v1/sys/policies/acl": ok({ keys: [] }),
            "LIST /v1/database/config": ok({ keys: "appdb" }),
            "LIST /v1/database/roles": ok({ keys: { a: 1 } }),
            "LIST /v1/database/static-roles": ok({ keys: [null, 3] }),
        };
        const live = await readLiveVault(base, "t");
        assert.deepStrictEqual(live.databases!.database.unreadable, [
            "LIST database/config: the answer's keys is not a list",
            "LIST database/roles: the answer's keys is not a list",
        ]);
        assert.deepStrictEqual(live.databases!.database.staticRoles, {});
    });

    it("lists VaultDynamicSecrets and VaultPKISecrets without reading the Secrets they write", async () => {
        const vds = obj("VaultDynamicSecret", "cnpg", "app-db", VDS_SPEC);
        const vps = obj("VaultPKISecret", "cnpg", "web-cert", VPKIS_SPEC);
        routes = {
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultstaticsecrets": { status: 200, body: { items: [] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultauths": { status: 200, body: { items: [] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultconnections": { status: 200, body: { items: [] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultdynamicsecrets": { status: 200, body: { items: [vds] } },
            "GET /apis/secrets.hashicorp.com/v1beta1/vaultpkisecrets": { status: 200, body: { items: [vps] } },
        };
        seen.length = 0;
        const live = await readLiveCluster({ server: base });
        assert.deepStrictEqual(
            live.dynamicSecrets!.map((o) => o.metadata.name),
            ["app-db"],
        );
        assert.deepStrictEqual(
            live.pkiSecrets!.map((o) => o.kind),
            ["VaultPKISecret"],
        );
        assert.deepStrictEqual(live.others, []);
        assert.ok(!seen.some((s) => s.includes("/secrets/")), seen.join("\n"));
    });
});

type AdoptConfigLike = NonNullable<ReturnType<typeof planAdoption>["config"]>;

describe("adopt: review mends (database and PKI engines)", () => {
    it("a keyword/value connection_url without placeholders is never echoed: its password appears nowhere in the plan, the report or the JSON", () => {
        const v = enginesVault();
        v.databases!.database.connections.appdb.connection_details.connection_url = "host=db user=vault password=hunter2 dbname=app";
        const plan = planAdoption(v, enginesCluster(), OPTS);
        const why = plan.unmanaged.find((x) => x.name === "app-db")?.why ?? "";
        assert.match(why, /connection appdb has a connection_url without the \{\{username\}\}\/\{\{password\}\} placeholders .*not shown/);
        for (const text of [JSON.stringify(plan), formatAdoptionReport(plan), JSON.stringify({ ...plan, written: null }, null, 2)]) {
            assert.ok(!text.includes("hunter2"), text);
        }
    });

    it("redactUrl masks a keyword/value DSN's password, sslpassword and sslkey", () => {
        assert.strictEqual(redactUrl("host=db user=vault password=hunter2 dbname=app"), "host=db user=vault password=[redacted] dbname=app");
        assert.strictEqual(
            redactUrl("host=db password='a b\\'c' sslpassword=x2 sslkey=/k.pem"),
            "host=db password=[redacted] sslpassword=[redacted] sslkey=[redacted]",
        );
        assert.strictEqual(redactUrl("PASSWORD = s3cr3t host=db"), "PASSWORD = [redacted] host=db");
        assert.strictEqual(redactUrl("host=db user=vault"), "host=db user=vault");
    });

    it("the report says that a destroy after the convention step unmounts the database mount, revoking the leases of the roles it does not manage", () => {
        const plan = planAdoption(enginesVault(), enginesCluster(), OPTS);
        const p = plan.problems.find((x) => /the database mount database also holds what the stack does not manage/.test(x.what));
        assert.ok(p, plan.problems.map((x) => x.what).join("\n"));
        assert.match(p!.what, /\(database\/roles\/legacy\).*unmounts it.*revokes every lease/);
        assert.match(formatAdoptionReport(plan), /database\/roles\/legacy/);
    });

    it("goDurationSeconds reads milliseconds (ms before m)", () => {
        assert.strictEqual(goDurationSeconds("500ms"), 0);
        assert.strictEqual(goDurationSeconds("1m500ms"), 60);
        assert.strictEqual(goDurationSeconds("2500ms"), 2);
        assert.strictEqual(goDurationSeconds("1h30m"), 5400);
        assert.strictEqual(goDurationSeconds("10m0s"), 600);
        assert.strictEqual(goDurationSeconds("5x"), undefined);
    });

    it("a null or odd rollout restart target is skipped, not a crash", () => {
        const c = enginesCluster();
        c.dynamicSecrets![0].spec = { ...VDS_SPEC, rolloutRestartTargets: [null, "x", { kind: "Deployment", name: "my-app" }] };
        c.pkiSecrets![0].spec = { ...VPKIS_SPEC, rolloutRestartTargets: [null] };
        c.staticSecrets[0].spec = { ...c.staticSecrets[0].spec, rolloutRestartTargets: [null] };
        const plan = planAdoption(enginesVault(), c, OPTS);
        assert.deepStrictEqual(plan.errors, []);
        assert.deepStrictEqual(plan.config!.database!.roles[0].rolloutRestartTargets, [{ kind: "Deployment", name: "my-app" }]);
        assert.strictEqual(plan.config!.pki!.certificates[0].rolloutRestartTargets, undefined);
        assert.strictEqual((plan.config!.apps[0] as Record<string, unknown>).rolloutRestartTargets, undefined);
    });

    it("always writes roleName for adopted database and PKI roles, so a cluster set later does not rename (and rotate or delete) them", () => {
        const v = enginesVault();
        const db = v.databases!.database;
        db.roles["cnpg-app-db"] = db.roles["app-rw"];
        delete db.roles["app-rw"];
        db.connections.appdb.allowed_roles = ["cnpg-app-db", "reporter"];
        db.staticRoles["cnpg-reporter"] = db.staticRoles.reporter;
        delete db.staticRoles.reporter;
        v.pkis!.pki.roles["cnpg-web-cert"] = v.pkis!.pki.roles.web;
        delete v.pkis!.pki.roles.web;
        const c = enginesCluster();
        c.dynamicSecrets![0].spec = { ...VDS_SPEC, path: "creds/cnpg-app-db" };
        c.dynamicSecrets![1].spec = { ...c.dynamicSecrets![1].spec, path: "static-creds/cnpg-reporter" };
        c.pkiSecrets![0].spec = { ...VPKIS_SPEC, role: "cnpg-web-cert" };
        const plan = planAdoption(v, c, OPTS);
        const cfg = plan.config!;
        assert.deepStrictEqual(
            cfg.database!.roles.map((r) => r.roleName),
            ["cnpg-app-db", "cnpg-reporter"],
        );
        assert.strictEqual(cfg.pki!.certificates[0].roleName, "cnpg-web-cert");
        const { args } = homelabArgs(cfg);
        assert.deepStrictEqual(
            planDatabase(args.database!, "east").roles.map((r) => r.roleName),
            ["cnpg-app-db", "cnpg-reporter"],
        );
        assert.deepStrictEqual(
            planPki(args.pki!, "east").certificates.map((x) => x.roleName),
            ["cnpg-web-cert"],
        );
        assert.ok(plan.imports.some((s) => s.id === "database/static-roles/cnpg-reporter"));
    });

    it("a connection whose allowed_roles leave out the adopted role is a problem (that VaultDynamicSecret is failing) with the fix; a glob that allows it is not", () => {
        const v = enginesVault();
        v.databases!.database.connections.appdb.allowed_roles = ["reporter", "legacy"];
        const plan = planAdoption(v, enginesCluster(), OPTS);
        const p = plan.problems.find((x) => /allowed_roles .* do not include the role app-rw/.test(x.what));
        assert.ok(p, plan.problems.map((x) => x.what).join("\n"));
        assert.match(p!.what, /VaultDynamicSecret cnpg\/app-db reads: Vault refuses its credential .*failing now/);
        assert.match(p!.fix, /first up adds app-rw .*vault write database\/config\/appdb allowed_roles=reporter,legacy,app-rw/);
        assert.ok(!plan.problems.some((x) => /do not include the role reporter/.test(x.what)));
        assert.match(plan.firstUpChanges.join("\n"), /allowed_roles gains app-rw/);
        v.databases!.database.connections.appdb.allowed_roles = ["app-*", "reporter"];
        assert.ok(!planAdoption(v, enginesCluster(), OPTS).problems.some((x) => /do not include the role/.test(x.what)));
    });

    it("the missing-password fix puts no password on the command line: pulumi prompts", () => {
        const cfg = planAdoption(enginesVault(), enginesCluster(), OPTS).config!;
        const hc = yaml.load(yaml.dump(cfg)) as unknown as HomelabConfig;
        const msg = databaseFromConfig(hc.database, undefined, []).problems[0].message;
        assert.match(msg, /pulumi config set --secret --path 'databasePasswords\.appdb' \(pulumi prompts for the password\)/);
        assert.ok(!msg.includes("<password>"), msg);
    });

    it("policiesGrant takes the most specific path only (exact before glob), merged across policies, and skips nested blocks", () => {
        assert.ok(
            policiesGrant(
                ['path "database/creds/*" { capabilities = ["deny"] }', 'path "database/creds/app" { capabilities = ["read"] }'],
                "database/creds/app",
                "read",
            ),
            "glob deny, exact allow: allowed",
        );
        assert.ok(
            !policiesGrant(
                ['path "database/creds/*" { capabilities = ["read"] }', 'path "database/creds/app" { capabilities = ["list"] }'],
                "database/creds/app",
                "read",
            ),
            "glob read, exact list: refused",
        );
        assert.ok(
            policiesGrant(
                ['path "pki/issue/web" { capabilities = ["create"] }', 'path "pki/issue/web" { capabilities = ["update"] }'],
                "pki/issue/web",
                "update",
            ),
        );
        assert.ok(
            policiesGrant(['path "pki/*" { capabilities = ["deny"] }', 'path "pki/issue/*" { capabilities = ["update"] }'], "pki/issue/web", "update"),
            "longer prefix",
        );
        const nested =
            'path "pki/issue/web" {\n  capabilities = ["update"]\n  allowed_parameters = {\n    "common_name" = ["web.lan"]\n  }\n}\npath "database/creds/app" { capabilities = ["read"] }';
        assert.deepStrictEqual(
            policyRules(nested).map((r) => [r.path, r.capabilities]),
            [
                ["pki/issue/web", ["update"]],
                ["database/creds/app", ["read"]],
            ],
        );
        assert.ok(policiesGrant([nested], "database/creds/app", "read"));
    });

    describe("with the mocked engine", () => {
        const rec = new MockRecorder();
        async function resources(cfg: AdoptConfigLike, withAdopted: boolean) {
            rec.install();
            const { args } = homelabArgs(withAdopted ? cfg : { ...cfg, adopted: undefined });
            new VaultSecretsPlatform("homelab", { ...args, vault: { ...args.vault, token: "t" } });
            await rec.settle();
            return [...rec.resources];
        }

        it("an adopted connection allows the roles found and a role added later for another namespace", async () => {
            const cfg = planAdoption(enginesVault(), enginesCluster(), OPTS).config!;
            const roles = [...cfg.database!.roles, { name: "late-db", namespace: "late", database: "appdb", creationStatements: CREATE }];
            const withLate = { ...cfg, database: { ...cfg.database!, roles } };
            assert.deepStrictEqual(homelabArgs(withLate).problems, []);
            const conn = (await resources(withLate as AdoptConfigLike, true)).find(
                (r) => r.type === "vault:database/secretBackendConnection:SecretBackendConnection",
            )!;
            assert.deepStrictEqual(conn.inputs.allowedRoles, ["app-rw", "reporter", "legacy", "late-late-db"]);
        });

        it("carries the PKI role's and the connection's other settings, so the first up resets none; TLS material is only named", async () => {
            const v = enginesVault();
            Object.assign(v.pkis!.pki.roles.web, {
                allow_wildcard_certificates: false,
                use_csr_common_name: false,
                ext_key_usage: ["ServerAuth"],
                ou: ["ops"],
                organization: ["homelab"],
                country: ["DE"],
                allowed_uri_sans: ["spiffe://x"],
                code_signing_flag: true,
                allowed_domains_template: true,
                policy_identifiers: ["1.2.3"],
                key_bits: 0,
            });
            const conn = v.databases!.database.connections.appdb;
            conn.password_policy = "strong";
            conn.root_credentials_rotate_statements = ["ALTER USER x"];
            Object.assign(conn.connection_details, { username_template: "v-{{.RoleName}}", password_authentication: "scram-sha-256", disable_escaping: true });
            conn.tls_set = ["tls_certificate"];
            const plan = planAdoption(v, enginesCluster(), OPTS);
            const role = plan.config!.adopted.pkiRoles![0];
            assert.strictEqual(role.keyBits, 0);
            assert.deepStrictEqual(
                [role.allowWildcardCertificates, role.useCsrCommonName, role.extKeyUsages, role.organizationUnit, role.organizations, role.countries],
                [false, false, ["ServerAuth"], ["ops"], ["homelab"], ["DE"]],
            );
            assert.deepStrictEqual(
                [role.allowedUriSans, role.codeSigningFlag, role.allowedDomainsTemplate, role.policyIdentifiers],
                [["spiffe://x"], true, true, ["1.2.3"]],
            );
            assert.deepStrictEqual(plan.config!.adopted.databaseConnections![0], {
                name: "appdb",
                allowedRoles: ["app-rw", "reporter", "legacy"],
                passwordPolicy: "strong",
                rootRotationStatements: ["ALTER USER x"],
                usernameTemplate: "v-{{.RoleName}}",
                passwordAuthentication: "scram-sha-256",
                disableEscaping: true,
            });
            assert.match(plan.firstUpChanges.join("\n"), /appdb: tls_certificate is set \(TLS material, never read by adopt\)/);
            const res = await resources(plan.config!, true);
            const pkiRole = res.find((r) => r.importId === "pki/roles/web")!;
            assert.strictEqual(pkiRole.inputs.keyBits, 0);
            assert.deepStrictEqual(pkiRole.inputs.extKeyUsages, ["ServerAuth"]);
            assert.strictEqual(pkiRole.inputs.codeSigningFlag, true);
            const c = res.find((r) => r.importId === "database/config/appdb")!;
            assert.deepStrictEqual(c.inputs.rootRotationStatements, ["ALTER USER x"]);
            assert.strictEqual(c.inputs.postgresql.usernameTemplate, "v-{{.RoleName}}");
            // the provider built here (terraform-provider-vault of 2022) has no such inputs: never sent,
            // and adopt says what the rewrite or an update may reset
            assert.deepStrictEqual(
                [
                    c.inputs.passwordPolicy,
                    c.inputs.postgresql.passwordAuthentication,
                    c.inputs.postgresql.disableEscaping,
                    pkiRole.inputs.allowWildcardCertificates,
                ],
                [undefined, undefined, undefined, undefined],
            );
            const changes = plan.firstUpChanges.join("\n");
            assert.match(changes, /appdb: passwordPolicy, passwordAuthentication, disableEscaping cannot be written by the Vault provider built here/);
            assert.match(changes, /PKI role pki\/roles\/web: allowWildcardCertificates \(as found: false\) cannot be written/);
        });

        it('ca.type "existing": after the convention step the PKI mount is still retainOnDelete and its lease TTLs and description stay as found', async () => {
            const cfg = planAdoption(enginesVault(), enginesCluster(), OPTS).config!;
            for (const withAdopted of [true, false]) {
                const mount = (await resources(cfg, withAdopted)).find((r) => r.type === "vault:index/mount:Mount" && r.inputs.type === "pki")!;
                assert.strictEqual(mount.retainOnDelete, true, `retainOnDelete (adopted: ${withAdopted})`);
                assert.deepStrictEqual(
                    [...(mount.ignoreChanges ?? [])].sort(),
                    ["defaultLeaseTtlSeconds", "description", "maxLeaseTtlSeconds"],
                    `as found (adopted: ${withAdopted})`,
                );
            }
        });
    });
});
