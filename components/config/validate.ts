/**
 * Pure validation helpers. Every function here takes plain data and returns the list of problems it
 * found; nothing here touches Pulumi, Vault or Kubernetes. Components collect the problems of all their
 * inputs and throw one error that lists them all, before any resource is registered.
 */
import { ROLLOUT_RESTART_KINDS } from "./vso-types";
import { redactUrl } from "../shared/text";
import { urlShapeProblem } from "../shared/urls";

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

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

// ---------------------------------------------------------------------------------------------------
// Types: config from YAML (stack config) arrives untyped, so every field's type is checked before its
// value. Messages say what was expected and what was found, never the value itself (it may be secret).

/** Describes a value's type for messages ("a string", "null", "a list"...), never the value. */
export function describeType(value: unknown): string {
    if (value === null) {
        return "null";
    }
    if (Array.isArray(value)) {
        return "a list";
    }
    if (isDeferred(value)) {
        return "a Pulumi Output or promise";
    }
    if (typeof value === "number") {
        return Number.isFinite(value) ? (Number.isInteger(value) ? "a number" : "a fractional number") : "a non-finite number";
    }
    const article: Record<string, string> = { string: "a string", boolean: "a boolean", object: "an object", undefined: "nothing", function: "a function" };
    return article[typeof value] ?? `a ${typeof value}`;
}

/** A Pulumi Output or a promise: a value known only at deployment, whose type cannot be checked here. */
export function isDeferred(value: unknown): boolean {
    if (typeof value !== "object" || value === null) {
        return false;
    }
    const v = value as { apply?: unknown; then?: unknown };
    return typeof v.apply === "function" || typeof v.then === "function";
}

/** A hint for the common YAML slips behind a type mismatch. */
function yamlHint(expected: string, found: string): string {
    if (found === "null") {
        return " (an empty YAML key gives null: give it a value, or remove the key to take the default)";
    }
    if (/duration/.test(expected) && /number/.test(found)) {
        return ' (add the unit and quote it, e.g. "60s")';
    }
    if (/string/.test(expected) && /number|boolean/.test(found)) {
        return " (YAML reads unquoted numbers, true/false and yes/no as such: quote the value)";
    }
    if (/true or false/.test(expected) && found === "a string") {
        return " (write true or false without quotes)";
    }
    if (/whole number/.test(expected) && found === "a string") {
        return " (write the number without quotes)";
    }
    if (/list/.test(expected) && found !== "a list") {
        return ' (in YAML, write a list as [a, b] or as one "- item" line per entry)';
    }
    return "";
}

/** The problem for a value of the wrong type: what was expected, what was found, no value. */
export function typeProblem(field: string, expected: string, value: unknown): ValidationProblem {
    const found = describeType(value);
    return { field, message: `expected ${expected}, found ${found}${yamlHint(expected, found)}` };
}

/**
 * The type a config field must have. `string`/`boolean`/`integer` are plain values; `input` is a
 * string or a Pulumi Output/promise of one; `map` is an object with any keys (e.g. chart values).
 */
export type FieldType =
    | "string"
    | "boolean"
    | "integer"
    | "input"
    | "map"
    | { type: "string" | "boolean" | "integer" | "input" | "map"; what: string }
    | { list: FieldType; what?: string }
    | { fields: Record<string, FieldType>; required?: string[]; what?: string }
    | { mapOf: FieldType; what?: string }
    | { oneOf: FieldType[] };

/** Words for what a FieldType expects, e.g. "a list of strings". */
export function expectedOf(type: FieldType): string {
    switch (type) {
        case "string":
            return "a string";
        case "boolean":
            return "true or false";
        case "integer":
            return "a whole number";
        case "input":
            return "a string (or a Pulumi Output)";
        case "map":
            return "an object (a map)";
    }
    if ("type" in type) {
        return type.what;
    }
    if ("list" in type) {
        const nouns: Record<string, string> = { string: "strings", input: "strings", integer: "whole numbers", boolean: "true/false values" };
        return type.what ?? `a list of ${typeof type.list === "string" ? (nouns[type.list] ?? "objects") : "objects"}`;
    }
    if ("oneOf" in type) {
        return type.oneOf.map(expectedOf).join(" or ");
    }
    return type.what ?? "an object";
}

/** Whether `value` has the outer shape of `type` (elements and fields are checked separately). */
function hasShape(value: unknown, type: FieldType): boolean {
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value) && !isDeferred(value);
    switch (type) {
        case "string":
            return typeof value === "string";
        case "boolean":
            return typeof value === "boolean";
        case "integer":
            return typeof value === "number" && Number.isInteger(value);
        case "input":
            return typeof value === "string" || isDeferred(value);
        case "map":
            return isObject || isDeferred(value);
    }
    if ("type" in type) {
        return hasShape(value, type.type);
    }
    if ("list" in type) {
        return Array.isArray(value);
    }
    if ("oneOf" in type) {
        return type.oneOf.some((t) => hasShape(value, t));
    }
    return isObject;
}

/** The result of a type check: the problems, and the value with every badly typed part removed. */
export interface TypeCheck {
    problems: ValidationProblem[];
    /** A copy with wrongly typed fields set to undefined (safe to hand to the value checks). */
    value: unknown;
}

/**
 * Checks `value` (if present: undefined means "take the default") against `type`, recursively, and
 * returns every mismatch with its path, e.g. `apps[1].keys`, and every unknown field of an object.
 */
export function checkType(field: string, value: unknown, type: FieldType): TypeCheck {
    if (value === undefined) {
        return { problems: [], value };
    }
    if (!hasShape(value, type)) {
        return { problems: [typeProblem(field, expectedOf(type), value)], value: undefined };
    }
    if (typeof type !== "object" || "type" in type || isDeferred(value)) {
        return { problems: [], value };
    }
    if ("oneOf" in type) {
        const inner = type.oneOf.find((t) => hasShape(value, t))!;
        return checkType(field, value, inner);
    }
    if ("list" in type) {
        const parts = (value as unknown[]).map((v, i) => checkType(`${field}[${i}]`, v, type.list));
        return { problems: parts.flatMap((p) => p.problems), value: parts.map((p) => p.value) };
    }
    return checkFields(field, value as Record<string, unknown>, type);
}

/** Fields renamed in 0.2 to VSO's own words: old name → new name. */
export const RENAMED_FIELDS: Record<string, string> = {
    restartTargets: "rolloutRestartTargets",
    skipTlsVerify: "skipTLSVerify",
};

/** Fields moved out of the args in 0.2: field → where it went. */
export const MOVED_FIELDS: Record<string, string> = {
    providers: "providers go in the resource options now: new VaultSecretsPlatform(name, args, { providers: { vault, kubernetes } })",
};

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

/** The known name closest to `k` (same letters in another case, or at most two edits away), else undefined (pure). */
export function closestName(k: string, known: string[]): string | undefined {
    return (
        known.find((n) => n.toLowerCase() === k.toLowerCase()) ??
        known
            .map((n) => [n, distance(n.toLowerCase(), k.toLowerCase())] as const)
            .filter(([, d]) => d <= 2)
            .sort((x, y) => x[1] - y[1])[0]?.[0]
    );
}

/**
 * One problem per field of `obj` that is not in `known` (pure): a misspelled or renamed field would
 * otherwise be ignored silently and its default used. Names the replacement of a renamed field, or
 * the closest known one, and the known ones. `nested`: the known fields of this object's own objects
 * (e.g. `helm` → its fields), so a field written one level too high is pointed to where it belongs.
 */
export function unknownFieldProblems(field: string, obj: Record<string, unknown>, known: string[], nested: Record<string, string[]> = {}): ValidationProblem[] {
    const prefix = field ? `${field}.` : "";
    return Object.keys(obj)
        .filter((k) => !known.includes(k) && obj[k] !== undefined)
        .map((k) => {
            const renamed = RENAMED_FIELDS[k] !== undefined && known.includes(RENAMED_FIELDS[k]) ? RENAMED_FIELDS[k] : undefined;
            const near = closestName(k, known);
            const below = Object.keys(nested).find((n) => known.includes(n) && nested[n].includes(k));
            const shown = k.length > 60 ? `${k.slice(0, 60)}...` : k;
            const moved = field === "" ? MOVED_FIELDS[k] : undefined;
            const knownList = `known fields: ${known.join(", ")}`;
            const hint = moved
                ? moved
                : renamed
                  ? `it was renamed to ${JSON.stringify(renamed)} (VSO's own name): rename it`
                  : below
                    ? `it belongs one level down, in ${prefix}${below}: move it to ${prefix}${below}.${k}`
                    : near
                      ? `did you mean ${JSON.stringify(near)}? (${knownList})`
                      : knownList;
            return { field: `${prefix}${shown}`, message: `is not a known field, so it would be ignored: ${hint}` };
        });
}

/** checkType for objects: each known field, the required ones, and no unknown one. */
function checkFields(
    field: string,
    obj: Record<string, unknown>,
    type: { fields: Record<string, FieldType>; required?: string[] } | { mapOf: FieldType },
): TypeCheck {
    const problems: ValidationProblem[] = [];
    const out: Record<string, unknown> = { ...obj };
    const prefix = field ? `${field}.` : "";
    const entries = "fields" in type ? Object.entries(type.fields) : Object.keys(obj).map((k) => [k, type.mapOf] as [string, FieldType]);

    for (const [key, t] of entries) {
        if ("fields" in type && (type.required ?? []).includes(key) && obj[key] === undefined) {
            problems.push({ field: `${prefix}${key}`, message: `is required: expected ${expectedOf(t)}, found nothing` });
        }
        const r = checkType(`${prefix}${key}`, obj[key], t);
        problems.push(...r.problems);
        if (key in obj) {
            out[key] = r.value;
        }
    }
    if ("fields" in type) {
        const nested: Record<string, string[]> = {};
        for (const [key, t] of Object.entries(type.fields)) {
            const inner = typeof t === "object" && "oneOf" in t ? t.oneOf.find((x) => typeof x === "object" && "fields" in x) : t;
            if (typeof inner === "object" && "fields" in inner) {
                nested[key] = Object.keys(inner.fields);
            }
        }
        for (const k of Object.keys(obj).filter((key) => !(key in type.fields))) {
            problems.push(...unknownFieldProblems(field, { [k]: obj[k] }, Object.keys(type.fields), nested));
            delete out[k];
        }
    }
    return { problems, value: out };
}

/** Whether `field` is `parent` or lies inside it (`parent.x`, `parent[0]`). */
function within(field: string, parent: string): boolean {
    return field === parent || field.startsWith(`${parent}.`) || field.startsWith(`${parent}[`);
}

/**
 * Type problems first, then the value checks' problems, minus those about a field (or inside a
 * field) that already has a type problem: one problem per mistake.
 */
export function mergeTypeProblems(typeProblems: ValidationProblem[], valueProblems: ValidationProblem[]): ValidationProblem[] {
    const rest = valueProblems.filter((p) => !typeProblems.some((t) => within(p.field, t.field)));
    return [...typeProblems, ...rest];
}

/** The problem of a missing, empty or non-string value where a string is required, else undefined. */
function notAString(field: string, value: unknown, required: string): ValidationProblem | undefined {
    if (value === undefined || value === "") {
        return { field, message: required };
    }
    return typeof value === "string" ? undefined : typeProblem(field, "a string", value);
}

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
    const bad = notAString(field, value, "is required and must be a non-empty string");
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
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
        const what =
            kind === "label"
                ? "lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label)"
                : "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (RFC 1123 subdomain)";
        return [
            { field, message: `${JSON.stringify(value)} is not a valid Kubernetes name: use ${what}, e.g. ${JSON.stringify(suggestKubernetesName(value))}` },
        ];
    }
    return [];
}

/** Suggests a valid Kubernetes name close to `value` (used in error messages only). */
export function suggestKubernetesName(value: string): string {
    const s = value
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .replace(/-{2,}/g, "-");
    return s.slice(0, 63).replace(/-+$/, "") || "my-name";
}

/**
 * Checks a value used in a Vault Kubernetes auth role binding (`bound_service_account_names` or
 * `bound_service_account_namespaces`). `*` is accepted only when `allowWildcard` is set.
 */
export function checkRoleBinding(field: string, value: unknown, allowWildcard: boolean): ValidationProblem[] {
    const bad = notAString(field, value, "is required and must be a non-empty string");
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        const quotedWildcard = value.replace(/["'`\s]/g, "") === "*";
        return [
            {
                field,
                message: quotedWildcard
                    ? `${qs}. This is the classic quoted wildcard: every login fails with 'namespace not authorized'. Bind the exact namespace instead`
                    : qs,
            },
        ];
    }
    if (value === "*") {
        return allowWildcard
            ? []
            : [
                  {
                      field,
                      message:
                          "is the wildcard '*', which binds every namespace or service account. Bind the exact name, or set allowWildcardBindings: true if you really mean it",
                  },
              ];
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
    const bad = notAString(field, value, 'is required and must be a non-empty string, e.g. "kv"');
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
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
 * Longest secret path segment: Vault's file storage backend writes a secret's last segment as a file
 * named `_<segment>` (and the others as directories), and file systems cap a name at 255 bytes
 * (NAME_MAX), so a longer segment fails with "file name too long" on that backend.
 */
export const SECRET_PATH_SEGMENT_MAX = 254;
/**
 * Longest secret path: 1024 characters. The file backend's whole file name (data directory +
 * `logical/<mount uuid>/` + the path) must fit PATH_MAX (4096 bytes on Linux), and the path is part of
 * every request URL, which proxies on the way (the API server's Service proxy, ingresses) cap too.
 */
export const SECRET_PATH_MAX = 1024;

/** The length problem of a secret path (never echoing a path that long), else undefined. */
function secretPathLengthProblem(value: string): string | undefined {
    if (value.length > SECRET_PATH_MAX) {
        return `is ${value.length} characters long; use at most ${SECRET_PATH_MAX} (Vault's file storage must fit its data directory plus the path in a 4096-byte file path, and proxies cap URL lengths)`;
    }
    const i = value.split("/").findIndex((s) => s.length > SECRET_PATH_SEGMENT_MAX);
    if (i >= 0) {
        return `segment ${i + 1} is ${value.split("/")[i].length} characters long; use at most ${SECRET_PATH_SEGMENT_MAX} per segment (Vault's file storage writes a segment as a file name, and file systems allow 255 bytes)`;
    }
    return undefined;
}

/**
 * Checks an app's secret path, relative to the KV v2 mount (e.g. `rustfs/cloudnativepg`). The
 * mistakes it catches: including the mount name or the API's `data/` segment (VSO adds both), globs,
 * empty segments and whitespace.
 */
export function checkSecretPath(field: string, value: unknown, mount: string): ValidationProblem[] {
    const bad = notAString(field, value, 'is required and must be a non-empty string, e.g. "myapp/config"');
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
    }
    const tooLong = secretPathLengthProblem(value);
    if (tooLong) {
        return [{ field, message: tooLong }];
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
        return [
            {
                field,
                message: `${JSON.stringify(value)} starts with the mount name ${JSON.stringify(mount)}; paths are relative to the mount: use ${JSON.stringify(value.slice(mount.length + 1) || "<path>")}`,
            },
        ];
    }
    if (segments[0] === "data" || segments[0] === "metadata") {
        return [
            {
                field,
                message: `${JSON.stringify(value)} starts with '${segments[0]}/', which is part of the KV v2 API, not of the secret's path; VSO and the policy add it. Use ${JSON.stringify(segments.slice(1).join("/") || "<path>")}`,
            },
        ];
    }
    if (!segments.every((s) => /^[A-Za-z0-9._@-]+$/.test(s))) {
        return [{ field, message: `${JSON.stringify(value)} has characters Vault paths should not: use letters, digits, '.', '_', '-', '@' between '/'` }];
    }
    return [];
}

/** Shortest `refreshAfter` in seconds: sub-second polling would hammer Vault with one read per app per tick. */
export const REFRESH_AFTER_MIN_SECONDS = 1;
/**
 * Longest `refreshAfter` in seconds (24h): a secret rotated in Vault would otherwise take days to reach
 * the cluster, and past ~2562047h Go's duration parsing in VSO overflows.
 */
export const REFRESH_AFTER_MAX_SECONDS = 24 * 3600;

/**
 * Checks a VSO `refreshAfter` duration. VSO's CRD accepts `^([0-9]+(\.[0-9]+)?(s|m|h))$`; we also
 * require 1s..24h (zero or sub-second would make VSO poll Vault continuously).
 */
export function checkRefreshAfter(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string") {
        return [typeProblem(field, 'a duration string such as "60s", "5m" or "1h"', value)];
    }
    if (!/^([0-9]+(\.[0-9]+)?(s|m|h))$/.test(value)) {
        return [{ field, message: `${JSON.stringify(value)} is not a duration VSO accepts: use a number followed by s, m or h, e.g. "60s", "5m", "1h"` }];
    }
    const seconds = parseFloat(value) * { s: 1, m: 60, h: 3600 }[value.slice(-1) as "s" | "m" | "h"];
    if (seconds === 0) {
        return [{ field, message: `${JSON.stringify(value)} is zero; use at least "1s" (the default is "60s")` }];
    }
    if (seconds < REFRESH_AFTER_MIN_SECONDS) {
        return [{ field, message: `${JSON.stringify(value)} is under a second; use at least "1s" (accepted: "1s" to "24h"; the default is "60s")` }];
    }
    if (seconds > REFRESH_AFTER_MAX_SECONDS) {
        return [
            {
                field,
                message: `${JSON.stringify(value)} is longer than a day; use at most "24h" (accepted: "1s" to "24h"), or VSO would take that long to deliver a rotated secret`,
            },
        ];
    }
    return [];
}

/** The workload kinds VSO can restart after a secret changes. */

/** Checks a `rolloutRestartTargets` entry. */
export function checkRolloutRestartTarget(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "object" || value === null) {
        return [{ field, message: "must be an object { kind, name }" }];
    }
    const t = value as { kind?: unknown; name?: unknown };
    const problems: ValidationProblem[] = [];
    if (typeof t.kind !== "string" || !(ROLLOUT_RESTART_KINDS as readonly string[]).includes(t.kind)) {
        const near =
            typeof t.kind === "string" ? ROLLOUT_RESTART_KINDS.find((k) => k.toLowerCase() === (t.kind as string).toLowerCase().replace(/s$/, "")) : undefined;
        problems.push({
            field: `${field}.kind`,
            message: `${JSON.stringify(t.kind)} is not a kind VSO can restart: use one of ${ROLLOUT_RESTART_KINDS.join(", ")}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`,
        });
    }
    problems.push(...checkKubernetesName(`${field}.name`, t.name, "subdomain"));
    return problems;
}

/** Checks the ServiceAccount VSO logs in with: a valid name, and never the shared `default`. */
export function checkLoginServiceAccount(field: string, value: unknown): ValidationProblem[] {
    if (value === "default") {
        return [{ field, message: '"default" is shared by every pod in the namespace; VSO should log in with a dedicated ServiceAccount such as "vso-auth"' }];
    }
    return checkKubernetesName(field, value, "subdomain");
}

/** Checks a secret's key name as it will appear in the Kubernetes Secret. */
export function checkSecretKey(field: string, value: unknown): ValidationProblem[] {
    const bad = notAString(field, value, "must be a non-empty string");
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
    }
    if (value.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(value)) {
        return [{ field, message: `${JSON.stringify(value)} is not a valid Kubernetes Secret key: use letters, digits, '-', '_' and '.'` }];
    }
    return [];
}

/** Vault's built-in policies; our policies and roles must never take these names. */
export const RESERVED_VAULT_NAMES = ["default", "root"];

/**
 * Checks a Vault policy or role name. Uppercase is rejected: Vault stores policy names in lowercase
 * (hashicorp/vault#13647) and the Kubernetes auth method stores roles under the lowercase name, so a
 * mixed-case name never matches what Vault reports and Pulumi would try to change it at every `up`.
 */
export function checkVaultName(field: string, value: unknown): ValidationProblem[] {
    const bad = notAString(field, value, "is required and must be a non-empty string");
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
    }
    if (RESERVED_VAULT_NAMES.includes(value.toLowerCase())) {
        return [
            {
                field,
                message: `${JSON.stringify(value)} is one of Vault's built-in names (${RESERVED_VAULT_NAMES.join(", ")}); anything added to 'default' is granted to every token. Pick a dedicated name`,
            },
        ];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) || value.length > 128) {
        return [{ field, message: `${JSON.stringify(value)} is not a valid Vault name: use letters, digits, '.', '_' and '-' (at most 128)` }];
    }
    if (value !== value.toLowerCase()) {
        return [
            {
                field,
                message: `${JSON.stringify(value)} has uppercase letters; Vault keeps policy and role names in lowercase, so this name would drift at every refresh. Use the lowercase form ${JSON.stringify(value.toLowerCase())}`,
            },
        ];
    }
    return [];
}

/** Shortest role token TTL, seconds: shorter tokens make VSO log in again (a TokenReview each time) all the time. */
export const TOKEN_TTL_MIN_SECONDS = 60;
/**
 * Longest role token TTL, seconds (24h). VSO renews its token and logs in again by itself, so a longer
 * TTL only widens the window in which a leaked VSO token works; and Vault silently truncates a TTL
 * above the auth mount's max_lease_ttl (768h by default), so Vault would not apply what the config says.
 */
export const TOKEN_TTL_MAX_SECONDS = 24 * 3600;

/** Checks the Vault token TTL of a Kubernetes auth role, in seconds. */
export function checkTokenTtl(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "number") {
        return [typeProblem(field, "a whole number of seconds, e.g. 3600", value)];
    }
    if (!Number.isInteger(value) || value <= 0) {
        return [{ field, message: `${value} must be a positive whole number of seconds, e.g. 3600` }];
    }
    if (value < TOKEN_TTL_MIN_SECONDS || value > TOKEN_TTL_MAX_SECONDS) {
        const why =
            value < TOKEN_TTL_MIN_SECONDS
                ? "shorter tokens make VSO log in again constantly"
                : "VSO renews its token by itself, so a longer TTL only keeps a leaked token valid longer, and Vault truncates TTLs above the mount's max_lease_ttl";
        return [
            { field, message: `${value} seconds is out of range: use at least ${TOKEN_TTL_MIN_SECONDS} and at most ${TOKEN_TTL_MAX_SECONDS} (24h); ${why}` },
        ];
    }
    return [];
}

/**
 * Checks the audience a Kubernetes auth role requires and VSO requests: one non-empty value. Empty
 * would make the role accept ServiceAccount tokens minted for any audience (Vault warns that roles
 * will require one).
 */
export function checkAudience(field: string, value: unknown): ValidationProblem[] {
    if (typeof value !== "string") {
        return [typeProblem(field, 'a string such as "vault"', value)];
    }
    if (value.length === 0) {
        return [{ field, message: 'is empty: the role would accept ServiceAccount tokens for any audience. Give one, e.g. "vault" (the default)' }];
    }
    const qs = quoteOrSpaceProblem(value);
    if (qs) {
        return [{ field, message: qs }];
    }
    if (value.includes(",")) {
        return [
            {
                field,
                message: `${JSON.stringify(value)} holds a comma: a role takes one audience, and VSO requests exactly that one. Give one audience, e.g. "vault"`,
            },
        ];
    }
    if (value.length > 256 || !/^[\x21-\x7e]+$/.test(value)) {
        return [{ field, message: 'is not a usable audience: use at most 256 printable ASCII characters, e.g. "vault" or a URL' }];
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

/**
 * Checks a URL such as a Vault address or a Kubernetes API host: it needs a scheme, one of `schemes`,
 * and no embedded credentials (they would land in the Pulumi state and in the cluster in plain text).
 * Messages show the URL without its credentials.
 */
export function checkUrl(field: string, value: unknown, schemes: string[] = ["http:", "https:"]): ValidationProblem[] {
    const bad = notAString(field, value, 'is required: give a URL such as "https://vault.example.lan:8200"');
    if (bad || typeof value !== "string") {
        return bad ? [bad] : [];
    }
    const problem = urlShapeProblem(value, schemes);
    if (problem === undefined) {
        return [];
    }
    // shown without its user info at all: the message suggests the URL to write
    const bare = redactUrl(value).replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?\[redacted\]@/, "$1");
    const shown = JSON.stringify(bare);
    const names = schemes.map((s) => s.replace(":", "")).join(" or ");
    switch (problem.kind) {
        case "no-scheme": {
            const creds = problem.hasCredentials ? "; and remove the credentials before '@'" : "";
            const example = `${schemes.includes("https:") ? "https" : schemes[0].replace(":", "")}://${bare}`;
            return [{ field, message: `the scheme is missing from ${shown}: write it with ${names}, e.g. ${JSON.stringify(example)}${creds}` }];
        }
        case "not-a-url":
            return [{ field, message: `${shown} is not a URL: give one such as "https://vault.example.lan:8200"` }];
        case "credentials":
            return [
                {
                    field,
                    message: `embeds credentials (user:password@), which would be stored in plain text in the Pulumi state and the cluster. Remove them: ${shown}; give tokens through their own (secret) settings`,
                },
            ];
        default:
            return [{ field, message: `${shown} must use ${names}` }];
    }
}
