/**
 * kv-copy (issue 9, dev → durable): the tree is copied path by path against two local fake KV v2
 * servers; existing paths are kept unless --overwrite; values never appear in reports or progress.
 */
import * as assert from "assert";
import * as http from "http";
import { KvCopyError, copyKvTree, formatKvCopyReport, listKvTree } from "../../ops";
import { parseKvCopyArgs } from "../../cli/args";

/** A minimal KV v2 server: mount `kv`, secrets by path, current version only. */
class FakeKv {
    secrets = new Map<string, Record<string, string>>();
    writes = 0;
    server = http.createServer((req, res) => {
        const url = decodeURIComponent(req.url ?? "");
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const send = (status: number, data?: unknown) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(data === undefined ? "" : JSON.stringify(data));
            };
            if (req.headers["x-vault-token"] !== "tok") {
                return send(403, { errors: ["permission denied"] });
            }
            if (url === "/v1/sys/mounts") {
                return send(200, { data: { "kv/": { type: "kv", options: { version: "2" } } } });
            }
            const list = url.endsWith("?list=true");
            const m = /^\/v1\/kv\/(data|metadata)\/(.*?)(\?list=true)?$/.exec(url);
            if (!m) {
                return send(404, { errors: [] });
            }
            const [, kind, p] = m;
            if (list) {
                const keys = new Set<string>();
                for (const k of this.secrets.keys()) {
                    if (k.startsWith(p)) {
                        const rest = k.slice(p.length);
                        keys.add(rest.includes("/") ? `${rest.split("/")[0]}/` : rest);
                    }
                }
                return keys.size ? send(200, { data: { keys: [...keys] } }) : send(404, { errors: [] });
            }
            if (req.method === "POST" && kind === "data") {
                this.writes++;
                this.secrets.set(p, JSON.parse(body).data);
                return send(200, { data: { version: 1 } });
            }
            const s = this.secrets.get(p);
            if (!s) {
                return send(404, { errors: [] });
            }
            return send(200, { data: kind === "data" ? { data: s } : { current_version: 1 } });
        });
    });
    addr = "";
    async start(): Promise<this> {
        await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
        this.addr = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
        return this;
    }
}

describe("kv-copy: a KV v2 tree from one Vault to another (issue 9, dev → durable)", () => {
    let src: FakeKv;
    let dst: FakeKv;
    beforeEach(async () => {
        src = await new FakeKv().start();
        dst = await new FakeKv().start();
        src.secrets.set("rustfs/cloudnativepg", { access_key: "AK-VALUE-1", access_secret_key: "SK-VALUE-1" });
        src.secrets.set("rustfs/deep/nested", { k: "NESTED-VALUE" });
        src.secrets.set("grafana", { admin: "GRAFANA-VALUE" });
    });
    afterEach(() => {
        src.server.close();
        dst.server.close();
    });
    const ends = () => ({ from: { addr: src.addr, token: "tok", mount: "kv" }, to: { addr: dst.addr, token: "tok", mount: "kv" } });

    it("lists the whole tree, nested folders included", async () => {
        assert.deepStrictEqual(await listKvTree(ends().from), ["grafana", "rustfs/cloudnativepg", "rustfs/deep/nested"]);
    });

    it("copies every secret's current version; the report and progress name paths and key counts, never a value", async () => {
        const lines: string[] = [];
        const r = await copyKvTree({ ...ends(), progress: (l) => lines.push(l) });
        assert.deepStrictEqual(dst.secrets, src.secrets);
        assert.deepStrictEqual(
            r.copied.map((c) => `${c.path}:${c.keys}`),
            ["grafana:1", "rustfs/cloudnativepg:2", "rustfs/deep/nested:1"],
        );
        const shown = JSON.stringify(r) + formatKvCopyReport(r) + lines.join("\n");
        assert.ok(!/VALUE/.test(shown), shown);
    });

    it("keeps what the target already has unless --overwrite; --dry-run writes nothing; --prefix limits the tree", async () => {
        dst.secrets.set("grafana", { admin: "KEEP-ME" });
        const dry = await copyKvTree({ ...ends(), dryRun: true });
        assert.strictEqual(dst.writes, 0);
        assert.strictEqual(dry.copied.length, 2);
        const r = await copyKvTree(ends());
        assert.deepStrictEqual(dst.secrets.get("grafana"), { admin: "KEEP-ME" });
        assert.match(r.skipped[0].why, /already has it.*--overwrite/);
        await copyKvTree({ ...ends(), overwrite: true, prefix: "grafana" });
        assert.deepStrictEqual(dst.secrets.get("grafana"), { admin: "GRAFANA-VALUE" });
        const only = await copyKvTree({ ...ends(), prefix: "rustfs/deep", overwrite: true });
        assert.deepStrictEqual(
            only.copied.map((c) => c.path),
            ["rustfs/deep/nested"],
        );
    });

    it("a target without the mount, a wrong token and an unreachable Vault are errors with the fix", async () => {
        await assert.rejects(
            copyKvTree({ ...ends(), to: { ...ends().to, mount: "other" } }),
            (e: Error) => e instanceof KvCopyError && /has no mount other/.test(e.message),
        );
        await assert.rejects(copyKvTree({ ...ends(), from: { ...ends().from, token: "bad" } }), (e: Error) =>
            /cannot list .*permission denied/.test(e.message),
        );
        await assert.rejects(copyKvTree({ ...ends(), from: { ...ends().from, addr: "http://127.0.0.1:1" } }), (e: Error) =>
            /cannot reach Vault at http:\/\/127\.0\.0\.1:1/.test(e.message),
        );
    });

    it("arguments: both addresses, tokens only from the environment or files, not the same Vault twice", () => {
        const env = { FROM_VAULT_TOKEN: "a", TO_VAULT_TOKEN: "b" };
        const err = (argv: string[], e: Record<string, string | undefined> = env) => {
            const r = parseKvCopyArgs(argv, e);
            return "error" in r ? r.error : "";
        };
        assert.ok("args" in parseKvCopyArgs(["--from", "http://127.0.0.1:8200", "--to", "http://127.0.0.1:8201"], env));
        assert.match(err(["--to", "http://127.0.0.1:8201"]), /--from is required/);
        assert.match(err(["--from", "http://a:1", "--to", "http://b:1"], { FROM_VAULT_TOKEN: "a" }), /no token for --to: set \$TO_VAULT_TOKEN/);
        assert.match(err(["--from", "http://a:1", "--to", "http://b:1", "--token", "x"]), /unknown argument "--token"/);
        assert.match(err(["--from", "http://a:1", "--to", "http://a:1"]), /same Vault and mount/);
    });
});
