/**
 * Database credentials (issue 21): the checks before any resource, the plan (names, statements, the
 * paths a namespace may read) and what the platform creates from it, under Pulumi's mocks.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    DatabaseArgs,
    VaultSecretsPlatform,
    VaultSecretsPlatformArgs,
    dynamicSecretSpec,
    planDatabase,
    planPlatformArgs,
    postgresRevocationStatements,
    validateDatabaseArgs,
    validatePlatformArgs,
} from "../../components";
import { MockRecorder, articleArgs, isSecret } from "./harness";
import { databaseFromConfig, unknownConfigKeys } from "../../programs/homelab/config";
import { explainCredsError } from "../../ops";

const URL = "postgresql://{{username}}:{{password}}@db.lan:5432/app?sslmode=require";

function dbArgs(): DatabaseArgs {
    return {
        connections: [{ name: "app", connectionUrl: URL, username: "vault_admin", password: "s3cr3t-admin" }],
        roles: [
            {
                name: "app-db",
                namespace: "cnpg",
                database: "app",
                grantRoles: ["app_rw"],
                defaultTtl: "15m",
                maxTtl: "1h",
                rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
            },
            { name: "report", namespace: "reporting", database: "app", kind: "static", username: "reporter", rotationPeriod: "1h" },
        ],
    };
}

function fields(problems: { field: string }[]): string[] {
    return problems.map((p) => p.field).sort();
}

describe("database credentials (issue 21)", () => {
    it("verbatim fields: roleName keeps a role's name, revocationStatements [] is none, renew/rollback/rotation statements and pool settings pass through", () => {
        const d = dbArgs();
        Object.assign(d.roles[0], { roleName: "app-rw", revocationStatements: [], renewStatements: ["ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}';"] });
        Object.assign(d.roles[1], { roleName: "reporter", rotationStatements: ["ALTER ROLE \"{{name}}\" WITH PASSWORD '{{password}}';"] });
        Object.assign(d.connections[0], { maxOpenConnections: 4, maxIdleConnections: 0, maxConnectionLifetime: 0 });
        assert.deepStrictEqual(validateDatabaseArgs(d), []);
        const plan = planDatabase(d);
        assert.deepStrictEqual(
            plan.roles.map((r) => [r.roleName, r.credsPath]),
            [
                ["app-rw", "creds/app-rw"],
                ["reporter", "static-creds/reporter"],
            ],
        );
        assert.deepStrictEqual(plan.roles[0].revocationStatements, [], "none stays none, not the package's default");
        assert.strictEqual(plan.roles[0].renewStatements!.length, 1);
        assert.strictEqual(plan.roles[1].rotationStatements!.length, 1);
        assert.deepStrictEqual(plan.connections[0].allowedRoles, ["app-rw", "reporter"]);
        assert.strictEqual(plan.connections[0].maxOpenConnections, 4);
        const bad = dbArgs();
        Object.assign(bad.roles[0], { roleName: "Bad Name", rotationStatements: ["x"], rollbackStatements: [""] });
        Object.assign(bad.roles[1], { renewStatements: ["x"] });
        Object.assign(bad.connections[0], { maxOpenConnections: -1 });
        assert.deepStrictEqual(fields(validateDatabaseArgs(bad)), [
            "database.connections[0].maxOpenConnections",
            "database.roles[0].roleName",
            "database.roles[0].rollbackStatements",
            "database.roles[0].rotationStatements",
            "database.roles[1].renewStatements",
        ]);
        const twice = dbArgs();
        Object.assign(twice.roles[1], { roleName: "cnpg-app-db" });
        assert.ok(validateDatabaseArgs(twice).some((p) => p.field === "database.roles[1].roleName" && /already taken/.test(p.message)));
    });

    it("a good config has no problems, and the plan names each role after its namespace and app", () => {
        assert.deepStrictEqual(validateDatabaseArgs(dbArgs()), []);
        const plan = planDatabase(dbArgs());
        assert.strictEqual(plan.path, "database");
        assert.deepStrictEqual(
            plan.roles.map((r) => [r.roleName, r.kind, r.credsPath, r.policyPath]),
            [
                ["cnpg-app-db", "dynamic", "creds/cnpg-app-db", "database/creds/cnpg-app-db"],
                ["reporting-report", "static", "static-creds/reporting-report", "database/static-creds/reporting-report"],
            ],
        );
        assert.deepStrictEqual(plan.connections[0].allowedRoles, ["cnpg-app-db", "reporting-report"], "the connection serves exactly its roles");
        assert.deepStrictEqual([plan.roles[0].defaultTtl, plan.roles[0].maxTtl, plan.roles[1].rotationPeriod], [900, 3600, 3600]);
        assert.deepStrictEqual(plan.roles[0].creationStatements, [
            `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT;`,
            `GRANT "app_rw" TO "{{name}}";`,
        ]);
        assert.ok(!JSON.stringify(plan).includes("s3cr3t-admin"), "the plan never holds the password");
        assert.strictEqual(planDatabase(dbArgs(), "nas").roles[0].roleName, "nas-cnpg-app-db", "a cluster's roles carry its name");
    });

    it("revocation ends sessions and hands owned objects to the group role before dropping the user", () => {
        const rev = planDatabase(dbArgs()).roles[0].revocationStatements!;
        assert.deepStrictEqual(rev, postgresRevocationStatements("app_rw"));
        const order = ["pg_terminate_backend", "GRANT", "REASSIGN OWNED", "DROP OWNED", "DROP ROLE"].map((k) => rev.findIndex((s) => s.includes(k)));
        assert.deepStrictEqual(
            order,
            [...order].sort((a, b) => a - b),
            "in this order",
        );
        assert.ok(order.every((i) => i >= 0));
        assert.match(rev[2], /TO "app_rw"/);
        const own = dbArgs();
        own.roles[0] = { name: "x", namespace: "cnpg", database: "app", creationStatements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}';`] };
        assert.match(planDatabase(own).roles[0].revocationStatements![2], /TO "vault_admin"/, "without a group role, objects go to Vault's own role");
    });

    it("rejects bad input before any resource, naming the field", () => {
        const bad: any = dbArgs();
        bad.connections[0].connectionUrl = "postgresql://vault_admin:Pw-lit3ral@db.lan/app";
        bad.roles[0].database = "nope";
        bad.roles[0].defaultTtl = "2h"; // > maxTtl 1h
        bad.roles[1].kind = "rotating";
        bad.roles.push({ name: "c", namespace: "cnpg", database: "app", creationStatements: ["CREATE ROLE app LOGIN;"] });
        bad.roles.push({ name: "d", namespace: "cnpg", database: "app", grantRoles: ['x" ; DROP TABLE t; --'], renewalPercent: 100 });
        bad.roles.push({ name: "e", namespace: "cnpg", database: "app", grantRoles: ["a"], username: "u" });
        const problems = validateDatabaseArgs(bad);
        assert.deepStrictEqual(fields(problems), [
            "database.connections[0].connectionUrl",
            "database.roles[0].database",
            "database.roles[0].defaultTtl",
            "database.roles[1].kind",
            "database.roles[2].creationStatements",
            "database.roles[3].grantRoles[0]",
            "database.roles[3].renewalPercent",
            "database.roles[4].username",
        ]);
        const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
        assert.match(byField["database.connections[0].connectionUrl"], /\{\{username\}\} and \{\{password\}\}/);
        assert.ok(!JSON.stringify(problems).includes("Pw-lit3ral"), "a password written into the URL is not echoed");
        assert.match(byField["database.roles[0].database"], /"nope" is not one of the connections \("app"\)/);
        assert.match(byField["database.roles[0].defaultTtl"], /7200s is longer than maxTtl \(3600s\)/);
        assert.match(byField["database.roles[2].creationStatements"], /names \{\{name\}\}/);
        assert.match(byField["database.roles[4].username"], /applies to kind "static" only/);
    });

    it("refuses the superuser, a missing password, wrong types from YAML and unknown fields", () => {
        const bad: any = dbArgs();
        bad.connections[0].username = "postgres";
        delete bad.connections[0].password;
        bad.connections[0].verifyConnection = "yes";
        bad.roles[0].maxTtl = true;
        bad.roles[0].ttl = "1h";
        const problems = validateDatabaseArgs(bad);
        assert.deepStrictEqual(fields(problems), [
            "database.connections[0].password",
            "database.connections[0].username",
            "database.connections[0].verifyConnection",
            "database.roles[0].maxTtl",
            "database.roles[0].ttl",
        ]);
        assert.match(problems.find((p) => p.field.endsWith("username"))!.message, /superuser.*one-way/);
        const ok: any = dbArgs();
        ok.connections[0].username = "postgres";
        ok.connections[0].allowSuperuser = true;
        assert.deepStrictEqual(validateDatabaseArgs(ok), [], "allowed on purpose");
        assert.deepStrictEqual(fields(validateDatabaseArgs("nope")), ["database"]);
        assert.deepStrictEqual(fields(validateDatabaseArgs({ connections: [], roles: [] })), ["database.connections"]);
    });

    it("refuses one static user read from two namespaces, and two apps or Secrets of the same name in a namespace (also against KV apps)", () => {
        const bad: any = dbArgs();
        bad.roles.push({ name: "report2", namespace: "other", database: "app", kind: "static", username: "reporter" });
        bad.roles.push({ name: "app-db", namespace: "cnpg", database: "app", grantRoles: ["app_rw"] });
        bad.roles.push({ name: "z", namespace: "cnpg", database: "app", grantRoles: ["app_rw"], destination: "kv-secret" });
        const problems = validateDatabaseArgs(bad, "database", { kvApps: [{ name: "rustfs", namespace: "cnpg", destination: "kv-secret" }] });
        const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
        assert.match(byField["database.roles[2].username"], /"reporter" of "app" is already rotated for database\.roles\[1\]/);
        assert.match(byField["database.roles[3].name"], /already taken by database\.roles\[0\]/);
        assert.match(byField["database.roles[4].destination"], /the Secret cnpg\/kv-secret is already taken by apps \(the KV app "rustfs"\)/);
    });

    it("the homelab program takes each password from the secret databasePasswords, never from plain config", async () => {
        const plain: any = { connections: [{ name: "appdb", connectionUrl: URL, username: "vault_admin", password: "in-git" }], roles: [] };
        const r = databaseFromConfig(plain, undefined, []);
        assert.deepStrictEqual(
            r.problems.map((p) => p.field),
            ["database.connections[0].password", "databasePasswords.appdb"],
        );
        assert.match(r.problems[0].message, /pulumi config set --secret --path 'databasePasswords\.appdb'/);
        assert.ok(!JSON.stringify(r.problems).includes("in-git"), "the plain password is not echoed");
        const good = databaseFromConfig(
            { connections: [{ name: "appdb", connectionUrl: URL, username: "vault_admin" }], roles: [] },
            pulumi.secret<Record<string, string>>({ appdb: "from-secret" }),
            ["appdb"],
        );
        assert.deepStrictEqual(good.problems, []);
        const pw = good.database!.connections[0].password as pulumi.Output<string>;
        assert.strictEqual(await isSecret(pw), true);
        assert.deepStrictEqual(unknownConfigKeys({ "p:database": "{}", "p:databasePasswords": "{}" }, "p"), [], "both keys are known");
    });

    describe("in the platform", () => {
        const withDb = (): VaultSecretsPlatformArgs => ({ ...articleArgs(), database: dbArgs() });

        it("the namespace's policy gains exactly its credential path, and its role a token period; other namespaces are unchanged", () => {
            const before = planPlatformArgs(articleArgs());
            const plan = planPlatformArgs(withDb());
            const cnpg = plan.namespaces.find((n) => n.namespace === "cnpg")!;
            assert.match(cnpg.policyText, /path "database\/creds\/cnpg-app-db" \{\n {2}capabilities = \["read"\]\n\}/);
            assert.doesNotMatch(cnpg.policyText, /reporting-report/, "not the other namespace's credential");
            assert.doesNotMatch(cnpg.policyText, /database\/creds\/\*|database\/\*/, "no globs");
            assert.strictEqual(cnpg.tokenPeriod, plan.tokenTtl);
            const reporting = plan.namespaces.find((n) => n.namespace === "reporting")!;
            assert.deepStrictEqual(reporting.apps, [], "a namespace with credentials only gets its access too");
            assert.deepStrictEqual(reporting.databasePaths, ["database/static-creds/reporting-report"]);
            for (const n of before.namespaces.filter((x) => x.namespace !== "cnpg")) {
                assert.deepStrictEqual(
                    plan.namespaces.find((x) => x.namespace === n.namespace),
                    n,
                    `namespace ${n.namespace} without credentials: the same plan as without database`,
                );
            }
        });

        it("rejects a database mount on the KV mount and credentials in Vault's namespace", () => {
            const a = withDb();
            a.database!.path = a.kv?.path ?? "kv";
            a.database!.roles[0].namespace = "vault";
            const problems = validatePlatformArgs(a);
            assert.ok(
                problems.some((p) => p.field === "database.path" && /already kv\.path/.test(p.message)),
                JSON.stringify(problems),
            );
            assert.ok(
                problems.some((p) => p.field === "database.roles[0].namespace" && /Vault's own namespace/.test(p.message)),
                JSON.stringify(problems),
            );
        });

        it("refuses credentials in a namespace that is still adopted (its hand-built policy would not grant them)", () => {
            const a = withDb();
            const obj = { name: "x", namespace: "cnpg", spec: {} } as any;
            a.adopted = { namespaces: [{ namespace: "cnpg", connection: obj, auth: obj }] } as any;
            const problems = validatePlatformArgs(a).filter((p) => p.field === "database.roles[0].namespace");
            assert.strictEqual(problems.length, 1, JSON.stringify(validatePlatformArgs(a)));
            assert.match(problems[0].message, /is adopted .* convention step/);
        });

        describe("under mocks", () => {
            const rec = new MockRecorder();
            beforeEach(() => rec.install());

            it("creates the mount, the connection (password secret), the roles and one VaultDynamicSecret per app", async () => {
                const a = withDb();
                a.database!.connections[0].password = pulumi.secret("s3cr3t-admin");
                new VaultSecretsPlatform("p", a);
                await rec.settle();
                const mounts = rec.ofType("vault:index/mount:Mount").filter((m) => m.inputs.type === "database");
                assert.deepStrictEqual(
                    mounts.map((m) => m.inputs.path),
                    ["database"],
                );
                const [conn] = rec.ofType("vault:database/secretBackendConnection:SecretBackendConnection");
                assert.deepStrictEqual(conn.inputs.allowedRoles, ["cnpg-app-db", "reporting-report"]);
                assert.ok(conn.secretInputs.includes("postgresql"), "the admin password arrives as a secret");
                const dyn = rec.ofType("vault:database/secretBackendRole:SecretBackendRole");
                assert.deepStrictEqual(
                    dyn.map((r) => [r.inputs.name, r.inputs.dbName, r.inputs.defaultTtl, r.inputs.maxTtl]),
                    [["cnpg-app-db", "app", 900, 3600]],
                );
                const st = rec.ofType("vault:database/secretBackendStaticRole:SecretBackendStaticRole");
                assert.deepStrictEqual(
                    st.map((r) => [r.inputs.name, r.inputs.username, r.inputs.rotationPeriod]),
                    [["reporting-report", "reporter", 3600]],
                );
                const vds = rec.ofType("kubernetes:secrets.hashicorp.com/v1beta1:VaultDynamicSecret");
                const specs = Object.fromEntries(vds.map((r) => [`${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`, r.inputs.spec]));
                assert.deepStrictEqual(Object.keys(specs).sort(), ["cnpg/app-db", "reporting/report"]);
                assert.deepStrictEqual(specs["cnpg/app-db"], dynamicSecretSpec(planPlatformArgs(a).database!.roles[0], "database", "vault-auth"));
                assert.strictEqual(specs["cnpg/app-db"].revoke, true, "removing the app revokes its lease");
                assert.strictEqual(specs["reporting/report"].allowStaticCreds, true);
                const roles = rec.ofType("vault:kubernetes/authBackendRole:AuthBackendRole");
                const period = Object.fromEntries(roles.map((r) => [r.inputs.roleName, r.inputs.tokenPeriod]));
                assert.strictEqual(period["vso-cnpg"], 3600, "the namespace reading credentials gets a periodic token");
                assert.strictEqual(period["vso-monitoring"], undefined, "the others do not");
                assert.ok(!JSON.stringify(rec.resources.filter((r) => !r.secretInputs.length)).includes("s3cr3t-admin"), "the password is in no plain input");
            });
        });
    });
});

describe("the doctor on a VaultDynamicSecret (issue 21)", () => {
    const ctx = { mount: "database", path: "creds/cnpg-app-db", policies: ["vso-cnpg-read"] };

    it("names the real cause of a failed credential read: the policy, the role, or the database Vault cannot reach", () => {
        assert.match(explainCredsError(403, "permission denied", ctx).fix, /grant read on exactly "database\/creds\/cnpg-app-db"/);
        assert.match(explainCredsError(400, "unknown role: cnpg-app-db", ctx).message, /Vault has no role/);
        const down = explainCredsError(500, "failed to find entry for connection: dial tcp 127.0.0.1:5432: connect: connection refused", ctx);
        assert.match(down.message, /cannot use the database/);
        assert.match(down.fix, /not reachable from Vault/);
        assert.match(explainCredsError(500, 'pq: password authentication failed for user "vault_admin"', ctx).fix, /admin password/);
        assert.match(explainCredsError(502, "bad gateway", ctx).message, /HTTP 502 bad gateway/);
    });
});
