/**
 * config/: what a stack's config becomes before any resource exists: its checks (every problem at once,
 * naming the field and the fix) and the typed, normalised plan the components are built from (pure).
 */
export * from "./validate";
export * from "./plan";
export * from "./platform";
export * from "./vault-install";
export * from "./unseal";
export * from "./kubeconfig";
export * from "./vault-access";
export * from "./operator-install";
export * from "./vso-access";
export * from "./static-secret";
export * from "./adopt";
export * from "./charts";
export * from "./versions";
export * from "./vso-types";
export * from "./inventory";
export * from "./database";
export * from "./pki";
export { mergeValues } from "./values";
export { ComponentPlan, TYPE_PREFIX, ValidationError, isPlanFor, validationProblemsOf } from "./errors";
