import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { VaultSecretsPlatform, validatePlatformArgs } from "../../components";
import { HomelabConfig, databaseFromConfig, platformArgsFromConfig, unknownConfigKeys } from "../../programs/homelab/config";
import {
    ConfigEntry,
    PROJECT,
    SANDBOX_APP,
    SANDBOX_DB_ROLE,
    SANDBOX_DB_WORKLOAD,
    bedStackConfig,
    toolVersions,
    workloadDeployment,
} from "../../scripts/sandbox/stack-config";
import { MockRecorder } from "./harness";

/** The stack config as the homelab program reads it (programs/homelab/index.ts: getObject = JSON.parse). */
function asProgramSees(entries: Record<string, ConfigEntry>): { cfg: HomelabConfig; raw: Record<string, string> } {
    const raw: Record<string, string> = {};
    const cfg: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(entries)) {
        raw[k] = e.value;
        assert.ok(k.startsWith(`${PROJECT}:`), k);
        cfg[k.slice(PROJECT.length + 1)] = JSON.parse(e.value);
    }
    return { cfg: cfg as unknown as HomelabConfig, raw };
}

describe("the bed's stack config (npm start and the integration tests, one source)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-sandbox-cfg-"));
    const crdDir = path.join(tmp, "crds");
    fs.mkdirSync(crdDir, { recursive: true });
    fs.writeFileSync(
        path.join(crdDir, "secrets.hashicorp.com_vaultstaticsecrets.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n",
    );
    const env = {
        VAULT_ADDR: "http://127.0.0.1:8200",
        VSO_CRDS_DIR: crdDir,
        KUBE_API_SERVER: "https://127.0.0.1:6443",
        PVV_VAULT_CHART_DIR: path.join(tmp, "vault-chart"),
        PVV_VSO_CHART_DIR: path.join(tmp, "vso-chart"),
    };
    for (const chart of ["vault-chart", "vso-chart"]) {
        fs.mkdirSync(path.join(tmp, chart), { recursive: true });
        fs.writeFileSync(path.join(tmp, chart, "Chart.yaml"), `apiVersion: v2\nname: ${chart}\nversion: 0.0.1\n`);
    }
    const values = { [SANDBOX_APP.name]: { access_key: "k", access_secret_key: "s" } };

    for (const mode of ["incluster", "external"] as const) {
        it(`${mode}: the homelab program accepts it as it is (no unknown or renamed field) and builds the app`, async () => {
            const { cfg, raw } = asProgramSees(bedStackConfig(mode, env, [SANDBOX_APP], values));
            const crdFiles = mode === "external" ? [path.join(crdDir, "secrets.hashicorp.com_vaultstaticsecrets.yaml")] : [];
            const secretValues = pulumi.secret((cfg as unknown as { values: Record<string, Record<string, string>> }).values);
            delete (cfg as unknown as Record<string, unknown>).values;
            const { problems } = platformArgsFromConfig(cfg, secretValues, crdFiles);
            assert.deepStrictEqual(unknownConfigKeys(raw, PROJECT), []);
            assert.deepStrictEqual(problems, []);
            assert.deepStrictEqual(validatePlatformArgs(platformArgsFromConfig(cfg, secretValues, crdFiles).args), []);
            // under mocks, built without the CRD files (a ConfigGroup the mocks cannot expand)
            new VaultSecretsPlatform("sandbox", platformArgsFromConfig(cfg, secretValues, []).args);
            await rec.settle();
            const vss = rec.one("kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret");
            assert.strictEqual(vss.inputs.metadata.namespace, "cnpg");
            assert.deepStrictEqual(vss.inputs.spec.rolloutRestartTargets, [{ kind: "Deployment", name: "my-app" }]);
            assert.strictEqual(rec.ofType("kubernetes:helm.sh/v3:Release").length, mode === "incluster" ? 2 : 0);
        });
    }

    it("a field the program does not know (the old restartTargets) is caught by this check", () => {
        const app = { ...SANDBOX_APP, restartTargets: SANDBOX_APP.rolloutRestartTargets } as Record<string, unknown>;
        delete app.rolloutRestartTargets;
        const { cfg } = asProgramSees(bedStackConfig("external", env, [app], values));
        const { problems } = platformArgsFromConfig(cfg, undefined, []);
        assert.ok(
            problems.some((p) => p.field === "apps[0].restartTargets" && /rolloutRestartTargets/.test(p.message)),
            JSON.stringify(problems),
        );
    });

    it("values are the only secret entry; a missing bed variable is named", () => {
        const entries = bedStackConfig("incluster", env, [SANDBOX_APP], values);
        assert.deepStrictEqual(
            Object.entries(entries)
                .filter(([, e]) => e.secret)
                .map(([k]) => k),
            [`${PROJECT}:values`],
        );
        assert.strictEqual(JSON.parse(entries[`${PROJECT}:vault`].value).helm.values.server.image.tag, toolVersions().VAULT_VERSION);
        assert.throws(() => bedStackConfig("external", { ...env, VAULT_ADDR: undefined }, [], undefined), /VAULT_ADDR is not set/);
    });

    for (const mode of ["incluster", "external"] as const) {
        it(`${mode}, the dynamic-credential variant: the program accepts it, the password is secret config only, the VaultDynamicSecret restarts ${SANDBOX_DB_WORKLOAD}`, async () => {
            const entries = bedStackConfig(mode, env, [SANDBOX_APP], values, {
                database: { host: "10.245.0.1", port: 15432, adminPassword: "pw-not-in-plain" },
            });
            assert.deepStrictEqual(
                Object.entries(entries)
                    .filter(([, e]) => e.secret)
                    .map(([k]) => k)
                    .sort(),
                [`${PROJECT}:databasePasswords`, `${PROJECT}:values`],
            );
            assert.ok(
                Object.values(entries).every((e) => e.secret || !e.value.includes("pw-not-in-plain")),
                "the admin password is in no plain entry",
            );
            const { cfg, raw } = asProgramSees(entries);
            const plain = cfg as unknown as Record<string, unknown>;
            const secretValues = pulumi.secret(plain.values as Record<string, Record<string, string>>);
            const passwords = pulumi.secret(plain.databasePasswords as Record<string, string>);
            delete plain.values;
            delete plain.databasePasswords;
            assert.deepStrictEqual(unknownConfigKeys(raw, PROJECT), []);
            const { args, problems } = platformArgsFromConfig(cfg, secretValues, []);
            const db = databaseFromConfig(cfg.database, passwords, Object.keys(JSON.parse(raw[`${PROJECT}:databasePasswords`])));
            assert.deepStrictEqual([...problems, ...db.problems], []);
            args.database = db.database;
            assert.deepStrictEqual(validatePlatformArgs(args), []);
            new VaultSecretsPlatform("sandbox-db", args);
            await rec.settle();
            const vds = rec.one("kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret");
            assert.strictEqual(vds.inputs.metadata.namespace, SANDBOX_DB_ROLE.namespace);
            assert.strictEqual(vds.inputs.spec.destination.name, SANDBOX_DB_ROLE.name);
            assert.deepStrictEqual(vds.inputs.spec.rolloutRestartTargets, [{ kind: "Deployment", name: SANDBOX_DB_WORKLOAD }]);
            const conn = rec.one("vault:database/secretBackendConnection:SecretBackendConnection");
            assert.match(JSON.stringify(conn.inputs), /@10\.245\.0\.1:15432\/appdb/);
            // the workload a rotation restarts reads the Secret the VaultDynamicSecret writes
            const d = workloadDeployment("cnpg", SANDBOX_DB_WORKLOAD, SANDBOX_DB_ROLE.name) as {
                spec: { template: { spec: { containers: Record<string, unknown>[] } } };
            };
            assert.deepStrictEqual(d.spec.template.spec.containers[0].envFrom, [{ secretRef: { name: SANDBOX_DB_ROLE.name, optional: true } }]);
        });
    }

    it("the workload takes the app's Secret optionally and never pulls an image", () => {
        const d = workloadDeployment("cnpg", "my-app", SANDBOX_APP.name) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
        const c = d.spec.template.spec.containers[0];
        assert.strictEqual(c.imagePullPolicy, "Never");
        assert.deepStrictEqual(c.envFrom, [{ secretRef: { name: SANDBOX_APP.name, optional: true } }]);
    });
});
