/**
 * `pulumi-vault-vso/vault`: the Vault-side components (KV v2 engine, Kubernetes auth method, per-namespace
 * policy + role, and the same for many namespaces under one component: `VaultNamespaceAccessSet`) with their
 * validation and planning, and nothing else. A program that manages only Vault
 * imports this entry point and neither loads nor type-checks `@pulumi/kubernetes` (about a second of every
 * preview; see bench/results/peer-after.md). The same classes are exported by the main entry point.
 */
export * from "./config/validate";
export * from "./config/plan";
export { TYPE_PREFIX, ValidationError, validationProblemsOf } from "./config/errors";
export * from "./config/vault-access";
export * from "./vault-config/access";
