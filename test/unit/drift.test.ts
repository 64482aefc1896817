import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { parseDriftArgs } from "../../cli/args";
import { describeStackError, driftRowsFromEvents, formatDriftTable, managedVersionRows, renderValue } from "../../ops";

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

describe("drift CLI: arguments", function () {
    this.timeout(60000);

    it("checks its arguments (pure)", () => {
        assert.deepStrictEqual(parseDriftArgs(["--stack", "dev", "--json"], REPO), { args: { stack: "dev", json: true, cwd: REPO, help: false } });
        assert.deepStrictEqual(parseDriftArgs(["--stack=org/proj/dev", "--cwd", REPO], "/"), {
            args: { stack: "org/proj/dev", json: false, cwd: REPO, help: false },
        });
        const cases: [string[], RegExp][] = [
            [[], /--stack is required.*pulumi stack ls/],
            [["--stack"], /--stack needs a value/],
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
