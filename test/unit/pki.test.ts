/**
 * TLS certificates (issue 21, item 2): the checks before any resource, the plan (roles allowing exactly
 * the app's names, the issue path its namespace may use) and what the platform creates, under mocks.
 */
import * as assert from "assert";
import {
    PkiArgs,
    VaultSecretsPlatform,
    VaultSecretsPlatformArgs,
    pkiSecretSpec,
    planPki,
    planPlatformArgs,
    validatePkiArgs,
    validatePlatformArgs,
} from "../../components";
import * as pulumi from "@pulumi/pulumi";
import { PkiSecretsEngine, firstPemCertificate } from "../../components/vault-config/pki";
import { pkiFromConfig } from "../../programs/homelab/config";
import { MockRecorder, articleArgs, isSecret } from "./harness";

/** A PEM bundle's shape (not a real key: validation looks at the markers only). */
const BUNDLE =
    "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKEYSECRETTEXT\n-----END EC PRIVATE KEY-----\n";

function pkiArgs(): PkiArgs {
    return {
        certificates: [
            {
                name: "web-tls",
                namespace: "web",
                commonName: "web.homelab.lan",
                altNames: ["web.web.svc"],
                ttl: "720h",
                rolloutRestartTargets: [{ kind: "Deployment", name: "web" }],
            },
        ],
    };
}

describe("TLS certificates (issue 21)", () => {
    it("plans one role per app allowing exactly its names, and the issue path its namespace may use", () => {
        assert.deepStrictEqual(validatePkiArgs(pkiArgs()), []);
        const plan = planPki(pkiArgs());
        const c = plan.certificates[0];
        assert.deepStrictEqual([c.roleName, c.policyPath, c.ttl, c.expiryOffset], ["web-web-tls", "pki/issue/web-web-tls", 720 * 3600, 240 * 3600]);
        assert.deepStrictEqual(c.allowedDomains, ["web.homelab.lan", "web.web.svc"]);
        assert.strictEqual(planPki(pkiArgs(), "nas").certificates[0].roleName, "nas-web-web-tls");
        const spec = pkiSecretSpec(c, "pki", "vault-auth");
        assert.deepStrictEqual(spec.destination, { name: "web-tls", create: true, type: "kubernetes.io/tls" });
        assert.deepStrictEqual([spec.ttl, spec.expiryOffset, spec.role], ["2592000s", "864000s", "web-web-tls"]);
    });

    it("rejects wildcards, non-DNS names, an expiry offset not shorter than the ttl, wrong types and unknown fields, naming the field", () => {
        const bad: any = pkiArgs();
        bad.certificates[0].commonName = "*.homelab.lan";
        bad.certificates[0].altNames = ["Web_Server", 7];
        bad.certificates[0].ttl = "1h";
        bad.certificates[0].expiryOffset = "2h";
        bad.certificates[0].keyType = "rsa";
        bad.certificates.push({ name: "web-tls", namespace: "web", commonName: "b.lan" });
        const problems = validatePkiArgs(bad);
        assert.deepStrictEqual(problems.map((p) => p.field).sort(), [
            "pki.certificates[0].altNames[0]",
            "pki.certificates[0].altNames[1]",
            "pki.certificates[0].commonName",
            "pki.certificates[0].expiryOffset",
            "pki.certificates[0].keyType",
            "pki.certificates[1].name",
            "pki.certificates[1].name",
        ]);
        const by = Object.fromEntries(problems.map((p) => [p.field, p.message]));
        assert.match(by["pki.certificates[0].commonName"], /wildcard/);
        assert.match(by["pki.certificates[0].expiryOffset"], /not shorter than the certificate's ttl \(3600s\)/);
        assert.deepStrictEqual(
            validatePkiArgs({ certificates: [] }).map((p) => p.field),
            ["pki.certificates"],
        );
    });

    it("in the platform: the namespace's policy gains update on exactly its issue path; a Secret name taken by a KV app is refused", () => {
        const a: VaultSecretsPlatformArgs = { ...articleArgs(), pki: pkiArgs() };
        const plan = planPlatformArgs(a);
        const web = plan.namespaces.find((n) => n.namespace === "web")!;
        assert.match(web.policyText, /path "pki\/issue\/web-web-tls" \{\n {2}capabilities = \["update"\]\n\}/);
        assert.doesNotMatch(web.policyText, /pki\/\*|pki\/root|pki\/revoke/);
        assert.deepStrictEqual(web.apps, []);
        const clash: VaultSecretsPlatformArgs = {
            ...articleArgs(),
            pki: { certificates: [{ name: "x", namespace: "cnpg", commonName: "x.lan", destination: a.apps[0].name }] },
        };
        const problems = validatePlatformArgs(clash);
        assert.ok(
            problems.some((p) => p.field === "pki.certificates[0].destination" && /already taken by apps/.test(p.message)),
            JSON.stringify(problems),
        );
        const samePath: VaultSecretsPlatformArgs = { ...articleArgs(), pki: { ...pkiArgs(), path: "kv" } };
        assert.ok(validatePlatformArgs(samePath).some((p) => p.field === "pki.path"));
    });

    it('ca: { type: "existing" } plans no root CA; a bad type, root CA fields beside it and an adopted mount without it are refused, naming the field and the fix', () => {
        assert.strictEqual(planPki(pkiArgs()).ca, "internal", "the default stays the generated root");
        assert.deepStrictEqual(validatePkiArgs({ ...pkiArgs(), ca: { type: "existing" } }), []);
        assert.strictEqual(planPki({ ...pkiArgs(), ca: { type: "existing" } }).ca, "existing");
        const bad = validatePkiArgs({ ...pkiArgs(), ca: { type: "intermediate" } });
        assert.ok(
            bad.some((p) => p.field === "pki.ca.type" && /"internal".*"existing".*"imported"/.test(p.message)),
            JSON.stringify(bad),
        );
        const both = validatePkiArgs({ ...pkiArgs(), ca: { type: "existing" }, caCommonName: "x", caTtl: "1h" });
        assert.deepStrictEqual(
            both.map((p) => p.field),
            ["pki.caCommonName", "pki.caTtl"],
        );
        assert.match(both[0].message, /remove pki\.caCommonName, or set ca\.type "internal"/);
        assert.ok(validatePkiArgs({ ...pkiArgs(), ca: { type: "existing", key: 1 } as never }).some((p) => p.field === "pki.ca.key"));
        const adopted: VaultSecretsPlatformArgs = { ...articleArgs(), pki: pkiArgs(), adopted: { pkiMount: true } };
        assert.ok(
            validatePlatformArgs(adopted).some((p) => p.field === "pki.ca.type" && /Set pki\.ca: \{ type: "existing" \}/.test(p.message)),
            "an adopted mount keeps its CA",
        );
    });

    it('ca: { type: "imported" } needs pemBundle (never echoed), takes no root CA fields; pemBundle is refused with the other types', () => {
        assert.deepStrictEqual(validatePkiArgs({ ...pkiArgs(), ca: { type: "imported", pemBundle: pulumi.secret(BUNDLE) } }), []);
        assert.deepStrictEqual(validatePkiArgs({ ...pkiArgs(), ca: { type: "imported", pemBundle: BUNDLE } }), []);
        assert.strictEqual(planPki({ ...pkiArgs(), ca: { type: "imported", pemBundle: BUNDLE } }).ca, "imported");
        const missing = validatePkiArgs({ ...pkiArgs(), ca: { type: "imported" } });
        assert.ok(
            missing.some((p) => p.field === "pki.ca.pemBundle" && /required.*pulumi\.secret/.test(p.message)),
            JSON.stringify(missing),
        );
        const notPem = validatePkiArgs({ ...pkiArgs(), ca: { type: "imported", pemBundle: "MHcCAQEEIKEYSECRETTEXT" } });
        assert.ok(
            notPem.some((p) => p.field === "pki.ca.pemBundle" && /PRIVATE KEY/.test(p.message)),
            JSON.stringify(notPem),
        );
        assert.ok(!JSON.stringify(notPem).includes("KEYSECRETTEXT"), "the bundle's text is not echoed");
        const wrongType = validatePkiArgs({ ...pkiArgs(), ca: { type: "imported", pemBundle: 42 as never } });
        assert.ok(
            wrongType.some((p) => p.field === "pki.ca.pemBundle"),
            JSON.stringify(wrongType),
        );
        const rootFields = validatePkiArgs({ ...pkiArgs(), ca: { type: "imported", pemBundle: BUNDLE }, caCommonName: "x" });
        assert.ok(
            rootFields.some((p) => p.field === "pki.caCommonName" && /"imported"/.test(p.message)),
            JSON.stringify(rootFields),
        );
        for (const type of ["internal", "existing"]) {
            const extra = validatePkiArgs({ ...pkiArgs(), ca: { type, pemBundle: BUNDLE } });
            assert.ok(
                extra.some((p) => p.field === "pki.ca.pemBundle" && /only used with/.test(p.message)),
                `${type}: ${JSON.stringify(extra)}`,
            );
            assert.ok(!JSON.stringify(extra).includes("KEYSECRETTEXT"));
        }
        assert.strictEqual(firstPemCertificate(BUNDLE), "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n");
        assert.strictEqual(firstPemCertificate("-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----"), "");
    });

    it("homelab program: the imported CA's bundle comes from the secret config pkiCaBundle, never from plain config", async () => {
        const pki = { ...pkiArgs(), ca: { type: "imported" } };
        const missing = pkiFromConfig(pki, undefined, false);
        assert.ok(missing.problems.some((p) => p.field === "pkiCaBundle" && /pulumi config set --secret pkiCaBundle/.test(p.message)));
        const plain = pkiFromConfig({ ...pkiArgs(), ca: { type: "imported", pemBundle: BUNDLE } }, pulumi.secret(BUNDLE), true);
        assert.ok(plain.problems.some((p) => p.field === "pki.ca.pemBundle" && /not read from plain stack config/.test(p.message)));
        assert.ok(!JSON.stringify(plain.problems).includes("KEYSECRETTEXT"));
        const ok = pkiFromConfig(pki, pulumi.secret(BUNDLE), true);
        assert.deepStrictEqual(ok.problems, []);
        assert.deepStrictEqual(validatePkiArgs(ok.pki!), []);
        assert.ok(await isSecret(pulumi.output(ok.pki!.ca!.pemBundle!)), "the bundle stays a secret");
        const stray = pkiFromConfig(pkiArgs(), pulumi.secret(BUNDLE), true);
        assert.ok(stray.problems.some((p) => p.field === "pkiCaBundle" && /not "imported"/.test(p.message)));
    });

    it("roleName keeps an existing role's name (its issue path follows); two certificates on one role are refused", () => {
        const a = pkiArgs();
        a.certificates[0].roleName = "web";
        assert.deepStrictEqual(validatePkiArgs(a), []);
        const c = planPki(a).certificates[0];
        assert.deepStrictEqual([c.roleName, c.policyPath], ["web", "pki/issue/web"]);
        a.certificates.push({ name: "other", namespace: "web", commonName: "other.homelab.lan", roleName: "web" });
        assert.ok(validatePkiArgs(a).some((p) => p.field === "pki.certificates[1].roleName" && /already/.test(p.message)));
        assert.ok(
            validatePkiArgs({ certificates: [{ ...pkiArgs().certificates[0], roleName: "a b" }] }).some((p) => p.field === "pki.certificates[0].roleName"),
        );
    });

    describe("under mocks", () => {
        const rec = new MockRecorder();
        beforeEach(() => rec.install());

        it('ca: { type: "existing" } creates no root CA; the roles and the VaultPKISecret are as usual', async () => {
            new VaultSecretsPlatform("p", { ...articleArgs(), pki: { ...pkiArgs(), ca: { type: "existing" } } });
            await rec.settle();
            assert.deepStrictEqual(rec.ofType("vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert"), []);
            assert.strictEqual(rec.ofType("vault:pkiSecret/secretBackendRole:SecretBackendRole").length, 1);
            assert.strictEqual(rec.ofType("kubernetes:secrets.hashicorp.com/v1beta1:VaultPKISecret").length, 1);
            assert.ok(rec.ofType("vault:index/mount:Mount").some((m) => m.inputs.type === "pki" && m.importId === undefined));
        });

        it('ca: { type: "imported" } sets the mount\'s CA from the bundle as a secret, before the roles; no root CA is generated', async () => {
            new VaultSecretsPlatform("p", { ...articleArgs(), pki: { ...pkiArgs(), ca: { type: "imported", pemBundle: pulumi.secret(BUNDLE) } } });
            await rec.settle();
            assert.deepStrictEqual(rec.ofType("vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert"), []);
            const [ca] = rec.ofType("vault:pkiSecret/secretBackendConfigCa:SecretBackendConfigCa");
            assert.ok(ca, "a config/ca resource");
            assert.strictEqual(ca.inputs.backend, "pki");
            assert.strictEqual(ca.inputs.pemBundle, BUNDLE);
            assert.ok(ca.secretInputs.includes("pemBundle"), "the bundle reaches the provider as a secret");
            const engine = new PkiSecretsEngine("alone", { ...pkiArgs(), path: "pki-alone", ca: { type: "imported", pemBundle: pulumi.secret(BUNDLE) } });
            assert.ok(!(await isSecret(engine.caCertificate)), "the CA certificate (no key) is an ordinary output");
            assert.ok(
                await new Promise<boolean>((r) => engine.caCertificate.apply((c) => r(c.startsWith("-----BEGIN CERTIFICATE-----") && !c.includes("PRIVATE")))),
            );
            assert.strictEqual(rec.ofType("vault:pkiSecret/secretBackendRole:SecretBackendRole").length, 1);
        });

        it("creates the pki mount, an internal root CA, one narrow role and one VaultPKISecret per app", async () => {
            new VaultSecretsPlatform("p", { ...articleArgs(), pki: pkiArgs() });
            await rec.settle();
            const m = rec.ofType("vault:index/mount:Mount").find((x) => x.inputs.type === "pki")!;
            assert.strictEqual(m.inputs.path, "pki");
            const [root] = rec.ofType("vault:pkiSecret/secretBackendRootCert:SecretBackendRootCert");
            assert.strictEqual(root.inputs.type, "internal", "the CA key never leaves Vault");
            const [role] = rec.ofType("vault:pkiSecret/secretBackendRole:SecretBackendRole");
            assert.deepStrictEqual(
                [role.inputs.allowedDomains, role.inputs.allowSubdomains, role.inputs.allowGlobDomains, role.inputs.allowAnyName, role.inputs.allowIpSans],
                [["web.homelab.lan", "web.web.svc"], false, false, false, false],
            );
            const [vps] = rec.ofType("kubernetes:secrets.hashicorp.com/v1beta1:VaultPKISecret");
            assert.deepStrictEqual([vps.inputs.metadata.namespace, vps.inputs.metadata.name, vps.inputs.spec.role], ["web", "web-tls", "web-web-tls"]);
        });
    });
});
