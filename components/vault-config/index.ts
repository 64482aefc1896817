/**
 * vault-config/: what the stack writes into Vault: the KV v2 engine, the Kubernetes auth method, each
 * namespace's policy and role, the takeover guard that refuses objects the stack did not create, adoption.
 */
export * from "./access";
export * from "./takeover";
export * from "./adopted";
export * from "./database";
export * from "./pki";
