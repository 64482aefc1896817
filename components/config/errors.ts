import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, formatProblems } from "./validate";

/** Prefix of every type token in this package. */
export const TYPE_PREFIX = "vault-vso:index:";

/**
 * Bad options of a component or program config: every problem at once, each naming its field and
 * the fix. Raised in the component's constructor, before any child resource (and so any API call)
 * exists. `problems` is the list; `toInputPropertiesError()` gives Pulumi's error type for a
 * component served by a component provider (other languages), which the engine prints per field.
 */
export class ValidationError extends pulumi.ResourceError {
    public readonly problems: ValidationProblem[];

    constructor(what: string, problems: ValidationProblem[], resource?: pulumi.Resource) {
        super(formatProblems(what, problems), resource, true);
        this.name = "ValidationError";
        this.problems = problems;
    }

    /** The same problems as Pulumi's `InputPropertiesError` (property path + reason per problem). */
    toInputPropertiesError(): pulumi.InputPropertiesError {
        return new pulumi.InputPropertiesError({
            message: this.message.split("\n")[0],
            errors: this.problems.map((p) => ({ propertyPath: p.field, reason: p.message })),
        });
    }

    /** True for a ValidationError, also one from another copy of this package. */
    static isInstance(e: unknown): e is ValidationError {
        return e instanceof ValidationError || (e instanceof Error && e.name === "ValidationError" && Array.isArray((e as { problems?: unknown }).problems));
    }
}

/** Throws a `ValidationError` listing every problem when `problems` is not empty. */
export function failOnProblems(what: string, problems: ValidationProblem[], resource?: pulumi.Resource): void {
    if (problems.length > 0) {
        throw new ValidationError(what, problems, resource);
    }
}

/** The problems carried by a validation error thrown by this package's components, else undefined. */
export function validationProblemsOf(e: unknown): ValidationProblem[] | undefined {
    return ValidationError.isInstance(e) ? e.problems : undefined;
}

/** Returns the value when it is a plain (non-Output, non-Promise) value, else undefined. */
export function plainValue<T>(v: pulumi.Input<T> | undefined): T | undefined {
    if (v === undefined || pulumi.Output.isInstance(v) || v instanceof Promise) {
        return undefined;
    }
    return v as T;
}

/**
 * A component's args after the one validation pass: every default filled in, every name derived (pure
 * data, plus the wiring inputs the composition adds). Made by the component's planner (e.g.
 * `planVaultNamespaceAccess`) or by the platform's plan for its children; `planned` names the component.
 * A component given its plan builds from it as it is; given args, it checks and plans them once (`planOf`).
 */
export interface ComponentPlan<K extends string> {
    readonly planned: K;
}

/** True when `v` is a plan for component `kind` (pure). */
export function isPlanFor<K extends string>(kind: K, v: unknown): v is ComponentPlan<K> {
    return typeof v === "object" && v !== null && (v as { planned?: unknown }).planned === kind;
}

/**
 * The plan a component builds from: `args` itself when it is the component's plan, else `plan(args)` after
 * `check(args)` found nothing (a `ValidationError` naming every problem otherwise). The one entry point of
 * a component used on its own; inside the platform its children receive their plans.
 */
export function planOf<K extends string, A, P extends ComponentPlan<K>>(
    kind: K,
    args: NoInfer<A> | NoInfer<P>,
    check: (a: A) => ValidationProblem[],
    plan: (a: A) => P,
    resource?: pulumi.Resource,
): P {
    if (isPlanFor(kind, args)) {
        return args as P;
    }
    failOnProblems(kind, check(args as A), resource);
    return plan(args as A);
}
