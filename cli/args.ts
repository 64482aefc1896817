/**
 * Argument parsing of the command-line tools (drift, doctor): every argument checked before any
 * request, each problem one message naming the flag and the fix. No Pulumi, Vault or Kubernetes call.
 */
import * as fs from "fs";
import * as path from "path";
import { checkNamespaceArg } from "../ops/doctor";
import { quoteArg } from "../ops/drift";
import { urlShapeProblem } from "../components/shared/urls";

/** One command-line flag: its spellings, whether it takes a value, whether it may be repeated. */
export interface CliFlagSpec {
    names: string[];
    value: boolean;
    repeat?: boolean;
    /** What the value is, for messages, e.g. `URL`. */
    meta?: string;
}

/**
 * Parses `--flag value`, `--flag=value` and boolean flags (pure): the values by key (booleans as
 * `["true"]`), or one message naming the argument and the fix.
 */
export function parseCliFlags(argv: string[], spec: Record<string, CliFlagSpec>): { values: Record<string, string[]> } | { error: string } {
    const values: Record<string, string[]> = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const eq = a.startsWith("--") ? a.indexOf("=") : -1;
        const name = eq > 0 ? a.slice(0, eq) : a;
        const key = Object.keys(spec).find((k) => spec[k].names.includes(name));
        if (key === undefined) {
            return { error: `unknown argument ${quoteArg(a)}: see --help` };
        }
        const f = spec[key];
        let value = "true";
        if (f.value && eq > 0) {
            value = a.slice(eq + 1);
        } else if (f.value) {
            const next = argv[i + 1];
            if (next === undefined || (next.startsWith("-") && next.length > 1)) {
                return { error: `${name} needs a value: ${name} ${f.meta ?? "VALUE"}` };
            }
            value = next;
            i++;
        } else if (eq > 0) {
            return { error: `${name} takes no value: give ${name} alone` };
        }
        if (values[key] && !f.repeat) {
            return { error: `${name} is given twice: give it once` };
        }
        (values[key] ??= []).push(value);
    }
    return { values };
}

/** Why `value` is not a Pulumi stack name (`stack`, or `org/project/stack`), or undefined (pure). */
export function checkStackArg(value: string): string | undefined {
    const parts = value.split("/");
    if (parts.length <= 3 && parts.every((p) => p.length > 0 && p.length <= 100 && /^[A-Za-z0-9_.-]+$/.test(p))) {
        return undefined;
    }
    return `--stack ${quoteArg(value)} is not a Pulumi stack name: use letters, digits, '-', '_' and '.' (or org/project/stack); list the stacks with \`pulumi stack ls\``;
}

/** Why `dir` cannot hold a Pulumi project (missing, or no Pulumi.yaml in it or above), or undefined. */
export function checkCwdArg(dir: string): string | undefined {
    let isDir = false;
    try {
        isDir = fs.statSync(dir).isDirectory();
    } catch {
        isDir = false;
    }
    if (!isDir) {
        return `--cwd ${quoteArg(dir)}: no such directory; give the directory of the Pulumi project (it holds Pulumi.yaml)`;
    }
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, "Pulumi.yaml")) || fs.existsSync(path.join(d, "Pulumi.yml"))) {
            return undefined;
        }
        if (path.dirname(d) === d) {
            return `no Pulumi project in ${quoteArg(dir)} (no Pulumi.yaml there or above): run in the project's directory or pass --cwd DIR`;
        }
    }
}

/** The drift CLI's arguments, checked. */
export interface DriftCliArgs {
    stack: string;
    json: boolean;
    /** Compare with the program (preview --refresh) instead of the state of the last up. */
    program: boolean;
    cwd: string;
    help: boolean;
}

export const DRIFT_USAGE =
    "usage: drift --stack NAME [--json] [--cwd DIR] [--program]\n" +
    "  default: the live system against the state of the last `pulumi up` (pulumi refresh --preview-only, the program is not run)\n" +
    "  --program: against the program instead (preview --refresh; slower, and also reports program changes not applied yet)\n" +
    "  exit 0 = no drift, 2 = drift, 1 = error";

/** Parses and checks the drift CLI's arguments before Pulumi runs (pure but for the --cwd check). */
export function parseDriftArgs(argv: string[], cwd: string): { args: DriftCliArgs } | { error: string } {
    const p = parseCliFlags(argv, {
        stack: { names: ["--stack", "-s"], value: true, meta: "NAME" },
        json: { names: ["--json"], value: false },
        cwd: { names: ["--cwd"], value: true, meta: "DIR" },
        program: { names: ["--program"], value: false },
        help: { names: ["--help", "-h"], value: false },
    });
    if ("error" in p) {
        return p;
    }
    const v = p.values;
    const args: DriftCliArgs = {
        stack: v.stack?.[0] ?? "",
        json: v.json !== undefined,
        program: v.program !== undefined,
        cwd: v.cwd?.[0] ?? cwd,
        help: v.help !== undefined,
    };
    if (args.help) {
        return { args };
    }
    if (v.stack === undefined) {
        return { error: "--stack is required: the Pulumi stack to check (list them with `pulumi stack ls`)" };
    }
    const problem = checkStackArg(args.stack) ?? checkCwdArg(args.cwd);
    return problem ? { error: problem } : { args };
}

/** Why `value` is not a usable Vault address for `flag` (an http(s) URL without credentials), or undefined (pure). */
export function checkVaultAddrArg(value: string, flag = "--vault-addr"): string | undefined {
    const problem = urlShapeProblem(value, ["http:", "https:"], true);
    if (problem === undefined) {
        return undefined;
    }
    const shown = quoteArg(value);
    const example = "e.g. https://vault.example.lan:8200 or http://127.0.0.1:8200 for a port-forward";
    switch (problem.kind) {
        case "no-scheme":
            return `${flag} ${shown} has no scheme: give Vault's URL with http:// or https://${problem.hasCredentials ? ", without user:password@" : ""}, ${example}`;
        case "not-a-url":
            return `${flag} ${shown} is not a URL: give Vault's address, ${example}`;
        case "credentials":
            return `${flag} ${shown} contains credentials (user:password@): remove them; the doctor logs in with each namespace's ServiceAccount, ${example}`;
        case "scheme":
            return `${flag} ${shown} must use http:// or https://, ${example}`;
        default:
            return `${flag} ${shown} must be scheme://host[:port][/path], without a query or fragment, ${example}`;
    }
}

/** The doctor CLI's arguments, checked. */
export interface DoctorCliArgs {
    namespaces: string[];
    stack?: string;
    cwd: string;
    vaultAddr?: string;
    /** Addresses the user names as their Vault: a VaultConnection pointing at one of them is used as it is. */
    trustVaultAddrs: string[];
    kubeconfig?: string;
    json: boolean;
    allowInsecureVault: boolean;
    help: boolean;
}

export const DOCTOR_USAGE =
    "usage: doctor (--stack NAME [--cwd DIR] | --namespace NS [--namespace NS2]) [--vault-addr URL | --trust-vault-addr URL...] [--allow-insecure-vault] [--kubeconfig FILE] [--json]\n  exit 0 = all ok, 2 = problems found, 1 = error";

/** Parses and checks the doctor's arguments before any request: the arguments, or one message naming the flag and the fix (pure but for file checks). */
export function parseDoctorArgs(argv: string[], cwd: string): { args: DoctorCliArgs } | { error: string } {
    const p = parseCliFlags(argv, {
        namespace: { names: ["--namespace", "-n"], value: true, repeat: true, meta: "NS" },
        stack: { names: ["--stack", "-s"], value: true, meta: "NAME" },
        cwd: { names: ["--cwd"], value: true, meta: "DIR" },
        vaultAddr: { names: ["--vault-addr"], value: true, meta: "URL" },
        trustVaultAddr: { names: ["--trust-vault-addr"], value: true, repeat: true, meta: "URL" },
        kubeconfig: { names: ["--kubeconfig"], value: true, meta: "FILE" },
        json: { names: ["--json"], value: false },
        allowInsecureVault: { names: ["--allow-insecure-vault"], value: false },
        help: { names: ["--help", "-h"], value: false },
    });
    if ("error" in p) {
        return p;
    }
    const v = p.values;
    const args: DoctorCliArgs = {
        namespaces: v.namespace ?? [],
        stack: v.stack?.[0],
        cwd: v.cwd?.[0] ?? cwd,
        vaultAddr: v.vaultAddr?.[0],
        trustVaultAddrs: v.trustVaultAddr ?? [],
        kubeconfig: v.kubeconfig?.[0],
        json: v.json !== undefined,
        allowInsecureVault: v.allowInsecureVault !== undefined,
        help: v.help !== undefined,
    };
    if (args.help) {
        return { args };
    }
    const problem =
        args.namespaces.map((n) => checkNamespaceArg(n)).find((x) => x !== undefined) ??
        (args.stack !== undefined ? checkStackArg(args.stack) : undefined) ??
        (args.stack !== undefined || v.cwd ? checkCwdArg(args.cwd) : undefined) ??
        (args.vaultAddr !== undefined ? checkVaultAddrArg(args.vaultAddr) : undefined) ??
        args.trustVaultAddrs.map((t) => checkVaultAddrArg(t, "--trust-vault-addr")).find((x) => x !== undefined) ??
        (args.kubeconfig !== undefined && !isFile(args.kubeconfig)
            ? `--kubeconfig ${quoteArg(args.kubeconfig)}: no such file; give the path of a kubeconfig (default $KUBECONFIG or ~/.kube/config)`
            : undefined) ??
        (args.stack === undefined && args.namespaces.length === 0
            ? "give --stack NAME (the namespaces the stack created), or --namespace NS (repeat it for several)"
            : undefined);
    return problem ? { error: problem } : { args };
}

function isFile(p: string): boolean {
    try {
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

/** The adopt CLI's arguments, checked. */
export interface AdoptCliArgs {
    stack: string;
    cwd: string;
    vaultAddr: string;
    tokenFile?: string;
    kubeconfig?: string;
    include: string[];
    json: boolean;
    dryRun: boolean;
    force: boolean;
    help: boolean;
}

export const ADOPT_USAGE =
    "usage: adopt --stack NAME [--cwd DIR] [--vault-addr URL] [--token-file FILE] [--kubeconfig FILE] [--include policy:NAME|role:NAME]... [--dry-run] [--force] [--json]\n" +
    "  reads the running Vault + VSO setup and writes Pulumi.NAME.yaml for the homelab program; the Vault token comes from $VAULT_TOKEN or --token-file (never the command line)\n" +
    "  exit 0 = written (or --dry-run), 1 = error (nothing written)";

/** Parses and checks adopt's arguments before any request (pure but for file checks). `env` gives VAULT_ADDR/VAULT_TOKEN. */
export function parseAdoptArgs(argv: string[], cwd: string, env: Record<string, string | undefined>): { args: AdoptCliArgs } | { error: string } {
    const p = parseCliFlags(argv, {
        stack: { names: ["--stack", "-s"], value: true, meta: "NAME" },
        cwd: { names: ["--cwd"], value: true, meta: "DIR" },
        vaultAddr: { names: ["--vault-addr"], value: true, meta: "URL" },
        tokenFile: { names: ["--token-file"], value: true, meta: "FILE" },
        kubeconfig: { names: ["--kubeconfig"], value: true, meta: "FILE" },
        include: { names: ["--include"], value: true, repeat: true, meta: "policy:NAME" },
        json: { names: ["--json"], value: false },
        dryRun: { names: ["--dry-run"], value: false },
        force: { names: ["--force"], value: false },
        help: { names: ["--help", "-h"], value: false },
    });
    if ("error" in p) {
        return p;
    }
    const v = p.values;
    const args: AdoptCliArgs = {
        stack: v.stack?.[0] ?? "",
        cwd: v.cwd?.[0] ?? cwd,
        vaultAddr: v.vaultAddr?.[0] ?? env.VAULT_ADDR ?? "",
        tokenFile: v.tokenFile?.[0],
        kubeconfig: v.kubeconfig?.[0],
        include: v.include ?? [],
        json: v.json !== undefined,
        dryRun: v.dryRun !== undefined,
        force: v.force !== undefined,
        help: v.help !== undefined,
    };
    if (args.help) {
        return { args };
    }
    const problem =
        (v.stack === undefined ? "--stack is required: the name of the stack whose config adopt writes (Pulumi.NAME.yaml)" : checkStackArg(args.stack)) ??
        checkCwdArg(args.cwd) ??
        (args.vaultAddr === "" ? "give Vault's address: --vault-addr URL or $VAULT_ADDR (e.g. http://127.0.0.1:8200 through a port-forward)" : undefined) ??
        checkVaultAddrArg(args.vaultAddr, v.vaultAddr ? "--vault-addr" : "VAULT_ADDR") ??
        (args.tokenFile !== undefined && !isFile(args.tokenFile)
            ? `--token-file ${quoteArg(args.tokenFile)}: no such file; give a file that holds the Vault token`
            : undefined) ??
        (args.tokenFile === undefined && !env.VAULT_TOKEN
            ? "no Vault token: set $VAULT_TOKEN or give --token-file FILE (a token that may read sys/mounts, sys/auth, sys/policies/acl and the auth roles)"
            : undefined) ??
        (args.kubeconfig !== undefined && !isFile(args.kubeconfig)
            ? `--kubeconfig ${quoteArg(args.kubeconfig)}: no such file; give the path of a kubeconfig (default $KUBECONFIG or ~/.kube/config)`
            : undefined) ??
        args.include.map(checkIncludeArg).find((x) => x !== undefined);
    return problem ? { error: problem } : { args };
}

/** Why an --include value is not `policy:NAME` or `role:NAME`, or undefined (pure). */
export function checkIncludeArg(value: string): string | undefined {
    return /^(policy|role):[A-Za-z0-9_.@-]+$/.test(value)
        ? undefined
        : `--include ${quoteArg(value)} must be policy:NAME or role:NAME (a policy or role adopt lists as not managed)`;
}

/** The kv-copy CLI's arguments, checked. Tokens come from the environment or files, never the command line. */
export interface KvCopyCliArgs {
    from: string;
    to: string;
    fromToken: string;
    toToken: string;
    fromMount: string;
    toMount: string;
    prefix?: string;
    overwrite: boolean;
    dryRun: boolean;
    json: boolean;
    help: boolean;
}

export const KV_COPY_USAGE =
    "usage: kv-copy --from URL --to URL [--from-mount kv] [--to-mount kv] [--prefix PATH] [--overwrite] [--dry-run] [--json]\n" +
    "  copies the current version of every KV v2 secret (values never printed); tokens from $FROM_VAULT_TOKEN / $TO_VAULT_TOKEN or --from-token-file / --to-token-file\n" +
    "  exit 0 = copied (or --dry-run), 1 = error or a write failed";

/** Parses kv-copy's arguments before any request (pure but for reading token files). */
export function parseKvCopyArgs(argv: string[], env: Record<string, string | undefined>): { args: KvCopyCliArgs } | { error: string } {
    const p = parseCliFlags(argv, {
        from: { names: ["--from"], value: true, meta: "URL" },
        to: { names: ["--to"], value: true, meta: "URL" },
        fromTokenFile: { names: ["--from-token-file"], value: true, meta: "FILE" },
        toTokenFile: { names: ["--to-token-file"], value: true, meta: "FILE" },
        fromMount: { names: ["--from-mount"], value: true, meta: "PATH" },
        toMount: { names: ["--to-mount"], value: true, meta: "PATH" },
        prefix: { names: ["--prefix"], value: true, meta: "PATH" },
        overwrite: { names: ["--overwrite"], value: false },
        dryRun: { names: ["--dry-run"], value: false },
        json: { names: ["--json"], value: false },
        help: { names: ["--help", "-h"], value: false },
    });
    if ("error" in p) {
        return p;
    }
    const v = p.values;
    if (v.help) {
        return { args: { from: "", to: "", fromToken: "", toToken: "", fromMount: "", toMount: "", overwrite: false, dryRun: false, json: false, help: true } };
    }
    const token = (file: string[] | undefined, name: string, flag: string): string | { error: string } => {
        if (file) {
            if (!isFile(file[0])) {
                return { error: `${flag} ${quoteArg(file[0])}: no such file; give a file that holds the token` };
            }
            return fs.readFileSync(file[0], "utf8").trim();
        }
        return env[name] ? env[name]! : { error: `no token for ${flag === "--from-token-file" ? "--from" : "--to"}: set $${name} or give ${flag} FILE` };
    };
    for (const [flag, val] of [
        ["--from", v.from?.[0]],
        ["--to", v.to?.[0]],
    ] as const) {
        if (val === undefined) {
            return {
                error: `${flag} is required: the ${flag === "--from" ? "source (e.g. the dev-mode Vault)" : "target (the durable Vault)"} address, e.g. http://127.0.0.1:8200 through a port-forward`,
            };
        }
        const bad = checkVaultAddrArg(val, flag);
        if (bad) {
            return { error: bad };
        }
    }
    const fromToken = token(v.fromTokenFile, "FROM_VAULT_TOKEN", "--from-token-file");
    const toToken = token(v.toTokenFile, "TO_VAULT_TOKEN", "--to-token-file");
    for (const t of [fromToken, toToken]) {
        if (typeof t !== "string") {
            return t;
        }
    }
    const args: KvCopyCliArgs = {
        from: v.from![0],
        to: v.to![0],
        fromToken: fromToken as string,
        toToken: toToken as string,
        fromMount: v.fromMount?.[0] ?? "kv",
        toMount: v.toMount?.[0] ?? "kv",
        prefix: v.prefix?.[0],
        overwrite: v.overwrite !== undefined,
        dryRun: v.dryRun !== undefined,
        json: v.json !== undefined,
        help: false,
    };
    if (args.from.replace(/\/$/, "") === args.to.replace(/\/$/, "") && args.fromMount === args.toMount) {
        return { error: "--from and --to are the same Vault and mount: give the target's address (or another --to-mount)" };
    }
    return { args };
}
