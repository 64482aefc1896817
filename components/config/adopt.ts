/**
 * An existing hand-built setup adopted by the platform (pure): its shape, its checks and the plan that keeps its names.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformPlan } from "./plan";
import { FieldType, ValidationProblem, checkKubernetesName, checkType, checkVaultName } from "./validate";

/** A Vault ACL policy kept exactly as it is (its text, byte for byte). */
export interface AdoptedPolicy {
    name: string;
    policy: string;
}

/** A Kubernetes auth role kept exactly as it is. Fields Vault holds at their defaults are left out. */
export interface AdoptedRole {
    name: string;
    boundServiceAccountNames: string[];
    boundServiceAccountNamespaces: string[];
    tokenPolicies?: string[];
    /** Seconds; omitted when 0. */
    tokenTtl?: number;
    /** Seconds; omitted when 0. */
    tokenMaxTtl?: number;
    audience?: string;
    aliasNameSource?: string;
}

/** A namespaced VSO object kept exactly as it is (its labels, annotations and spec). */
export interface AdoptedObject {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** The object's spec, as found. */
    spec: pulumi.Inputs;
}

/** One namespace's VaultConnection and VaultAuth, kept as they are. */
export interface AdoptedNamespace {
    namespace: string;
    connection: AdoptedObject;
    auth: AdoptedObject;
}

/** The Kubernetes auth method's config as found. Vault never returns the token reviewer JWT; it is left as it is. */
export interface AdoptedAuthConfig {
    kubernetesHost: string;
    kubernetesCaCert?: string;
    disableIssValidation?: boolean;
    disableLocalCaJwt?: boolean;
    issuer?: string;
}

/** An existing database connection: imported; its `allowed_roles` kept as found while adopted, plus the planned roles that name it (the convention step narrows them to exactly those). */
export interface AdoptedDatabaseConnection {
    name: string;
    allowedRoles: string[];
    /** Settings found beside the package's, kept while adopted (left out at the provider's defaults). */
    passwordPolicy?: string;
    rootRotationStatements?: string[];
    usernameTemplate?: string;
    passwordAuthentication?: string;
    disableEscaping?: boolean;
}

/**
 * An existing PKI issuing role, kept exactly as found while adopted; the convention step narrows it to
 * exactly its certificate's names (the package's role). Fields Vault holds at the provider's defaults are left out.
 */
export interface AdoptedPkiRole {
    name: string;
    allowedDomains?: string[];
    allowBareDomains?: boolean;
    allowSubdomains?: boolean;
    allowGlobDomains?: boolean;
    allowAnyName?: boolean;
    allowIpSans?: boolean;
    allowLocalhost?: boolean;
    enforceHostnames?: boolean;
    serverFlag?: boolean;
    clientFlag?: boolean;
    keyType?: string;
    keyBits?: number;
    keyUsages?: string[];
    /** Seconds, as Vault reads them back; omitted when 0. */
    ttl?: string;
    maxTtl?: string;
    noStore?: boolean;
    generateLease?: boolean;
    requireCn?: boolean;
    allowWildcardCertificates?: boolean;
    useCsrCommonName?: boolean;
    useCsrSans?: boolean;
    extKeyUsages?: string[];
    organizationUnit?: string[];
    organizations?: string[];
    countries?: string[];
    localities?: string[];
    provinces?: string[];
    streetAddresses?: string[];
    postalCodes?: string[];
    allowedUriSans?: string[];
    allowedOtherSans?: string[];
    codeSigningFlag?: boolean;
    emailProtectionFlag?: boolean;
    basicConstraintsValidForNonCa?: boolean;
    allowedDomainsTemplate?: boolean;
    allowedSerialNumbers?: string[];
    policyIdentifiers?: string[];
}

/**
 * What already exists and is taken over as it is (the `adopted` section `npm run adopt` writes).
 * Everything here is imported on the first `up` (Pulumi's `import` option; ignored once the object is
 * in the stack's state) and never deleted by the stack: dropping the section (the convention step)
 * releases the old policies, roles and VSO objects from the stack and leaves them in place.
 */
export interface AdoptedSetup {
    /** The KV v2 mount at `kv.path` exists: import it. Default `false` (create it). */
    kvMount?: boolean;
    /** The Kubernetes auth mount at `kubernetesAuth.path` exists: import it. Default `false` (create it). */
    authMount?: boolean;
    /** The auth method's config exists: import it with these values. Default: none (write the package's config). */
    authConfig?: AdoptedAuthConfig;
    /** Policies the adopted roles use, kept verbatim. Default none. */
    policies?: AdoptedPolicy[];
    /** Kubernetes auth roles the adopted VaultAuths log in with, kept verbatim. Default none. */
    roles?: AdoptedRole[];
    /** Per namespace: the VaultConnection and VaultAuth the apps use, kept verbatim. Default none. */
    namespaces?: AdoptedNamespace[];
    /** The apps' VaultStaticSecrets, kept verbatim (matched to `apps[]` by namespace and name). Default none. */
    staticSecrets?: AdoptedObject[];
    /** The database engine's mount at `database.path` exists: import it. Default `false` (create it). */
    databaseMount?: boolean;
    /** Database connections that exist (by `database.connections[].name`): import them. Default none. */
    databaseConnections?: AdoptedDatabaseConnection[];
    /** Vault names of database roles that exist (dynamic or static; `database.roles[]`'s Vault role): import them. Default none. */
    databaseRoles?: string[];
    /** The credentials' VaultDynamicSecrets, kept verbatim (matched to `database.roles[]` by namespace and name). Default none. */
    dynamicSecrets?: AdoptedObject[];
    /** The PKI engine's mount at `pki.path` exists: import it (its CA too is outside the stack: `pki.ca.type` "existing"). Default `false`. */
    pkiMount?: boolean;
    /** PKI issuing roles that exist, imported and kept as found (by `pki.certificates[]`'s role name). Default none. */
    pkiRoles?: AdoptedPkiRole[];
    /** The certificates' VaultPKISecrets, kept verbatim (matched to `pki.certificates[]` by namespace and name). Default none. */
    pkiSecrets?: AdoptedObject[];
}

const OBJECT_TYPE: FieldType = {
    fields: { name: "string", namespace: "string", labels: { mapOf: "string" }, annotations: { mapOf: "string" }, spec: "map" },
    required: ["name", "namespace", "spec"],
    what: "a Kubernetes object as `npm run adopt` writes it (name, namespace, spec)",
};

/** The shape of the `adopted` section. */
export const ADOPTED_TYPE: FieldType = {
    fields: {
        kvMount: "boolean",
        authMount: "boolean",
        authConfig: {
            fields: { kubernetesHost: "string", kubernetesCaCert: "string", disableIssValidation: "boolean", disableLocalCaJwt: "boolean", issuer: "string" },
            required: ["kubernetesHost"],
        },
        policies: { list: { fields: { name: "string", policy: "string" }, required: ["name", "policy"] } },
        roles: {
            list: {
                fields: {
                    name: "string",
                    boundServiceAccountNames: { list: "string" },
                    boundServiceAccountNamespaces: { list: "string" },
                    tokenPolicies: { list: "string" },
                    tokenTtl: "integer",
                    tokenMaxTtl: "integer",
                    audience: "string",
                    aliasNameSource: "string",
                },
                required: ["name", "boundServiceAccountNames", "boundServiceAccountNamespaces"],
            },
        },
        namespaces: { list: { fields: { namespace: "string", connection: OBJECT_TYPE, auth: OBJECT_TYPE }, required: ["namespace", "connection", "auth"] } },
        staticSecrets: { list: OBJECT_TYPE },
        databaseMount: "boolean",
        databaseConnections: {
            list: {
                fields: {
                    name: "string",
                    allowedRoles: { list: "string" },
                    passwordPolicy: "string",
                    rootRotationStatements: { list: "string" },
                    usernameTemplate: "string",
                    passwordAuthentication: "string",
                    disableEscaping: "boolean",
                },
                required: ["name", "allowedRoles"],
            },
        },
        databaseRoles: { list: "string" },
        dynamicSecrets: { list: OBJECT_TYPE },
        pkiMount: "boolean",
        pkiRoles: {
            list: {
                fields: {
                    name: "string",
                    allowedDomains: { list: "string" },
                    allowBareDomains: "boolean",
                    allowSubdomains: "boolean",
                    allowGlobDomains: "boolean",
                    allowAnyName: "boolean",
                    allowIpSans: "boolean",
                    allowLocalhost: "boolean",
                    enforceHostnames: "boolean",
                    serverFlag: "boolean",
                    clientFlag: "boolean",
                    keyType: "string",
                    keyBits: "integer",
                    keyUsages: { list: "string" },
                    ttl: "string",
                    maxTtl: "string",
                    noStore: "boolean",
                    generateLease: "boolean",
                    requireCn: "boolean",
                    allowWildcardCertificates: "boolean",
                    useCsrCommonName: "boolean",
                    useCsrSans: "boolean",
                    extKeyUsages: { list: "string" },
                    organizationUnit: { list: "string" },
                    organizations: { list: "string" },
                    countries: { list: "string" },
                    localities: { list: "string" },
                    provinces: { list: "string" },
                    streetAddresses: { list: "string" },
                    postalCodes: { list: "string" },
                    allowedUriSans: { list: "string" },
                    allowedOtherSans: { list: "string" },
                    codeSigningFlag: "boolean",
                    emailProtectionFlag: "boolean",
                    basicConstraintsValidForNonCa: "boolean",
                    allowedDomainsTemplate: "boolean",
                    allowedSerialNumbers: { list: "string" },
                    policyIdentifiers: { list: "string" },
                },
                required: ["name"],
            },
        },
        pkiSecrets: { list: OBJECT_TYPE },
    },
};

/**
 * Validates the `adopted` section (pure): types, unknown fields and names, so a hand-edited section
 * fails before any API call, naming the field.
 */
export function validateAdoptedSetup(a: AdoptedSetup | undefined, field = "adopted"): ValidationProblem[] {
    const t = checkType(field, a, ADOPTED_TYPE);
    if (t.problems.length || a === undefined) {
        return t.problems;
    }
    const problems: ValidationProblem[] = [];
    (a.policies ?? []).forEach((p, i) => problems.push(...checkVaultName(`${field}.policies[${i}].name`, p.name)));
    (a.roles ?? []).forEach((r, i) => problems.push(...checkVaultName(`${field}.roles[${i}].name`, r.name)));
    (a.databaseConnections ?? []).forEach((c, i) => problems.push(...checkVaultName(`${field}.databaseConnections[${i}].name`, c.name)));
    (a.databaseRoles ?? []).forEach((r, i) => problems.push(...checkVaultName(`${field}.databaseRoles[${i}]`, r)));
    (a.pkiRoles ?? []).forEach((r, i) => problems.push(...checkVaultName(`${field}.pkiRoles[${i}].name`, r.name)));
    // one entry per policy and role: each is imported as its own resource, and two for one name
    // would be two resources with one URN
    for (const [list, what] of [
        [a.policies ?? [], "policies"],
        [a.roles ?? [], "roles"],
    ] as const) {
        const first = new Map<string, number>();
        list.forEach((x, i) => {
            const prev = first.get(x.name);
            if (prev !== undefined) {
                problems.push({
                    field: `${field}.${what}[${i}].name`,
                    message: `${JSON.stringify(x.name)} is also the name of ${field}.${what}[${prev}]; Vault holds one ${what === "policies" ? "policy" : "role"} per name: keep one entry`,
                });
            } else {
                first.set(x.name, i);
            }
        });
    }
    const objects: [string, AdoptedObject][] = [
        ...(a.namespaces ?? []).flatMap((n, i): [string, AdoptedObject][] => [
            [`${field}.namespaces[${i}].connection`, n.connection],
            [`${field}.namespaces[${i}].auth`, n.auth],
        ]),
        ...(a.staticSecrets ?? []).map((s, i): [string, AdoptedObject] => [`${field}.staticSecrets[${i}]`, s]),
        ...(a.dynamicSecrets ?? []).map((s, i): [string, AdoptedObject] => [`${field}.dynamicSecrets[${i}]`, s]),
        ...(a.pkiSecrets ?? []).map((s, i): [string, AdoptedObject] => [`${field}.pkiSecrets[${i}]`, s]),
    ];
    for (const [f, o] of objects) {
        problems.push(...checkKubernetesName(`${f}.name`, o.name, "subdomain"), ...checkKubernetesName(`${f}.namespace`, o.namespace, "label"));
    }
    (a.namespaces ?? []).forEach((n, i) => {
        for (const part of ["connection", "auth"] as const) {
            if (n[part].namespace !== n.namespace) {
                problems.push({
                    field: `${field}.namespaces[${i}].${part}.namespace`,
                    message: `must be ${JSON.stringify(n.namespace)}, the entry's namespace`,
                });
            }
        }
    });
    return problems;
}

/** The adopted VaultConnection/VaultAuth of a namespace, if any (pure). */
export function adoptedNamespace(a: AdoptedSetup | undefined, namespace: string): AdoptedNamespace | undefined {
    return (a?.namespaces ?? []).find((n) => n?.namespace === namespace);
}

/** The adopted VaultDynamicSecret of a database credential, if any (pure). */
export function adoptedDynamicSecret(a: AdoptedSetup | undefined, namespace: string, name: string): AdoptedObject | undefined {
    return (a?.dynamicSecrets ?? []).find((s) => s?.namespace === namespace && s?.name === name);
}

/** The adopted VaultPKISecret of a certificate, if any (pure). */
export function adoptedPkiSecret(a: AdoptedSetup | undefined, namespace: string, name: string): AdoptedObject | undefined {
    return (a?.pkiSecrets ?? []).find((s) => s?.namespace === namespace && s?.name === name);
}

/** The adopted VaultStaticSecret of an app, if any (pure). */
export function adoptedStaticSecret(a: AdoptedSetup | undefined, namespace: string, name: string): AdoptedObject | undefined {
    return (a?.staticSecrets ?? []).find((s) => s?.namespace === namespace && s?.name === name);
}

/**
 * The plan as it stands while the setup is adopted (pure): a namespace whose VaultAuth was adopted
 * logs in with that VaultAuth's role, ServiceAccount and connection; its apps keep their destination
 * and refresh interval. That is what the inventory (and so the drift check and the doctor) see.
 */
export function adoptedPlan(plan: PlatformPlan, a: AdoptedSetup | undefined): PlatformPlan {
    if (!a) {
        return plan;
    }
    return {
        ...plan,
        namespaces: plan.namespaces.map((n) => {
            const ad = adoptedNamespace(a, n.namespace);
            if (!ad) {
                return n;
            }
            const k = (ad.auth.spec.kubernetes ?? {}) as { role?: string; serviceAccount?: string; audiences?: unknown };
            const role = (a.roles ?? []).find((r) => r.name === k.role);
            return {
                ...n,
                roleName: k.role ?? n.roleName,
                serviceAccountName: k.serviceAccount ?? "default",
                policyName: (role?.tokenPolicies ?? []).join(",") || n.policyName,
                policyText: (a.policies ?? [])
                    .filter((p) => (role?.tokenPolicies ?? []).includes(p.name))
                    .map((p) => p.policy)
                    .join("\n"),
                authName: ad.auth.name,
                connectionName: ad.connection.name,
                // what the adopted VaultAuth asks for, so the doctor's check compares with it, not the default
                audience: (Array.isArray(k.audiences) ? k.audiences.map(String) : []).sort().join(","),
            };
        }),
    };
}

/** The Kubernetes object of an adopted VSO object (pure): metadata and spec exactly as found. */
export function adoptedManifest(kind: string, apiVersion: string, o: AdoptedObject): Record<string, unknown> {
    const metadata: Record<string, unknown> = { name: o.name, namespace: o.namespace };
    if (o.labels && Object.keys(o.labels).length) {
        metadata.labels = o.labels;
    }
    if (o.annotations && Object.keys(o.annotations).length) {
        metadata.annotations = o.annotations;
    }
    return { apiVersion, kind, metadata, spec: o.spec };
}

/**
 * Fields the Vault provider this repository builds (terraform-provider-vault of February 2022) cannot
 * write: adopt keeps them in `adopted` as found, the components never send them (the provider would
 * refuse the unknown input), and adopt says what an update of the object may reset.
 */
export const PROVIDER_CANNOT_WRITE = {
    pkiRole: ["allowWildcardCertificates", "allowedSerialNumbers"],
    databaseConnection: ["passwordPolicy", "passwordAuthentication", "disableEscaping"],
} as const;
