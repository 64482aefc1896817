/**
 * Pinned versions of what the components install. Pinning keeps `pulumi preview` stable: an unpinned
 * chart would change under you. Override per component with `chartVersion` (or `chartPath` for a local
 * chart). These are the newest releases on the day of writing; the tests here install vault-helm 0.31.0
 * and VSO 0.10.0 from local chart directories (the versions this machine can fetch), see README.
 */
export const VAULT_CHART_VERSION = "0.34.1";
export const VAULT_CHART_REPO = "https://helm.releases.hashicorp.com";
export const VSO_CHART_VERSION = "1.6.1";
export const VSO_CHART_REPO = "https://helm.releases.hashicorp.com";
