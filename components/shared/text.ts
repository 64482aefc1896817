/**
 * Text made safe to print (pure): credentials, tokens and URL user info redacted, control and
 * bidirectional-override characters removed. Used for servers' answers, provider errors and addresses.
 */

/** Things that look like credentials in free text, and what replaces them. */
const SECRET_PATTERNS: [RegExp, string][] = [
    [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, "$1 [redacted]"],
    [/\beyJ[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*){0,2}/g, "[redacted JWT]"],
    [/\bhv[sbr]\.[A-Za-z0-9_-]{8,}/g, "[redacted Vault token]"],
    [/\b[sbr]\.[A-Za-z0-9]{24,}\b/g, "[redacted Vault token]"],
    [/("?(?:client_token|token|jwt|password|secret_id|X-Vault-Token)"?\s*[:=]\s*)("[^"]*"|[^\s,;}]+)/gi, "$1[redacted]"],
    [/\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#@]*@/g, "$1[redacted]@"],
];

/** Control and bidi characters, stripped from any untrusted text before it is printed. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Replaces anything that looks like a token, a JWT, an Authorization value or URL credentials (pure). */
export function redactSecrets(text: string): string {
    return SECRET_PATTERNS.reduce((s, [re, by]) => s.replace(re, by), text);
}

/**
 * Text from a server (or any other untrusted source) made safe to print on one line: ANSI escapes,
 * control and bidirectional-override characters removed, whitespace runs folded, credentials
 * redacted, and at most `max` characters (pure).
 */
export function sanitizeText(text: string, max = 300): string {
    const cleaned = text
        .slice(0, 16384)
        // eslint-disable-next-line no-control-regex
        .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?/g, "")
        .replace(/[\t\n\r\v\f]+/g, " ")
        .replace(UNPRINTABLE, "")
        .replace(/ {2,}/g, " ")
        .trim();
    const safe = redactSecrets(cleaned);
    return safe.length > max ? `${safe.slice(0, Math.max(0, max - 1))}…` : safe;
}

/**
 * The last meaningful line of a multi-line error (a provider's "1 error occurred: * ..."), made safe
 * to print with `sanitizeText` (pure).
 */
export function lastErrorLine(msg: string, max = 300): string {
    const lines = msg
        .split("\n")
        .map((l) => sanitizeText(l.replace(/^\s*\*\s*/, "").trim(), max))
        .filter((l) => l !== "" && !/^\d+ errors? occurred:?$/.test(l));
    return lines[lines.length - 1] ?? sanitizeText(msg, max);
}

/** A libpq keyword/value secret (`password=…`, `sslpassword=…`, `sslkey=…`, a value quoted or not). */
const KEYWORD_SECRET = /(^|[\s;&?])((?:ssl)?password|sslkey)(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s;&]*)/gi;

/**
 * A URL safe to print (pure): user info (`user:password@`) becomes `[redacted]@`, a query or
 * fragment is elided (`?…`), and a keyword/value DSN's `password=`, `sslpassword=` and `sslkey=`
 * values become `[redacted]` (`host=db password=[redacted]`). For a value that is not a parseable `scheme://` URL, everything up to the
 * last `@` counts as user info (a malformed password may hold `/`); in a parseable URL, only the
 * authority's (a `@` in the path is kept).
 */
export function redactUrl(raw: string): string {
    const value = raw.replace(KEYWORD_SECRET, "$1$2$3[redacted]");
    const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(value)?.[0] ?? "";
    let rest = value.slice(scheme.length);
    let parses = scheme !== "";
    try {
        new URL(value);
    } catch {
        parses = false;
    }
    const authorityEnd = parses ? rest.search(/[/?#\\]/) : -1;
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    const at = authority.lastIndexOf("@");
    if (at >= 0) {
        rest = `[redacted]@${rest.slice(at + 1)}`;
    }
    return scheme + rest.replace(/[?#].*$/, (m) => (m.length > 1 ? `${m[0]}…` : m));
}
