import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseDriftArgs } from "../../cli/args";
import {
    RefreshPreviewJson,
    describeStackError,
    driftRowsFromEvents,
    driftRowsFromRefreshPreview,
    formatDriftTable,
    managedVersionRows,
    renderValue,
} from "../../ops";

const REPO = path.join(__dirname, "..", "..");

/** Runs one of the package's CLIs as a user would (asynchronously: a test's fake server keeps answering). */
function runCli(name: string, args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO, "cli", `${name}.ts`), ...args], {
            cwd,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
            out += d;
        });
        child.stderr.on("data", (d) => {
            err += d;
        });
        child.on("close", (code) => resolve({ code, out, err }));
    });
}

/** The directory of a pulumi CLI: on PATH, or the one scripts/tools built; undefined when there is none. */
function pulumiBinDir(): string | undefined {
    for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
        if (d && fs.existsSync(path.join(d, "pulumi"))) {
            return d;
        }
    }
    const tools = process.env.PVV_TOOLS_DIR ?? path.join(os.homedir(), ".cache/pulumi-vault-vso/tools");
    const built = fs.existsSync(tools)
        ? fs
              .readdirSync(tools)
              .filter((n) => /^pulumi-\d/.test(n))
              .map((n) => path.join(tools, n, "bin"))
        : [];
    return built.find((d) => fs.existsSync(path.join(d, "pulumi")));
}

/** The Automation API's error for `pulumi stack select` of a stack that does not exist, as it is printed. */
const STACK_NOT_FOUND_DUMP = [
    "code: -2",
    " stdout: ",
    " stderr: Command failed with exit code 6: pulumi stack select --stack nope --non-interactive",
    "error: no stack named 'nope' found",
    " err?: Error: Command failed with exit code 6: pulumi stack select --stack nope --non-interactive",
    "error: no stack named 'nope' found",
    "",
].join("\n");

function step(op: string, type: string, name: string, oldInputs: any, newInputs: any, detailedDiff?: Record<string, any>): EngineEvent {
    const urn = `urn:pulumi:s::p::${type}::${name}`;
    return {
        sequence: 0,
        timestamp: 0,
        resourcePreEvent: {
            metadata: {
                op: op as any,
                urn,
                type,
                provider: "",
                old: { inputs: oldInputs, outputs: oldInputs } as any,
                new: { inputs: newInputs, outputs: {} } as any,
                detailedDiff,
            },
        },
    } as EngineEvent;
}

describe("drift report (pure)", () => {
    const events = [
        step("same", "vault:index/mount:Mount", "homelab-kv", { path: "kv" }, { path: "kv" }),
        step(
            "update",
            "vault:kubernetes/authBackendRole:AuthBackendRole",
            "homelab-cnpg-role",
            { boundServiceAccountNamespaces: ['"*"'] },
            { boundServiceAccountNamespaces: ["cnpg"] },
            { boundServiceAccountNamespaces: { kind: "update", inputDiff: true } },
        ),
        step(
            "update",
            "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret",
            "app-vss",
            { spec: { refreshAfter: "1h" } },
            { spec: { refreshAfter: "60s" } },
            { "spec.refreshAfter": { kind: "update", inputDiff: true } },
        ),
        step(
            "update",
            "vault:kubernetes/authBackendConfig:AuthBackendConfig",
            "cfg",
            { tokenReviewerJwt: "eyJhbGciOi-old" },
            { tokenReviewerJwt: "eyJhbGciOi-new" },
            { tokenReviewerJwt: { kind: "update", inputDiff: true } },
        ),
        step("create", "vault:index/policy:Policy", "gone-policy", undefined, { name: "p" }),
        step(
            "update",
            "vault:kubernetes/authBackendRole:AuthBackendRole",
            "other-role",
            { tokenPolicies: ["default"], tokenTtl: 60 },
            { tokenPolicies: ["vso-x-read"], tokenTtl: 3600 },
            { tokenPolicies: { kind: "update", inputDiff: true }, tokenTtl: { kind: "update", inputDiff: true } },
        ),
    ];

    it("reports exactly the drifted resources and fields, expected (program) → actual (live)", () => {
        const { rows, checked } = driftRowsFromEvents(events);
        assert.strictEqual(checked, 6);
        assert.deepStrictEqual(
            rows.map((r) => [r.resource, r.field, r.expected, r.actual]),
            [
                ["vault:kubernetes/authBackendRole:AuthBackendRole homelab-cnpg-role", "boundServiceAccountNamespaces", '["cnpg"]', '["\\"*\\""]'],
                ["kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret app-vss", "spec.refreshAfter", '"60s"', '"1h"'],
                ["vault:kubernetes/authBackendConfig:AuthBackendConfig cfg", "tokenReviewerJwt", "[secret]", "[secret]"],
                ["vault:index/policy:Policy gone-policy", "*", "exists", "missing"],
                ["vault:kubernetes/authBackendRole:AuthBackendRole other-role", "tokenPolicies", '["vso-x-read"]', '["default"]'],
                ["vault:kubernetes/authBackendRole:AuthBackendRole other-role", "tokenTtl", "3600", "60"],
            ],
        );
    });

    it("never prints secret values", () => {
        const table = formatDriftTable({ stack: "s", drifted: true, rows: driftRowsFromEvents(events).rows, checked: 6 });
        assert.ok(!table.includes("eyJhbGciOi"), table);
        assert.strictEqual(renderValue("spec.data", { a: "b" }), "[secret]");
        assert.strictEqual(renderValue("policy", "[secret]"), "[secret]");
        assert.strictEqual(renderValue("policy", 'path "kv/data/x"'), JSON.stringify('path "kv/data/x"'));
    });

    it("says to repair with pulumi up --refresh: a plain up trusts the recorded state and repairs nothing", () => {
        const table = formatDriftTable({ stack: "dev", drifted: true, rows: driftRowsFromEvents(events).rows, checked: 6 });
        assert.match(table.split("\n")[0], /Run `pulumi up --refresh --stack dev` to repair/);
        assert.ok(!/Run `pulumi up`/.test(table), table.split("\n")[0]);
    });

    it("says clearly when there is no drift", () => {
        assert.match(formatDriftTable({ stack: "dev", drifted: false, rows: [], checked: 12 }), /No drift: 12 resources of stack dev/);
    });

    it("flags a managed value whose Vault version moved since the last up", () => {
        const apps = [
            { name: "a", path: "p/a", namespace: "n" },
            { name: "b", path: "p/b", namespace: "n" },
            { name: "u", path: "p/u", namespace: "n" },
        ];
        const rows = managedVersionRows(apps, { a: "1", b: "2" }, { a: "2", b: "2", u: "7" });
        assert.deepStrictEqual(
            rows.map((r) => [r.resource, r.expected, r.actual]),
            [["vault:kv/secretV2:SecretV2 (value of app a)", "v1", "v2"]],
        );
        assert.strictEqual(managedVersionRows(apps, { a: "1" }, {})[0].actual, "missing");
    });
});

/** `pulumi refresh --preview-only --json` of a Vault stack (pulumi 3.248, @pulumi/vault 7.8, Vault 1.21 dev server), trimmed: inputs only, no stack traces, the CA certificate shortened. Nothing changed since the last up. */
const REFRESH_CLEAN: RefreshPreviewJson = {
    steps: [
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::pulumi:pulumi:Stack::vsamp-dev",
            oldState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            newState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendConfig:AuthBackendConfig::cfg",
            oldState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            newState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::cnpg-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/cnpg/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/cnpg/*" {\n  capabilities = ["read"]\n}\n' },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::monitoring-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-monitoring-read", policy: 'path "skv/data/monitoring/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-monitoring-read", policy: 'path "skv/data/monitoring/*" {\n  capabilities = ["read"]\n}\n' },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:index/mount:Mount::kv",
            oldState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            newState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendRole:AuthBackendRole::cnpg-role",
            oldState: {
                type: "vault:kubernetes/authBackendRole:AuthBackendRole",
                inputs: {
                    audience: "vault",
                    backend: "sk8s",
                    boundServiceAccountNames: ["default"],
                    boundServiceAccountNamespaces: ["cnpg"],
                    roleName: "vso-cnpg",
                    tokenPolicies: ["vso-cnpg-read"],
                    tokenTtl: 3600,
                    tokenType: "default",
                },
            },
            newState: {
                type: "vault:kubernetes/authBackendRole:AuthBackendRole",
                inputs: {
                    audience: "vault",
                    backend: "sk8s",
                    boundServiceAccountNames: ["default"],
                    boundServiceAccountNamespaces: ["cnpg"],
                    roleName: "vso-cnpg",
                    tokenPolicies: ["vso-cnpg-read"],
                    tokenTtl: 3600,
                    tokenType: "default",
                },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:kv/secretV2:SecretV2::cnpg-value",
            oldState: { type: "vault:kv/secretV2:SecretV2", inputs: { dataJson: "[secret]", mount: "skv", name: "cnpg/app" } },
            newState: { type: "vault:kv/secretV2:SecretV2", inputs: { dataJson: "[secret]", mount: "skv", name: "cnpg/app" } },
            detailedDiff: null,
        },
    ],
    changeSummary: { same: 8 },
};

/** The same stack after, behind Pulumi's back: a policy edited, a policy deleted (the provider reads it as empty), the article's role binding, a KV value rewritten. */
const REFRESH_CHANGED: RefreshPreviewJson = {
    steps: [
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::pulumi:pulumi:Stack::vsamp-dev",
            oldState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            newState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            detailedDiff: null,
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:kv/secretV2:SecretV2::cnpg-value",
            oldState: { type: "vault:kv/secretV2:SecretV2", inputs: { dataJson: "[secret]", mount: "skv", name: "cnpg/app" } },
            newState: { type: "vault:kv/secretV2:SecretV2", inputs: { dataJson: "[secret]", mount: "skv", name: "cnpg/app" } },
            detailedDiff: { dataJson: { kind: "update", inputDiff: false } },
            diffReasons: ["dataJson"],
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::cnpg-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/cnpg/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/*" {\n  capabilities = ["read", "list"]\n}\n' },
            },
            detailedDiff: { policy: { kind: "update", inputDiff: false } },
            diffReasons: ["policy"],
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::monitoring-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-monitoring-read", policy: 'path "skv/data/monitoring/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: { type: "vault:index/policy:Policy", inputs: { name: "vso-monitoring-read", policy: "" } },
            detailedDiff: { policy: { kind: "update", inputDiff: false } },
            diffReasons: ["policy"],
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:index/mount:Mount::kv",
            oldState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            newState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendConfig:AuthBackendConfig::cfg",
            oldState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            newState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            detailedDiff: null,
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendRole:AuthBackendRole::cnpg-role",
            oldState: {
                type: "vault:kubernetes/authBackendRole:AuthBackendRole",
                inputs: {
                    audience: "vault",
                    backend: "sk8s",
                    boundServiceAccountNames: ["default"],
                    boundServiceAccountNamespaces: ["cnpg"],
                    roleName: "vso-cnpg",
                    tokenPolicies: ["vso-cnpg-read"],
                    tokenTtl: 3600,
                    tokenType: "default",
                },
            },
            newState: {
                type: "vault:kubernetes/authBackendRole:AuthBackendRole",
                inputs: {
                    audience: "vault",
                    backend: "sk8s",
                    boundServiceAccountNames: ["default"],
                    boundServiceAccountNamespaces: ['"*"'],
                    roleName: "vso-cnpg",
                    tokenPolicies: ["vso-cnpg-read"],
                    tokenTtl: 3600,
                    tokenType: "default",
                },
            },
            detailedDiff: { "boundServiceAccountNamespaces[0]": { kind: "update", inputDiff: false } },
            diffReasons: ["boundServiceAccountNamespaces"],
        },
    ],
    changeSummary: { same: 4, update: 4 },
};

/** The same stack after the role and the KV secret (all versions) were deleted behind Pulumi's back. */
const REFRESH_DELETED: RefreshPreviewJson = {
    steps: [
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::pulumi:pulumi:Stack::vsamp-dev",
            oldState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            newState: { type: "pulumi:pulumi:Stack", outputs: { inventory: { apps: [], kvPath: "skv", managedVersions: {}, namespaces: [], version: 1 } } },
            detailedDiff: null,
        },
        {
            op: "delete",
            urn: "urn:pulumi:dev::vsamp::vault:kv/secretV2:SecretV2::cnpg-value",
            oldState: { type: "vault:kv/secretV2:SecretV2", inputs: { dataJson: "[secret]", mount: "skv", name: "cnpg/app" } },
            detailedDiff: null,
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::cnpg-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/cnpg/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-cnpg-read", policy: 'path "skv/data/*" {\n  capabilities = ["read", "list"]\n}\n' },
            },
            detailedDiff: { policy: { kind: "update", inputDiff: false } },
            diffReasons: ["policy"],
        },
        {
            op: "update",
            urn: "urn:pulumi:dev::vsamp::vault:index/policy:Policy::monitoring-policy",
            oldState: {
                type: "vault:index/policy:Policy",
                inputs: { name: "vso-monitoring-read", policy: 'path "skv/data/monitoring/*" {\n  capabilities = ["read"]\n}\n' },
            },
            newState: { type: "vault:index/policy:Policy", inputs: { name: "vso-monitoring-read", policy: "" } },
            detailedDiff: { policy: { kind: "update", inputDiff: false } },
            diffReasons: ["policy"],
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendConfig:AuthBackendConfig::cfg",
            oldState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            newState: {
                type: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
                inputs: {
                    backend: "sk8s",
                    disableIssValidation: true,
                    kubernetesCaCert: "-----BEGIN CERTIFICATE-----\n(trimmed)\n-----END CERTIFICATE-----\n",
                    kubernetesHost: "https://10.0.0.1:6443",
                    tokenReviewerJwt: "[secret]",
                },
            },
            detailedDiff: null,
        },
        {
            op: "delete",
            urn: "urn:pulumi:dev::vsamp::vault:kubernetes/authBackendRole:AuthBackendRole::cnpg-role",
            oldState: {
                type: "vault:kubernetes/authBackendRole:AuthBackendRole",
                inputs: {
                    audience: "vault",
                    backend: "sk8s",
                    boundServiceAccountNames: ["default"],
                    boundServiceAccountNamespaces: ["cnpg"],
                    roleName: "vso-cnpg",
                    tokenPolicies: ["vso-cnpg-read"],
                    tokenTtl: 3600,
                    tokenType: "default",
                },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::vsamp::vault:index/mount:Mount::kv",
            oldState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            newState: { type: "vault:index/mount:Mount", inputs: { externalEntropyAccess: false, options: { version: "2" }, path: "skv", type: "kv" } },
            detailedDiff: null,
        },
    ],
    changeSummary: { delete: 2, same: 4, update: 2 },
};

/** A dynamic provider without a detailed diff (pulumi 3.248): two changed resources stay `refresh` steps, only the summary counts them. */
const REFRESH_NO_DETAILS: RefreshPreviewJson = {
    steps: [
        {
            op: "refresh",
            urn: "urn:pulumi:dev::dsamp::pulumi-nodejs:dynamic:Resource::cfg",
            oldState: {
                type: "pulumi-nodejs:dynamic:Resource",
                inputs: { __provider: "exports.handler = __f0; (trimmed)", host: "https://k8s", jwt: "[secret]", name: "cfg" },
            },
            newState: {
                type: "pulumi-nodejs:dynamic:Resource",
                inputs: { __provider: "exports.handler = __f0; (trimmed)", host: "https://k8s", jwt: "[secret]", name: "cfg" },
            },
            detailedDiff: null,
        },
        {
            op: "delete",
            urn: "urn:pulumi:dev::dsamp::pulumi-nodejs:dynamic:Resource::pol-b",
            oldState: {
                type: "pulumi-nodejs:dynamic:Resource",
                inputs: { __provider: "exports.handler = __f0; (trimmed)", name: "pol-b", ns: ["b"], policy: 'path "kv/data/b" { capabilities = ["read"] }' },
            },
            detailedDiff: null,
        },
        {
            op: "refresh",
            urn: "urn:pulumi:dev::dsamp::pulumi-nodejs:dynamic:Resource::pol-a",
            oldState: {
                type: "pulumi-nodejs:dynamic:Resource",
                inputs: { __provider: "exports.handler = __f0; (trimmed)", name: "pol-a", ns: ["a"], policy: 'path "kv/data/a" { capabilities = ["read"] }' },
            },
            newState: {
                type: "pulumi-nodejs:dynamic:Resource",
                inputs: { __provider: "exports.handler = __f0; (trimmed)", name: "pol-a", ns: ["a"], policy: 'path "kv/data/a" { capabilities = ["read"] }' },
            },
            detailedDiff: null,
        },
    ],
    changeSummary: { delete: 1, same: 1, update: 2 },
};

/** A fake `pulumi` first on PATH: records its arguments and environment, prints $FAKE_PULUMI_DOC, exits $FAKE_PULUMI_CODE. */
function fakePulumi(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
        path.join(bin, "pulumi"),
        [
            "#!/bin/sh",
            'printf "%s\\n" "$@" > "$FAKE_PULUMI_ARGS"',
            'echo "PULUMI_SKIP_UPDATE_CHECK=$PULUMI_SKIP_UPDATE_CHECK" >> "$FAKE_PULUMI_ARGS"',
            '[ -n "$FAKE_PULUMI_DOC" ] && cat "$FAKE_PULUMI_DOC"',
            '[ -n "$FAKE_PULUMI_STDERR" ] && printf "%s\\n" "$FAKE_PULUMI_STDERR" >&2',
            'exit "${FAKE_PULUMI_CODE:-0}"',
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    return bin;
}

describe("drift check: the engine's refresh preview (pulumi refresh --preview-only --json)", function () {
    this.timeout(60000);

    it("no drift: no rows, every resource checked, the stack's recorded outputs for the inventory", () => {
        const { rows, checked, outputs } = driftRowsFromRefreshPreview(REFRESH_CLEAN);
        assert.deepStrictEqual(rows, []);
        assert.strictEqual(checked, 6, "the stack resource is not counted");
        assert.deepStrictEqual((outputs.inventory as { kvPath: string }).kvPath, "skv");
        assert.match(
            formatDriftTable({ stack: "dev", drifted: false, rows, checked, basis: "state" }),
            /^No drift: 6 resources of stack dev match the state of the last `pulumi up`\.$/,
        );
    });

    it("a changed field: the value recorded at the last up (expected) and the live one (actual), per field", () => {
        const { rows, checked } = driftRowsFromRefreshPreview(REFRESH_CHANGED);
        assert.strictEqual(checked, 6);
        assert.deepStrictEqual(
            rows.map((r) => [r.resource, r.op, r.field, r.expected, r.actual]),
            [
                ["vault:kv/secretV2:SecretV2 cnpg-value", "update", "dataJson", "[secret]", "[secret]"],
                [
                    "vault:index/policy:Policy cnpg-policy",
                    "update",
                    "policy",
                    JSON.stringify('path "skv/data/cnpg/*" {\n  capabilities = ["read"]\n}\n'),
                    JSON.stringify('path "skv/data/*" {\n  capabilities = ["read", "list"]\n}\n'),
                ],
                [
                    "vault:index/policy:Policy monitoring-policy",
                    "update",
                    "policy",
                    JSON.stringify('path "skv/data/monitoring/*" {\n  capabilities = ["read"]\n}\n'),
                    '""',
                ],
                ["vault:kubernetes/authBackendRole:AuthBackendRole cnpg-role", "update", "boundServiceAccountNamespaces[0]", '"cnpg"', '"\\"*\\""'],
            ],
        );
        const table = formatDriftTable({ stack: "dev", drifted: true, rows, checked, basis: "state" });
        assert.match(table.split("\n")[0], /^Drift in stack dev: 4 resources, 4 fields \(expected = the state of the last `pulumi up`, actual = live\)/);
    });

    it("an object deleted out of band: one row, exists → missing", () => {
        const { rows } = driftRowsFromRefreshPreview(REFRESH_DELETED);
        assert.deepStrictEqual(
            rows.filter((r) => r.op === "delete").map((r) => [r.resource, r.field, r.expected, r.actual]),
            [
                ["vault:kv/secretV2:SecretV2 cnpg-value", "*", "exists", "missing"],
                ["vault:kubernetes/authBackendRole:AuthBackendRole cnpg-role", "*", "exists", "missing"],
            ],
        );
        assert.strictEqual(new Set(rows.map((r) => r.urn)).size, 4, "plus the two policies");
    });

    it("masks secrets: the engine's [secret], and secret-named fields even when a provider does not mark them", () => {
        // the reviewer JWT changed, and (unlike @pulumi/vault) left unmarked by the provider
        const doc: RefreshPreviewJson = JSON.parse(JSON.stringify(REFRESH_CHANGED));
        const cfg = doc.steps!.find((s) => s.urn.endsWith("::cfg"))!;
        cfg.op = "update";
        cfg.oldState!.inputs!.tokenReviewerJwt = "eyJhbGciOi-LEAKED-OLD";
        cfg.newState!.inputs!.tokenReviewerJwt = "eyJhbGciOi-LEAKED-NEW";
        cfg.detailedDiff = { tokenReviewerJwt: { kind: "update", inputDiff: false } };
        const { rows, checked } = driftRowsFromRefreshPreview(doc);
        const row = rows.find((r) => r.field === "tokenReviewerJwt")!;
        assert.deepStrictEqual([row.expected, row.actual], ["[secret]", "[secret]"]);
        const report = { stack: "dev", drifted: true, rows, checked, basis: "state" as const };
        for (const text of [formatDriftTable(report), JSON.stringify(report)]) {
            assert.ok(!text.includes("LEAKED"), text);
        }
        assert.ok(rows.some((r) => r.field === "dataJson" && r.expected === "[secret]" && r.actual === "[secret]"));
    });

    it("a change the provider gave no details of is still drift (one row says so)", () => {
        const { rows } = driftRowsFromRefreshPreview(REFRESH_NO_DETAILS);
        assert.deepStrictEqual(
            rows.map((r) => [r.resource, r.field, r.expected, r.actual]),
            [
                ["pulumi-nodejs:dynamic:Resource pol-b", "*", "exists", "missing"],
                ["(2 more resources: changed, the provider gave no details; see `pulumi refresh --preview-only --diff`)", "*", "(recorded)", "(changed)"],
            ],
        );
    });

    it("the CLI runs pulumi refresh --preview-only --json with an argument array: exit 0 clean, 2 drift (no secret printed), 1 on a Pulumi error", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drift-fake-pulumi-"));
        try {
            const bin = fakePulumi(tmp);
            const docs = { clean: REFRESH_CLEAN, changed: REFRESH_CHANGED, deleted: REFRESH_DELETED };
            for (const [name, doc] of Object.entries(docs)) {
                fs.writeFileSync(path.join(tmp, `${name}.json`), JSON.stringify(doc, null, 4));
            }
            const env = (name: string, extra: Record<string, string> = {}) => ({
                PATH: `${bin}${path.delimiter}${process.env.PATH}`,
                FAKE_PULUMI_ARGS: path.join(tmp, `${name}.args`),
                FAKE_PULUMI_DOC: path.join(tmp, `${name}.json`),
                VAULT_ADDR: "",
                ...extra,
            });
            const [clean, changed, deleted, failed] = await Promise.all([
                runCli("drift", ["--stack", "dev", "--cwd", REPO], env("clean")),
                runCli("drift", ["--stack", "dev", "--cwd", REPO], env("changed")),
                runCli("drift", ["--stack", "dev", "--cwd", REPO, "--json"], env("deleted")),
                runCli(
                    "drift",
                    ["--stack", "dev", "--cwd", REPO],
                    env("failed", { FAKE_PULUMI_DOC: "", FAKE_PULUMI_CODE: "255", FAKE_PULUMI_STDERR: "error: 1 error occurred:\n\t* connection refused" }),
                ),
            ]);
            assert.strictEqual(clean.code, 0, clean.err);
            assert.match(clean.out, /No drift: 6 resources of stack dev/);
            assert.strictEqual(changed.code, 2, changed.err);
            assert.match(changed.out, /AuthBackendRole cnpg-role\s+boundServiceAccountNamespaces\[0\]\s+"cnpg"\s+"\\"\*\\""/);
            assert.strictEqual(deleted.code, 2, deleted.err);
            const report = JSON.parse(deleted.out);
            assert.strictEqual(report.drifted, true);
            assert.strictEqual(report.basis, "state");
            assert.ok(report.rows.some((r: { field: string; actual: string }) => r.field === "*" && r.actual === "missing"));
            assert.strictEqual(failed.code, 1);
            assert.strictEqual(failed.err, "drift: error: 1 error occurred:\n");
            const args = fs.readFileSync(path.join(tmp, "changed.args"), "utf8").trimEnd().split("\n");
            assert.deepStrictEqual(args, [
                "refresh",
                "--preview-only",
                "--json",
                "--non-interactive",
                "--suppress-progress",
                "--color",
                "never",
                "--stack",
                "dev",
                "--cwd",
                REPO,
                "PULUMI_SKIP_UPDATE_CHECK=true",
            ]);
            for (const r of [clean, changed, deleted, failed]) {
                assert.ok(!/s3cr3t|SAMPLE-REVIEWER/.test(r.out + r.err), r.out + r.err);
            }
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});

describe("drift CLI: arguments", function () {
    this.timeout(60000);

    it("checks its arguments (pure)", () => {
        assert.deepStrictEqual(parseDriftArgs(["--stack", "dev", "--json"], REPO), {
            args: { stack: "dev", json: true, program: false, cwd: REPO, help: false },
        });
        assert.strictEqual((parseDriftArgs(["--stack", "dev", "--program"], REPO) as { args: { program: boolean } }).args.program, true);
        assert.deepStrictEqual(parseDriftArgs(["--stack=org/proj/dev", "--cwd", REPO], "/"), {
            args: { stack: "org/proj/dev", json: false, program: false, cwd: REPO, help: false },
        });
        const cases: [string[], RegExp][] = [
            [[], /--stack is required.*pulumi stack ls/],
            [["--stack"], /--stack needs a value/],
            [["--stack", "dev", "--program", "--program"], /--program is given twice/],
            [["--stack", "--json"], /--stack needs a value/],
            [["--stack", "a;rm -rf"], /--stack "a;rm -rf" is not a Pulumi stack name/],
            [["--stack", "a/b/c/d"], /not a Pulumi stack name/],
            [["--stack", "dev", "--cwd", "/no/such/dir"], /--cwd "\/no\/such\/dir": no such directory/],
            [["--stack", "dev", "--cwd", os.tmpdir()], /no Pulumi project in/],
            [["--stack", "dev", "--stack", "prod"], /--stack is given twice/],
            [["--stack", "dev", "--frobnicate"], /unknown argument "--frobnicate"/],
        ];
        for (const [argv, message] of cases) {
            const r = parseDriftArgs(argv, REPO);
            assert.ok("error" in r, JSON.stringify(argv));
            assert.match(r.error, message, JSON.stringify(argv));
        }
    });

    it("bad arguments: one line naming the flag, exit 1, before Pulumi runs", async () => {
        const runs = await Promise.all([
            runCli("drift", ["--stack", "a;b"]),
            runCli("drift", ["--stack", "dev", "--cwd", "/no/such/dir"]),
            runCli("drift", []),
        ]);
        for (const [i, flag] of ["--stack", "--cwd", "--stack"].entries()) {
            assert.strictEqual(runs[i].code, 1, runs[i].err);
            assert.strictEqual(runs[i].err.trimEnd().split("\n").length, 1, runs[i].err);
            assert.ok(runs[i].err.includes(flag), runs[i].err);
            assert.strictEqual(runs[i].out, "");
        }
    });
});

describe("drift and doctor CLIs: Pulumi's errors", function () {
    this.timeout(60000);

    it("turns a stack that does not exist into one line naming it and pulumi stack ls (pure)", () => {
        const msg = describeStackError(new Error(STACK_NOT_FOUND_DUMP), "nope", "/work/p");
        assert.strictEqual(msg.split("\n").length, 1, msg);
        assert.match(msg, /stack "nope" does not exist/);
        assert.match(msg, /`pulumi stack ls`/);
        assert.ok(!/code:|stdout|stderr|err\?/.test(msg), msg);
    });

    it("keeps only the CLI's error lines of any other Pulumi failure, sanitised (pure)", () => {
        const dump =
            "code: 255\n stdout: \n stderr: Command failed with exit code 255: pulumi preview\nerror: \u001b[31mpassphrase must be set\u001b[0m with Bearer abcdefghijklmnop\n err?: Error: Command failed\nerror: \u001b[31mpassphrase must be set\u001b[0m with Bearer abcdefghijklmnop\n";
        assert.strictEqual(describeStackError(new Error(dump), "dev", "/p"), "error: passphrase must be set with Bearer [redacted]");
        assert.match(
            describeStackError(new Error("Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT"), "dev", "/p"),
            /pulumi CLI is not on PATH/,
        );
    });

    it("a stack that does not exist: drift and doctor --stack print one line naming it and pulumi stack ls, exit 1", async function () {
        const bin = pulumiBinDir();
        if (!bin) {
            this.skip();
        }
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drift-nostack-"));
        try {
            const env = {
                PATH: `${bin}${path.delimiter}${process.env.PATH}`,
                PULUMI_HOME: path.join(tmp, "home"),
                PULUMI_BACKEND_URL: `file://${tmp}`,
                PULUMI_CONFIG_PASSPHRASE: "unit",
                PULUMI_SKIP_UPDATE_CHECK: "true",
            };
            const [drift, doctor] = await Promise.all([
                runCli("drift", ["--stack", "no-such-stack"], env),
                runCli("doctor", ["--stack", "no-such-stack"], env),
            ]);
            for (const r of [drift, doctor]) {
                assert.strictEqual(r.code, 1, r.err);
                assert.strictEqual(r.err.trimEnd().split("\n").length, 1, r.err);
                assert.match(r.err, /stack "no-such-stack" does not exist.*`pulumi stack ls`/);
            }
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
