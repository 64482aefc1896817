/**
 * Durable Vault (issue 9), the pure parts and the wiring under mocks: the unsealer sidecar in the
 * chart values, the ha raft join config, the scoped policy of Pulumi's token, the bootstrap plan,
 * and the dynamic provider that runs it can be serialised (it runs in Pulumi's provider process).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { VaultSecretsPlatform, bootstrapOf, haRaftConfig, pulumiTokenPolicy, unsealerScript, validatePlatformArgs, withUnsealer } from "../../components";
import { keysInGuardProvider, vaultInitProvider } from "../../components/vault/init";
import { vaultProviderServiceName } from "../../components/config/vault-install";
import { MockRecorder, articleArgs } from "./harness";

describe("durable Vault (issue 9)", () => {
    it("adds the unsealer sidecar with the keys Secret (optional, read-only) and the server's image", () => {
        const v = withUnsealer({ server: { image: { tag: "1.21.4", pullPolicy: "Never" } } }, { mode: "standalone", serviceName: "vault", replicas: 1 });
        const sidecar = v.server.extraContainers.find((c: any) => c.name === "unsealer");
        assert.strictEqual(sidecar.image, "hashicorp/vault:1.21.4");
        assert.strictEqual(sidecar.imagePullPolicy, "Never");
        assert.strictEqual(sidecar.command[2], unsealerScript());
        assert.deepStrictEqual(sidecar.volumeMounts, [{ name: "unseal-keys", mountPath: "/vault/unseal", readOnly: true }]);
        const vol = v.server.volumes.find((x: any) => x.name === "unseal-keys");
        assert.deepStrictEqual(vol.secret, { secretName: "vault-unseal-keys", optional: true, defaultMode: 0o400 });
        assert.strictEqual(v.server.ha.disruptionBudget.enabled, false, "a one-replica budget would block node drains");
        assert.doesNotMatch(JSON.stringify(sidecar.env), /key-|token/i, "no key or token in the environment");
    });

    it("ha: every pod may join every other through the headless Service", () => {
        const cfg = haRaftConfig("vault", 3);
        for (const i of [0, 1, 2]) {
            assert.match(cfg, new RegExp(`leader_api_addr = "http://vault-${i}\\.vault-internal:8200"`));
        }
        assert.match(cfg, /performance_multiplier = 1/);
        const v = withUnsealer({}, { mode: "ha", serviceName: "vault", replicas: 3 });
        assert.strictEqual(v.server.ha.raft.config, cfg);
    });

    it("Pulumi's token policy covers exactly the stack's mount, auth method and policy prefix", () => {
        const hcl = pulumiTokenPolicy("kv", "kubernetes", "vso-");
        for (const p of ["sys/mounts/kv", "sys/auth/kubernetes", "auth/kubernetes/role/*", "sys/policies/acl/vso-*", "kv/data/*", "kv/metadata/*"]) {
            assert.ok(hcl.includes(`path "${p}"`), p);
        }
        assert.doesNotMatch(hcl, /path "sys\/policies\/acl\/\*"|path "\*"|"root"|auth\/token\/create"/, "nothing beyond what the components manage");
    });

    it("bootstraps only a Vault it installs in a durable mode and reaches through the API server without a token of the user's", () => {
        const a = articleArgs();
        assert.strictEqual(bootstrapOf(a, "vault"), undefined, "dev mode (the article's, by name): nothing to initialise");
        a.vault = { install: true };
        assert.deepStrictEqual(
            bootstrapOf(a, "vault")?.pods,
            ["vault-0"],
            "the default is durable (issue 9 item 5): one standalone server, initialised and unsealed by the first up",
        );
        a.vault = { install: true, helm: { mode: "ha", haReplicas: 3, unseal: { keyShares: 3, keyThreshold: 2 } } };
        assert.deepStrictEqual(bootstrapOf(a, "vault"), {
            pods: ["vault-0", "vault-1", "vault-2"],
            keysIn: "secret",
            keysSecretName: "vault-unseal-keys",
            keyShares: 3,
            keyThreshold: 2,
        });
        a.vault.token = "given";
        assert.strictEqual(bootstrapOf(a, "vault"), undefined, "a token of the user's: Vault is theirs to initialise");
    });

    it('keysIn "pulumi": no sidecar, no keys volume, no rolling restarts; the raft join config stays', () => {
        const given = { server: { image: { tag: "1.21.4" }, volumes: [{ name: "mine", emptyDir: {} }] } };
        const v = withUnsealer(given, { mode: "ha", serviceName: "vault", replicas: 3, unseal: { keysIn: "pulumi" } });
        assert.strictEqual(v.server.extraContainers, undefined, "no unsealer: the keys are not in the cluster");
        assert.deepStrictEqual(v.server.volumes, [{ name: "mine", emptyDir: {} }], "the user's volumes only, no keys Secret mounted");
        assert.strictEqual(v.server.updateStrategyType, undefined, "the chart's OnDelete: an upgrade never restarts a pod only pulumi up could unseal");
        assert.match(v.server.ha.raft.config, /retry_join/);
        const s = withUnsealer(given, { mode: "ha", serviceName: "vault", replicas: 3, unseal: { keysIn: "secret" } });
        assert.ok(
            s.server.extraContainers.some((c: any) => c.name === "unsealer"),
            "keysIn secret keeps the sidecar",
        );
    });

    it("rejects an unknown keysIn and the Secret/sidecar options with keysIn pulumi, naming the field", () => {
        const a = articleArgs();
        a.vault = { install: true, helm: { mode: "standalone", unseal: { keysIn: "gpg" as never } } };
        assert.match(validatePlatformArgs(a).find((x) => x.field === "vault.helm.unseal.keysIn")?.message ?? "", /use "secret".*or "pulumi"/);
        a.vault = { install: true, helm: { mode: "standalone", unseal: { keysIn: "pulumi", keysSecretName: "k", unsealerImage: "x:1" } } };
        const fields = validatePlatformArgs(a).map((x) => x.field);
        assert.ok(fields.includes("vault.helm.unseal.keysSecretName") && fields.includes("vault.helm.unseal.unsealerImage"), fields.join(","));
        a.vault = { install: true, token: "t", helm: { mode: "standalone", unseal: { keysIn: "pulumi" } } };
        assert.match(
            validatePlatformArgs(a).find((x) => x.field === "vault.token")?.message ?? "",
            /would remove the bootstrap and the keys with it/,
            "a given token would drop VaultInit, whose state holds the keys",
        );
        a.vault = { install: true, helm: { mode: "standalone", unseal: { keysIn: "pulumi" } } };
        assert.deepStrictEqual(validatePlatformArgs(a), []);
        assert.strictEqual(bootstrapOf(a, "vault")?.keysIn, "pulumi");
    });

    it("refuses to move the keys after initialisation (the unsealer would lose them, or the state would never get them)", async () => {
        const diff = vaultInitProvider.diff!;
        await assert.rejects(
            diff("id", { keysIn: "secret" }, { keysIn: "pulumi" } as never),
            /keysIn was "secret".*cannot change to "pulumi".*set keysIn back to "secret"/,
        );
        await assert.rejects(
            diff("id", {}, { keysIn: "pulumi" } as never),
            /was "secret"/,
            "a Vault initialised before keysIn existed kept its keys in the Secret",
        );
        await assert.rejects(diff("id", { keysIn: "pulumi" }, { keysIn: "secret" } as never), /set keysIn back to "pulumi"/);
        assert.deepStrictEqual(await diff("id", { keysIn: "pulumi" }, { keysIn: "pulumi" } as never), { changes: false });
        assert.deepStrictEqual(await diff("id", {}, { keysIn: "secret" } as never), { changes: false });
    });

    it('keysIn "pulumi": removing the stack saves the keys to a 0600 file (the data stays in the PVCs, the state goes)', async () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-home-"));
        const oldHome = process.env.HOME;
        process.env.HOME = home;
        try {
            await vaultInitProvider.delete!("vault/vault-0", { keysIn: "secret", keysSecretName: "vault-unseal-keys" });
            const dir = path.join(home, ".cache", "pulumi-vault-vso", "recovery");
            assert.ok(!fs.existsSync(dir), "keys in the Secret: nothing to save");
            // as the engine hands it over: the keys a wrapped secret
            const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
            await vaultInitProvider.delete!("vault/vault-0", { keysIn: "pulumi", unsealKeys: secret(["k0", "k1"]), keyThreshold: 2 });
            const files = fs.readdirSync(dir);
            assert.strictEqual(files.length, 1);
            assert.match(files[0], /^vault_vault-0-deleted-\d+\.json$/);
            const file = path.join(dir, files[0]);
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
            assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700);
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")).keys_base64, ["k0", "k1"]);
        } finally {
            process.env.HOME = oldHome;
            fs.rmSync(home, { recursive: true, force: true });
        }
    });

    it("ha: rejects chart values that remove the active Service Pulumi goes through, naming the field", () => {
        const a = articleArgs();
        a.vault = { install: true, helm: { mode: "ha", values: { server: { service: { active: { enabled: false } } } } } };
        const p = validatePlatformArgs(a).find((x) => x.field === "vault.helm.values.server.service.active.enabled");
        assert.match(p?.message ?? "", /must stay true in ha mode.*remove this value/);
        a.vault.helm!.mode = "standalone";
        assert.deepStrictEqual(validatePlatformArgs(a), [], "one server: Pulumi uses the chart's Service, the active one is not needed");
    });

    it("rejects a threshold above the shares, naming the field", () => {
        const a = articleArgs();
        a.vault = { install: true, helm: { mode: "standalone", unseal: { keyShares: 3, keyThreshold: 4 } } };
        const p = validatePlatformArgs(a).find((x) => x.field === "vault.helm.unseal.keyThreshold");
        assert.match(p?.message ?? "", /from 1 to keyShares \(3\)/);
    });

    it("rejects a policy template whose fixed part would let Pulumi's token rewrite its own policy or default", () => {
        const problem = (template: string, install = true) => {
            const a = articleArgs();
            a.vault = install ? { install: true, helm: { mode: "standalone" } } : { install: false, address: "https://vault.lan:8200" };
            a.kubernetesAuth = { ...(a.kubernetesAuth ?? {}), policyNameTemplate: template, ...(install ? {} : { kubernetesHost: "https://192.0.2.10:6443" }) };
            return validatePlatformArgs(a).find((x) => x.field === "kubernetesAuth.policyNameTemplate")?.message;
        };
        assert.match(problem("{namespace}-read") ?? "", /starts with \{namespace\}.*"pulumi-vault-vso" and "default" and "root"/);
        assert.match(problem("p{namespace}") ?? "", /starts with "p".*"pulumi-vault-vso"/);
        assert.match(problem("pulumi-{namespace}") ?? "", /"pulumi-vault-vso"/);
        assert.match(problem("de{namespace}") ?? "", /"default"/);
        for (const ok of ["vso-{namespace}-read", "pvv-{namespace}", "team-{namespace}-read"]) {
            assert.strictEqual(problem(ok), undefined, ok);
        }
        assert.strictEqual(problem("{namespace}-read", false), undefined, "no bootstrap token on a Vault the user runs");
        // the policy Pulumi's token gets really is limited to the prefix
        assert.match(pulumiTokenPolicy("kv", "kubernetes", "vso-"), /path "sys\/policies\/acl\/vso-\*"/);
    });

    it("the bootstrap's dynamic provider serialises (it runs in Pulumi's provider process)", async function () {
        this.timeout(60000);
        const fn = await pulumi.runtime.serializeFunction(() => vaultInitProvider, { allowSecrets: true });
        assert.ok(fn.text.includes("sys/init"));
        // its HTTP client goes with it (the provider process has no copy of the package)
        assert.match(fn.text, /agent: false/);
    });

    it("the keys' place is refused a move before the Helm release changes (a guard the release depends on), and its provider serialises", async function () {
        this.timeout(60000);
        const created = await keysInGuardProvider.create({ keysIn: "pulumi" });
        assert.deepStrictEqual(created.outs, { keysIn: "pulumi" });
        await assert.rejects(
            keysInGuardProvider.diff!("keys-in", { keysIn: "pulumi" }, { keysIn: "secret" }),
            /was "pulumi" when this Vault was initialised and cannot change to "secret"/,
        );
        assert.deepStrictEqual(await keysInGuardProvider.diff!("keys-in", { keysIn: "secret" }, {}), { changes: false }, "unset is secret");
        const fn = await pulumi.runtime.serializeFunction(() => keysInGuardProvider, { allowSecrets: true });
        assert.match(fn.text, /cannot change to/, "the check goes with it");
    });

    describe("under mocks", () => {
        const rec = new MockRecorder();
        beforeEach(() => rec.install());
        it("standalone: a VaultInit with the access token as a secret input; the access may proxy to the pod and write the keys Secret only", async () => {
            const a = articleArgs();
            a.vault = { install: true, helm: { mode: "standalone" } };
            new VaultSecretsPlatform("p", a);
            await rec.settle();
            const init = rec.one("pulumi-nodejs:dynamic/pulumi-vault-vso:VaultInit");
            assert.deepStrictEqual(init.inputs.pods, ["vault-0"]);
            assert.strictEqual(rec.one("pulumi-nodejs:dynamic/pulumi-vault-vso:VaultKeysInGuard").inputs.keysIn, "secret");
            assert.ok(init.secretInputs.includes("authorization"), "the access token is a secret input");
            const role = rec.one("kubernetes:rbac.authorization.k8s.io/v1:Role");
            const rules = role.inputs.rules as any[];
            assert.ok(rules.some((r) => r.resources[0] === "pods/proxy" && r.resourceNames.includes("vault-0")));
            assert.ok(rules.some((r) => r.resources[0] === "secrets" && (r.resourceNames ?? []).includes("vault-unseal-keys") && r.verbs.includes("get")));
            assert.ok(!rules.some((r) => r.resources[0] === "secrets" && !r.resourceNames && r.verbs.includes("get")), "no read of other Secrets");
        });

        it("ha: Pulumi reaches the active node's Service (a standby would redirect it to a plain-http pod address); standalone keeps the chart's Service", async () => {
            const a = articleArgs();
            a.vault = { install: true, helm: { mode: "ha", haReplicas: 3 } };
            new VaultSecretsPlatform("p", a);
            await rec.settle();
            assert.strictEqual(
                rec.one("pulumi:providers:vault").inputs.address,
                "https://192.0.2.10:6443/api/v1/namespaces/vault/services/http:vault-active:8200/proxy",
            );
            const rules = rec.one("kubernetes:rbac.authorization.k8s.io/v1:Role").inputs.rules as any[];
            const svc = rules.find((r) => r.resources[0] === "services/proxy");
            assert.deepStrictEqual(svc.resourceNames, ["vault-active", "http:vault-active:8200", "vault-active:8200"], "only the active Service");
            assert.ok(
                rules.some((r) => r.resources[0] === "pods/proxy" && r.resourceNames.includes("vault-2")),
                "init/unseal still reach each pod",
            );
            assert.strictEqual(vaultProviderServiceName("standalone", "vault"), "vault");
            assert.strictEqual(vaultProviderServiceName("ha", "sec"), "sec-vault-active");
        });

        it('keysIn "pulumi": the access may proxy to the pods but touch no Secret at all', async () => {
            const a = articleArgs();
            a.vault = { install: true, helm: { mode: "standalone", unseal: { keysIn: "pulumi" } } };
            new VaultSecretsPlatform("p", a);
            await rec.settle();
            const init = rec.one("pulumi-nodejs:dynamic/pulumi-vault-vso:VaultInit");
            assert.strictEqual(init.inputs.keysIn, "pulumi");
            const rules = rec.one("kubernetes:rbac.authorization.k8s.io/v1:Role").inputs.rules as any[];
            assert.ok(
                rules.some((r) => r.resources[0] === "pods/proxy" && r.resourceNames.includes("vault-0")),
                "pulumi up unseals through the pod proxy",
            );
            assert.ok(!rules.some((r) => r.resources[0] === "secrets"), "no Secret is written or read");
        });
    });
});
