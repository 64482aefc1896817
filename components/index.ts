/**
 * pulumi-vault-vso: Kubernetes secrets the GitOps way, with HashiCorp Vault and the Vault Secrets
 * Operator, as Pulumi components. This entry point holds the components and their pure planning and
 * validation; the ops tools (drift check, doctor) are in `pulumi-vault-vso/ops` and are not loaded here.
 */
export * from "./validate";
export * from "./plan";
export * from "./versions";
export { TYPE_PREFIX, ValidationError, validationProblemsOf } from "./common";
export * from "./vso-types";
export * from "./inventory";
export * from "./access";
export * from "./helm";
export * from "./vault";
export * from "./takeover";
export * from "./vso";
export * from "./platform";
export * from "./unseal";
export * from "./adopt";
