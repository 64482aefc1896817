/**
 * Pinned versions of what the components install. Pinning keeps `pulumi preview` stable: an unpinned
 * chart would change under you. Override per component with `chartVersion`.
 */
export const VAULT_CHART_VERSION = "0.31.0";
export const VAULT_CHART_REPO = "https://helm.releases.hashicorp.com";
export const VSO_CHART_VERSION = "0.10.0";
export const VSO_CHART_REPO = "https://helm.releases.hashicorp.com";
/** API version of the VSO custom resources the components create. */
export const VSO_API_VERSION = "secrets.hashicorp.com/v1beta1";
