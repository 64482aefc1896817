/**
 * pulumi-vault-vso: Kubernetes secrets the GitOps way, with HashiCorp Vault and the Vault Secrets
 * Operator, as Pulumi components. This entry point holds the components and their pure planning and
 * validation; the ops tools (drift check, doctor) are in `pulumi-vault-vso/ops` and are not loaded here.
 *
 * One way through: config/ (checks, plan) → vault/, vault-config/, operator/, apps/ (components) →
 * platform.ts (the composition of all of them).
 */
export * from "./config";
export * from "./vault";
export * from "./vault-config";
export * from "./operator";
export * from "./apps";
export * from "./platform";
export { redactUrl, redactSecrets, sanitizeText } from "./shared/text";
