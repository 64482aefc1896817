/**
 * The hand-kept VSO types (components/config/vso-types.ts) against VSO's own CRDs: every field the
 * components write into a VaultConnection, VaultAuth or VaultStaticSecret must exist in the CRD's
 * OpenAPI schema with that type, so a typo or a renamed field fails here and not in the cluster.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { VaultStaticSecretApp, VsoNamespaceAccess } from "../../components";
import { MockRecorder } from "./harness";

/** VSO's chart CRDs: $PVV_VSO_CHART_DIR (set by the tool build), else the Go module cache's copy. */
function crdDir(): string | undefined {
    const candidates = [
        process.env.PVV_VSO_CHART_DIR,
        path.join(process.env.GOMODCACHE ?? path.join(os.homedir(), "go", "pkg", "mod"), "github.com", "hashicorp", "vault-secrets-operator@v0.10.0", "chart"),
    ]
        .filter((d): d is string => !!d)
        .map((d) => path.join(d, "crds"));
    return candidates.find((d) => fs.existsSync(d));
}

interface Schema {
    type?: string;
    properties?: Record<string, Schema>;
    items?: Schema;
    additionalProperties?: Schema | boolean;
    "x-kubernetes-int-or-string"?: boolean;
}

function specSchema(dir: string, plural: string): Schema {
    const crd = yaml.load(fs.readFileSync(path.join(dir, `secrets.hashicorp.com_${plural}.yaml`), "utf8")) as any;
    const v = crd.spec.versions.find((x: any) => x.name === "v1beta1");
    return v.schema.openAPIV3Schema.properties.spec;
}

/** Every path of `value` the schema does not have, or has with another type. */
function mismatches(value: unknown, schema: Schema, at: string): string[] {
    if (schema["x-kubernetes-int-or-string"]) {
        return typeof value === "string" || typeof value === "number" ? [] : [`${at}: expected int or string`];
    }
    switch (schema.type) {
        case "string":
            return typeof value === "string" ? [] : [`${at}: expected a string, got ${typeof value}`];
        case "boolean":
            return typeof value === "boolean" ? [] : [`${at}: expected a boolean, got ${typeof value}`];
        case "integer":
            return Number.isInteger(value) ? [] : [`${at}: expected an integer`];
        case "array":
            return Array.isArray(value) ? value.flatMap((v, i) => mismatches(v, schema.items ?? {}, `${at}[${i}]`)) : [`${at}: expected a list`];
        case "object": {
            if (typeof value !== "object" || value === null || Array.isArray(value)) {
                return [`${at}: expected an object`];
            }
            return Object.entries(value).flatMap(([k, v]) => {
                const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
                return sub ? mismatches(v, sub, `${at}.${k}`) : [`${at}.${k}: not a field of VSO's CRD`];
            });
        }
    }
    return [];
}

describe("VSO objects match VSO's CRDs (issue 11)", function () {
    const dir = crdDir();
    const rec = new MockRecorder();
    beforeEach(function () {
        if (!dir) {
            if (process.env.PVV_REQUIRE_INTEGRATION) {
                throw new Error("VSO's chart CRDs are missing: run bash scripts/tools/build.sh");
            }
            this.skip();
        }
        rec.install();
    });

    it("every field the components write exists in the CRD with the type written", async () => {
        new VsoNamespaceAccess("ns", {
            namespace: "cnpg",
            vaultAddress: "https://vault.lan:8200",
            roleName: "vso-cnpg",
            caCert: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
            skipTLSVerify: false,
            accessRevision: "abc",
        });
        new VaultStaticSecretApp("app", {
            namespace: "cnpg",
            path: "rustfs/cloudnativepg",
            keys: ["a"],
            refreshAfter: "60s",
            rolloutRestartTargets: [{ kind: "Deployment", name: "my-app" }],
            data: { a: "v" },
        });
        await rec.settle();
        const kinds: [string, string][] = [
            ["VaultConnection", "vaultconnections"],
            ["VaultAuth", "vaultauths"],
            ["VaultStaticSecret", "vaultstaticsecrets"],
        ];
        for (const [kind, plural] of kinds) {
            const objs = rec.resources.filter((r) => r.type === `kubernetes:secrets.hashicorp.com/v1beta1:${kind}`);
            assert.strictEqual(objs.length, 1, `one ${kind}`);
            const spec = objs[0].inputs.spec;
            assert.ok(Object.keys(spec).length >= 3, `${kind} has a spec`);
            assert.deepStrictEqual(mismatches(spec, specSchema(dir!, plural), `${kind}.spec`), []);
        }
    });

    it("the check itself catches a misspelled field (skipTlsVerify) and a wrong type", () => {
        const schema = specSchema(dir!, "vaultconnections");
        assert.deepStrictEqual(mismatches({ address: "https://v", skipTlsVerify: true }, schema, "s"), ["s.skipTlsVerify: not a field of VSO's CRD"]);
        assert.deepStrictEqual(mismatches({ address: "https://v", skipTLSVerify: "no" }, schema, "s"), ["s.skipTLSVerify: expected a boolean, got string"]);
    });
});
