/**
 * TLS certificates on real parts (issue 21): the bed's Vault (PKI engine, root CA) and its VSO, the
 * homelab program with a `pki` section. The Secret's certificate verifies against Vault's CA (checked
 * with openssl) and carries exactly the requested names; a short-TTL certificate is renewed before it
 * expires and the Deployment is restarted; the namespace cannot issue any other name; removal deletes
 * the role and the policy's path.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { kubeRequest, vaultRequest } from "../../ops/clients";
import {
    BED_DIR,
    BedEnv,
    REPO,
    bedStackConfig,
    createWorkload,
    decodeSecretData,
    freshStack,
    removeStack,
    requireBedOrSkip,
    runScript,
    startBed,
    waitFor,
} from "./bed";
import { PROJECT } from "../../scripts/sandbox/stack-config";

const STACK = `it-pki-${process.pid}`;
const RESTARTED_AT = "vso.secrets.hashicorp.com/restartedAt";
const VPS = "/apis/secrets.hashicorp.com/v1beta1/namespaces/web/vaultpkisecrets";
const KV_APP = { name: "rustfs-cloudnativepg", namespace: "cnpg", path: "rustfs/cloudnativepg", keys: ["access_key"], managed: true };
const VALUES = { "rustfs-cloudnativepg": { access_key: "ak-pki-suite" } };
const CERT = {
    name: "web-tls",
    namespace: "web",
    commonName: "web.homelab.lan",
    altNames: ["web.web.svc.cluster.local"],
    ttl: "60s",
    expiryOffset: "40s",
    rolloutRestartTargets: [{ kind: "Deployment", name: "web" }],
};

function vsoTail(): string {
    try {
        return "\n--- last VSO log lines ---\n" + fs.readFileSync(path.join(BED_DIR, "logs/vso.log"), "utf8").split("\n").slice(-12).join("\n");
    } catch {
        return "";
    }
}

/** openssl on a PEM written to a private temp dir. */
function openssl(args: string[], files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-pki-"));
    try {
        for (const [n, v] of Object.entries(files)) {
            fs.writeFileSync(path.join(dir, n), v, { mode: 0o600 });
        }
        return execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("integration: TLS certificates from Vault's PKI engine (VaultPKISecret)", function () {
    this.timeout(15 * 60 * 1000);
    let bed: BedEnv;
    let stack: Stack;

    async function tls(): Promise<{ type: string; data: Record<string, string> } | undefined> {
        const r = await kubeRequest(bed.kube, "GET", "/api/v1/namespaces/web/secrets/web-tls");
        return r.status === 200 && r.body.data?.["tls.crt"] ? { type: r.body.type, data: decodeSecretData(r.body.data) } : undefined;
    }
    const serial = (crt: string) => openssl(["x509", "-in", "c.pem", "-noout", "-serial"], { "c.pem": crt }).trim();

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed({ fresh: true });
        const config = bedStackConfig(bed, [KV_APP], VALUES);
        config[`${PROJECT}:pki`] = { value: JSON.stringify({ certificates: [CERT] }) };
        stack = await freshStack(bed, STACK, config);
        await createWorkload(bed, "web", "web", "web-tls");
        const up = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
    });

    after(async function () {
        if (stack) {
            await stack.destroy({ excludeProtected: true, onOutput: () => undefined }).catch((e) => console.warn(`  destroy: ${e}`));
            await removeStack(bed, STACK);
        }
    });

    it("VSO writes a kubernetes.io/tls Secret whose certificate verifies against Vault's CA and names exactly the requested names", async () => {
        const s = await waitFor("Secret web/web-tls", 60000, tls, vsoTail);
        assert.strictEqual(s.type, "kubernetes.io/tls");
        const ca = (await vaultRequest(bed.vaultAddr, undefined, "GET", "pki/ca/pem")).text;
        assert.match(ca, /BEGIN CERTIFICATE/);
        const verify = openssl(["verify", "-CAfile", "ca.pem", "c.pem"], { "ca.pem": ca, "c.pem": s.data["tls.crt"] });
        assert.match(verify, /c\.pem: OK/);
        const text = openssl(["x509", "-in", "c.pem", "-noout", "-subject", "-ext", "subjectAltName"], { "c.pem": s.data["tls.crt"] });
        assert.match(text, /CN ?= ?web\.homelab\.lan/);
        const sans = (/DNS:[^\n]+/.exec(text)?.[0] ?? "")
            .split(/,\s*/)
            .map((x) => x.replace(/^DNS:/, ""))
            .sort();
        assert.deepStrictEqual(sans, ["web.homelab.lan", "web.web.svc.cluster.local"]);
        // the key is the certificate's
        const pubCert = openssl(["x509", "-in", "c.pem", "-noout", "-pubkey"], { "c.pem": s.data["tls.crt"] });
        const pubKey = openssl(["pkey", "-in", "k.pem", "-pubout"], { "k.pem": s.data["tls.key"] });
        assert.strictEqual(pubCert, pubKey);
    });

    it("the certificate is renewed before it expires, and the Deployment is restarted", async () => {
        const first = (await waitFor("Secret web/web-tls", 60000, tls, vsoTail)).data["tls.crt"];
        const end = openssl(["x509", "-in", "c.pem", "-noout", "-enddate"], { "c.pem": first })
            .trim()
            .replace(/^notAfter=/, "");
        const dep0 = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/web/deployments/web");
        const restarted0 = dep0.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
        const next = await waitFor(
            "a renewed certificate in web/web-tls",
            90000,
            async () => {
                const s = await tls();
                return s && serial(s.data["tls.crt"]) !== serial(first) ? s : undefined;
            },
            vsoTail,
        );
        assert.ok(Date.now() < Date.parse(end), `renewed before the old one expired (${end})`);
        assert.match(openssl(["verify", "-CAfile", "c.pem", "n.pem"], { "c.pem": next.data["ca.crt"] ?? "", "n.pem": next.data["tls.crt"] }), /OK/);
        await waitFor("the restart annotation on web", 30000, async () => {
            const d = await kubeRequest(bed.kube, "GET", "/apis/apps/v1/namespaces/web/deployments/web");
            const a = d.body.spec.template.metadata?.annotations?.[RESTARTED_AT];
            return a && a !== restarted0;
        });
    });

    it("the namespace's own login can issue its names only: not another name, not a subdomain", async () => {
        const t = await kubeRequest(bed.kube, "POST", "/api/v1/namespaces/web/serviceaccounts/vso-auth/token", {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { audiences: ["vault"], expirationSeconds: 600 },
        });
        assert.strictEqual(t.status, 201, t.text);
        const login = await vaultRequest(bed.vaultAddr, undefined, "POST", "auth/kubernetes/login", { role: "vso-web", jwt: t.body.status.token });
        assert.strictEqual(login.status, 200, login.text);
        const token = login.body.auth.client_token as string;
        const issue = (cn: string) => vaultRequest(bed.vaultAddr, token, "POST", "pki/issue/web-web-tls", { common_name: cn, ttl: "30s" });
        assert.strictEqual((await issue("web.homelab.lan")).status, 200, "its own name");
        for (const cn of ["evil.homelab.lan", "x.web.homelab.lan", "*.homelab.lan"]) {
            const r = await issue(cn);
            assert.ok(r.status >= 400, `${cn} is refused: ${r.status}`);
        }
        const other = await vaultRequest(bed.vaultAddr, token, "POST", "pki/root/generate/internal", { common_name: "evil CA" });
        assert.strictEqual(other.status, 403, "and nothing else of the mount");
    });

    it("the drift check reports a PKI role widened behind Pulumi's back, and up --refresh narrows it again", async () => {
        const clean = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(clean.code, 0, clean.out + clean.err);
        const w = await vaultRequest(bed.vaultAddr, bed.vaultToken, "POST", "pki/roles/web-web-tls", {
            allowed_domains: ["web.homelab.lan", "evil.lan"],
            allow_bare_domains: true,
        });
        assert.ok(w.status < 300, w.text);
        const drift = runScript(bed, "drift", ["--stack", STACK, "--cwd", REPO]);
        assert.strictEqual(drift.code, 2, drift.out + drift.err);
        assert.match(drift.out, /secretBackendRole|SecretBackendRole/);
        assert.match(drift.out, /allowedDomains|allowed_domains/);
        const up = await stack.up({ refresh: true, onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        const role = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "pki/roles/web-web-tls");
        assert.deepStrictEqual(role.body.data.allowed_domains, ["web.homelab.lan", "web.web.svc.cluster.local"]);
    });

    it("removing the certificate deletes its VaultPKISecret, its role and its policy path", async () => {
        await stack.setConfig(`${PROJECT}:pki`, { value: JSON.stringify({ certificates: [{ ...CERT, name: "web-tls2", rolloutRestartTargets: [] }] }) });
        const up = await stack.up({ onOutput: () => undefined });
        assert.strictEqual(up.summary.result, "succeeded");
        assert.strictEqual((await kubeRequest(bed.kube, "GET", `${VPS}/web-tls`)).status, 404);
        assert.strictEqual((await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "pki/roles/web-web-tls")).status, 404);
        const pol = await vaultRequest(bed.vaultAddr, bed.vaultToken, "GET", "sys/policies/acl/vso-web-read");
        assert.doesNotMatch(pol.body.data.policy, /pki\/issue\/web-web-tls"/);
        assert.match(pol.body.data.policy, /pki\/issue\/web-web-tls2"/, "the renamed one is there");
        await waitFor(
            "Secret web/web-tls2",
            60000,
            async () => (await kubeRequest(bed.kube, "GET", "/api/v1/namespaces/web/secrets/web-tls2")).status === 200,
            vsoTail,
        );
    });
});

describe("integration: TLS certificates from your own CA (pki.ca.type imported)", function () {
    this.timeout(10 * 60 * 1000);
    const IMP_STACK = `it-pki-imp-${process.pid}`;
    const OWN = { name: "own-tls", namespace: "web", commonName: "own.homelab.lan", ttl: "1h" };
    let bed: BedEnv;
    let stack: Stack;
    let caCert = "";
    let caKey = "";
    let upLog = "";

    before(async function () {
        requireBedOrSkip(this);
        bed = startBed();
        // your own CA (as an offline root or an intermediate would be): EC P-256, made here with openssl
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-own-ca-"));
        try {
            execFileSync(
                "openssl",
                [
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=my own homelab CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
                { cwd: dir, stdio: "ignore" },
            );
            caCert = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
            caKey = fs.readFileSync(path.join(dir, "ca.key"), "utf8");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const config = bedStackConfig(bed, [KV_APP], VALUES);
        // its own KV mount: the suite above leaves its protected "kv" in Vault
        config[`${PROJECT}:kv`] = { value: JSON.stringify({ path: "kv-own-ca", protect: false }) };
        config[`${PROJECT}:pki`] = { value: JSON.stringify({ path: "pki-own", ca: { type: "imported" }, certificates: [OWN] }) };
        config[`${PROJECT}:pkiCaBundle`] = { value: caCert + caKey, secret: true };
        stack = await freshStack(bed, IMP_STACK, config);
        await createWorkload(bed, "web", "own", "own-tls");
        const up = await stack.up({ onOutput: (o) => (upLog += o) });
        assert.strictEqual(up.summary.result, "succeeded");
    });

    after(async function () {
        if (stack) {
            await stack.destroy({ onOutput: () => undefined }).catch((e) => console.warn(`  destroy: ${e}`));
            await removeStack(bed, IMP_STACK);
        }
    });

    it("the apps' certificates chain to your CA; its key is in no plain state or output", async () => {
        const keyBody = caKey.split("\n")[1];
        assert.ok(keyBody.length > 20);
        assert.ok(!upLog.includes(keyBody), "not in the up's output");
        const stateFile = path.join(new URL(bed.env.PULUMI_BACKEND_URL).pathname, ".pulumi/stacks/vault-vso-homelab", `${IMP_STACK}.json`);
        const state = fs.readFileSync(stateFile, "utf8");
        assert.ok(state.includes("SecretBackendConfigCa"), "the state holds the CA's config");
        assert.ok(!state.includes(keyBody), "the CA key is only a ciphertext in the state");
        const vaultCa = (await vaultRequest(bed.vaultAddr, undefined, "GET", "pki-own/ca/pem")).text;
        assert.strictEqual(vaultCa.trim(), caCert.trim(), "Vault's CA is yours");
        const s = await waitFor(
            "Secret web/own-tls",
            60000,
            async () => {
                const r = await kubeRequest(bed.kube, "GET", "/api/v1/namespaces/web/secrets/own-tls");
                return r.status === 200 && r.body.data?.["tls.crt"] ? decodeSecretData(r.body.data) : undefined;
            },
            vsoTail,
        );
        assert.match(openssl(["verify", "-CAfile", "ca.pem", "c.pem"], { "ca.pem": caCert, "c.pem": s["tls.crt"] }), /c\.pem: OK/);
        assert.strictEqual((s["ca.crt"] ?? "").trim(), caCert.trim(), "the Secret's ca.crt is your CA");
        assert.ok(!Object.values(s).some((v) => v.includes(keyBody)), "the CA key is not in the app's Secret");
        const issuer = openssl(["x509", "-in", "c.pem", "-noout", "-issuer"], { "c.pem": s["tls.crt"] });
        assert.match(issuer, /my own homelab CA/);
    });

    it("a clean drift check (the bundle is write-only in Vault: no false drift)", async () => {
        const clean = runScript(bed, "drift", ["--stack", IMP_STACK, "--cwd", REPO]);
        assert.strictEqual(clean.code, 0, clean.out + clean.err);
    });
});
