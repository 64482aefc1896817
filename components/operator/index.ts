/**
 * operator/: the Vault Secrets Operator: its Helm install, and each namespace's VaultConnection, VaultAuth
 * and ServiceAccount.
 */
export * from "./install";
export * from "./namespace-access";
