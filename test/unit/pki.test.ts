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
import { MockRecorder, articleArgs } from "./harness";

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

    describe("under mocks", () => {
        const rec = new MockRecorder();
        beforeEach(() => rec.install());

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
