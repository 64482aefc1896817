import * as assert from "assert";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { driftRowsFromEvents, formatDriftTable, managedVersionRows, renderValue } from "../../components";

function step(op: string, type: string, name: string, oldInputs: any, newInputs: any, detailedDiff?: Record<string, any>): EngineEvent {
    const urn = `urn:pulumi:s::p::${type}::${name}`;
    return {
        sequence: 0, timestamp: 0,
        resourcePreEvent: { metadata: { op: op as any, urn, type, provider: "", old: { inputs: oldInputs, outputs: oldInputs } as any, new: { inputs: newInputs, outputs: {} } as any, detailedDiff } },
    } as EngineEvent;
}

describe("drift report (pure)", () => {
    const events = [
        step("same", "vault:index/mount:Mount", "homelab-kv", { path: "kv" }, { path: "kv" }),
        step("update", "vault:kubernetes/authBackendRole:AuthBackendRole", "homelab-cnpg-role",
            { boundServiceAccountNamespaces: ["\"*\""] }, { boundServiceAccountNamespaces: ["cnpg"] },
            { boundServiceAccountNamespaces: { kind: "update", inputDiff: true } }),
        step("update", "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret", "app-vss",
            { spec: { refreshAfter: "1h" } }, { spec: { refreshAfter: "60s" } }, { "spec.refreshAfter": { kind: "update", inputDiff: true } }),
        step("update", "vault:kubernetes/authBackendConfig:AuthBackendConfig", "cfg",
            { tokenReviewerJwt: "eyJhbGciOi-old" }, { tokenReviewerJwt: "eyJhbGciOi-new" }, { tokenReviewerJwt: { kind: "update", inputDiff: true } }),
        step("create", "vault:index/policy:Policy", "gone-policy", undefined, { name: "p" }),
        step("update", "vault:kubernetes/authBackendRole:AuthBackendRole", "other-role",
            { tokenPolicies: ["default"], tokenTtl: 60 }, { tokenPolicies: ["vso-x-read"], tokenTtl: 3600 },
            { tokenPolicies: { kind: "update", inputDiff: true }, tokenTtl: { kind: "update", inputDiff: true } }),
    ];

    it("reports exactly the drifted resources and fields, expected (program) → actual (live)", () => {
        const { rows, checked } = driftRowsFromEvents(events);
        assert.strictEqual(checked, 6);
        assert.deepStrictEqual(rows.map((r) => [r.resource, r.field, r.expected, r.actual]), [
            ["vault:kubernetes/authBackendRole:AuthBackendRole homelab-cnpg-role", "boundServiceAccountNamespaces", "[\"cnpg\"]", "[\"\\\"*\\\"\"]"],
            ["kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret app-vss", "spec.refreshAfter", "\"60s\"", "\"1h\""],
            ["vault:kubernetes/authBackendConfig:AuthBackendConfig cfg", "tokenReviewerJwt", "[secret]", "[secret]"],
            ["vault:index/policy:Policy gone-policy", "*", "exists", "missing"],
            ["vault:kubernetes/authBackendRole:AuthBackendRole other-role", "tokenPolicies", "[\"vso-x-read\"]", "[\"default\"]"],
            ["vault:kubernetes/authBackendRole:AuthBackendRole other-role", "tokenTtl", "3600", "60"],
        ]);
    });

    it("never prints secret values", () => {
        const table = formatDriftTable({ stack: "s", drifted: true, rows: driftRowsFromEvents(events).rows, checked: 6 });
        assert.ok(!table.includes("eyJhbGciOi"), table);
        assert.strictEqual(renderValue("spec.data", { a: "b" }), "[secret]");
        assert.strictEqual(renderValue("policy", "[secret]"), "[secret]");
        assert.strictEqual(renderValue("policy", "path \"kv/data/x\""), JSON.stringify("path \"kv/data/x\""));
    });

    it("says clearly when there is no drift", () => {
        assert.match(formatDriftTable({ stack: "dev", drifted: false, rows: [], checked: 12 }), /No drift: 12 resources of stack dev/);
    });

    it("flags a managed value whose Vault version moved since the last up", () => {
        const apps = [{ name: "a", path: "p/a", namespace: "n" }, { name: "b", path: "p/b", namespace: "n" }, { name: "u", path: "p/u", namespace: "n" }];
        const rows = managedVersionRows(apps, { a: "1", b: "2" }, { a: "2", b: "2", u: "7" });
        assert.deepStrictEqual(rows.map((r) => [r.resource, r.expected, r.actual]), [["vault:kv/secretV2:SecretV2 (value of app a)", "v1", "v2"]]);
        assert.strictEqual(managedVersionRows(apps, { a: "1" }, {})[0].actual, "missing");
    });
});
