/**
 * The bed's node packages (issue 20, item 1): `scripts/node-packages.sh list` prints the one package
 * list, and `ensure` installs what is missing with apt-get as root on Linux, or exits 3 saying why it
 * cannot (and that external mode runs instead). Run against fake uname, id, dpkg and apt-get shims in
 * a temp dir: the real system is never queried nor changed.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "../..");
const SCRIPT = path.join(REPO, "scripts", "node-packages.sh");

/** The NODE_PKGS array as the script declares it. */
function declaredPackages(): string[] {
    const m = /^NODE_PKGS=\(([^)]*)\)$/m.exec(fs.readFileSync(SCRIPT, "utf8"));
    assert.ok(m, "NODE_PKGS=(...) not found in scripts/node-packages.sh");
    return m[1].trim().split(/\s+/);
}

/** The node the script runs on, as the shims present it. */
interface FakeNode {
    /** `uname -s` (default Linux) */
    uname?: string;
    /** `id -u` (default 0) */
    uid?: string;
    /** packages `dpkg -s` reports missing (default none) */
    missing?: string[];
    /** what apt-get does: installs the packages (default), "succeeds" without installing, or is not there */
    apt?: "installs" | "no-op" | "absent";
}

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
    /** apt-get's argument lists, a call a line; undefined when it was never called */
    aptCalls?: string[];
    /** DEBIAN_FRONTEND as apt-get saw it */
    aptFrontend?: string;
    /** dpkg's argument lists; undefined when it was never called */
    dpkgCalls?: string[];
}

function shim(dir: string, name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
    fs.chmodSync(file, 0o755);
    return file;
}

function readLines(file: string): string[] | undefined {
    return fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .filter((l) => l !== "")
        : undefined;
}

/** `bash scripts/node-packages.sh <cmd>` with PATH starting at a temp dir of shims; the dir is removed after. */
function runScript(cmd: string, node: FakeNode = {}): Run {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvv-node-pkgs-"));
    try {
        const aptLog = path.join(dir, "apt.log");
        const aptEnv = path.join(dir, "apt.env");
        const dpkgLog = path.join(dir, "dpkg.log");
        const installed = path.join(dir, "installed");
        shim(dir, "uname", `[ "$1" = -s ] || exit 2\necho ${node.uname ?? "Linux"}`);
        shim(dir, "id", `[ "$1" = -u ] || exit 2\necho ${node.uid ?? "0"}`);
        // dpkg -s: 0 when installed; the missing ones are installed once apt-get has written the marker
        const dpkg = shim(
            dir,
            "fake-dpkg",
            [
                `echo "$*" >> '${dpkgLog}'`,
                `[ "$1" = -s ] || exit 2`,
                `case " ${(node.missing ?? []).join(" ")} " in *" $2 "*) [ -e '${installed}' ] || exit 1 ;; esac`,
                `echo "Package: $2"; echo "Status: install ok installed"`,
            ].join("\n"),
        );
        const apt =
            node.apt === "absent"
                ? path.join(dir, "no-such-apt-get")
                : shim(
                      dir,
                      "fake-apt-get",
                      [
                          `echo "$*" >> '${aptLog}'`,
                          `echo "$DEBIAN_FRONTEND" > '${aptEnv}'`,
                          `if [ "$1" = update ]; then echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"; echo "Reading package lists..."; exit 0; fi`,
                          `[ "$1" = install ] || exit 2`,
                          `echo "Reading package lists..."`,
                          `n=0`,
                          `for p in "$@"; do case "$p" in install|-*|*::*) ;; *) n=$((n+1)); echo "Get:$n http://deb.debian.org/debian bookworm/main amd64 $p amd64 1.0 [1000 kB]" ;; esac; done`,
                          node.apt === "no-op"
                              ? `for p in "$@"; do :; done; echo "E: Unable to locate package $p" >&2`
                              : [
                                    `for p in "$@"; do case "$p" in install|-*|*::*) ;; *) echo "Unpacking $p (1.0) ..." ;; esac; done`,
                                    `for p in "$@"; do case "$p" in install|-*|*::*) ;; *) echo "Setting up $p (1.0) ..." ;; esac; done`,
                                    `touch '${installed}'`,
                                ].join("\n"),
                          `exit 0`,
                      ].join("\n"),
                  );
        const r = spawnSync("bash", [SCRIPT, cmd], {
            cwd: REPO,
            encoding: "utf8",
            timeout: 15000,
            env: { PATH: `${dir}:/usr/bin:/bin`, PVV_PKG_APT: apt, PVV_PKG_DPKG: dpkg },
        });
        assert.ifError(r.error);
        return {
            status: r.status,
            stdout: r.stdout,
            stderr: r.stderr,
            aptCalls: readLines(aptLog),
            aptFrontend: readLines(aptEnv)?.[0],
            dpkgCalls: readLines(dpkgLog),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The packages an `apt-get install` call names (its options and their values left out). */
function installedBy(call: string): string[] {
    const args = call.split(" ");
    assert.deepStrictEqual(args.slice(0, 2), ["install", "-y"], call);
    const pkgs: string[] = [];
    for (let i = 2; i < args.length; i++) {
        if (args[i] === "-o") i++;
        else if (!args[i].startsWith("-")) pkgs.push(args[i]);
    }
    return pkgs;
}

describe("the bed's node packages: scripts/node-packages.sh (issue 20, item 1)", () => {
    const NODE_PKGS = declaredPackages();
    const MISSING = ["runc", "busybox-static"];

    it("list prints exactly the package list the script installs", () => {
        const r = runScript("list");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, `${NODE_PKGS.join(" ")}\n`);
        assert.deepStrictEqual(r.stdout.trim().split(" "), [
            "containerd",
            "runc",
            "containernetworking-plugins",
            "busybox-static",
            "iptables",
            "conntrack",
            "iproute2",
        ]);
        for (const p of ["containerd", "runc", "busybox-static"]) assert.ok(NODE_PKGS.includes(p), p);
    });

    it("ensure with every package installed: exit 0, says so, and never calls apt-get", () => {
        const r = runScript("ensure");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /\[packages\] node packages installed/);
        assert.strictEqual(r.aptCalls, undefined, "apt-get was called");
        assert.deepStrictEqual(
            r.dpkgCalls,
            NODE_PKGS.map((p) => `-s ${p}`),
        );
    });

    it("ensure as root with apt-get installs exactly the missing packages, showing apt's progress", () => {
        const r = runScript("ensure", { missing: MISSING });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(r.aptCalls, "apt-get was never called");
        assert.strictEqual(r.aptCalls.length, 1, r.aptCalls.join("\n"));
        assert.deepStrictEqual(installedBy(r.aptCalls[0]), MISSING);
        assert.strictEqual(r.aptFrontend, "noninteractive");
        assert.match(r.stderr, /installing 2 package\(s\) with apt-get: runc busybox-static/);
        for (const line of ["Get:1 ", "Get:2 ", "Unpacking runc ", "Setting up runc ", "Unpacking busybox-static ", "Setting up busybox-static "]) {
            assert.match(r.stderr, new RegExp(`^\\[packages\\]\\s+${line}`, "m"), line);
        }
        // apt's other chatter is not forwarded
        assert.doesNotMatch(r.stderr, /Reading package lists/);
        assert.match(r.stderr, /\[packages\] node packages installed\n$/);
    });

    it("ensure as a non-root user with packages missing: exit 3 with the command to run as root, apt-get not called", () => {
        const r = runScript("ensure", { uid: "1000", missing: MISSING });
        assert.strictEqual(r.status, 3, r.stderr);
        assert.match(r.stderr, /cannot install the node's packages: not root \(uid 1000\)/);
        assert.match(r.stderr, /as root: apt-get install runc busybox-static/);
        assert.match(r.stderr, /running external mode/);
        assert.strictEqual(r.aptCalls, undefined, "apt-get was called");
    });

    it("ensure as root without apt-get: exit 3 naming the missing packages", () => {
        const r = runScript("ensure", { apt: "absent", missing: MISSING });
        assert.strictEqual(r.status, 3, r.stderr);
        assert.match(r.stderr, /cannot install the node's packages: no apt-get here/);
        assert.match(r.stderr, /install with your package manager: runc busybox-static\n/);
        assert.match(r.stderr, /running external mode/);
    });

    it("ensure on a system other than Linux: exit 3, neither dpkg nor apt-get called", () => {
        const r = runScript("ensure", { uname: "Darwin", missing: MISSING });
        assert.strictEqual(r.status, 3, r.stderr);
        assert.match(r.stderr, /cannot install the node's packages: a node needs Linux \(this is Darwin\)/);
        assert.match(r.stderr, /running external mode/);
        assert.strictEqual(r.dpkgCalls, undefined, "dpkg was called");
        assert.strictEqual(r.aptCalls, undefined, "apt-get was called");
    });

    it("ensure when apt-get 'succeeds' but the packages stay missing: apt-get update, a retry, then exit 3 naming them", () => {
        const r = runScript("ensure", { apt: "no-op", missing: MISSING });
        assert.strictEqual(r.status, 3, r.stderr);
        assert.ok(r.aptCalls, "apt-get was never called");
        assert.deepStrictEqual(
            r.aptCalls.map((c) => c.split(" ")[0]),
            ["install", "update", "install"],
        );
        assert.deepStrictEqual(installedBy(r.aptCalls[0]), MISSING);
        assert.deepStrictEqual(installedBy(r.aptCalls[2]), MISSING);
        assert.match(r.stderr, /package lists may be stale: apt-get update/);
        assert.match(r.stderr, /^\[packages\]\s+Hit:1 /m);
        assert.match(r.stderr, /^\[packages\]\s+E: Unable to locate package/m);
        assert.match(r.stderr, /cannot install the node's packages: apt-get install failed for runc busybox-static/);
        assert.match(r.stderr, /running external mode/);
    });
});
