/** The shape of a URL a user gave (a Vault address, an API server, a chart repository), checked once (pure). */

/** What is wrong with a URL, if anything; each caller words it for its own audience (config field, CLI flag). */
export type UrlShapeProblem =
    | { kind: "no-scheme"; hasCredentials: boolean }
    | { kind: "not-a-url" }
    | { kind: "credentials" }
    | { kind: "scheme"; scheme: string }
    | { kind: "not-origin" };

/**
 * Checks `value` as an absolute URL with one of `schemes` (e.g. `["http:", "https:"]`) and no user info;
 * with `originOnly`, also no query or fragment and a host (pure). Undefined when it is fine.
 */
export function urlShapeProblem(value: string, schemes: string[], originOnly = false): UrlShapeProblem | undefined {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) {
        return { kind: "no-scheme", hasCredentials: /^[^/]*@/.test(value) };
    }
    let u: URL;
    try {
        u = new URL(value);
    } catch {
        return { kind: "not-a-url" };
    }
    if (u.username !== "" || u.password !== "") {
        return { kind: "credentials" };
    }
    if (!schemes.includes(u.protocol)) {
        return { kind: "scheme", scheme: u.protocol };
    }
    if (originOnly && (u.hostname === "" || u.search !== "" || u.hash !== "" || /[?#]/.test(value))) {
        return { kind: "not-origin" };
    }
    return undefined;
}
