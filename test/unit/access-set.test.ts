/**
 * VaultNamespaceAccessSet (issue 12 item 3): the policy and role of many namespaces under one component.
 * It must create, per namespace, exactly what a VaultNamespaceAccess creates for the same args (both use
 * one child-creating function), apply its shared defaults only where an entry sets nothing, refuse
 * duplicates and bad entries before any child exists, and be one component resource for N namespaces.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
    VaultNamespaceAccess,
    VaultNamespaceAccessArgs,
    VaultNamespaceAccessSet,
    VaultNamespaceAccessSetArgs,
    validateVaultNamespaceAccessArgs,
    validateVaultNamespaceAccessSetArgs,
    validationProblemsOf,
    vaultNamespaceAccessSetEntries,
} from "../../components";
import * as mainEntry from "../../components";
import * as vaultEntry from "../../components/vault-only";
import { MockRecorder, Recorded, valueOf } from "./harness";

const T = {
    policy: "vault:index/policy:Policy",
    role: "vault:kubernetes/authBackendRole:AuthBackendRole",
    set: "vault-vso:index:VaultNamespaceAccessSet",
    single: "vault-vso:index:VaultNamespaceAccess",
};

/** The fields of one problem list, sorted. */
function fieldsOf(e: unknown): string[] {
    const problems = validationProblemsOf(e);
    assert.ok(problems, `not a ValidationError: ${e}`);
    return problems.map((p) => p.field).sort();
}

/** Constructs a set that must be refused; returns its problems' fields. */
function refusedFields(args: VaultNamespaceAccessSetArgs): string[] {
    let thrown: unknown;
    try {
        new VaultNamespaceAccessSet("bad", args);
    } catch (e) {
        thrown = e;
    }
    assert.ok(thrown !== undefined, "the set was not refused");
    return fieldsOf(thrown);
}

/** Varied entries: defaults, every optional field, several paths, a wildcard namespace. */
const ENTRIES: VaultNamespaceAccessArgs[] = [
    { namespace: "team", paths: ["team/db"] },
    { namespace: "billing", paths: ["billing/db", "billing/s3", "shared/smtp"], kvPath: "secrets", authPath: "k8s-prod" },
    { namespace: "ops", paths: ["ops/x"], serviceAccountName: "vso-ops", tokenTtl: 600, audience: "ops-aud", policyName: "ops-read", roleName: "ops-login" },
    { namespace: "*", paths: ["public/banner"], allowWildcardBindings: true, audience: "https://kubernetes.default.svc" },
];

describe("VaultNamespaceAccessSet (mocked engine)", () => {
    const rec = new MockRecorder();
    beforeEach(() => rec.install());

    const byName = (type: string, name: string): Recorded => rec.one(type, (r) => r.name === name);

    it("creates per namespace the same policy and role as VaultNamespaceAccess does for the same args", async () => {
        ENTRIES.forEach((e, i) => new VaultNamespaceAccess(`single${i}`, e));
        const set = new VaultNamespaceAccessSet("set", { namespaces: ENTRIES });
        await rec.settle();
        assert.strictEqual(rec.ofType(T.policy).length, 2 * ENTRIES.length);
        assert.strictEqual(rec.ofType(T.role).length, 2 * ENTRIES.length);
        for (const [i, e] of ENTRIES.entries()) {
            const key = e.namespace === "*" ? "all" : e.namespace;
            for (const [type, suffix] of [
                [T.policy, "policy"],
                [T.role, "role"],
            ]) {
                const single = byName(type, `single${i}-${suffix}`);
                const fromSet = byName(type, `set-${key}-${suffix}`);
                assert.deepStrictEqual(fromSet.inputs, single.inputs, `${e.namespace}: ${suffix} args`);
                assert.strictEqual(fromSet.provider, single.provider, `${e.namespace}: ${suffix} provider`);
            }
            const single = new VaultNamespaceAccess(`again${i}`, e);
            assert.strictEqual(set.policyNames[e.namespace], single.policyName);
            assert.strictEqual(set.roleNames[e.namespace], single.roleName);
        }
        // spot checks, so that "equal" cannot mean "both empty"
        assert.match(byName(T.policy, "set-billing-policy").inputs.policy, /path "secrets\/data\/billing\/s3"/);
        assert.strictEqual(byName(T.role, "set-ops-role").inputs.audience, "ops-aud");
        assert.deepStrictEqual(byName(T.role, "set-all-role").inputs.boundServiceAccountNamespaces, ["*"]);
        assert.strictEqual(byName(T.role, "set-ops-role").inputs.roleName, "ops-login");
        assert.deepStrictEqual(Object.keys(set.policies).sort(), ["*", "billing", "ops", "team"]);
        assert.strictEqual(await valueOf(set.policies["ops"].name), "ops-read");
        assert.strictEqual(await valueOf(set.roles["billing"].roleName), "vso-billing");
        assert.deepStrictEqual(set.roleNames, { team: "vso-team", billing: "vso-billing", ops: "ops-login", "*": "vso-all" });
    });

    it("parents every policy and role on the set; VaultNamespaceAccess's own URNs are unchanged", async () => {
        const set = new VaultNamespaceAccessSet("set", { namespaces: ENTRIES.slice(0, 2) });
        const single = new VaultNamespaceAccess("team", ENTRIES[0]);
        await rec.settle();
        const setType = "vault-vso:index:VaultNamespaceAccessSet";
        assert.strictEqual(await valueOf(set.policies["team"].urn), `urn:pulumi:stack::project::${setType}$vault:index/policy:Policy::set-team-policy`);
        assert.strictEqual(
            await valueOf(set.roles["billing"].urn),
            `urn:pulumi:stack::project::${setType}$vault:kubernetes/authBackendRole:AuthBackendRole::set-billing-role`,
        );
        assert.strictEqual(
            await valueOf(single.policy.urn),
            "urn:pulumi:stack::project::vault-vso:index:VaultNamespaceAccess$vault:index/policy:Policy::team-policy",
        );
        assert.strictEqual(
            await valueOf(single.role.urn),
            "urn:pulumi:stack::project::vault-vso:index:VaultNamespaceAccess$vault:kubernetes/authBackendRole:AuthBackendRole::team-role",
        );
    });

    it("applies the shared defaults to every entry that does not set its own; an entry's own value wins", async () => {
        const shared = { kvPath: "secrets", authPath: pulumi.output("k8s-shared"), serviceAccountName: "vso-shared", tokenTtl: 900, audience: "shared-aud" };
        const own = { kvPath: "kv2", authPath: "k8s-own", serviceAccountName: "vso-own", tokenTtl: 60, audience: "own-aud" };
        new VaultNamespaceAccessSet("s", {
            ...shared,
            namespaces: [
                { namespace: "inherits", paths: ["a/b"] },
                { namespace: "owns", paths: ["a/b"], ...own },
                { namespace: "undef", paths: ["a/b"], kvPath: undefined, tokenTtl: undefined },
            ],
        });
        await rec.settle();
        const inherits = byName(T.role, "s-inherits-role").inputs;
        assert.deepStrictEqual(
            [inherits.backend, inherits.boundServiceAccountNames, inherits.tokenTtl, inherits.audience],
            ["k8s-shared", ["vso-shared"], 900, "shared-aud"],
            "an Output authPath is a shared default too",
        );
        assert.match(byName(T.policy, "s-inherits-policy").inputs.policy, /^path "secrets\/data\/a\/b"/);
        const owns = byName(T.role, "s-owns-role").inputs;
        assert.deepStrictEqual(
            [owns.backend, owns.boundServiceAccountNames, owns.tokenTtl, owns.audience],
            ["k8s-own", ["vso-own"], 60, "own-aud"],
            "the entry's values",
        );
        assert.match(byName(T.policy, "s-owns-policy").inputs.policy, /^path "kv2\/data\/a\/b"/);
        assert.strictEqual(byName(T.role, "s-undef-role").inputs.tokenTtl, 900, "an undefined field counts as not set");
        assert.match(byName(T.policy, "s-undef-policy").inputs.policy, /^path "secrets\/data\/a\/b"/);
        // the pure merge says the same
        const merged = vaultNamespaceAccessSetEntries({ kvPath: "secrets", tokenTtl: 5, namespaces: [{ namespace: "x", paths: ["p"], tokenTtl: 7 }] });
        assert.deepStrictEqual(merged, [{ namespace: "x", paths: ["p"], tokenTtl: 7, kvPath: "secrets" }]);
    });

    it("is one component resource for N namespaces (VaultNamespaceAccess: one per namespace)", async () => {
        const n = 25;
        const namespaces = Array.from({ length: n }, (_, i) => ({ namespace: `ns-${i}`, paths: [`apps/ns-${i}`] }));
        const set = new VaultNamespaceAccessSet("many", { namespaces });
        await rec.settle();
        assert.strictEqual(rec.ofType(T.set).length, 1);
        assert.strictEqual(rec.ofType(T.single).length, 0);
        assert.strictEqual(rec.ofType(T.policy).length, n);
        assert.strictEqual(rec.ofType(T.role).length, n);
        assert.strictEqual(rec.resources.length, 1 + 2 * n, rec.resources.map((r) => r.type).join(", "));
        assert.strictEqual(Object.keys(set.roles).length, n);
        // the control: the per-namespace component is one component each
        namespaces.slice(0, 3).forEach((a) => new VaultNamespaceAccess(a.namespace, a));
        await rec.settle();
        assert.strictEqual(rec.ofType(T.single).length, 3);
    });

    it("refuses bad entries before any child, naming the field as namespaces[i].…", async () => {
        const namespaces: VaultNamespaceAccessArgs[] = [
            { namespace: "a", paths: ["a/x"] },
            { namespace: "b", paths: ["b/x"], tokenTtl: -1 },
            { namespace: "c", paths: ["c/x"] },
            { namespace: "d", paths: ["/d/x", "d/y"] },
        ];
        assert.deepStrictEqual(refusedFields({ namespaces }), ["namespaces[1].tokenTtl", "namespaces[3].paths[0]"]);
        assert.deepStrictEqual(refusedFields({ namespaces: [{ namespace: "*", paths: ["x"] }] }), ["namespaces[0].namespace"], "wildcard only with opt-in");
        assert.deepStrictEqual(refusedFields({ namespaces: [null as unknown as VaultNamespaceAccessArgs, namespaces[0]] }), ["namespaces[0]"]);
        await rec.settle();
        assert.deepStrictEqual(rec.ofType(T.policy), [], "no policy was created");
        assert.deepStrictEqual(rec.ofType(T.role), [], "no role was created");
    });

    it("refuses a missing or empty namespaces list, two entries for one namespace, policy or role", async () => {
        assert.deepStrictEqual(refusedFields({ namespaces: [] }), ["namespaces"]);
        assert.deepStrictEqual(refusedFields({} as VaultNamespaceAccessSetArgs), ["namespaces"]);
        assert.deepStrictEqual(refusedFields({ namespaces: { namespace: "a", paths: ["x"] } as unknown as VaultNamespaceAccessArgs[] }), ["namespaces"]);
        const a = { namespace: "a", paths: ["a/x"] };
        const dupNs = validationProblemsOf(
            captured(() => new VaultNamespaceAccessSet("d", { namespaces: [a, { namespace: "b", paths: ["b/x"] }, { ...a }] })),
        )!;
        assert.deepStrictEqual(
            dupNs.map((p) => p.field),
            ["namespaces[2].namespace"],
        );
        assert.match(dupNs[0].message, /repeats namespaces\[0\]'s namespace "a"/);
        // "*" is written "all" in the resource names: the two would collide
        const star = refusedFields({
            namespaces: [
                { namespace: "all", paths: ["x"] },
                { namespace: "*", paths: ["x"], allowWildcardBindings: true, policyName: "p-star", roleName: "r-star" },
            ],
        });
        assert.deepStrictEqual(star, ["namespaces[1].namespace"]);
        assert.deepStrictEqual(
            refusedFields({ namespaces: [a, { namespace: "b", paths: ["b/x"], policyName: "vso-a-read" }] }),
            ["namespaces[1].policyName"],
            "a policy name another entry has",
        );
        assert.deepStrictEqual(
            refusedFields({
                namespaces: [
                    { ...a, roleName: "login" },
                    { namespace: "b", paths: ["b/x"], roleName: "login" },
                ],
            }),
            ["namespaces[1].roleName"],
        );
        await rec.settle();
        assert.deepStrictEqual(rec.ofType(T.policy), [], "no policy was created");
        assert.deepStrictEqual(rec.ofType(T.role), [], "no role was created");
        // and the same args without the duplicate are accepted
        new VaultNamespaceAccessSet("ok", { namespaces: [a, { namespace: "b", paths: ["b/x"] }] });
        await rec.settle();
        assert.strictEqual(rec.ofType(T.role).length, 2);
    });
});

/** The error `f` throws (fails when it throws none). */
function captured(f: () => unknown): unknown {
    try {
        f();
    } catch (e) {
        return e;
    }
    assert.fail("nothing was thrown");
}

describe("validateVaultNamespaceAccessSetArgs (pure)", () => {
    it("reports each entry's problems as VaultNamespaceAccess's validator does, under namespaces[i].", () => {
        const bad: VaultNamespaceAccessArgs[] = [
            { namespace: "ok", paths: ["ok/x"] },
            { namespace: "Bad_NS", paths: [], serviceAccountName: "default", policyName: "default" },
            { namespace: "x", paths: ["x/*"], kvPath: "/kv/", audience: "a b", tokenTtl: 0.5 },
        ];
        const problems = validateVaultNamespaceAccessSetArgs({ namespaces: bad });
        const expected = bad.flatMap((e, i) => validateVaultNamespaceAccessArgs(e, `namespaces[${i}].`));
        assert.ok(expected.length >= 6, `the entries have problems (${expected.length})`);
        assert.deepStrictEqual(problems, expected);
        assert.deepStrictEqual(validateVaultNamespaceAccessSetArgs({ namespaces: [bad[0]] }), [], "a good entry has none");
    });

    it("names a shared default's problem once, by its own field, and an entry's own value by the entry", () => {
        const problems = validateVaultNamespaceAccessSetArgs({
            serviceAccountName: "default",
            kvPath: "sys",
            namespaces: [
                { namespace: "a", paths: ["a/x"] },
                { namespace: "b", paths: ["b/x"] },
                { namespace: "c", paths: ["c/x"], serviceAccountName: "default", kvPath: "kv" },
            ],
        });
        assert.deepStrictEqual(problems.map((p) => p.field).sort(), ["kvPath", "namespaces[2].serviceAccountName", "serviceAccountName"]);
    });
});

describe("VaultNamespaceAccessSet's exports", () => {
    it("is exported by the main entry point and by pulumi-vault-vso/vault, with its validator", () => {
        for (const [entry, what] of [
            [mainEntry, "components/index.ts"],
            [vaultEntry, "components/vault-only.ts"],
        ] as const) {
            assert.strictEqual(entry.VaultNamespaceAccessSet, VaultNamespaceAccessSet, what);
            assert.strictEqual(typeof entry.validateVaultNamespaceAccessSetArgs, "function", what);
            assert.strictEqual(typeof entry.vaultNamespaceAccessSetEntries, "function", what);
        }
    });
});
