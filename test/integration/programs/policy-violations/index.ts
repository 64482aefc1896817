/**
 * The policy suite's program (test/integration/policy.integration.test.ts): every resource of
 * test/fixtures/policy-violations.ts, written by hand with plain @pulumi/vault and @pulumi/kubernetes
 * (as a stack that does not use this package would), through the default providers (VAULT_ADDR,
 * VAULT_TOKEN and KUBECONFIG from the environment). Only ever previewed.
 */
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { VIOLATIONS } from "../../../fixtures/policy-violations";

for (const v of VIOLATIONS) {
    const props = v.props as never;
    switch (v.kind) {
        case "policy":
            new vault.Policy(v.name, props);
            break;
        case "role":
            new vault.kubernetes.AuthBackendRole(v.name, props);
            break;
        case "mount":
            new vault.Mount(v.name, props);
            break;
        case "vso":
            new k8s.apiextensions.CustomResource(v.name, props);
            break;
    }
}
