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
 * Args objects the platform built from its own, already validated and planned config. A child
 * component given one of these skips its own validation and planning (the platform did both once).
 * Module-private to the components: a user's args object can never be in it.
 */
const planned = new WeakMap<object, unknown>();

/** Marks `args` as validated and planned by the platform, with its plan. */
export function markPlanned<A extends object, P>(args: A, plan: P): A {
    planned.set(args, plan);
    return args;
}

/** The plan the platform attached to `args`, or undefined for args from a user. */
export function plannedBy<P>(args: object): P | undefined {
    return planned.get(args) as P | undefined;
}
