/**
 * The `vault-vso` policy pack: the rules of policy/rules.ts as a CrossGuard PolicyPack, for any stack:
 *
 *   pulumi preview --policy-pack node_modules/pulumi-vault-vso/policy
 *
 * Runs locally, without the Pulumi service. Needs `@pulumi/policy` (a peer dependency of this package:
 * `npm install --save-dev @pulumi/policy`) in the project whose preview runs the pack.
 */
import { PolicyPack, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { knownProps } from "./knownprops";
import { PolicyResource, resourceRules, stackRules } from "./rules";

function asResource(r: { type: string; name: string; urn: string; props: Record<string, unknown> }): PolicyResource {
    return { type: r.type, name: r.name, urn: r.urn, props: (knownProps(r.props ?? {}) as Record<string, unknown>) ?? {} };
}

const resourcePolicies: ResourceValidationPolicy[] = resourceRules.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateResource: (args, reportViolation) => {
        for (const message of rule.check(asResource(args))) {
            reportViolation(message);
        }
    },
}));

const stackPolicies: StackValidationPolicy[] = stackRules.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateStack: (args, reportViolation) => {
        for (const v of rule.check(args.resources.map(asResource))) {
            reportViolation(v.message, v.urn);
        }
    },
}));

new PolicyPack("vault-vso", { policies: [...resourcePolicies, ...stackPolicies] });
