/**
 * Issue 8 ("Bad input"), pure validation: wrong types from YAML stack config (item 10), values that
 * make no sense (item 12) and Vault names that drift (item 4). Every bad input must be reported by
 * validation, with the field's path, what was expected and what was found, and never a secret value;
 * validation runs before any resource exists.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, VaultSecretsPlatformArgs, validatePlatformArgs, withPlatformTypeChecks } from "../../components";
import { articleArgs } from "./harness";

/** External Vault: the platform then takes vault.address and kubernetesAuth.kubernetesHost. */
function externalArgs(): VaultSecretsPlatformArgs {
    return { ...articleArgs(), vault: { install: false, address: "https://vault.lan:8200" }, kubernetesAuth: { kubernetesHost: "https://192.0.2.10:6443" } };
}

/**
 * The whole validation of the platform's args: the type checks, then the platform's value checks on
 * what is well typed (what VaultSecretsPlatform runs in its constructor, before any resource).
 */
function validateConfig(args: unknown): ValidationProblem[] {
    return withPlatformTypeChecks(args as VaultSecretsPlatformArgs, validatePlatformArgs);
}

type Mutate = (a: any) => unknown;
interface BadCase {
    what: string;
    /** Changes the base args (returning a value replaces them). */
    mutate: Mutate;
    field: string;
    message: RegExp;
    /** Text that must not appear in any message (a secret, credentials). */
    secret?: string;
    base?: () => VaultSecretsPlatformArgs;
}

/** Item 10: YAML gives the wrong type. */
const WRONG_TYPES: BadCase[] = [
    {
        what: "apps as a map instead of a list",
        mutate: (a) => {
            a.apps = { app1: a.apps[0] };
        },
        field: "apps",
        message: /expected a list.*found an object/,
    },
    {
        what: "apps as a string",
        mutate: (a) => {
            a.apps = "rustfs-cloudnativepg";
        },
        field: "apps",
        message: /expected a list.*found a string/,
    },
    {
        what: "apps missing",
        mutate: (a) => {
            delete a.apps;
        },
        field: "apps",
        message: /required/,
    },
    {
        what: "an app that is a string",
        mutate: (a) => {
            a.apps.push("cnpg");
        },
        field: "apps[1]",
        message: /expected an object.*found a string/,
    },
    {
        what: "an app that is null",
        mutate: (a) => {
            a.apps.push(null);
        },
        field: "apps[1]",
        message: /expected an object.*found null/,
    },
    {
        what: "keys as a string",
        mutate: (a) => {
            a.apps[0].keys = "access_key";
        },
        field: "apps[0].keys",
        message: /expected a list.*found a string/,
    },
    {
        what: "keys holding numbers",
        mutate: (a) => {
            a.apps[0].keys = [1, 2];
        },
        field: "apps[0].keys[0]",
        message: /expected a string.*found a number/,
    },
    {
        what: "rolloutRestartTargets as one object",
        mutate: (a) => {
            a.apps[0].rolloutRestartTargets = { kind: "Deployment", name: "my-app" };
        },
        field: "apps[0].rolloutRestartTargets",
        message: /expected a list.*found an object/,
    },
    {
        what: "a restart target as a string",
        mutate: (a) => {
            a.apps[0].rolloutRestartTargets = ["my-app"];
        },
        field: "apps[0].rolloutRestartTargets[0]",
        message: /expected an object.*found a string/,
    },
    {
        what: "a restart target's name as a number",
        mutate: (a) => {
            a.apps[0].rolloutRestartTargets[0].name = 42;
        },
        field: "apps[0].rolloutRestartTargets[0].name",
        message: /expected a string.*found a number/,
    },
    {
        what: "an app name as a number",
        mutate: (a) => {
            a.apps[0].name = 123;
        },
        field: "apps[0].name",
        message: /expected a string.*found a number/,
    },
    {
        what: "a namespace as a list",
        mutate: (a) => {
            a.apps[0].namespace = ["cnpg"];
        },
        field: "apps[0].namespace",
        message: /expected a string.*found a list/,
    },
    {
        what: "a path as a list",
        mutate: (a) => {
            a.apps[0].path = ["rustfs", "cloudnativepg"];
        },
        field: "apps[0].path",
        message: /expected a string.*found a list/,
    },
    {
        what: "a destination that is null",
        mutate: (a) => {
            a.apps[0].destination = null;
        },
        field: "apps[0].destination",
        message: /expected a string.*found null/,
    },
    {
        what: "refreshAfter as a number",
        mutate: (a) => {
            a.apps[0].refreshAfter = 60;
        },
        field: "apps[0].refreshAfter",
        message: /expected a .*string.*found a number/,
    },
    {
        what: "data as a string",
        mutate: (a) => {
            a.apps[0].data = "s3cr3t-value";
        },
        field: "apps[0].data",
        message: /expected an object.*found a string/,
        secret: "s3cr3t",
    },
    {
        what: "data as a list",
        mutate: (a) => {
            a.apps[0].data = ["s3cr3t-value"];
        },
        field: "apps[0].data",
        message: /expected an object.*found a list/,
        secret: "s3cr3t",
    },
    {
        what: "a data value as a number",
        mutate: (a) => {
            a.apps[0].data = { access_key: 987654321, access_secret_key: "s3cr3t-value" };
        },
        field: "apps[0].data.access_key",
        message: /expected a string.*found a number/,
        secret: "987654321",
    },
    {
        what: "vault that is null",
        mutate: (a) => {
            a.vault = null;
        },
        field: "vault",
        message: /expected an object.*found null/,
    },
    {
        what: 'vault.install as the string "false"',
        mutate: (a) => {
            a.vault.install = "false";
        },
        field: "vault.install",
        message: /expected true or false.*found a string/,
    },
    {
        what: "vault.skipTLSVerify as a string",
        mutate: (a) => {
            a.vault.skipTLSVerify = "yes";
        },
        field: "vault.skipTLSVerify",
        message: /expected true or false.*found a string/,
    },
    {
        what: "vault.token as a number",
        mutate: (a) => {
            a.vault.token = 1234567;
        },
        field: "vault.token",
        message: /expected a string.*found a number/,
        secret: "1234567",
    },
    {
        what: "vault.address as a number",
        base: externalArgs,
        mutate: (a) => {
            a.vault.address = 8200;
        },
        field: "vault.address",
        message: /expected a string.*found a number/,
    },
    {
        what: "vault.helm as a list",
        mutate: (a) => {
            a.vault.helm = ["dev"];
        },
        field: "vault.helm",
        message: /expected an object.*found a list/,
    },
    {
        what: "vault.helm.values as a string",
        mutate: (a) => {
            a.vault.helm = { values: "server: {dev: s3cr3t-value}" };
        },
        field: "vault.helm.values",
        message: /expected an object.*found a string/,
        secret: "s3cr3t",
    },
    {
        what: "vault.helm.values as a list",
        mutate: (a) => {
            a.vault.helm = { values: ["s3cr3t-value"] };
        },
        field: "vault.helm.values",
        message: /expected an object.*found a list/,
        secret: "s3cr3t",
    },
    {
        what: "vault.helm.chartVersion as a YAML number",
        mutate: (a) => {
            a.vault.helm = { chartVersion: 0.28 };
        },
        field: "vault.helm.chartVersion",
        message: /expected a version string.*found a fractional number.*quote/,
    },
    {
        what: "vault.helm.haReplicas as a string",
        mutate: (a) => {
            a.vault.helm = { mode: "ha", haReplicas: "3" };
        },
        field: "vault.helm.haReplicas",
        message: /expected a whole number.*found a string/,
    },
    {
        what: "vault.helm.devRootToken as a number",
        mutate: (a) => {
            a.vault.helm = { devRootToken: 424242 };
        },
        field: "vault.helm.devRootToken",
        message: /expected a string.*found a number/,
        secret: "424242",
    },
    {
        what: "operator as a string",
        mutate: (a) => {
            a.operator = "install";
        },
        field: "operator",
        message: /expected an object.*found a string/,
    },
    {
        what: "operator.install as a string",
        mutate: (a) => {
            a.operator.install = "true";
        },
        field: "operator.install",
        message: /expected true or false.*found a string/,
    },
    {
        what: "operator.crdFiles as a string",
        mutate: (a) => {
            a.operator = { install: false, crdFiles: "crds.yaml" };
        },
        field: "operator.crdFiles",
        message: /expected a list.*found a string/,
    },
    {
        what: "operator.helm.values as a list",
        mutate: (a) => {
            a.operator.helm = { values: [] };
        },
        field: "operator.helm.values",
        message: /expected an object.*found a list/,
    },
    {
        what: "kv as a list",
        mutate: (a) => {
            a.kv = ["kv"];
        },
        field: "kv",
        message: /expected an object.*found a list/,
    },
    {
        what: "kv.protect as a string",
        mutate: (a) => {
            a.kv.protect = "false";
        },
        field: "kv.protect",
        message: /expected true or false.*found a string/,
    },
    {
        what: "kv.path as a number",
        mutate: (a) => {
            a.kv.path = 2;
        },
        field: "kv.path",
        message: /expected a string.*found a number/,
    },
    {
        what: "kubernetesAuth as a string",
        mutate: (a) => {
            a.kubernetesAuth = "kubernetes";
        },
        field: "kubernetesAuth",
        message: /expected an object.*found a string/,
    },
    {
        what: "tokenTtl as a string",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = "3600";
        },
        field: "kubernetesAuth.tokenTtl",
        message: /expected a whole number.*found a string/,
    },
    {
        what: "roleNameTemplate as a number",
        mutate: (a) => {
            a.kubernetesAuth.roleNameTemplate = 5;
        },
        field: "kubernetesAuth.roleNameTemplate",
        message: /expected a name template string.*found a number/,
    },
    {
        what: "policyNameTemplate as a list",
        mutate: (a) => {
            a.kubernetesAuth.policyNameTemplate = ["vso-{namespace}-read"];
        },
        field: "kubernetesAuth.policyNameTemplate",
        message: /expected a name template string.*found a list/,
    },
    {
        what: "audience as a list",
        mutate: (a) => {
            a.kubernetesAuth.audience = ["vault"];
        },
        field: "kubernetesAuth.audience",
        message: /expected a string.*found a list/,
    },
    {
        what: "tokenReviewer that is null",
        mutate: (a) => {
            a.kubernetesAuth.tokenReviewer = null;
        },
        field: "kubernetesAuth.tokenReviewer",
        message: /expected true or false or an object.*found null/,
    },
    {
        what: "tokenReviewer as a string",
        mutate: (a) => {
            a.kubernetesAuth.tokenReviewer = "yes";
        },
        field: "kubernetesAuth.tokenReviewer",
        message: /found a string/,
    },
    {
        what: "kubernetesHost as a number",
        mutate: (a) => {
            a.kubernetesAuth.kubernetesHost = 6443;
        },
        field: "kubernetesAuth.kubernetesHost",
        message: /expected a string.*found a number/,
    },
    {
        what: "serviceAccountName as a number",
        mutate: (a) => {
            a.serviceAccountName = 7;
        },
        field: "serviceAccountName",
        message: /expected a string.*found a number/,
    },
    {
        what: "createNamespaces as a string",
        mutate: (a) => {
            a.createNamespaces = "true";
        },
        field: "createNamespaces",
        message: /expected true or false.*found a string/,
    },
    {
        what: "kubeconfig as a number",
        mutate: (a) => {
            a.kubeconfig = 5;
        },
        field: "kubeconfig",
        message: /expected a string.*found a number/,
    },
    {
        what: "providers in the args (0.1; they moved to the resource options)",
        mutate: (a) => {
            a.providers = "vault";
        },
        field: "providers",
        message: /providers go in the resource options now/,
    },
    { what: "the whole config as null", mutate: () => null, field: "args", message: /expected an object.*found null/ },
];

/** Item 12: values of the right type that make no sense. */
const NONSENSE: BadCase[] = [
    {
        what: "a sub-second refreshAfter",
        mutate: (a) => {
            a.apps[0].refreshAfter = "0.5s";
        },
        field: "apps[0].refreshAfter",
        message: /at least "1s"/,
    },
    {
        what: "a refreshAfter longer than a day",
        mutate: (a) => {
            a.apps[0].refreshAfter = "25h";
        },
        field: "apps[0].refreshAfter",
        message: /at most "24h"/,
    },
    {
        what: "an absurd refreshAfter",
        mutate: (a) => {
            a.apps[0].refreshAfter = "100000000h";
        },
        field: "apps[0].refreshAfter",
        message: /at most "24h"/,
    },
    {
        what: "an empty audience",
        mutate: (a) => {
            a.kubernetesAuth.audience = "";
        },
        field: "kubernetesAuth.audience",
        message: /empty/,
    },
    {
        what: "an audience with whitespace",
        mutate: (a) => {
            a.kubernetesAuth.audience = " vault";
        },
        field: "kubernetesAuth.audience",
        message: /whitespace/,
    },
    {
        what: "an audience with quotes",
        mutate: (a) => {
            a.kubernetesAuth.audience = '"vault"';
        },
        field: "kubernetesAuth.audience",
        message: /quote/,
    },
    {
        what: "two audiences in one string",
        mutate: (a) => {
            a.kubernetesAuth.audience = "vault,other";
        },
        field: "kubernetesAuth.audience",
        message: /one audience/,
    },
    {
        what: "a tokenTtl of a few seconds",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = 5;
        },
        field: "kubernetesAuth.tokenTtl",
        message: /at least 60/,
    },
    {
        what: "a tokenTtl of a year",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = 365 * 24 * 3600;
        },
        field: "kubernetesAuth.tokenTtl",
        message: /at most 86400/,
    },
    {
        what: "a fractional tokenTtl",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = 3600.5;
        },
        field: "kubernetesAuth.tokenTtl",
        message: /whole number/,
    },
    {
        what: "a secret path longer than Vault stores",
        mutate: (a) => {
            a.apps[0].path = `${"segment/".repeat(130)}x`;
        },
        field: "apps[0].path",
        message: /at most 1024/,
    },
    {
        what: "a secret path segment longer than a file name",
        mutate: (a) => {
            a.apps[0].path = `app/${"s".repeat(300)}`;
        },
        field: "apps[0].path",
        message: /at most 254/,
    },
    {
        what: "a Vault address with credentials",
        base: externalArgs,
        mutate: (a) => {
            a.vault.address = "https://admin:hunter2@vault.lan:8200";
        },
        field: "vault.address",
        message: /credentials/,
        secret: "hunter2",
    },
    {
        what: "a provider address with credentials",
        mutate: (a) => {
            a.vault.providerAddress = "http://root:s3cr3t-value@127.0.0.1:8200";
        },
        field: "vault.providerAddress",
        message: /credentials/,
        secret: "s3cr3t",
    },
    {
        what: "a chart repository with credentials",
        mutate: (a) => {
            a.vault.helm = { repository: "https://robot:s3cr3t-value@charts.example.com/hashicorp" };
        },
        field: "vault.helm.repository",
        message: /credentials/,
        secret: "s3cr3t",
    },
    {
        what: "a Kubernetes host with a user name",
        mutate: (a) => {
            a.kubernetesAuth.kubernetesHost = "https://s3cr3t-user@192.0.2.10:6443";
        },
        field: "kubernetesAuth.kubernetesHost",
        message: /credentials/,
        secret: "s3cr3t",
    },
    {
        what: "a Vault address without a scheme",
        base: externalArgs,
        mutate: (a) => {
            a.vault.address = "vault.lan:8200";
        },
        field: "vault.address",
        message: /scheme is missing.*https:\/\/vault\.lan:8200/,
    },
    {
        what: "a Kubernetes host without a scheme",
        mutate: (a) => {
            a.kubernetesAuth.kubernetesHost = "192.0.2.10:6443";
        },
        field: "kubernetesAuth.kubernetesHost",
        message: /scheme is missing/,
    },
    {
        what: "an operator chart repository without a scheme",
        mutate: (a) => {
            a.operator.helm = { repository: "charts.example.com/hashicorp" };
        },
        field: "operator.helm.repository",
        message: /scheme is missing/,
    },
    {
        what: "credentials in an address without a scheme",
        base: externalArgs,
        mutate: (a) => {
            a.vault.address = "admin:hunter2@vault.lan:8200";
        },
        field: "vault.address",
        message: /scheme is missing|credentials/,
        secret: "hunter2",
    },
];

/** Item 4: names Vault would change behind Pulumi's back. */
const DRIFTING_NAMES: BadCase[] = [
    {
        what: "a policy template with uppercase letters",
        mutate: (a) => {
            a.kubernetesAuth.policyNameTemplate = "VSO-{namespace}-Read";
        },
        field: 'policy name for namespace "cnpg"',
        message: /lowercase.*"vso-cnpg-read".*"vso-\{namespace\}-read"/,
    },
    {
        what: "a role template with uppercase letters",
        mutate: (a) => {
            a.kubernetesAuth.roleNameTemplate = "Vso-{namespace}";
        },
        field: 'role name for namespace "cnpg"',
        message: /lowercase.*"vso-cnpg"/,
    },
    {
        what: "a template that expands to a name too long for Vault",
        mutate: (a) => {
            a.kubernetesAuth.roleNameTemplate = `${"r".repeat(125)}-{namespace}`;
        },
        field: 'role name for namespace "cnpg"',
        message: /at most 128/,
    },
    {
        what: "a template that expands to invalid characters",
        mutate: (a) => {
            a.kubernetesAuth.policyNameTemplate = "vso/{namespace}";
        },
        field: 'policy name for namespace "cnpg"',
        message: /not a valid Vault name/,
    },
];

/** Deliberately valid inputs near the bounds: each must be accepted. */
const VALID: { what: string; mutate: Mutate; base?: () => VaultSecretsPlatformArgs }[] = [
    {
        what: "oci:// chart repositories",
        mutate: (a) => {
            a.vault.helm = { repository: "oci://registry-1.docker.io/hashicorp" };
            a.operator.helm = { repository: "oci://ghcr.io/hashicorp/charts" };
        },
    },
    {
        what: "refreshAfter of exactly 1s",
        mutate: (a) => {
            a.apps[0].refreshAfter = "1s";
        },
    },
    {
        what: "refreshAfter of exactly 24h",
        mutate: (a) => {
            a.apps[0].refreshAfter = "24h";
        },
    },
    {
        what: "refreshAfter of 1440m",
        mutate: (a) => {
            a.apps[0].refreshAfter = "1440m";
        },
    },
    {
        what: "tokenTtl of 60",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = 60;
        },
    },
    {
        what: "tokenTtl of 86400",
        mutate: (a) => {
            a.kubernetesAuth.tokenTtl = 86400;
        },
    },
    {
        what: "a URL-shaped audience",
        mutate: (a) => {
            a.kubernetesAuth.audience = "https://vault.example.lan";
        },
    },
    {
        what: "a secret path with a 254-character segment",
        mutate: (a) => {
            a.apps[0].path = `app/${"s".repeat(254)}`;
        },
    },
    { what: "an external Vault with plain addresses", base: externalArgs, mutate: () => undefined },
    {
        what: "an address with a path (API server proxy)",
        mutate: (a) => {
            a.vault.providerAddress = "https://192.0.2.10:6443/api/v1/namespaces/vault/services/http:vault:8200/proxy";
        },
    },
    {
        what: "values, data and tokens as Pulumi secrets",
        mutate: (a) => {
            a.vault.helm = { values: { server: { logLevel: "debug" } }, devRootToken: pulumi.secret("root") };
            a.apps[0].data = { access_key: pulumi.secret("ak"), access_secret_key: "sk" };
            a.kubeconfig = pulumi.output("apiVersion: v1");
        },
    },
    {
        what: "an empty app list",
        mutate: (a) => {
            a.apps = [];
        },
    },
    {
        what: "tokenReviewer as true or as an object",
        base: externalArgs,
        mutate: (a) => {
            a.kubernetesAuth.tokenReviewer = { namespace: "vault-auth", createNamespace: false };
        },
    },
];

function argsFor(c: { mutate: Mutate; base?: () => VaultSecretsPlatformArgs }): unknown {
    const a = (c.base ?? articleArgs)();
    const replaced = c.mutate(a);
    return replaced === undefined ? a : replaced;
}

function runBad(c: BadCase): ValidationProblem[] {
    let problems: ValidationProblem[] = [];
    assert.doesNotThrow(() => {
        problems = validateConfig(argsFor(c));
    }, `${c.what}: validation must report, not crash`);
    return problems;
}

describe("bad input (issue 8): reported by validation, with the field, expected and found", () => {
    for (const [group, cases] of [
        ["wrong types (item 10)", WRONG_TYPES],
        ["values that make no sense (item 12)", NONSENSE],
        ["names Vault would change (item 4)", DRIFTING_NAMES],
    ] as const) {
        describe(group, () => {
            for (const c of cases) {
                it(`rejects ${c.what}`, () => {
                    const problems = runBad(c);
                    const all = problems.map((p) => `${p.field}: ${p.message}`).join("\n");
                    const hit = problems.find((p) => p.field === c.field);
                    assert.ok(hit, `expected a problem for ${c.field}; got:\n${all}`);
                    assert.match(hit!.message, c.message, all);
                    if (c.secret) {
                        assert.ok(!all.includes(c.secret), `a message echoes the secret ${JSON.stringify(c.secret)}:\n${all}`);
                    }
                });
            }
        });
    }
    describe("deliberately valid input", () => {
        for (const c of VALID) {
            it(`accepts ${c.what}`, () => {
                assert.deepStrictEqual(validateConfig(argsFor(c)), []);
            });
        }
    });
});
