/** Helm values helpers (pure). */

/** Deep-merges plain objects (`b` wins); arrays and scalars are replaced. */
export function mergeValues(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) {
        const av = out[k];
        if (av && v && typeof av === "object" && typeof v === "object" && !Array.isArray(av) && !Array.isArray(v)) {
            out[k] = mergeValues(av as Record<string, unknown>, v as Record<string, unknown>);
        } else {
            out[k] = v;
        }
    }
    return out;
}
