/**
 * shared/: the small helpers every layer uses, once each: text made safe to print (secrets and URL
 * credentials redacted), URL shape checks, one HTTP client, and whether this run is under unit-test mocks.
 */
export * from "./text";
export * from "./urls";
export * from "./http";
export * from "./runtime";
