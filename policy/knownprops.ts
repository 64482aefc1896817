/** Reading the props @pulumi/policy hands a rule (pure; policy/pack.ts uses it, the tests too). */

/**
 * A plain copy of a resource's props in which a value not known yet (preview) is undefined: @pulumi/policy
 * throws when a rule reads one, which would skip a stack rule for every resource, not just that one.
 */
export function knownProps(v: unknown, depth = 0): unknown {
    if (v === null || typeof v !== "object" || depth > 32) {
        return v;
    }
    const read = (get: () => unknown) => {
        try {
            return knownProps(get(), depth + 1);
        } catch {
            return undefined;
        }
    };
    if (Array.isArray(v)) {
        return Array.from({ length: v.length }, (_, i) => read(() => v[i]));
    }
    return Object.fromEntries(Object.keys(v).map((k) => [k, read(() => (v as Record<string, unknown>)[k])]));
}
