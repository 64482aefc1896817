/**
 * vault/: Vault itself on the cluster: its Helm install, first init, unsealing, the seal check, and the
 * API server's Service proxy Pulumi reaches it through.
 */
export * from "./install";
export * from "./init";
export * from "./unseal";
export * from "./sealcheck";
export * from "./apiserver-access";
