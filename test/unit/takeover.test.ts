/**
 * Object names that may already exist (issue 8, item 4): the pure parts of the create-time check
 * (what to read, what a read means, the refusal) and its absence under Pulumi's mocks. The real
 * behaviour, with the engine's hooks and a Vault server, is in test/integration/takeover.integration.test.ts.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    TakeoverTarget,
    VaultNamespaceAccess,
    claimVerdict,
    hooksUsableIn,
    sameAsDesired,
    decodedData,
    takeoverClaimProvider,
    takeoverClaimSetProvider,
    takeoverGuardKind,
    forcedGuard,
    interpretTakeoverRead,
    takeoverGuardHere,
    takeoverDecision,
    takeoverGuardOptions,
    takeoverMessage,
    takeoverReadPath,
    takeoverTargetOf,
    takeoverUncheckedMessage,
} from "../../components";
import { MockRecorder } from "./harness";

const POLICY = { kind: "policy" as const, name: "vso-admin-read" };
const ROLE = { kind: "role" as const, name: "vso-admin", authPath: "kubernetes" };

describe("takeover check: pure parts (issue 8 item 4)", () => {
    it("reads the policy or role at its Vault API path", () => {
        assert.strictEqual(takeoverReadPath(POLICY), "sys/policies/acl/vso-admin-read");
        assert.strictEqual(takeoverReadPath(ROLE), "auth/kubernetes/role/vso-admin");
    });

    it("takes the name (and the role's mount) from the resource's new inputs, and nothing from unknown values", () => {
        assert.deepStrictEqual(takeoverTargetOf("policy", { name: "vso-admin-read", policy: "..." }), POLICY);
        assert.deepStrictEqual(takeoverTargetOf("role", { roleName: "vso-admin", backend: "kubernetes" }), ROLE);
        assert.deepStrictEqual(takeoverTargetOf("role", { roleName: "vso-admin", backend: "/k8s/" }), { kind: "role", name: "vso-admin", authPath: "k8s" });
        // preview: the auth mount's path is unknown while the mount is being created; an Output (a secret) is not a name
        assert.strictEqual(takeoverTargetOf("role", { roleName: "vso-admin", backend: pulumi.unknown }), undefined);
        assert.strictEqual(takeoverTargetOf("role", { roleName: "vso-admin", backend: pulumi.runtime.unknownValue }), undefined);
        assert.strictEqual(takeoverTargetOf("policy", { name: pulumi.secret("x") }), undefined);
        assert.strictEqual(takeoverTargetOf("policy", { name: "" }), undefined);
        assert.strictEqual(takeoverTargetOf("policy", undefined), undefined);
    });

    it("data means the object exists; the provider's 'no secret found' (a 404) means it does not; anything else is unknown", () => {
        assert.deepStrictEqual(interpretTakeoverRead({ data: { name: "vso-admin-read", policy: 'path "x" {}' } }), { state: "exists" });
        const missing = new Error(
            'invocation of vault:generic/getSecret:getSecret returned an error: invoking vault:generic/getSecret:getSecret: 1 error occurred:\n\t* no secret found at "sys/policies/acl/vso-admin-read"\n\n',
        );
        assert.deepStrictEqual(interpretTakeoverRead({ error: missing }), { state: "absent" });
        const denied = new Error(
            "invocation of vault:generic/getSecret:getSecret returned an error: invoking vault:generic/getSecret:getSecret: 1 error occurred:\n\t* error reading from Vault: Error making API request.\n\nURL: GET http://127.0.0.1:8200/v1/sys/policies/acl/x\nCode: 403. Errors:\n\n* permission denied\n",
        );
        const r = interpretTakeoverRead({ error: denied });
        assert.strictEqual(r.state, "unknown");
        assert.ok(r.state === "unknown" && r.detail === "permission denied", JSON.stringify(r));
        assert.deepStrictEqual(interpretTakeoverRead({ data: {} }), { state: "unknown", detail: "the read returned no data" });
        assert.strictEqual(interpretTakeoverRead({ error: "x".repeat(1000) }).state, "unknown");
        const long = interpretTakeoverRead({ error: "x".repeat(1000) });
        assert.ok(long.state === "unknown" && long.detail.length <= 301);
    });

    it("the refusal names the object, says it exists and was not created by the stack, and gives every way out", () => {
        const p = takeoverMessage(POLICY);
        assert.match(p, /^Vault policy "vso-admin-read" already exists in Vault and was not created by this stack/);
        assert.match(p, /pulumi destroy would then delete it/);
        assert.match(p, /left unchanged/);
        assert.match(p, /kubernetesAuth\.policyNameTemplate/);
        assert.match(p, /npm run adopt/);
        assert.match(p, /vault policy delete vso-admin-read/);
        const r = takeoverMessage(ROLE);
        assert.match(r, /^Kubernetes auth role "vso-admin" \(auth\/kubernetes\) already exists in Vault and was not created by this stack/);
        assert.match(r, /kubernetesAuth\.roleNameTemplate/);
        assert.match(r, /vault delete auth\/kubernetes\/role\/vso-admin/);
        assert.match(takeoverUncheckedMessage(ROLE, "permission denied"), /could not check.*permission denied.*read on auth\/kubernetes\/role\/vso-admin/);
    });

    it("refuses an existing object always, an unchecked one only outside a preview, and lets an absent one through", () => {
        assert.match(takeoverDecision(POLICY, { state: "exists" }, false) ?? "", /already exists/);
        assert.match(takeoverDecision(POLICY, { state: "exists" }, true) ?? "", /already exists/);
        assert.strictEqual(takeoverDecision(POLICY, { state: "absent" }, false), undefined);
        assert.strictEqual(takeoverDecision(POLICY, { state: "absent" }, true), undefined);
        // preview: Vault may not exist yet (installed by the same run)
        assert.strictEqual(takeoverDecision(POLICY, { state: "unknown", detail: "connection refused" }, true), undefined);
        assert.match(takeoverDecision(POLICY, { state: "unknown", detail: "connection refused" }, false) ?? "", /could not check/);
    });

    it("binds hooks only where they can be registered", () => {
        const modern = { underMocks: false, startedByLanguageHost: true, rootDirectoryPassed: true };
        assert.strictEqual(hooksUsableIn(modern), true, "a current language host");
        assert.strictEqual(hooksUsableIn({ ...modern, startedByLanguageHost: false, rootDirectoryPassed: false }), true, "inline program / component provider");
        assert.strictEqual(hooksUsableIn({ ...modern, rootDirectoryPassed: false }), false, "a language host too old to forward hook registrations");
        assert.strictEqual(hooksUsableIn({ ...modern, underMocks: true }), false, "the mock monitor");
    });
});

describe("takeover check under Pulumi's mocks", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    it("binds no hook: the mock monitor registers none and nothing is created", async () => {
        assert.strictEqual(takeoverGuardHere(), "none");
        const parent = new pulumi.ComponentResource("test:index:Parent", "p");
        assert.deepStrictEqual(takeoverGuardOptions("policy", "h", parent), {});
        const access = new VaultNamespaceAccess("admin", { namespace: "admin", paths: ["admin/app"] });
        await rec.settle();
        assert.strictEqual(access.policyName, "vso-admin-read");
        assert.strictEqual(rec.one("vault:index/policy:Policy").inputs.name, "vso-admin-read");
        assert.strictEqual(rec.one("vault:kubernetes/authBackendRole:AuthBackendRole").inputs.roleName, "vso-admin");
    });
});

describe("takeover check where hooks cannot run: the claim (issue 20 item 4)", () => {
    const modern = { underMocks: false, startedByLanguageHost: true, rootDirectoryPassed: true };
    const policy: TakeoverTarget = { kind: "policy", name: "vso-admin-read" };
    const role: TakeoverTarget = { kind: "role", name: "vso-admin", authPath: "kubernetes" };

    it("a language host too old for hooks guards with a claim; the engine's own hooks otherwise; nothing under mocks", () => {
        assert.strictEqual(takeoverGuardKind(modern), "hook");
        assert.strictEqual(takeoverGuardKind({ ...modern, startedByLanguageHost: false, rootDirectoryPassed: false }), "hook", "inline Automation API program");
        assert.strictEqual(takeoverGuardKind({ ...modern, rootDirectoryPassed: false }), "claim", "the tool chain's 3.68.0 host");
        assert.strictEqual(takeoverGuardKind({ ...modern, underMocks: true }), "none", "the mock monitor");
        assert.strictEqual(takeoverGuardKind({ ...modern, forced: "claim" }), "claim", "the user's choice (PULUMI_VAULT_VSO_TAKEOVER_GUARD)");
        assert.strictEqual(takeoverGuardKind({ ...modern, rootDirectoryPassed: false, forced: "hook" }), "hook");
        assert.strictEqual(takeoverGuardKind({ ...modern, underMocks: true, forced: "claim" }), "none", "never under mocks");
        assert.strictEqual(forcedGuard(undefined), undefined);
        assert.strictEqual(forcedGuard("claim"), "claim");
        assert.throws(() => forcedGuard("claims"), /PULUMI_VAULT_VSO_TAKEOVER_GUARD is "claims": set it to "hook" or "claim"/);
    });

    it("an existing object that differs from what the stack would write is refused; an identical one is let through", () => {
        const text = 'path "kv/data/admin/app" {\n  capabilities = ["read"]\n}\n';
        assert.strictEqual(sameAsDesired("policy", { name: "vso-admin-read", policy: text }, { policy: text }), true);
        assert.strictEqual(sameAsDesired("policy", { rules: `${text}\n` }, { policy: text }), true, "older Vaults answer rules");
        assert.strictEqual(sameAsDesired("policy", { policy: 'path "sys/*" { capabilities = ["sudo"] }' }, { policy: text }), false);
        const want = { boundServiceAccountNames: ["vso"], boundServiceAccountNamespaces: ["admin"], tokenPolicies: ["vso-admin-read"] };
        const got = { bound_service_account_names: ["vso"], bound_service_account_namespaces: ["admin"], token_policies: ["vso-admin-read"] };
        assert.strictEqual(sameAsDesired("role", got, want), true);
        assert.strictEqual(sameAsDesired("role", { ...got, bound_service_account_namespaces: ["*"] }, want), false, "a role bound to every namespace");
        assert.strictEqual(sameAsDesired("role", { ...got, token_policies: ["admin"] }, want), false, "a role with other policies");
        // what vault.generic.getSecret hands back: `data` holds lists JSON-encoded, `dataJson` the object
        const provider = {
            data: { bound_service_account_names: '["vso"]', bound_service_account_namespaces: '["admin"]', token_policies: '["vso-admin-read"]' },
            dataJson: JSON.stringify(got),
        };
        assert.strictEqual(sameAsDesired("role", decodedData(provider), want), true, "decoded from dataJson");
        assert.strictEqual(sameAsDesired("role", decodedData({ data: provider.data }), want), true, "JSON-encoded lists in data");
        assert.strictEqual(
            sameAsDesired("role", decodedData({ data: { ...provider.data, bound_service_account_namespaces: '["*"]' } }), want),
            false,
            "and still refused when they differ",
        );

        assert.strictEqual(claimVerdict(policy, { state: "exists" }, false, true), takeoverMessage(policy));
        assert.strictEqual(claimVerdict(role, { state: "exists" }, false, false), takeoverMessage(role));
        assert.strictEqual(claimVerdict(policy, { state: "exists" }, true, false), "");
        assert.strictEqual(claimVerdict(policy, { state: "absent" }, false, false), "");
        assert.strictEqual(claimVerdict(policy, { state: "unknown", detail: "permission denied" }, false, true), "", "preview: Vault may not exist yet");
        assert.strictEqual(
            claimVerdict(policy, { state: "unknown", detail: "permission denied" }, false, false),
            takeoverUncheckedMessage(policy, "permission denied"),
        );
    });

    it("the claim's provider: a new claim or a rename applies the verdict; a claim the stack holds lets it through", async () => {
        const news = { kind: "policy", name: "vso-admin-read", authPath: "", verdict: takeoverMessage(policy) };
        const refused = await takeoverClaimProvider.check!({}, news);
        assert.deepStrictEqual(refused.failures, [{ property: "name", reason: takeoverMessage(policy) }]);
        const renamed = await takeoverClaimProvider.check!({ ...news, name: "vso-old-read", verdict: "" }, news);
        assert.strictEqual(renamed.failures?.length, 1, "a rename checks the new name");
        const held = await takeoverClaimProvider.check!({ ...news, verdict: "" }, news);
        assert.deepStrictEqual(held, { inputs: news }, "the stack made it: an update or no change");
        const unknown = await takeoverClaimProvider.check!({}, { ...news, verdict: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
        assert.deepStrictEqual(unknown.failures, undefined, "preview: not known yet");
        assert.deepStrictEqual(
            await takeoverClaimProvider.diff!("id", { ...news, verdict: "" }, news),
            { changes: false },
            "the verdict is not the claim's identity",
        );
        assert.deepStrictEqual((await takeoverClaimProvider.diff!("id", { ...news, name: "x" }, news)).replaces, ["name"]);
    });

    it("a claim set (one for a VaultNamespaceAccessSet's objects): refuses only the objects new to it, in one check", async () => {
        const t = (kind: string, name: string, verdict = "", authPath = "") => ({ kind, name, authPath, verdict });
        const news = { targets: [t("policy", "vso-a-read"), t("role", "vso-a", "", "kubernetes"), t("policy", "admin", "exists: refused")] };
        const fresh = await takeoverClaimSetProvider.check!({}, news);
        assert.deepStrictEqual(fresh.failures, [{ property: "targets", reason: "exists: refused" }], "a new set applies each verdict");
        const held = await takeoverClaimSetProvider.check!({ targets: [t("policy", "admin"), t("policy", "vso-a-read")] }, news);
        assert.deepStrictEqual(held, { inputs: news }, "an object the set already holds passes (the stack made it)");
        const otherMount = await takeoverClaimSetProvider.check!({ targets: [t("policy", "admin", "", "elsewhere")] }, news);
        assert.strictEqual(otherMount.failures?.length, 1, "the same name on another mount is another object");
        const unknown = await takeoverClaimSetProvider.check!({}, { targets: [t("policy", "admin", "04da6b54-80e4-46f7-96ec-b56ff0331ba9")] });
        assert.strictEqual(unknown.failures, undefined, "preview: a verdict not known yet");
        const moved = await takeoverClaimSetProvider.check!({ kind: "policy", name: "vso-a-read", authPath: "", verdict: "" }, news);
        assert.deepStrictEqual(
            moved.failures,
            [{ property: "targets", reason: "exists: refused" }],
            "moved from a per-object claim: it held its own object only; the others apply their verdicts",
        );
        const movedOwn = await takeoverClaimSetProvider.check!({ kind: "policy", name: "admin", authPath: "", verdict: "" }, news);
        assert.deepStrictEqual(movedOwn, { inputs: news }, "the aliased claim's own object passes");
        assert.deepStrictEqual(await takeoverClaimSetProvider.diff!("id", { targets: news.targets.map((x) => ({ ...x, verdict: "" })) }, news), {
            changes: false,
        });
        assert.deepStrictEqual(
            await takeoverClaimSetProvider.diff!("id", { targets: news.targets.slice(1) }, news),
            { changes: true },
            "an update, never a replace",
        );
        const created = await takeoverClaimSetProvider.create!(news);
        assert.deepStrictEqual(created.outs.targets[2], { kind: "policy", name: "admin", authPath: "" }, "the verdict is not recorded");
    });
});
