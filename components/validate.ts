/**
 * Pure validation helpers. Every function here takes plain data and returns the list of problems it
 * found; nothing here touches Pulumi, Vault or Kubernetes. Components collect the problems of all their
 * inputs and throw one error that lists them all, before any resource is registered.
 */

/** One problem with the user's input: which field, what is wrong, and how to fix it. */
export interface ValidationProblem {
    /** Path of the offending field, e.g. `apps[0].namespace`. */
    field: string;
    /** What is wrong and how to fix it. */
    message: string;
}

/** Formats problems as one readable message: a header and one line per problem. */
export function formatProblems(what: string, problems: ValidationProblem[]): string {
    const lines = problems.map((p) => `  - ${p.field}: ${p.message}`);
    return `${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the configuration:\n${lines.join("\n")}`;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Describes characters that commonly sneak in from UIs and YAML: quotes and whitespace. */
function quoteOrSpaceProblem(value: string): string | undefined {
    if (/["'`]/.test(value)) {
        return `contains quote characters (${JSON.stringify(value)}); Vault and Kubernetes store them literally, so it never matches. Remove the quotes`;
    }
    if (/\s/.test(value)) {
        return `contains whitespace (${JSON.stringify(value)}); remove it`;
    }
    return undefined;
}

/**
 * Checks a Kubernetes name. `kind` "label" is for namespaces and ServiceAccount-less labels (RFC 1123
 * label, at most 63 characters); "subdomain" for object names (RFC 1123 subdomain, at most 253).
 */
export function checkKubernetesName(field: string, value: unknown, kind: "label" | "subdomain"): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required and must be a non-empty string" }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    const max = kind === "label" ? 63 : 253;
    const re = kind === "label" ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
    if (value.length > max) {
        return [{ field, message: `${JSON.stringify(value)} is ${value.length} characters long; Kubernetes allows at most ${max}` }];
    }
    if (!re.test(value)) {
        const what = kind === "label"
            ? "lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label)"
            : "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (RFC 1123 subdomain)";
        return [{ field, message: `${JSON.stringify(value)} is not a valid Kubernetes name: use ${what}, e.g. ${JSON.stringify(suggestKubernetesName(value))}` }];
    }
    return [];
}

/** Suggests a valid Kubernetes name close to `value` (used in error messages only). */
export function suggestKubernetesName(value: string): string {
    const s = value.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").replace(/-{2,}/g, "-");
    return s.slice(0, 63).replace(/-+$/, "") || "my-name";
}

/**
 * Checks a value used in a Vault Kubernetes auth role binding (`bound_service_account_names` or
 * `bound_service_account_namespaces`). `*` is accepted only when `allowWildcard` is set.
 */
export function checkRoleBinding(field: string, value: unknown, allowWildcard: boolean): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required and must be a non-empty string" }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        const quotedWildcard = value.replace(/["'`\s]/g, "") === "*";
        return [{ field, message: quotedWildcard
            ? `${qs}. This is the classic quoted wildcard: every login fails with 'namespace not authorized'. Bind the exact namespace instead`
            : qs }];
    }
    if (value === "*") {
        return allowWildcard
            ? []
            : [{ field, message: "is the wildcard '*', which binds every namespace or service account. Bind the exact name, or set allowWildcardBindings: true if you really mean it" }];
    }
    if (value.includes("*")) {
        return allowWildcard
            ? []
            : [{ field, message: `${JSON.stringify(value)} contains a glob. Bind the exact name, or set allowWildcardBindings: true if you really mean it` }];
    }
    return checkKubernetesName(field, value, "label");
}

/**
 * Checks a KV v2 mount path (e.g. `kv`): no leading/trailing slash, no whitespace, no nested
 * `data/`/`metadata/` segments, no reserved Vault prefixes.
 */
export function checkMountPath(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required and must be a non-empty string, e.g. \"kv\"" }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    if (value.startsWith("/") || value.endsWith("/")) {
        return [{ field, message: `${JSON.stringify(value)} must not start or end with '/': use ${JSON.stringify(value.replace(/^\/+|\/+$/g, ""))}` }];
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(value)) {
        return [{ field, message: `${JSON.stringify(value)} is not a valid mount path: use letters, digits, '.', '_', '-' separated by single '/'` }];
    }
    const first = value.split("/")[0];
    if (["sys", "auth", "identity", "cubbyhole"].includes(first)) {
        return [{ field, message: `${JSON.stringify(value)} is reserved by Vault; pick another path such as "kv"` }];
    }
    return [];
}

/**
 * Checks an app's secret path, relative to the KV v2 mount (e.g. `rustfs/cloudnativepg`). The
 * mistakes it catches: including the mount name or the API's `data/` segment (VSO adds both), globs,
 * empty segments and whitespace.
 */
export function checkSecretPath(field: string, value: unknown, mount: string): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required and must be a non-empty string, e.g. \"myapp/config\"" }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    if (value.includes("*") || value.includes("+")) {
        return [{ field, message: `${JSON.stringify(value)} contains a glob; a VaultStaticSecret reads exactly one secret, so give its exact path` }];
    }
    if (value.startsWith("/") || value.endsWith("/")) {
        return [{ field, message: `${JSON.stringify(value)} must not start or end with '/': use ${JSON.stringify(value.replace(/^\/+|\/+$/g, ""))}` }];
    }
    const segments = value.split("/");
    if (segments.some((s) => s.length === 0)) {
        return [{ field, message: `${JSON.stringify(value)} has an empty segment ('//'); remove it` }];
    }
    if (segments.some((s) => s === "." || s === "..")) {
        return [{ field, message: `${JSON.stringify(value)} contains '.' or '..' segments; give the plain path` }];
    }
    if (mount && (value === mount || value.startsWith(`${mount}/`))) {
        return [{ field, message: `${JSON.stringify(value)} starts with the mount name ${JSON.stringify(mount)}; paths are relative to the mount: use ${JSON.stringify(value.slice(mount.length + 1) || "<path>")}` }];
    }
    if (segments[0] === "data" || segments[0] === "metadata") {
        return [{ field, message: `${JSON.stringify(value)} starts with '${segments[0]}/', which is part of the KV v2 API, not of the secret's path; VSO and the policy add it. Use ${JSON.stringify(segments.slice(1).join("/") || "<path>")}` }];
    }
    if (!segments.every((s) => /^[A-Za-z0-9._@-]+$/.test(s))) {
        return [{ field, message: `${JSON.stringify(value)} has characters Vault paths should not: use letters, digits, '.', '_', '-', '@' between '/'` }];
    }
    return [];
}

/**
 * Checks a VSO `refreshAfter` duration. VSO's CRD accepts `^([0-9]+(\.[0-9]+)?(s|m|h))$`; we also
 * reject zero, which would make VSO poll Vault continuously.
 */
export function checkRefreshAfter(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string" || !/^([0-9]+(\.[0-9]+)?(s|m|h))$/.test(value)) {
        return [{ field, message: `${JSON.stringify(value)} is not a duration VSO accepts: use a number followed by s, m or h, e.g. "60s", "5m", "1h"` }];
    }
    if (parseFloat(value) === 0) {
        return [{ field, message: `${JSON.stringify(value)} is zero; use at least "1s" (the default is "60s")` }];
    }
    return [];
}

/** The workload kinds VSO can restart after a secret changes. */
export const RESTART_TARGET_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "argo.Rollout"] as const;
export type RestartTargetKind = typeof RESTART_TARGET_KINDS[number];

/** Checks a `rolloutRestartTargets` entry. */
export function checkRestartTarget(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "object" || value === null) {
        return [{ field, message: "must be an object { kind, name }" }];
    }
    const t = value as { kind?: unknown; name?: unknown };
    const problems: ValidationProblem[] = [];
    if (typeof t.kind !== "string" || !(RESTART_TARGET_KINDS as readonly string[]).includes(t.kind)) {
        const near = typeof t.kind === "string"
            ? RESTART_TARGET_KINDS.find((k) => k.toLowerCase() === (t.kind as string).toLowerCase().replace(/s$/, ""))
            : undefined;
        problems.push({
            field: `${field}.kind`,
            message: `${JSON.stringify(t.kind)} is not a kind VSO can restart: use one of ${RESTART_TARGET_KINDS.join(", ")}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
        });
    }
    problems.push(...checkKubernetesName(`${field}.name`, t.name, "subdomain"));
    return problems;
}

/** Checks the ServiceAccount VSO logs in with: a valid name, and never the shared `default`. */
export function checkLoginServiceAccount(field: string, value: unknown): ValidationProblem[] {
    if (value === "default") {
        return [{ field, message: "\"default\" is shared by every pod in the namespace; VSO should log in with a dedicated ServiceAccount such as \"vso-auth\"" }];
    }
    return checkKubernetesName(field, value, "subdomain");
}

/** Checks a secret's key name as it will appear in the Kubernetes Secret. */
export function checkSecretKey(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "must be a non-empty string" }];
    }
    if (value.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(value)) {
        return [{ field, message: `${JSON.stringify(value)} is not a valid Kubernetes Secret key: use letters, digits, '-', '_' and '.'` }];
    }
    return [];
}

/** Vault's built-in policies; our policies and roles must never take these names. */
export const RESERVED_VAULT_NAMES = ["default", "root"];

/** Checks a Vault policy or role name. */
export function checkVaultName(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required and must be a non-empty string" }];
    }
    if (RESERVED_VAULT_NAMES.includes(value.toLowerCase())) {
        return [{ field, message: `${JSON.stringify(value)} is one of Vault's built-in names (${RESERVED_VAULT_NAMES.join(", ")}); anything added to 'default' is granted to every token. Pick a dedicated name` }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) || value.length > 128) {
        return [{ field, message: `${JSON.stringify(value)} is not a valid Vault name: use letters, digits, '.', '_' and '-' (at most 128)` }];
    }
    return [];
}

/** Checks that `keys` and the keys of `data` name the same set when both are given. */
export function checkKeysMatchData(field: string, keys: string[] | undefined, data: Record<string, unknown> | undefined): ValidationProblem[] {
    if (!keys || !data) {
        return [];
    }
    const dataKeys = Object.keys(data);
    const missing = keys.filter((k) => !dataKeys.includes(k));
    const extra = dataKeys.filter((k) => !keys.includes(k));
    if (missing.length === 0 && extra.length === 0) {
        return [];
    }
    const parts: string[] = [];
    if (missing.length) {
        parts.push(`keys lists ${missing.map((k) => JSON.stringify(k)).join(", ")} but data has no value for ${missing.length === 1 ? "it" : "them"}`);
    }
    if (extra.length) {
        parts.push(`data has ${extra.map((k) => JSON.stringify(k)).join(", ")} which keys does not list`);
    }
    return [{ field, message: `${parts.join("; ")}. Make keys and data name the same keys (or drop keys: it defaults to data's keys)` }];
}

/** Checks a URL such as a Vault address or a Kubernetes API host. */
export function checkUrl(field: string, value: unknown, schemes: string[] = ["http:", "https:"]): ValidationProblem[] {
    if (typeof value !== "string" || value.length === 0) {
        return [{ field, message: "is required: give a URL such as \"https://vault.example.lan:8200\"" }];
    }
    try {
        const u = new URL(value);
        if (!schemes.includes(u.protocol)) {
            return [{ field, message: `${JSON.stringify(value)} must use ${schemes.map((s) => s.replace(":", "")).join(" or ")}` }];
        }
    } catch {
        return [{ field, message: `${JSON.stringify(value)} is not a URL: give one such as "https://vault.example.lan:8200"` }];
    }
    return [];
}
