/**
 * The package's shape as its consumers rely on it (issue 11): importing the components loads no ops
 * code; the platform's inventory is what the ops tools read; renamed fields are named with their
 * new name; bad options raise one typed error.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { INVENTORY_VERSION, PlatformInventory, ValidationError, VaultSecretsPlatform, validatePlatformArgs, validationProblemsOf } from "../../components";
import { inventoryFromOutputs, loginTargetProblem } from "../../ops";
import { platformArgsFromConfig, unknownConfigKeys } from "../../programs/homelab/config";
import { MockRecorder, articleArgs, valueOf } from "./harness";

const REPO = path.join(__dirname, "..", "..");

/** Relative imports of a TypeScript file, resolved to files. */
function importsOf(file: string): string[] {
    const src = fs.readFileSync(file, "utf8");
    const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"(\.[^"]+)"/g)].map((m) => m[1]);
    return specs.map((s) => {
        const base = path.resolve(path.dirname(file), s);
        return [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f)) ?? base;
    });
}

describe("package layout (issue 11)", () => {
    it("nothing components/index.ts imports, directly or indirectly, is in ops/ or cli/", () => {
        const seen = new Set<string>();
        const todo = [path.join(REPO, "components", "index.ts")];
        while (todo.length) {
            const f = todo.pop()!;
            if (seen.has(f)) {
                continue;
            }
            seen.add(f);
            todo.push(...importsOf(f));
        }
        const outside = [...seen].map((f) => path.relative(REPO, f)).filter((f) => !f.startsWith("components/"));
        assert.deepStrictEqual(outside, [], "the components import only components");
        assert.ok(seen.size >= 10, `walked the import graph (${seen.size} files)`);
    });

    it("the layers point one way (issue 23): config/ and shared/ import no component; no component imports the platform", () => {
        const layer = (f: string) => path.relative(path.join(REPO, "components"), f).split(path.sep)[0].replace(/\.ts$/, "");
        const dir = path.join(REPO, "components");
        const files = fs
            .readdirSync(dir, { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".ts"))
            .map((f) => path.join(dir, f));
        const allowed: Record<string, string[]> = {
            shared: ["shared"],
            config: ["config", "shared"],
            vault: ["vault", "config", "shared"],
            "vault-config": ["vault-config", "config", "shared"],
            operator: ["operator", "config", "shared"],
            apps: ["apps", "config", "shared"],
        };
        const wrong: string[] = [];
        for (const f of files) {
            const from = layer(f);
            for (const to of importsOf(f).map(layer)) {
                if (allowed[from] && !allowed[from].includes(to)) {
                    wrong.push(`${path.relative(REPO, f)} imports from ${to}/`);
                }
            }
        }
        assert.deepStrictEqual(wrong, []);
        assert.ok(files.filter((f) => layer(f) === "config").length >= 10, "walked config/");
    });

    it("requiring the components at run time loads nothing beyond the SDKs, js-yaml and the components themselves", function () {
        this.timeout(60000);
        const script = `for (const m of ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/vault", "js-yaml"]) require(m);
            const base = new Set(Object.keys(require.cache));
            require(${JSON.stringify(path.join(REPO, "components"))});
            console.log(JSON.stringify(Object.keys(require.cache).filter((f) => !base.has(f))));`;
        const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO, encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        const added = (JSON.parse(r.stdout.trim().split("\n").pop()!) as string[]).map((f) => path.relative(REPO, f));
        assert.deepStrictEqual(
            added.filter((f) => !f.startsWith("components/")),
            [],
            "no ops, cli or other module is loaded",
        );
        assert.ok(added.length > 5, `the components were loaded (${added.length} files)`);
    });

    it("package.json exports the components as '.' and the ops tools as './ops', with the SDKs as peer dependencies", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.strictEqual(pkg.exports["."].default, "./lib/components/index.js");
        assert.strictEqual(pkg.exports["./ops"].default, "./lib/ops/index.js");
        for (const sdk of ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/vault"]) {
            assert.match(pkg.peerDependencies[sdk], /^\^\d+\.\d+\.\d+$/, `${sdk} is a peer range`);
            assert.strictEqual(pkg.dependencies?.[sdk], undefined, `${sdk} is not a (second-copy) dependency`);
            assert.match(pkg.devDependencies[sdk], /^\d+\.\d+\.\d+$/, `${sdk} is pinned exactly for this repo's tests and tool builds`);
        }
        const env = fs.readFileSync(path.join(REPO, "scripts", "tools", "versions.env"), "utf8");
        assert.doesNotMatch(env, /^PULUMI_(VERSION|K8S_PROVIDER_VERSION|VAULT_PROVIDER_VERSION)=/m, "the SDK pins live in package.json only");
    });
});

describe("the platform's inventory (issue 11)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install((type) => (type === "vault:kv/secretV2:SecretV2" ? { metadata: { version: "3" } } : {})));

    it("lists namespaces, roles, policies, apps and managed versions, and the ops tools read it back", async () => {
        const args = articleArgs();
        args.apps[0].data = { access_key: "ak", access_secret_key: "s3cr3t" };
        args.apps.push({ name: "other", namespace: "apps", path: "other/app", keys: ["k"] });
        const p = new VaultSecretsPlatform("homelab", args);
        const inv = await valueOf(p.inventory);
        assert.strictEqual(inv.version, INVENTORY_VERSION);
        assert.strictEqual(inv.kvPath, "kv");
        assert.strictEqual(inv.authPath, "kubernetes");
        assert.deepStrictEqual(
            inv.namespaces.map((n) => [n.namespace, n.role, n.policy, n.serviceAccount, n.audience]),
            [
                ["cnpg", "vso-cnpg", "vso-cnpg-read", "vso-auth", "vault"],
                ["apps", "vso-apps", "vso-apps-read", "vso-auth", "vault"],
            ],
        );
        assert.deepStrictEqual(
            inv.apps.map((a) => [a.name, a.namespace, a.path, a.managed]),
            [
                ["rustfs-cloudnativepg", "cnpg", "rustfs/cloudnativepg", true],
                ["other", "apps", "other/app", false],
            ],
        );
        assert.deepStrictEqual(inv.managedVersions, { "rustfs-cloudnativepg": "3" });
        assert.doesNotMatch(JSON.stringify(inv), /s3cr3t|"ak"/, "no value in the inventory");
        // what drift and doctor do with a stack's outputs
        assert.deepStrictEqual(inventoryFromOutputs({ inventory: { value: inv } }), inv);
        assert.deepStrictEqual(inventoryFromOutputs({ anyName: { value: inv }, other: { value: 1 } }), inv, "found under another output name");
    });

    it("reads a 0.1 stack's separate outputs, and drops fields of the wrong type instead of trusting them", () => {
        const legacy = inventoryFromOutputs({
            vaultAddress: { value: "http://vault.vault.svc:8200" },
            kvPath: { value: "kv" },
            namespaces: { value: [{ namespace: "cnpg", role: "vso-cnpg", policy: "p", serviceAccount: "vso-auth" }, { namespace: 5 }] },
            apps: { value: [{ name: "a", namespace: "cnpg", path: "x", keys: ["k", 7], managed: "yes" }] },
            managedVersions: { value: { a: 2 } },
        })!;
        assert.strictEqual(legacy.namespaces.length, 1);
        assert.strictEqual(legacy.namespaces[0].audience, undefined, "a 0.1 stack did not record its audience");
        assert.deepStrictEqual(legacy.apps[0].keys, ["k"]);
        assert.strictEqual(legacy.apps[0].managed, false);
        assert.deepStrictEqual(legacy.managedVersions, { a: "2" });
        assert.strictEqual(inventoryFromOutputs({ unrelated: { value: "x" } }), undefined);
    });

    it("the doctor mints no token for a VaultAuth that logs in otherwise than the stack set up", () => {
        const inv: PlatformInventory = {
            version: INVENTORY_VERSION,
            vaultAddress: "",
            kvPath: "kv",
            authPath: "kubernetes",
            apps: [],
            managedVersions: {},
            namespaces: [
                {
                    namespace: "cnpg",
                    role: "vso-cnpg",
                    policy: "p",
                    serviceAccount: "vso-auth",
                    audience: "vault",
                    vaultAuth: "vault-auth",
                    vaultConnection: "vault-connection",
                },
            ],
        };
        const same = { mount: "kubernetes", role: "vso-cnpg", sa: "vso-auth", audiences: ["vault"] };
        assert.strictEqual(loginTargetProblem(same, "cnpg", inv), undefined);
        assert.match(loginTargetProblem({ ...same, sa: "cluster-admin-sa" }, "cnpg", inv)!, /serviceAccount "cluster-admin-sa" \(the stack's: "vso-auth"\)/);
        assert.match(loginTargetProblem({ ...same, audiences: ["https://kubernetes.default.svc"] }, "cnpg", inv)!, /audiences/);
        assert.match(loginTargetProblem({ ...same, role: "admin" }, "cnpg", inv)!, /role "admin"/);
        assert.strictEqual(loginTargetProblem({ ...same, sa: "x" }, "other-ns", inv), undefined, "namespaces outside the stack are not judged");
        assert.strictEqual(loginTargetProblem({ ...same, sa: "x" }, "cnpg", undefined), undefined, "without --stack there is nothing to compare");
    });
});

describe("providers go through the resource options (issue 11)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("a Vault and a Kubernetes provider given in the options serve every child; none is created", async () => {
        const vaultProvider = new vault.Provider("mine-vault", { address: "https://vault.lan:8200" });
        const k8sProvider = new k8s.Provider("mine-k8s", {});
        const args = articleArgs();
        args.vault = { install: false, address: "https://vault.lan:8200" };
        args.operator = { install: false };
        new VaultSecretsPlatform("p", args, { providers: { vault: vaultProvider, kubernetes: k8sProvider } });
        await rec.settle();
        assert.deepStrictEqual(
            rec.ofType("pulumi:providers:vault").map((r) => r.name),
            ["mine-vault"],
            "no Vault provider of its own",
        );
        assert.deepStrictEqual(
            rec.ofType("pulumi:providers:kubernetes").map((r) => r.name),
            ["mine-k8s"],
        );
        const policy = rec.one("vault:index/policy:Policy");
        assert.match(policy.provider, /::mine-vault::/);
        const vss = rec.one("kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret");
        assert.match(vss.provider, /::mine-k8s::/);
    });
});

describe("bad options raise one typed error (issue 11)", () => {
    it("ValidationError carries the problem list and converts to Pulumi's InputPropertiesError", () => {
        const args = articleArgs();
        args.apps[0].namespace = "Bad NS";
        let err: unknown;
        try {
            new VaultSecretsPlatform("bad", args);
        } catch (e) {
            err = e;
        }
        assert.ok(err instanceof ValidationError, `got ${err}`);
        assert.ok(ValidationError.isInstance(err));
        const problems = validationProblemsOf(err)!;
        assert.ok(problems.some((p) => p.field === "apps[0].namespace"));
        const ipe = (err as ValidationError).toInputPropertiesError();
        assert.deepStrictEqual(
            ipe.errors.map((e) => e.propertyPath),
            problems.map((p) => p.field),
        );
    });

    it("a renamed or misspelled field is an error naming the new name, not silently ignored", () => {
        const args = articleArgs() as any;
        args.apps[0].restartTargets = [{ kind: "Deployment", name: "my-app" }];
        args.vault = { ...args.vault, skipTlsVerify: true };
        args.kubernetesAuth = { ...args.kubernetesAuth, tokenTTL: 600 };
        const ps = validatePlatformArgs(args);
        const by = (f: string) => ps.find((p) => p.field === f)?.message ?? "";
        assert.match(by("apps[0].restartTargets"), /renamed to "rolloutRestartTargets"/);
        assert.match(by("vault.skipTlsVerify"), /renamed to "skipTLSVerify"/);
        assert.match(by("kubernetesAuth.tokenTTL"), /did you mean "tokenTtl"\?/);
    });

    it("the homelab program reports unknown keys in its apps, its operator options and its project config", () => {
        const { problems } = platformArgsFromConfig(
            { apps: [{ name: "a", namespace: "n", path: "p", restartTargets: [] } as any], operator: { crdDirs: "/x" } as any },
            undefined,
        );
        assert.match(problems.find((p) => p.field === "apps[0].restartTargets")?.message ?? "", /renamed to "rolloutRestartTargets"/);
        assert.match(problems.find((p) => p.field === "operator.crdDirs")?.message ?? "", /did you mean "crdDir"\?/);
        const cfg = unknownConfigKeys(
            { "vault-vso-homelab:app": "[]", "vault-vso-homelab:apps": "[]", "vault:token": "x", "kubernetes:context": "c" },
            "vault-vso-homelab",
        );
        assert.deepStrictEqual(
            cfg.map((p) => p.field),
            ["vault-vso-homelab:app"],
        );
        assert.match(cfg[0].message, /did you mean "apps"\?/);
    });
});
