/**
 * Issue 8, items 13 (the CLIs) and 7 (what the doctor prints, where it sends tokens): the doctor
 * against a fake Kubernetes API server and a fake Vault on 127.0.0.1 (no cluster, no network).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { checkVaultAddrArg, parseDoctorArgs } from "../../cli/args";
import { DoctorOptions, checkNamespaceArg, explainLoginError, formatDoctorReport, runDoctor } from "../../ops";

const REPO = path.join(__dirname, "..", "..");
const VSO = "/apis/secrets.hashicorp.com/v1beta1/namespaces/cnpg";
/** What the fake API server mints for the namespace's ServiceAccount: it must never be printed. */
const MINTED = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y25wZzp2c28tYXV0aCJ9.bWludGVk";

interface Seen {
    method: string;
    url: string;
    body: string;
}
type Handler = (req: Seen) => { status: number; body?: unknown };

/** A fake HTTP server recording every request. */
class FakeServer {
    public seen: Seen[] = [];
    private server?: http.Server;
    constructor(private handler: Handler) {}

    async start(): Promise<string> {
        this.server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => {
                body += c;
            });
            req.on("end", () => {
                const seen = { method: req.method ?? "", url: req.url ?? "", body };
                this.seen.push(seen);
                const r = this.handler(seen);
                res.writeHead(r.status, { "Content-Type": "application/json" });
                res.end(r.body === undefined ? "" : JSON.stringify(r.body));
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}

/** A Vault that logs the namespace in (or answers `loginError`) and holds one secret. */
function vaultHandler(state: { loginError?: string }): Handler {
    return (req) => {
        const p = req.url.replace(/^.*\/proxy\//, "/");
        if (p === "/v1/auth/kubernetes/login") {
            return state.loginError
                ? { status: 400, body: { errors: [state.loginError] } }
                : { status: 200, body: { auth: { client_token: "hvs.CAESIFakeClientTokenForTheUnitTestsOnly", policies: ["vso-cnpg-read"] } } };
        }
        if (p === "/v1/kv/data/rustfs/cloudnativepg") {
            return { status: 200, body: { data: { data: { access_key: "AK-VALUE", access_secret_key: "SK-VALUE" } } } };
        }
        return { status: 204 };
    };
}

/** The API server of a namespace `cnpg` whose VaultConnection points at `address`; in-cluster Services are proxied to `vault`. */
function kubeHandler(address: () => string, vault: Handler, dynamicAuthRef: () => string | undefined = () => undefined): Handler {
    return (req) => {
        if (req.url.includes("/proxy/")) {
            return vault(req);
        }
        const ref = dynamicAuthRef();
        if (ref !== undefined && `${req.method} ${req.url}` === `GET ${VSO}/vaultdynamicsecrets`) {
            return {
                status: 200,
                body: { items: [{ metadata: { name: "app-db" }, spec: { vaultAuthRef: ref, mount: "database", path: "creds/cnpg-app-db" } }] },
            };
        }
        switch (`${req.method} ${req.url}`) {
            case `GET ${VSO}/vaultstaticsecrets`:
                return {
                    status: 200,
                    body: {
                        items: [
                            {
                                metadata: { name: "rustfs-cloudnativepg", annotations: { "vault-vso.pulumi.io/keys": "access_key,access_secret_key" } },
                                spec: { vaultAuthRef: "vault-auth", mount: "kv", path: "rustfs/cloudnativepg" },
                            },
                        ],
                    },
                };
            case `GET ${VSO}/vaultauths/vault-auth`:
                return {
                    status: 200,
                    body: {
                        spec: { mount: "kubernetes", vaultConnectionRef: "vault-connection", kubernetes: { role: "vso-cnpg", serviceAccount: "vso-auth" } },
                    },
                };
            case `GET ${VSO}/vaultconnections/vault-connection`:
                return { status: 200, body: { spec: { address: address() } } };
            case "POST /api/v1/namespaces/cnpg/serviceaccounts/vso-auth/token":
                return { status: 201, body: { status: { token: MINTED } } };
            default:
                return { status: 404, body: { message: "not found" } };
        }
    };
}

function runCli(name: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO, "cli", `${name}.ts`), ...args], {
            cwd: REPO,
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

describe("doctor: hints (pure)", () => {
    it("every repair hint says pulumi up --refresh, never a plain pulumi up", () => {
        const ctx = { namespace: "cnpg", serviceAccount: "vso-auth", role: "vso-cnpg", mount: "kubernetes" };
        for (const err of [
            "namespace not authorized",
            "service account name not authorized",
            "invalid role name",
            "invalid audience (aud) claim",
            "permission denied",
            "something else",
        ]) {
            const fix = explainLoginError(err, ctx);
            assert.match(fix, /pulumi up --refresh/, err);
            assert.ok(!/pulumi up(?! --refresh)/.test(fix.replace(/a plain pulumi up/g, "")), fix);
        }
    });

    it("a sealed Vault is named as such, with where to look, not as a role or auth problem (issue 9)", () => {
        const fix = explainLoginError("Vault is sealed", { namespace: "cnpg", serviceAccount: "vso-auth", role: "vso-cnpg", mount: "kubernetes" });
        assert.match(fix, /^Vault is sealed/);
        assert.match(fix, /-c unsealer/);
        assert.ok(!/role|audience/.test(fix), fix);
    });
});

describe("doctor: arguments (pure)", () => {
    it("accepts Kubernetes namespace names only (RFC 1123 labels, at most 63 characters)", () => {
        for (const ok of ["cnpg", "a", "team-1", "x".repeat(63)]) {
            assert.strictEqual(checkNamespaceArg(ok), undefined, ok);
        }
        for (const bad of ["../../", "a/b", "%2F", "..", "Cnpg", "-a", "a-", "a.b", "", "x".repeat(64), "a b", "cnpg\n", "cnpg?x=1"]) {
            assert.match(checkNamespaceArg(bad) ?? "", /^--namespace .* is not a Kubernetes namespace name/, JSON.stringify(bad));
        }
    });

    it("accepts http(s) Vault URLs only, and never echoes their credentials", () => {
        for (const ok of ["http://127.0.0.1:8200", "https://vault.lan:8200/", "https://vault.lan/prefix"]) {
            assert.strictEqual(checkVaultAddrArg(ok), undefined, ok);
        }
        const cases: [string, RegExp][] = [
            ["vault.lan:8200", /has no scheme/],
            ["not a url", /has no scheme/],
            ["http://", /is not a URL/],
            ["ftp://vault.lan", /must use http/],
            ["http://admin:s3cr3t@vault.lan:8200", /contains credentials/],
            ["admin:s3cr3t@vault.lan:8200", /has no scheme.*without user:password@/],
            ["http://vault.lan:8200?x=1", /without a query/],
            ["http://vault.lan:99999", /is not a URL/],
        ];
        for (const [bad, message] of cases) {
            const m = checkVaultAddrArg(bad) ?? "";
            assert.match(m, /^--vault-addr /, bad);
            assert.match(m, message, bad);
            assert.ok(!m.includes("s3cr3t"), m);
        }
    });

    it("parses the flags, and needs a stack or a namespace", () => {
        const r = parseDoctorArgs(["-n", "cnpg", "--namespace=monitoring", "--vault-addr", "http://127.0.0.1:8200", "--allow-insecure-vault", "--json"], REPO);
        assert.deepStrictEqual(r, {
            args: {
                namespaces: ["cnpg", "monitoring"],
                stack: undefined,
                cwd: REPO,
                vaultAddr: "http://127.0.0.1:8200",
                trustVaultAddrs: [],
                kubeconfig: undefined,
                json: true,
                allowInsecureVault: true,
                help: false,
            },
        });
        const t = parseDoctorArgs(["-n", "cnpg", "--trust-vault-addr", "http://vault.vault.svc:8200", "--trust-vault-addr=https://vault.lan"], REPO);
        assert.deepStrictEqual("args" in t && t.args.trustVaultAddrs, ["http://vault.vault.svc:8200", "https://vault.lan"]);
        const bad = parseDoctorArgs(["-n", "cnpg", "--trust-vault-addr", "http://admin:s3cr3t@vault.lan"], REPO) as { error: string };
        assert.match(bad.error, /^--trust-vault-addr .*contains credentials/);
        assert.ok(!bad.error.includes("s3cr3t"));
        assert.match((parseDoctorArgs([], REPO) as { error: string }).error, /give --stack NAME.*or --namespace NS/);
        assert.match((parseDoctorArgs(["--namespace"], REPO) as { error: string }).error, /--namespace needs a value/);
        assert.match(
            (parseDoctorArgs(["-n", "a", "--kubeconfig", "/no/such/file"], REPO) as { error: string }).error,
            /--kubeconfig "\/no\/such\/file": no such file/,
        );
        assert.match((parseDoctorArgs(["--stack", "dev;x"], REPO) as { error: string }).error, /--stack "dev;x" is not a Pulumi stack name/);
    });
});

interface Fakes {
    state: { address: string; loginError?: string; dynamicAuthRef?: string };
    vault: FakeServer;
    kube: FakeServer;
    vaultUrl: string;
    kubeUrl: string;
    kubeconfig: string;
}

/** Registers hooks that start a fake Vault and API server (and a kubeconfig for it) around a suite. */
function useFakes(): Fakes {
    const state: Fakes["state"] = { address: "" };
    const f: Fakes = {
        state,
        vault: new FakeServer(vaultHandler(state)),
        kube: new FakeServer(
            kubeHandler(
                () => state.address,
                vaultHandler(state),
                () => state.dynamicAuthRef,
            ),
        ),
        vaultUrl: "",
        kubeUrl: "",
        kubeconfig: "",
    };
    let tmp = "";
    before(async () => {
        f.vaultUrl = await f.vault.start();
        f.kubeUrl = await f.kube.start();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "doctor-unit-"));
        f.kubeconfig = path.join(tmp, "kubeconfig");
        fs.writeFileSync(
            f.kubeconfig,
            `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${f.kubeUrl}"}}]\nusers: [{name: u, user: {token: kube-admin-token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
        );
    });
    after(async () => {
        await f.vault.stop();
        await f.kube.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    });
    beforeEach(() => {
        f.vault.seen = [];
        f.kube.seen = [];
        state.address = f.vaultUrl;
        state.loginError = undefined;
        state.dynamicAuthRef = undefined;
    });
    return f;
}

describe("doctor CLI against a fake API server and Vault", function () {
    this.timeout(60000);
    const f = useFakes();

    it("bad --namespace or --vault-addr: one line naming the flag, exit 1, and not one request", async () => {
        const env = { KUBECONFIG: f.kubeconfig, VAULT_ADDR: "" };
        const cases: [string[], string][] = [
            [["--namespace", "../../"], "--namespace"],
            [["--namespace", "a/b"], "--namespace"],
            [["--namespace", "%2F"], "--namespace"],
            [["--namespace", "cnpg", "--vault-addr", "not-a-url"], "--vault-addr"],
            [["--namespace", "cnpg", "--vault-addr", "vault.lan:8200"], "--vault-addr"],
            [["--namespace", "cnpg", "--vault-addr", "http://admin:s3cr3t@vault.lan:8200"], "--vault-addr"],
        ];
        const runs = await Promise.all(cases.map(([args]) => runCli("doctor", args, env)));
        runs.forEach((r, i) => {
            assert.strictEqual(r.code, 1, `${cases[i][0].join(" ")}: ${r.out}${r.err}`);
            assert.strictEqual(r.out, "", r.out);
            assert.strictEqual(r.err.trimEnd().split("\n").length, 1, r.err);
            assert.ok(r.err.includes(cases[i][1]), r.err);
            assert.ok(!r.err.includes("s3cr3t"), r.err);
        });
        assert.deepStrictEqual([f.kube.seen, f.vault.seen], [[], []], "no request before the arguments are valid");
    });

    it("the CLI checks a healthy namespace through --vault-addr", async () => {
        f.state.address = "http://vault.example.invalid:8200";
        const r = await runCli("doctor", ["--namespace", "cnpg", "--vault-addr", f.vaultUrl], { KUBECONFIG: f.kubeconfig, VAULT_ADDR: "" });
        assert.strictEqual(r.code, 0, r.out + r.err);
        assert.match(r.out, /ok {4}cnpg\/rustfs-cloudnativepg/);
        assert.ok(!(r.out + r.err).includes(MINTED) && !(r.out + r.err).includes("VALUE"), r.out);
    });
});

describe("doctor: where tokens go, and what is printed (fake API server and Vault)", function () {
    this.timeout(60000);
    const f = useFakes();
    const opts = (extra: Partial<DoctorOptions> = {}): DoctorOptions => ({
        kube: { server: f.kubeUrl },
        namespaces: ["cnpg"],
        trustedVaultAddrs: [],
        ...extra,
    });
    const tokenRequests = () => f.kube.seen.filter((s) => s.url.endsWith("/token")).length;

    it("refuses to send a token over plain http to an address read from the cluster, before minting one", async () => {
        const report = await runDoctor(opts());
        const c = report.checks[0];
        assert.deepStrictEqual([c.ok, c.step], [false, "connection"]);
        assert.match(c.message, /plain http.*does not send a ServiceAccount token/);
        assert.match(c.fix!, /--vault-addr/);
        assert.match(c.fix!, /--allow-insecure-vault/);
        assert.strictEqual(f.vault.seen.length, 0, "Vault got nothing");
        assert.strictEqual(tokenRequests(), 0, "no token minted");
    });

    it("sends it when the user trusts the address: --vault-addr, $VAULT_ADDR, or --allow-insecure-vault", async () => {
        for (const extra of [
            { vaultAddr: f.vaultUrl },
            { trustedVaultAddrs: [`${f.vaultUrl}/`] },
            { allowInsecureVault: true },
            { stackVaultAddr: f.vaultUrl },
        ]) {
            f.vault.seen = [];
            const report = await runDoctor(opts(extra));
            assert.strictEqual(report.ok, true, JSON.stringify([extra, report.checks]));
            assert.ok(
                f.vault.seen.some((s) => s.url === "/v1/auth/kubernetes/login" && s.body.includes(MINTED)),
                JSON.stringify(extra),
            );
        }
        const saved = process.env.VAULT_ADDR;
        process.env.VAULT_ADDR = f.vaultUrl;
        try {
            assert.strictEqual((await runDoctor({ kube: { server: f.kubeUrl }, namespaces: ["cnpg"] })).ok, true, "$VAULT_ADDR is trusted by default");
        } finally {
            if (saved === undefined) {
                delete process.env.VAULT_ADDR;
            } else {
                process.env.VAULT_ADDR = saved;
            }
        }
    });

    it("an address read from the cluster gets no token unless the stack or the user named it, https and in-cluster Services included", async () => {
        for (const address of ["https://vault.attacker.invalid:8200", "http://vault.attacker.svc.cluster.local:8200", "http://vault.vault.svc:8200"]) {
            f.state.address = address;
            f.vault.seen = [];
            const before = tokenRequests();
            const c = (await runDoctor(opts())).checks[0];
            assert.deepStrictEqual([c.ok, c.step], [false, "connection"], address);
            assert.match(c.message, /neither the stack nor you named, so the doctor does not send a ServiceAccount token there/);
            assert.match(c.fix!, /--stack NAME/);
            assert.match(c.fix!, /--trust-vault-addr/);
            assert.strictEqual(tokenRequests(), before, `no token minted for ${address}`);
            assert.strictEqual(f.vault.seen.length, 0);
            assert.ok(!f.kube.seen.some((s) => s.url.includes("/proxy/")), "nothing sent through the proxy");
        }
    });

    it("an in-cluster Service address the user trusts goes through the API server's proxy", async () => {
        f.state.address = "http://vault.vault.svc.cluster.local:8200";
        const report = await runDoctor(opts({ trustedVaultAddrs: [f.state.address] }));
        assert.strictEqual(report.ok, true, JSON.stringify(report.checks));
        assert.ok(f.kube.seen.some((s) => s.url === "/api/v1/namespaces/vault/services/http:vault:8200/proxy/v1/auth/kubernetes/login"));
        assert.strictEqual(f.vault.seen.length, 0);
    });

    it("a VaultConnection that no longer points at the stack's Vault gets no token, even over https", async () => {
        f.state.address = "https://vault.attacker.invalid:8200";
        const report = await runDoctor(opts({ stackVaultAddr: "https://vault.lan:8200", allowInsecureVault: true }));
        const c = report.checks[0];
        assert.deepStrictEqual([c.ok, c.step], [false, "connection"]);
        assert.match(c.message, /not at the stack's Vault "https:\/\/vault.lan:8200": it was changed outside Pulumi/);
        assert.match(c.fix!, /pulumi up --refresh/);
        assert.strictEqual(tokenRequests(), 0, "no token minted");
    });
});

describe("doctor: what it prints (fake API server and Vault)", function () {
    this.timeout(60000);
    const f = useFakes();
    const opts = (extra: Partial<DoctorOptions> = {}): DoctorOptions => ({
        kube: { server: f.kubeUrl },
        namespaces: ["cnpg"],
        trustedVaultAddrs: [],
        ...extra,
    });

    it("prints a server's error bounded and sanitised: no escapes, no tokens, no JWTs", async () => {
        f.state.loginError = `\u001b[2J\u001b[31mpermission denied\u001b[0m\r\nfor ${MINTED} with hvs.CAESIAnotherTokenFromTheServer12345 and Authorization: Bearer kube-admin-token ${"x".repeat(5000)}`;
        const report = await runDoctor(opts({ vaultAddr: f.vaultUrl }));
        const c = report.checks[0];
        assert.deepStrictEqual([c.ok, c.step], [false, "login"]);
        const printed = formatDoctorReport(report) + JSON.stringify(report);
        for (const leaked of ["\u001b", "\r", MINTED.slice(0, 20), "hvs.CAES", "kube-admin-token", "x".repeat(400)]) {
            assert.ok(!printed.includes(leaked), `${JSON.stringify(leaked)} printed`);
        }
        assert.match(c.message, /permission denied/);
        assert.ok(c.message.length < 500, `${c.message.length} characters`);
    });

    it("a VaultDynamicSecret whose VaultAuth is in another namespace is named as a VaultDynamicSecret, with the fix", async () => {
        f.state.dynamicAuthRef = "vault-secrets-operator-system/default";
        const report = await runDoctor(opts({ vaultAddr: f.vaultUrl }));
        const c = report.checks.find((x) => x.app === "app-db");
        assert.ok(c, JSON.stringify(report.checks));
        assert.deepStrictEqual([c.ok, c.step], [false, "vaultauth"]);
        assert.match(c.fix ?? "", /same namespace as the VaultDynamicSecret: create one in "cnpg"/);
        assert.ok(!JSON.stringify(c).includes("VaultStaticSecret"), JSON.stringify(c));
    });

    it("the library rejects a namespace that is not a Kubernetes name before any request", async () => {
        await assert.rejects(
            runDoctor(opts({ namespaces: ["../../api/v1/secrets"] })),
            /^Error: namespace "..\/..\/api\/v1\/secrets" is not a Kubernetes namespace name/,
        );
        assert.strictEqual(f.kube.seen.length, 0);
    });
});
