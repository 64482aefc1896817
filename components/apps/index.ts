/**
 * apps/: one app's secret: its VaultStaticSecret, the synced Kubernetes Secret and the rollout restart of
 * the workloads that use it.
 */
export * from "./static-secret";
export * from "./dynamic-secret";
export * from "./pki-secret";
