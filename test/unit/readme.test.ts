/**
 * The documentation's TypeScript examples compile against the package as it is (issue 11): every ```ts
 * block of README.md and of docs/*.md is type-checked (strict) with `pulumi-vault-vso` mapped to
 * components/ and `pulumi-vault-vso/ops` to ops/, so an example cannot rot when an API changes.
 * The README stays a page a newcomer reads (issue 23): at most 15 KB, linking every page of docs/, and
 * every relative link of README.md and docs/*.md points at a file that exists and, with an anchor, at
 * one of that file's headings.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const REPO = path.join(__dirname, "..", "..");
const README_MAX_BYTES = 15360;

/** README.md and docs/*.md, as paths relative to the repository. */
function markdownFiles(): string[] {
    const docs = fs
        .readdirSync(path.join(REPO, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => `docs/${f}`);
    return ["README.md", ...docs];
}

function read(rel: string): string {
    return fs.readFileSync(path.join(REPO, rel), "utf8");
}

/** Per line: whether it belongs to a fenced code block (its fences included). */
function fencedLines(markdown: string): boolean[] {
    let fence: string | undefined;
    return markdown.split("\n").map((line) => {
        const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
        if (fence) {
            if (open && open[1][0] === fence[0] && open[1].length >= fence.length) fence = undefined;
            return true;
        }
        if (open) fence = open[1];
        return open !== null;
    });
}

/** The lines outside fenced code blocks, inline code blanked (a `# comment` or `](x)` in code is neither heading nor link). */
function prose(markdown: string): string[] {
    const fenced = fencedLines(markdown);
    return markdown.split("\n").map((line, i) => (fenced[i] ? "" : line.replace(/(`+)[\s\S]*?\1/g, (m) => " ".repeat(m.length))));
}

/** GitHub's anchor of a heading: the rendered text lower-cased, punctuation dropped, spaces to '-'. */
function githubSlug(heading: string): string {
    const text = heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // [text](url) renders as text
        .replace(/<[^>]+>/g, "")
        .replace(/[`*]/g, "")
        .trim()
        .toLowerCase();
    return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a file's headings give, duplicates suffixed -1, -2, … as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    // headings from the raw lines (inline code in a heading is part of its text), fenced blocks skipped
    const fenced = fencedLines(markdown);
    markdown.split("\n").forEach((line, i) => {
        if (fenced[i]) return;
        const m = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
        if (!m) return;
        const base = githubSlug(m[2]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    });
    return anchors;
}

/** The relative links of a file (`](path)`, `](path#anchor)`, `](#anchor)`), http(s) and mailto left out. */
function relativeLinks(markdown: string): { target: string; line: number }[] {
    const links: { target: string; line: number }[] = [];
    prose(markdown).forEach((text, i) => {
        for (const m of text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
            const target = m[1];
            if (/^(https?:|mailto:)/i.test(target)) continue;
            links.push({ target, line: i + 1 });
        }
    });
    return links;
}

/** What is wrong with the relative links of the given files (empty: all resolve). */
function brokenLinks(files: string[]): string[] {
    const anchorCache = new Map<string, Set<string>>();
    const anchors = (abs: string) => {
        if (!anchorCache.has(abs)) anchorCache.set(abs, anchorsOf(fs.readFileSync(abs, "utf8")));
        return anchorCache.get(abs)!;
    };
    const problems: string[] = [];
    for (const rel of files) {
        const from = path.join(REPO, rel);
        for (const { target, line } of relativeLinks(read(rel))) {
            const hash = target.indexOf("#");
            const file = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
            const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
            const abs = file === "" ? from : path.resolve(path.dirname(from), file);
            const where = `${rel}:${line}: ](${target})`;
            if (!fs.existsSync(abs)) {
                problems.push(`${where}: no file ${path.relative(REPO, abs)}`);
                continue;
            }
            if (anchor === undefined) continue;
            if (!abs.endsWith(".md")) {
                problems.push(`${where}: an anchor into a file that is not markdown`);
            } else if (!anchors(abs).has(anchor)) {
                problems.push(`${where}: no heading with anchor #${anchor} in ${path.relative(REPO, abs)}`);
            }
        }
    }
    return problems;
}

describe("README and docs (issues 11, 23)", function () {
    this.timeout(120000);

    it("every TypeScript block of README.md and docs/*.md compiles", () => {
        const blocks: { source: string; index: number; code: string }[] = [];
        for (const rel of markdownFiles()) {
            [...read(rel).matchAll(/```ts\n([\s\S]*?)```/g)].forEach((m, index) => blocks.push({ source: rel, index, code: m[1] }));
        }
        assert.ok(blocks.length >= 3, `found ${blocks.length} blocks`);
        const dir = path.join(REPO, ".sandbox", "readme");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        const sourceOf = new Map<string, string>();
        const files = blocks.map(({ source, index, code }) => {
            const f = path.join(dir, `${source.replace(/[/.]/g, "_")}-example-${index}.ts`);
            // each block is a module of its own; `export {}` keeps blocks without imports from sharing a scope
            fs.writeFileSync(f, `${code}\nexport {};\n`);
            sourceOf.set(f, `${source}, ts block ${index + 1}`);
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
        const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file && sourceOf.has(path.resolve(d.file.fileName)));
        const shown = diags.map((d) => {
            const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
            const where = sourceOf.get(path.resolve(d.file!.fileName));
            return `${where}, line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        });
        assert.deepStrictEqual(shown, [], "documentation examples have type errors");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it(`README.md is at most ${README_MAX_BYTES} bytes and links to every docs/*.md page`, () => {
        const size = fs.statSync(path.join(REPO, "README.md")).size;
        assert.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes, more than ${README_MAX_BYTES}: move detail to docs/`);
        const linked = new Set(relativeLinks(read("README.md")).map(({ target }) => path.posix.normalize(decodeURIComponent(target.split("#")[0]))));
        const docs = markdownFiles().filter((f) => f.startsWith("docs/"));
        assert.ok(docs.length > 0, "no docs/*.md pages");
        const unlinked = docs.filter((f) => !linked.has(f));
        assert.deepStrictEqual(unlinked, [], "README.md does not link these docs/ pages");
    });

    it("every relative link in README.md and docs/*.md points at an existing file and heading", () => {
        assert.deepStrictEqual(brokenLinks(markdownFiles()), [], "broken links");
    });

    it("the anchors are GitHub's (lower case, punctuation dropped, duplicates -1, -2)", () => {
        const anchors = anchorsOf(
            [
                "# From other languages (YAML, Python, Go, .NET, Java)",
                "## VaultSecretsPlatform — the whole setup",
                "## `npm start`",
                "```bash",
                "# a comment, not a heading",
                "```",
                "## Notes",
                "## Notes",
                "## Notes",
            ].join("\n"),
        );
        assert.deepStrictEqual(
            [...anchors],
            ["from-other-languages-yaml-python-go-net-java", "vaultsecretsplatform--the-whole-setup", "npm-start", "notes", "notes-1", "notes-2"],
        );
    });
});
