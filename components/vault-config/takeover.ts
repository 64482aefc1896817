/**
 * Refusing to take over Vault objects the stack did not create (issue 8): a policy or role name can
 * name an object that already exists in Vault and that no stack manages (`{namespace}` with a namespace
 * called `admin`). Vault's write would silently replace it, and `pulumi destroy` would then delete it.
 *
 * The check is a resource hook (`beforeCreate`): the engine runs it only when it is about to *create*
 * the resource — not when the resource is already in the stack's state (an update or no change), and
 * not for an `import` (adoption on purpose: `npm run adopt`, which uses other resources anyway). It
 * reads the object through the resource's own Vault provider (an invoke: the same address, token, TLS
 * settings and headers as the write; nothing is printed), and fails the create when the object exists.
 * It also runs during preview, so `pulumi preview` and the preview of `pulumi up` stop before anything
 * is applied; there, a read that cannot be made (a Vault that does not exist yet) is not an error.
 *
 * The pure parts (what to read, what a read means, the message) are plain functions tested alone.
 */
import { AsyncResource } from "async_hooks";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { underMocks } from "../shared/runtime";
import { lastErrorLine } from "../shared/text";

/** A Vault object the stack is about to create. */
export interface TakeoverTarget {
    kind: "policy" | "role";
    /** The policy or role name. */
    name: string;
    /** For a role: the Kubernetes auth mount path it lives under. */
    authPath?: string;
}

/** The Vault API path (without `/v1/`) that reads the object. */
export function takeoverReadPath(t: TakeoverTarget): string {
    return t.kind === "policy" ? `sys/policies/acl/${t.name}` : `auth/${t.authPath}/role/${t.name}`;
}

/** A plain, known string (not an unknown value of a preview), else undefined. */
function knownString(v: unknown): string | undefined {
    return typeof v === "string" && v !== "" && v !== pulumi.runtime.unknownValue ? v : undefined;
}

/**
 * The object a `vault.Policy` (`kind: "policy"`) or `vault.kubernetes.AuthBackendRole` (`kind: "role"`)
 * is about to create, from the hook's new inputs; undefined when a part is not known yet (preview).
 */
export function takeoverTargetOf(kind: TakeoverTarget["kind"], inputs: Record<string, unknown> | undefined): TakeoverTarget | undefined {
    if (kind === "policy") {
        const name = knownString(inputs?.["name"]);
        return name ? { kind, name } : undefined;
    }
    const name = knownString(inputs?.["roleName"]);
    const authPath = knownString(inputs?.["backend"]);
    return name && authPath ? { kind, name, authPath: authPath.replace(/^\/+|\/+$/g, "") } : undefined;
}

/** What a read of the object said: it exists, it does not, or the read failed (`detail` says why). */
export type TakeoverReadResult = { state: "exists" } | { state: "absent" } | { state: "unknown"; detail: string };

/**
 * Interprets the read through the provider (`vault.generic.getSecret`): data → the object exists; the
 * provider's `no secret found at "<path>"` (Vault answered 404) → it does not; any other error → unknown.
 */
export function interpretTakeoverRead(read: { data?: Record<string, unknown> } | { error: unknown }): TakeoverReadResult {
    if ("error" in read) {
        const msg = read.error instanceof Error ? read.error.message : String(read.error);
        if (/no secret found at/i.test(msg)) {
            return { state: "absent" };
        }
        return { state: "unknown", detail: lastErrorLine(msg) };
    }
    if (read.data && Object.keys(read.data).length > 0) {
        return { state: "exists" };
    }
    return { state: "unknown", detail: "the read returned no data" };
}

/** The error of a create refused because the object already exists in Vault. */
export function takeoverMessage(t: TakeoverTarget): string {
    const what = t.kind === "policy" ? `Vault policy "${t.name}"` : `Kubernetes auth role "${t.name}" (auth/${t.authPath})`;
    const rename =
        t.kind === "policy"
            ? 'give the stack another name (kubernetesAuth.policyNameTemplate, e.g. "pvv-{namespace}-read", or VaultNamespaceAccess\'s policyName)'
            : 'give the stack another name (kubernetesAuth.roleNameTemplate, e.g. "pvv-{namespace}", or VaultNamespaceAccess\'s roleName)';
    const del = t.kind === "policy" ? `vault policy delete ${t.name}` : `vault delete auth/${t.authPath}/role/${t.name}`;
    return (
        `${what} already exists in Vault and was not created by this stack: writing it would replace it, and ` +
        `pulumi destroy would then delete it. It was left unchanged. Either ${rename}; or take it over on purpose ` +
        `with npm run adopt (docs/adopt.md); or, if nothing uses it, delete it in Vault (${del}) ` +
        `and run again. (If this stack created it under another resource name, add an alias instead.)`
    );
}

/** The error of a create whose check could not read Vault. */
export function takeoverUncheckedMessage(t: TakeoverTarget, detail: string): string {
    const what = t.kind === "policy" ? `Vault policy "${t.name}"` : `Kubernetes auth role "${t.name}" (auth/${t.authPath})`;
    return (
        `could not check whether ${what} already exists in Vault (the stack creates it only when it does not): ${detail}. ` +
        `The provider's token needs read on ${takeoverReadPath(t)}.`
    );
}

/**
 * Decides what the hook does with a read: throw (refuse the create) or let it go. In a preview a read that
 * failed is not an error (Vault may not exist yet); in an update it is, since the create would not be safe.
 */
export function takeoverDecision(t: TakeoverTarget, r: TakeoverReadResult, dryRun: boolean): string | undefined {
    if (r.state === "exists") {
        return takeoverMessage(t);
    }
    if (r.state === "unknown" && !dryRun) {
        return takeoverUncheckedMessage(t, r.detail);
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Whether this run can bind resource hooks at all

/** What decides whether resource hooks can be bound (see `takeoverGuardHere`). */
export interface HookRuntime {
    /** The run is under unit-test mocks (`underMocks()`): the mock monitor registers no hooks. */
    underMocks: boolean;
    /** The program was started by a Node.js language host (`PULUMI_NODEJS_MONITOR`, set by the SDK's runner). */
    startedByLanguageHost: boolean;
    /** The host passed the project root (`PULUMI_NODEJS_ROOT_DIRECTORY`, set by the SDK's runner from `--root-directory`). */
    rootDirectoryPassed: boolean;
    /**
     * `PULUMI_VAULT_VSO_TAKEOVER_GUARD=claim` (or `hook`): the guard the user chose, for a host this
     * detection gets wrong (a host that forwards hooks without passing the project root, or the reverse).
     */
    forced?: "hook" | "claim";
}

/**
 * Whether hooks can be bound; the decision must be made when the resource is constructed (the SDK
 * registers a bound hook and fails the resource when that fails). Not under the mock monitor of unit
 * tests (`pulumi.runtime.setMocks`): it registers no hooks, and nothing is created there anyway. Not under
 * a Node.js language host that predates the project-root argument (`--root-directory`): such a host
 * stands between the program and the engine and forwards only the calls it knows, so a hook
 * registration gets UNIMPLEMENTED although the engine supports hooks (this repository's tool chain
 * builds the host from sdk/v3 3.68.0, see scripts/tools/versions.env). Inline Automation API programs
 * and component providers talk to the engine directly.
 */
export function hooksUsableIn(r: HookRuntime): boolean {
    if (r.underMocks) {
        return false;
    }
    return !(r.startedByLanguageHost && !r.rootDirectoryPassed);
}

/**
 * How this run guards a create (pure): with a resource hook; with a claim (a language host too old to
 * forward hook registrations: the check moves into a `TakeoverClaim` the policy or role depends on); or
 * not at all (the mock monitor of unit tests, where nothing is created).
 */
export function takeoverGuardKind(r: HookRuntime): "hook" | "claim" | "none" {
    if (r.underMocks) {
        return "none";
    }
    if (r.forced) {
        return r.forced;
    }
    return hooksUsableIn(r) ? "hook" : "claim";
}

function hookRuntime(): HookRuntime {
    return {
        underMocks: underMocks(),
        startedByLanguageHost: (process.env["PULUMI_NODEJS_MONITOR"] ?? "") !== "",
        // not pulumi.runtime.getRootDirectory(): it answers "rootDirectory" when none was passed
        rootDirectoryPassed: (process.env["PULUMI_NODEJS_ROOT_DIRECTORY"] ?? "") !== "",
        forced: forcedGuard(process.env["PULUMI_VAULT_VSO_TAKEOVER_GUARD"]),
    };
}

/** The guard `PULUMI_VAULT_VSO_TAKEOVER_GUARD` asks for (pure); anything else than hook/claim is an error naming both. */
export function forcedGuard(value: string | undefined): "hook" | "claim" | undefined {
    if (value === undefined || value === "") {
        return undefined;
    }
    if (value === "hook" || value === "claim") {
        return value;
    }
    throw new Error(`PULUMI_VAULT_VSO_TAKEOVER_GUARD is ${JSON.stringify(value)}: set it to "hook" or "claim", or unset it to let the package decide`);
}

/** How this run guards a create (`takeoverGuardKind` of this run's runtime and PULUMI_VAULT_VSO_TAKEOVER_GUARD). */
export function takeoverGuardHere(): "hook" | "claim" | "none" {
    return takeoverGuardKind(hookRuntime());
}

/**
 * What the stack is about to write, to tell an object it would leave as it is (the same policy text;
 * a role with the same bindings and policies) from one it would change.
 */
export interface TakeoverDesired {
    /** For a policy: its HCL. */
    policy?: string;
    /** For a role: bound ServiceAccount names, namespaces and token policies. */
    boundServiceAccountNames?: string[];
    boundServiceAccountNamespaces?: string[];
    tokenPolicies?: string[];
}

/**
 * Whether the object Vault has (`data`, as `vault.generic.getSecret` returns it) is what the stack would
 * write anyway (pure): then the write changes nothing. Used by the claim only: a stack that ran on a
 * host without hooks before claims existed made its objects with no claim, and finds them like this.
 */
export function sameAsDesired(kind: TakeoverTarget["kind"], data: Record<string, unknown>, want: TakeoverDesired): boolean {
    const list = (v: unknown): string[] => {
        if (typeof v === "string" && v.trim().startsWith("[")) {
            // the provider's `data` map holds non-string values JSON-encoded (`["vso"]`)
            try {
                v = JSON.parse(v);
            } catch {
                // not JSON after all: compared as it is
            }
        }
        return (Array.isArray(v) ? v.map(String) : typeof v === "string" && v !== "" ? v.split(",") : []).map((x) => x.trim()).sort();
    };
    const eq = (a: unknown, b: string[] | undefined) => JSON.stringify(list(a)) === JSON.stringify([...(b ?? [])].sort());
    if (kind === "policy") {
        const text = data["policy"] ?? data["rules"];
        return typeof text === "string" && want.policy !== undefined && text.trim() === want.policy.trim();
    }
    return (
        eq(data["bound_service_account_names"], want.boundServiceAccountNames) &&
        eq(data["bound_service_account_namespaces"], want.boundServiceAccountNamespaces) &&
        eq(data["token_policies"] ?? data["policies"], want.tokenPolicies)
    );
}

/**
 * The claim's verdict for one create (pure): "" lets it through, else the refusal. Like the hook's
 * decision, except that an object identical to what the stack would write is let through (writing it
 * changes nothing; the stack manages it from then on).
 */
export function claimVerdict(t: TakeoverTarget, r: TakeoverReadResult, same: boolean, dryRun: boolean): string {
    if (r.state === "exists" && same) {
        return "";
    }
    return takeoverDecision(t, r, dryRun) ?? "";
}

/** The inputs of a TakeoverClaim: which object, and the verdict the program read for it. */
export interface TakeoverClaimInputs {
    kind: TakeoverTarget["kind"];
    name: string;
    authPath: string;
    /** "" when the object may be created; else why not. Not part of the claim's identity. */
    verdict: string;
}

/**
 * The claim's provider (Pulumi's Node.js dynamic provider). `check` sees the claim's recorded inputs
 * (`olds`): a claim already held for the same object lets everything through (the stack made it);
 * a new claim, or one for another name (a rename), applies the verdict, in preview and in up, before
 * the policy or role that depends on it is written. A verdict not known yet (preview) lets it through.
 */
export const takeoverClaimProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        const held = olds && olds.kind === news.kind && olds.name === news.name && (olds.authPath ?? "") === (news.authPath ?? "");
        const verdict = typeof news.verdict === "string" && news.verdict !== "04da6b54-80e4-46f7-96ec-b56ff0331ba9" ? news.verdict : "";
        if (!held && verdict !== "") {
            return { failures: [{ property: "name", reason: verdict }] };
        }
        return { inputs: news };
    },
    async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
        const moved = ["kind", "name", "authPath"].filter((k) => (olds?.[k] ?? "") !== (news?.[k] ?? ""));
        return moved.length ? { changes: true, replaces: moved, deleteBeforeReplace: false } : { changes: false };
    },
    async create(inputs: any): Promise<pulumi.dynamic.CreateResult> {
        const where = inputs.kind === "policy" ? `sys/policies/acl/${inputs.name}` : `auth/${inputs.authPath}/role/${inputs.name}`;
        return { id: where, outs: { kind: inputs.kind, name: inputs.name, authPath: inputs.authPath } };
    },
    async delete(): Promise<void> {
        // a claim holds nothing in Vault: the policy or role it guards is deleted (or kept) by its own resource
    },
};

/**
 * Records that this stack created a policy or role, where resource hooks cannot run: the policy or role
 * depends on it, and a new claim refuses (at preview and up, before anything is written) when Vault
 * already has an object of that name that the stack would change. Holds nothing in Vault.
 */
export class TakeoverClaim extends pulumi.dynamic.Resource {
    constructor(name: string, args: { [K in keyof TakeoverClaimInputs]: pulumi.Input<TakeoverClaimInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(takeoverClaimProvider, name, args, opts, "pulumi-vault-vso", "TakeoverClaim");
    }
}

/** One object of a TakeoverClaimSet: which one, and the verdict the program read for it. */
export type TakeoverClaimSetTarget = TakeoverClaimInputs;

const targetKey = (t: { kind?: unknown; name?: unknown; authPath?: unknown }) => `${String(t.kind)}:${String(t.authPath ?? "")}:${String(t.name)}`;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** What a claim set records of its inputs: which objects it holds, not the verdicts. */
const claimedTargets = (inputs: any) => ({ targets: (inputs?.targets ?? []).map(({ kind, name, authPath }: any) => ({ kind, name, authPath })) });

/**
 * The claim set's provider (pure functions; Pulumi's Node.js dynamic provider runs them). `check` sees the
 * set's recorded inputs (`olds`): an object already in them was created by the stack and passes; an
 * object new to the set (first run, a new namespace, a rename) applies its verdict, in preview and in
 * up, before any policy or role that depends on the set is written. Changes of the set are updates.
 */
export const takeoverClaimSetProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
        // moved here (alias) from a per-object TakeoverClaim of the code before the set: that claim held its
        // own object only; every other object applies its verdict (the stack's unchanged objects pass it,
        // being what the stack would write anyway)
        const olderTargets: any[] = Array.isArray(olds?.targets) ? olds.targets : olds && typeof olds.kind === "string" ? [olds] : [];
        const held = new Set<string>(olderTargets.map(targetKey));
        const targets: any[] = Array.isArray(news?.targets) ? news.targets : [];
        const failures = targets
            .filter((t) => !held.has(targetKey(t)) && typeof t.verdict === "string" && t.verdict !== "" && t.verdict !== UNKNOWN)
            .map((t) => ({ property: "targets", reason: t.verdict as string }));
        return failures.length ? { failures } : { inputs: news };
    },
    async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
        const keys = (x: any) => JSON.stringify((Array.isArray(x?.targets) ? x.targets : []).map(targetKey).sort());
        return { changes: keys(olds) !== keys(news) };
    },
    async create(inputs: any): Promise<pulumi.dynamic.CreateResult> {
        return { id: "takeover-claims", outs: claimedTargets(inputs) };
    },
    async update(_id: string, _olds: any, news: any): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: claimedTargets(news) };
    },
    async delete(): Promise<void> {
        // holds nothing in Vault: each policy and role is deleted (or kept) by its own resource
    },
};

/**
 * Records, in one resource, which policies and roles of a component this stack created, where resource
 * hooks cannot run (see TakeoverClaim): each guarded policy and role depends on it. Holds nothing in Vault.
 */
export class TakeoverClaimSet extends pulumi.dynamic.Resource {
    constructor(name: string, args: { targets: pulumi.Input<TakeoverClaimSetTarget[]> }, opts?: pulumi.CustomResourceOptions) {
        super(takeoverClaimSetProvider, name, args, opts, "pulumi-vault-vso", "TakeoverClaimSet");
    }
}

/**
 * The object's fields as Vault returned them (pure): `dataJson` (lists stay lists), else the provider's
 * `data` map, where every non-string value is a JSON string.
 */
export function decodedData(got: { data?: Record<string, unknown>; dataJson?: string }): Record<string, unknown> {
    if (typeof got.dataJson === "string" && got.dataJson !== "") {
        try {
            const parsed: unknown = JSON.parse(got.dataJson);
            if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
                return parsed as Record<string, unknown>;
            }
        } catch {
            // fall back to data
        }
    }
    return (got.data ?? {}) as Record<string, unknown>;
}

/** Reads the object through `reader`'s Vault provider (an invoke; nothing printed). */
async function readTarget(target: TakeoverTarget, reader: pulumi.Resource): Promise<{ read: TakeoverReadResult; data: Record<string, unknown> }> {
    try {
        const got = await vault.generic.getSecret({ path: takeoverReadPath(target) }, { parent: reader });
        return { read: interpretTakeoverRead({ data: got.data }), data: decodedData(got) };
    } catch (e) {
        return { read: interpretTakeoverRead({ error: e }), data: {} };
    }
}

/** What the claim of a guarded create needs: the object's name (and mount) and what the stack would write. */
export interface TakeoverClaimArgs {
    name: pulumi.Input<string>;
    authPath?: pulumi.Input<string>;
    desired: pulumi.Input<TakeoverDesired>;
}

/**
 * Resource options that make a `vault.Policy` (`kind: "policy"`) or `vault.kubernetes.AuthBackendRole`
 * (`kind: "role"`) refuse to be created over an object that already exists in Vault: a `beforeCreate`
 * hook where this run can bind hooks; else, with `claim` given, a dependency on a `TakeoverClaim`
 * (named `${hookName}-claim`, a child of `reader`); none under the mock monitor. `reader` is the resource
 * whose Vault provider reads (the component: its children inherit the same provider); `hookName` names
 * the hook (a counter is added when it is taken); `claimAliases`, the claim's former identities (its
 * guarded resource moved to another component).
 */
export function takeoverGuardOptions(
    kind: TakeoverTarget["kind"],
    hookName: string,
    reader: pulumi.Resource,
    claim?: TakeoverClaimArgs,
    claimAliases: pulumi.Input<pulumi.Alias>[] = [],
): Pick<pulumi.CustomResourceOptions, "hooks" | "dependsOn"> {
    const how = takeoverGuardHere();
    if (how === "none" || (how === "claim" && !claim)) {
        return {};
    }
    if (how === "claim" && claim) {
        const c = new TakeoverClaim(
            `${hookName}-claim`,
            { kind, name: claim.name, authPath: claim.authPath ?? "", verdict: claimVerdictOf(kind, claim, reader) },
            { parent: reader, ...(claimAliases.length ? { aliases: claimAliases } : {}) },
        );
        return { dependsOn: [c] };
    }
    return { hooks: takeoverHooks(kind, hookName, reader) };
}

/** The claim's verdict for one object: read through `reader`'s provider, then `claimVerdict`. */
function claimVerdictOf(kind: TakeoverTarget["kind"], claim: TakeoverClaimArgs, reader: pulumi.Resource): pulumi.Output<string> {
    return pulumi
        .all([pulumi.output(claim.name), pulumi.output(claim.authPath ?? ""), pulumi.output(claim.desired)])
        .apply(async ([name, authPath, desired]) => {
            const target: TakeoverTarget = kind === "policy" ? { kind, name } : { kind, name, authPath: authPath.replace(/^\/+|\/+$/g, "") };
            const { read, data } = await readTarget(target, reader);
            return claimVerdict(target, read, read.state === "exists" && sameAsDesired(kind, data, desired as TakeoverDesired), pulumi.runtime.isDryRun());
        });
}

/** One policy or role guarded among many (`takeoverGuardOptionsForMany`). */
export interface GuardedObject {
    kind: TakeoverTarget["kind"];
    hookName: string;
    claim: TakeoverClaimArgs;
}

/**
 * The guard of many policies and roles under one component (`reader`), one options object per entry of
 * `guarded`, in order: a hook each where this run binds hooks; else ONE `TakeoverClaimSet` named
 * `claimName` for all of them (one resource, not one claim per object: a claim costs about as much of
 * every preview as the object it guards); none under the mock monitor. `claimAliases`: the set's former
 * identity (a per-object TakeoverClaim of the same stack, which the set then treats as holding every object).
 */
export function takeoverGuardOptionsForMany(
    reader: pulumi.Resource,
    claimName: string,
    guarded: GuardedObject[],
    claimAliases: pulumi.Input<pulumi.Alias>[] = [],
): Pick<pulumi.CustomResourceOptions, "hooks" | "dependsOn">[] {
    const how = takeoverGuardHere();
    if (how === "none" || guarded.length === 0) {
        return guarded.map(() => ({}));
    }
    if (how === "hook") {
        return guarded.map((g) => ({ hooks: takeoverHooks(g.kind, g.hookName, reader) }));
    }
    const targets = guarded.map((g) =>
        pulumi
            .all([pulumi.output(g.claim.name), pulumi.output(g.claim.authPath ?? ""), claimVerdictOf(g.kind, g.claim, reader)])
            .apply(([name, authPath, verdict]) => ({
                kind: g.kind,
                name,
                authPath,
                verdict,
            })),
    );
    const set = new TakeoverClaimSet(
        claimName,
        { targets: pulumi.all(targets) },
        { parent: reader, ...(claimAliases.length ? { aliases: claimAliases } : {}) },
    );
    return guarded.map(() => ({ dependsOn: [set] }));
}

/** The `beforeCreate` hook that refuses to create the object over one that exists in Vault. */
function takeoverHooks(kind: TakeoverTarget["kind"], hookName: string, reader: pulumi.Resource): pulumi.ResourceHookBinding {
    // the engine calls the hook outside the program's async context; bind it back, so the invoke finds this run
    const check = AsyncResource.bind(async (args: pulumi.ResourceHookArgs): Promise<void> => {
        const target = takeoverTargetOf(kind, args.newInputs);
        if (!target) {
            return;
        }
        const { read } = await readTarget(target, reader);
        const refusal = takeoverDecision(target, read, pulumi.runtime.isDryRun());
        if (refusal) {
            throw new Error(refusal);
        }
    });
    return { beforeCreate: [new pulumi.ResourceHook(uniqueHookName(hookName), check, { onDryRun: true })] };
}

const hookNames = new Set<string>();

/** `name`, or with a counter when this process registered it already (same component names under two parents). */
function uniqueHookName(name: string): string {
    let n = name;
    for (let i = 2; hookNames.has(n); i++) {
        n = `${name}-${i}`;
    }
    hookNames.add(n);
    return n;
}
