import * as pulumi from "@pulumi/pulumi";
import { ValidationProblem, formatProblems } from "./validate";

/** Prefix of every type token in this package. */
export const TYPE_PREFIX = "vault-vso:index:";

/**
 * Throws a `pulumi.ResourceError` listing every problem when `problems` is not empty. The error is
 * raised in the component's constructor, before any child resource (and so any API call) exists.
 */
export function failOnProblems(what: string, problems: ValidationProblem[], resource?: pulumi.Resource): void {
    if (problems.length === 0) {
        return;
    }
    const err = new pulumi.ResourceError(formatProblems(what, problems), resource, true);
    (err as unknown as { problems: ValidationProblem[] }).problems = problems;
    throw err;
}

/** The problems carried by a validation error thrown by this package's components, else undefined. */
export function validationProblemsOf(e: unknown): ValidationProblem[] | undefined {
    const p = (e as { problems?: ValidationProblem[] } | undefined)?.problems;
    return Array.isArray(p) ? p : undefined;
}

/** Returns the value when it is a plain (non-Output, non-Promise) value, else undefined. */
export function plainValue<T>(v: pulumi.Input<T> | undefined): T | undefined {
    if (v === undefined || pulumi.Output.isInstance(v) || v instanceof Promise) {
        return undefined;
    }
    return v as T;
}
