/**
 * The Vault-only entry point (`pulumi-vault-vso/vault`, issue 12): a Vault-only program pays neither for
 * loading nor for type-checking @pulumi/kubernetes.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");

/** The modules a fresh Node process loads for `require(entry)`, as package names under node_modules. */
function packagesLoadedBy(entry: string): string[] {
    const script =
        `require(${JSON.stringify(entry)});` +
        `const s=new Set();for(const k of Object.keys(require.cache)){const m=/node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(k);if(m)s.add(m[1]);}` +
        `process.stdout.write(JSON.stringify([...s]));`;
    const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO, encoding: "utf8" });
    return JSON.parse(out) as string[];
}

describe("entry points (issue 12)", function () {
    this.timeout(60000);

    it("pulumi-vault-vso/vault has the Vault components and loads no @pulumi/kubernetes", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.deepStrictEqual(pkg.exports["./vault"], { types: "./lib/components/vault-only.d.ts", default: "./lib/components/vault-only.js" });
        assert.deepStrictEqual(pkg.typesVersions["*"].vault, ["lib/components/vault-only.d.ts"]);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const entry = require(path.join(REPO, "components/vault-only"));
        for (const name of ["KvV2Engine", "KubernetesAuthMethod", "VaultNamespaceAccess", "renderReadPolicy", "validateApps"]) {
            assert.strictEqual(typeof entry[name], "function", name);
        }
        const loaded = packagesLoadedBy("./components/vault-only");
        assert.ok(loaded.includes("@pulumi/vault"), loaded.join(", "));
        assert.ok(!loaded.includes("@pulumi/kubernetes"), "the Vault-only entry point loaded @pulumi/kubernetes");
        // and its declarations name no @pulumi/kubernetes type, so a user's type-check does not read those typings
        const ts = require("typescript") as typeof import("typescript"); // eslint-disable-line @typescript-eslint/no-require-imports
        const program = ts.createProgram([path.join(REPO, "components/vault-only.ts")], {
            declaration: true,
            emitDeclarationOnly: true,
            strict: true,
            esModuleInterop: true,
            skipLibCheck: true,
            target: ts.ScriptTarget.ES2020,
            module: ts.ModuleKind.CommonJS,
            types: ["node"],
        });
        // declarations by their path under components/ (e.g. "vault-config/access.d.ts")
        const declarations: Record<string, string> = {};
        program.emit(undefined, (file, text) => {
            declarations[path.relative(path.join(REPO, "components"), file).split(path.sep).join("/")] = text;
        });
        assert.ok(declarations["vault-only.d.ts"] && declarations["vault-config/access.d.ts"], Object.keys(declarations).join(", "));
        const reachable = new Set<string>();
        const visit = (f: string) => {
            if (reachable.has(f) || !declarations[f]) {
                return;
            }
            reachable.add(f);
            for (const m of declarations[f].matchAll(/from "(\.\.?\/[^"]+)"/g)) {
                visit(path.posix.normalize(path.posix.join(path.posix.dirname(f), `${m[1]}.d.ts`)));
            }
        };
        visit("vault-only.d.ts");
        for (const f of reachable) {
            assert.ok(!/from "@pulumi\/kubernetes|import\("@pulumi\/kubernetes/.test(declarations[f]), `${f} imports @pulumi/kubernetes`);
        }
        assert.ok(reachable.has("vault-config/access.d.ts") && reachable.has("config/validate.d.ts"), [...reachable].join(", "));
    });

    it("the main entry point still has everything (and the control: it does load @pulumi/kubernetes)", () => {
        assert.ok(packagesLoadedBy("./components").includes("@pulumi/kubernetes"));
    });
});
