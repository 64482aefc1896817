/**
 * The README's TypeScript examples compile against the package as it is (issue 11): every ```ts
 * block is type-checked (strict) with `pulumi-vault-vso` mapped to components/ and
 * `pulumi-vault-vso/ops` to ops/, so an example cannot rot when an API changes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const REPO = path.join(__dirname, "..", "..");

describe("README examples (issue 11)", function () {
    this.timeout(120000);

    it("every TypeScript block compiles", () => {
        const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
        const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
        assert.ok(blocks.length >= 3, `found ${blocks.length} blocks`);
        const dir = path.join(REPO, ".sandbox", "readme");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        const files = blocks.map((code, i) => {
            const f = path.join(dir, `example-${i}.ts`);
            // each block is a module of its own; `export {}` keeps blocks without imports from sharing a scope
            fs.writeFileSync(f, `${code}\nexport {};\n`);
            return f;
        });
        const program = ts.createProgram(files, {
            strict: true,
            noEmit: true,
            target: ts.ScriptTarget.ES2020,
            module: ts.ModuleKind.CommonJS,
            moduleResolution: ts.ModuleResolutionKind.Node10,
            esModuleInterop: true,
            skipLibCheck: true,
            types: ["node"],
            baseUrl: REPO,
            paths: { "pulumi-vault-vso": ["components/index.ts"], "pulumi-vault-vso/ops": ["ops/index.ts"] },
        });
        const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(path.resolve(d.file.fileName)));
        const shown = diags.map((d) => {
            const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
            return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        });
        assert.deepStrictEqual(shown, [], "README examples have type errors");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
