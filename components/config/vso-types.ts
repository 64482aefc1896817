/**
 * The Vault Secrets Operator's custom resources as TypeScript types, in VSO's own words, and the
 * constants every part of the package shares about them (API version, annotations, headers).
 * Hand-kept from VSO's CRDs (`chart/crds` of vault-secrets-operator v0.10.0, the API these fields
 * exist in from 0.10 to 1.x); `test/unit/vso-types.test.ts` checks every field name and type used
 * here against those CRDs' OpenAPI schemas, so a typo or a renamed field fails a test.
 */

/** API group/version of the VSO custom resources the components create. */
export const VSO_API_VERSION = "secrets.hashicorp.com/v1beta1";

/** Annotation on a VaultStaticSecret listing the key names the app declared (names only), read by the doctor. */
export const KEYS_ANNOTATION = "vault-vso.pulumi.io/keys";

/** Header that carries the namespace's access revision on the VaultAuth (see `accessRevision`). */
export const ACCESS_REVISION_HEADER = "X-Vault-Vso-Access-Revision";

/** Label on the objects the components create. */
export const MANAGED_BY_LABEL = { "app.kubernetes.io/managed-by": "pulumi-vault-vso" } as const;

/**
 * Pulumi owns these objects: a field edited behind its back (kubectl edit, a UI) is reclaimed by the
 * next `pulumi up --refresh` instead of failing with a Server-Side Apply field conflict.
 */
export const PATCH_FORCE = { "pulumi.com/patchForce": "true" } as const;

/** Kinds VSO can restart when a secret changes (`rolloutRestartTargets[].kind`). */
export const ROLLOUT_RESTART_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "argo.Rollout"] as const;
export type RolloutRestartKind = (typeof ROLLOUT_RESTART_KINDS)[number];

/** A workload VSO restarts when the secret changes. */
export interface RolloutRestartTarget {
    /** One of `Deployment`, `StatefulSet`, `DaemonSet`, `argo.Rollout`. */
    kind: string;
    /** The workload's name, in the VaultStaticSecret's namespace. */
    name: string;
}

/** `VaultConnection.spec`: where Vault is. */
export interface VaultConnectionSpec {
    /** Vault's address, e.g. `http://vault.vault.svc.cluster.local:8200`. */
    address: string;
    /** Skip TLS verification of Vault's certificate. */
    skipTLSVerify: boolean;
    /** Secret (in the same namespace) holding Vault's CA as `ca.crt`. */
    caCertSecretRef?: string;
    /** Server name for TLS (SNI). */
    tlsServerName?: string;
    /** Headers sent with every request. */
    headers?: Record<string, string>;
    /** Request timeout, e.g. `30s`. */
    timeout?: string;
}

/** `VaultAuth.spec.kubernetes`: log in with a ServiceAccount token. */
export interface VaultAuthKubernetesSpec {
    /** Vault role. */
    role: string;
    /** ServiceAccount (in the VaultAuth's namespace) whose token VSO presents. */
    serviceAccount: string;
    /** Audiences of the token VSO requests. */
    audiences?: string[];
    /** Lifetime of that token, seconds. */
    tokenExpirationSeconds?: number;
}

/** `VaultAuth.spec`: how VSO logs in to Vault. */
export interface VaultAuthSpec {
    /** Auth method; the components use `kubernetes`. */
    method: "kubernetes" | "jwt" | "appRole" | "aws" | "gcp";
    /** Auth mount path, e.g. `kubernetes`. */
    mount: string;
    /** VaultConnection in the same namespace (`default` when empty). */
    vaultConnectionRef?: string;
    kubernetes?: VaultAuthKubernetesSpec;
    /** Headers sent with every request of this auth's clients. */
    headers?: Record<string, string>;
    /** Vault Enterprise namespace. */
    namespace?: string;
    /** Namespaces whose secrets may use this VaultAuth (for a VaultAuth in another namespace). */
    allowedNamespaces?: string[];
}

/** `VaultStaticSecret.spec.destination.transformation`. */
export interface VaultStaticSecretTransformation {
    /** Leave out the `_raw` key (the whole secret as JSON). */
    excludeRaw?: boolean;
    excludes?: string[];
    includes?: string[];
}

/** `VaultStaticSecret.spec.destination`: the Kubernetes Secret VSO writes. */
export interface VaultStaticSecretDestination {
    name: string;
    /** Create the Secret (and own it). */
    create?: boolean;
    /** Take over a Secret that already exists. */
    overwrite?: boolean;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    type?: string;
    transformation?: VaultStaticSecretTransformation;
}

/** `VaultStaticSecret.spec`: copy one KV secret into one Kubernetes Secret. */
export interface VaultStaticSecretSpec {
    /** VaultAuth in the same namespace. */
    vaultAuthRef?: string;
    /** KV mount, e.g. `kv`. */
    mount: string;
    /** Secret path relative to the mount. */
    path: string;
    type: "kv-v1" | "kv-v2";
    /** KV v2 version to read; latest when absent. */
    version?: number;
    /** How often VSO re-reads, e.g. `60s`. */
    refreshAfter?: string;
    /** Keep an HMAC of the data in VSO's status to detect changes. */
    hmacSecretData?: boolean;
    rolloutRestartTargets?: RolloutRestartTarget[];
    destination: VaultStaticSecretDestination;
}

/** A VSO object as read from the cluster (fields are untrusted and may be missing or of any type). */
export interface VsoObject<S> {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; generation?: number };
    spec?: Partial<S>;
    status?: Record<string, unknown>;
}
