/**
 * pulumi-vault-vso/ops: the tools that run beside a stack (drift check, doctor) and the small
 * Vault/Kubernetes HTTP clients they use. Importing the components (`pulumi-vault-vso`) loads none of this.
 */
export * from "./clients";
export * from "./drift";
export * from "./doctor";
export * from "./inventory";
export * from "./adopt";
export * from "./stack-config";
export * from "./kvcopy";
