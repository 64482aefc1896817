/**
 * vault/: Vault itself on the cluster: its Helm install, first init, the seal check (and unsealing), and the
 * API server's Service proxy Pulumi reaches it through.
 */
export * from "./install";
export * from "./init";
export * from "./sealcheck";
export * from "./apiserver-access";
