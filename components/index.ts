/**
 * pulumi-vault-vso: Kubernetes secrets the GitOps way, with HashiCorp Vault and the Vault Secrets
 * Operator, as Pulumi components. Everything is exported on its own for reuse in other stacks.
 */
export * from "./validate";
export * from "./plan";
export * from "./versions";
export { TYPE_PREFIX, validationProblemsOf } from "./common";
export * from "./access";
export * from "./helm";
export * from "./vault";
export * from "./vso";
export * from "./platform";
export * from "./drift";
export * from "./clients";
export * from "./doctor";
