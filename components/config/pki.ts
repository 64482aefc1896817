/**
 * TLS certificates from Vault's PKI engine through VSO (issue 21, item 2): the args of a PKI mount with
 * its root CA and of each app's certificate, their checks and their plan (pure).
 *
 * Each app gets an issuing role of its own whose allowed domains are exactly the names the app asks
 * for (no subdomains, globs, wildcards or any-name), so a namespace can issue nothing wider.
 */
import * as pulumi from "@pulumi/pulumi";
import { durationSeconds } from "./database";
import { ValidationProblem, checkKubernetesName, checkMountPath, checkRolloutRestartTarget, checkVaultName, typeProblem } from "./validate";
import { RolloutRestartTarget } from "./vso-types";

/** One app's certificate: a VaultPKISecret writing a `kubernetes.io/tls` Secret. */
export interface PkiCertificateArgs {
    /** The app: its VaultPKISecret and (default) its Secret are called so. */
    name: string;
    /** Namespace of the app; its policy gains exactly `<pki>/issue/<role>`. */
    namespace: string;
    /** The certificate's common name, a DNS name such as `"app.homelab.lan"`. */
    commonName: string;
    /** More DNS names (subject alternative names). Default none. */
    altNames?: string[];
    /** The certificate's lifetime, seconds or a duration ("90s", "15m", "720h"). Default `"720h"`. */
    ttl?: string;
    /** VSO renews the certificate this long before it expires. Default: a third of `ttl`. */
    expiryOffset?: string;
    /** Kubernetes Secret VSO writes (`tls.crt`, `tls.key`, `ca.crt`). Default: `name`. */
    destination?: string;
    /** Workloads restarted when the certificate is renewed. Default none. */
    rolloutRestartTargets?: RolloutRestartTarget[];
    /**
     * The issuing role's name. Default `[<cluster>-]<namespace>-<name>`. `npm run adopt` sets it for an
     * existing role named otherwise, so the role keeps its name after the convention step.
     */
    roleName?: string;
}

/** Where the PKI mount's CA comes from. */
export interface PkiCaArgs {
    /**
     * `"internal"` (default): the stack generates a root CA in Vault (`caCommonName`, `caTtl`; its key
     * never leaves Vault). `"existing"`: the mount's CA/issuer is managed outside this stack (an imported
     * or intermediate CA, or one `npm run adopt` found); the stack creates none and never touches it.
     * `"imported"`: the stack sets the mount's CA from `pemBundle` (your own CA, e.g. an intermediate
     * your offline root signed), so the apps' certificates chain to it.
     * (A string, not a literal type: the YAML component provider infers the schema from these types.)
     */
    type?: string;
    /**
     * `ca.type` "imported" only (and required there): the CA certificate and its private key, PEM, as a
     * Pulumi secret (`pulumi.secret(...)`; in the homelab program the secret config `pkiCaBundle`). It is
     * written to Vault (`<pki>/config/ca`) and kept only as a ciphertext in the state.
     */
    pemBundle?: pulumi.Input<string>;
}

/** Vault's PKI engine with a root CA of its own, and the apps' certificates. */
export interface PkiArgs {
    /** Mount path of the PKI engine. Default `"pki"`. */
    path?: string;
    /** The mount's CA. Default `{ type: "internal" }`: a root CA generated in Vault. */
    ca?: PkiCaArgs;
    /** The root CA's common name (`ca.type` "internal" only). Default `"pulumi-vault-vso root CA"`. */
    caCommonName?: string;
    /** The root CA's lifetime (`ca.type` "internal" only). Default `"87600h"` (10 years). */
    caTtl?: string;
    /** The apps' certificates. */
    certificates: PkiCertificateArgs[];
}

export const PKI_DEFAULTS = { path: "pki", caCommonName: "pulumi-vault-vso root CA", caTtl: 87600 * 3600, ttl: 720 * 3600 } as const;
export const PKI_FIELDS = ["path", "ca", "caCommonName", "caTtl", "certificates"];
export const PKI_CERTIFICATE_FIELDS = [
    "name",
    "namespace",
    "commonName",
    "altNames",
    "ttl",
    "expiryOffset",
    "destination",
    "rolloutRestartTargets",
    "roleName",
];
/** The values of `pki.ca.type`. */
export const PKI_CA_TYPES = ["internal", "existing", "imported"];

/** One app's certificate as planned. */
export interface PkiCertificatePlan {
    app: string;
    namespace: string;
    /** The issuing role: `roleName`, else `[<cluster>-]<namespace>-<app>`. */
    roleName: string;
    commonName: string;
    altNames: string[];
    /** Exactly the names the role allows (common name and alt names). */
    allowedDomains: string[];
    ttl: number;
    expiryOffset: number;
    /** What the namespace's policy grants `update` on: `<pki>/issue/<role>`. */
    policyPath: string;
    destination: string;
    rolloutRestartTargets: RolloutRestartTarget[];
}

export interface PkiPlan {
    path: string;
    /** "internal": the stack generates the root CA; "existing": the mount's CA is managed elsewhere (none created); "imported": set from `ca.pemBundle`. */
    ca: "internal" | "existing" | "imported";
    caCommonName: string;
    caTtl: number;
    /** The mount's max lease TTL: the longest certificate. */
    maxTtl: number;
    certificates: PkiCertificatePlan[];
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkDnsName(field: string, v: unknown): ValidationProblem[] {
    if (typeof v !== "string") {
        return [typeProblem(field, 'a DNS name such as "app.homelab.lan"', v)];
    }
    if (v.includes("*")) {
        return [{ field, message: `${JSON.stringify(v)} is a wildcard: each app's role allows exactly the names it lists; list the names instead` }];
    }
    if (!DNS_NAME.test(v)) {
        return [{ field, message: `${JSON.stringify(v)} is not a DNS name: lower-case labels of letters, digits and '-', separated by dots` }];
    }
    return [];
}

function checkTtl(field: string, v: unknown): ValidationProblem[] {
    if (typeof v !== "number" && typeof v !== "string") {
        return [typeProblem(field, 'seconds or a duration such as "90s", "15m" or "720h"', v)];
    }
    return durationSeconds(v) === undefined
        ? [{ field, message: `${JSON.stringify(v)} is not a duration: give whole seconds or a number followed by s, m or h` }]
        : [];
}

/** Issuing role name of one app's certificate (pure). */
export function pkiRoleName(namespace: string, app: string, cluster?: string): string {
    return [cluster, namespace, app].filter((p) => p !== undefined && p !== "").join("-");
}

function certificateProblems(p: string, c: unknown): ValidationProblem[] {
    if (!isObject(c)) {
        return [typeProblem(p, "an object { name, namespace, commonName, ... }", c)];
    }
    const problems = [
        ...checkKubernetesName(`${p}.name`, c.name, "subdomain"),
        ...checkKubernetesName(`${p}.namespace`, c.namespace, "label"),
        ...checkDnsName(`${p}.commonName`, c.commonName),
    ];
    if (c.altNames !== undefined) {
        if (!Array.isArray(c.altNames)) {
            problems.push(typeProblem(`${p}.altNames`, "a list of DNS names", c.altNames));
        } else {
            c.altNames.forEach((n, i) => problems.push(...checkDnsName(`${p}.altNames[${i}]`, n)));
        }
    }
    const ttlProblems = [
        ...(c.ttl !== undefined ? checkTtl(`${p}.ttl`, c.ttl) : []),
        ...(c.expiryOffset !== undefined ? checkTtl(`${p}.expiryOffset`, c.expiryOffset) : []),
    ];
    problems.push(...ttlProblems);
    if (!ttlProblems.length && c.expiryOffset !== undefined) {
        const ttl = durationSeconds(c.ttl ?? PKI_DEFAULTS.ttl)!;
        const off = durationSeconds(c.expiryOffset)!;
        if (off >= ttl) {
            problems.push({
                field: `${p}.expiryOffset`,
                message: `${off}s is not shorter than the certificate's ttl (${ttl}s): VSO would renew it all the time; make it a fraction of ttl (default a third)`,
            });
        }
    }
    if (c.destination !== undefined) {
        problems.push(...checkKubernetesName(`${p}.destination`, c.destination, "subdomain"));
    }
    if (c.roleName !== undefined) {
        problems.push(...checkVaultName(`${p}.roleName`, c.roleName));
    }
    if (c.rolloutRestartTargets !== undefined) {
        if (!Array.isArray(c.rolloutRestartTargets)) {
            problems.push(typeProblem(`${p}.rolloutRestartTargets`, "a list of { kind, name }", c.rolloutRestartTargets));
        } else {
            c.rolloutRestartTargets.forEach((t, i) => problems.push(...checkRolloutRestartTarget(`${p}.rolloutRestartTargets[${i}]`, t)));
        }
    }
    for (const k of Object.keys(c)) {
        if (!PKI_CERTIFICATE_FIELDS.includes(k)) {
            problems.push({ field: `${p}.${k}`, message: `is not a field of a certificate (known: ${PKI_CERTIFICATE_FIELDS.join(", ")})` });
        }
    }
    return problems;
}

/**
 * Checks the PKI args (pure), before any resource: shapes and types from YAML, DNS names (no
 * wildcards), TTLs, an expiry offset not shorter than the TTL, and two certificates (or a certificate
 * and another app, `taken`: "<namespace>/<name>" → who) with the same name or Secret in a namespace.
 */
export function validatePkiArgs(d: unknown, field = "pki", opts: { taken?: Map<string, string>; cluster?: string } = {}): ValidationProblem[] {
    if (d === undefined) {
        return [];
    }
    if (!isObject(d)) {
        return [typeProblem(field, "an object { path, certificates }", d)];
    }
    const problems: ValidationProblem[] = [];
    if (d.path !== undefined) {
        problems.push(...checkMountPath(`${field}.path`, d.path));
    }
    if (d.caCommonName !== undefined && (typeof d.caCommonName !== "string" || d.caCommonName.trim() === "")) {
        problems.push(typeProblem(`${field}.caCommonName`, "a non-empty string", d.caCommonName));
    }
    if (d.caTtl !== undefined) {
        problems.push(...checkTtl(`${field}.caTtl`, d.caTtl));
    }
    problems.push(...caProblems(field, d));
    for (const k of Object.keys(d)) {
        if (!PKI_FIELDS.includes(k)) {
            problems.push({ field: `${field}.${k}`, message: `is not a field of pki (known: ${PKI_FIELDS.join(", ")})` });
        }
    }
    if (!Array.isArray(d.certificates) || d.certificates.length === 0) {
        problems.push(typeProblem(`${field}.certificates`, "a non-empty list of certificates", d.certificates));
        return problems;
    }
    const taken = new Map(opts.taken ?? []);
    const roles = new Map<string, string>();
    d.certificates.forEach((c, i) => {
        const p = `${field}.certificates[${i}]`;
        problems.push(...certificateProblems(p, c));
        if (!isObject(c) || typeof c.name !== "string" || typeof c.namespace !== "string") {
            return;
        }
        const role = typeof c.roleName === "string" ? c.roleName : pkiRoleName(c.namespace, c.name, opts.cluster);
        const firstRole = roles.get(role);
        // (two certificates of one name in a namespace: the name's own problem below says it)
        if (firstRole !== undefined && !taken.has(`${c.namespace}/${c.name}`)) {
            problems.push({
                field: `${p}.${c.roleName !== undefined ? "roleName" : "name"}`,
                message: `the issuing role ${JSON.stringify(role)} is already ${firstRole}'s: each certificate has a role of its own (allowing exactly its names)`,
            });
        } else {
            roles.set(role, p);
        }
        for (const [key, f] of [
            [`${c.namespace}/${c.name}`, "name"],
            [`secret:${c.namespace}/${typeof c.destination === "string" ? c.destination : c.name}`, c.destination !== undefined ? "destination" : "name"],
        ] as const) {
            const first = taken.get(key);
            if (first !== undefined) {
                problems.push({ field: `${p}.${f}`, message: `${key.replace(/^secret:/, "the Secret ")} is already taken by ${first}: give each its own` });
            } else {
                taken.set(key, p);
            }
        }
    });
    return problems;
}

/** `ca`: a known type; the root CA's fields only with the root CA the stack generates (pure). */
function caProblems(field: string, d: Record<string, unknown>): ValidationProblem[] {
    if (d.ca === undefined) {
        return [];
    }
    if (!isObject(d.ca)) {
        return [typeProblem(`${field}.ca`, 'an object { type: "internal" | "existing" | "imported", pemBundle? }', d.ca)];
    }
    const problems: ValidationProblem[] = [];
    for (const k of Object.keys(d.ca)) {
        if (k !== "type" && k !== "pemBundle") {
            problems.push({ field: `${field}.ca.${k}`, message: "is not a field of ca (known: type, pemBundle)" });
        }
    }
    const t = d.ca.type ?? "internal";
    if (typeof t !== "string" || !PKI_CA_TYPES.includes(t)) {
        problems.push({
            field: `${field}.ca.type`,
            message: `${JSON.stringify(t)} is not a CA type: use "internal" (the stack generates a root CA in Vault, the default), "existing" (the mount's CA is managed outside this stack; none is created) or "imported" (the stack sets your CA from ca.pemBundle)`,
        });
        return problems;
    }
    if (t !== "internal") {
        for (const k of ["caCommonName", "caTtl"]) {
            if (d[k] !== undefined) {
                problems.push({
                    field: `${field}.${k}`,
                    message: `applies to the root CA the stack generates; with ${field}.ca.type ${JSON.stringify(t)} it creates none: remove ${field}.${k}, or set ca.type "internal"`,
                });
            }
        }
    }
    const bundle = d.ca.pemBundle;
    if (t === "imported") {
        if (bundle === undefined || bundle === null || bundle === "") {
            problems.push({
                field: `${field}.ca.pemBundle`,
                message: `is required with ${field}.ca.type "imported": the CA certificate and its private key (PEM) as a Pulumi secret, e.g. pemBundle: pulumi.secret(fs.readFileSync("ca-bundle.pem", "utf8")) (homelab program: pulumi config set --secret pkiCaBundle < ca-bundle.pem)`,
            });
        } else if (typeof bundle === "string") {
            // a plain string can be checked; its text is never echoed (it holds a private key)
            if (!/-----BEGIN CERTIFICATE-----/.test(bundle) || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(bundle)) {
                problems.push({
                    field: `${field}.ca.pemBundle`,
                    message:
                        "must hold the CA certificate and its private key, PEM (-----BEGIN CERTIFICATE----- and -----BEGIN [RSA |EC ]PRIVATE KEY-----); its text is not shown",
                });
            }
        } else if (!pulumi.Output.isInstance(bundle) && !(bundle instanceof Promise)) {
            problems.push(typeProblem(`${field}.ca.pemBundle`, "a PEM string (a Pulumi secret)", "<not shown>"));
        }
    } else if (bundle !== undefined) {
        problems.push({
            field: `${field}.ca.pemBundle`,
            message: `is only used with ${field}.ca.type "imported": remove it, or set ca.type "imported"`,
        });
    }
    return problems;
}

/** Plans validated PKI args (pure). */
export function planPki(d: PkiArgs, cluster?: string): PkiPlan {
    const path = d.path ?? PKI_DEFAULTS.path;
    const certificates = d.certificates.map((c) => {
        const ttl = durationSeconds(c.ttl ?? PKI_DEFAULTS.ttl)!;
        const roleName = c.roleName ?? pkiRoleName(c.namespace, c.name, cluster);
        const altNames = [...(c.altNames ?? [])];
        return {
            app: c.name,
            namespace: c.namespace,
            roleName,
            commonName: c.commonName,
            altNames,
            allowedDomains: Array.from(new Set([c.commonName, ...altNames])),
            ttl,
            expiryOffset: c.expiryOffset !== undefined ? durationSeconds(c.expiryOffset)! : Math.max(1, Math.floor(ttl / 3)),
            policyPath: `${path}/issue/${roleName}`,
            destination: c.destination ?? c.name,
            rolloutRestartTargets: (c.rolloutRestartTargets ?? []).map((t) => ({ kind: t.kind, name: t.name })),
        };
    });
    return {
        path,
        ca: d.ca?.type === "existing" || d.ca?.type === "imported" ? d.ca.type : "internal",
        caCommonName: d.caCommonName ?? PKI_DEFAULTS.caCommonName,
        caTtl: durationSeconds(d.caTtl ?? PKI_DEFAULTS.caTtl)!,
        maxTtl: Math.max(...certificates.map((c) => c.ttl)),
        certificates,
    };
}

/** The VaultPKISecret spec for one app's certificate (plain data). */
export function pkiSecretSpec(c: PkiCertificatePlan, mount: string, vaultAuthRef: string): Record<string, unknown> {
    return {
        vaultAuthRef,
        mount,
        role: c.roleName,
        commonName: c.commonName,
        ...(c.altNames.length ? { altNames: c.altNames } : {}),
        ttl: `${c.ttl}s`,
        expiryOffset: `${c.expiryOffset}s`,
        format: "pem",
        // the Secret goes with the object; the certificate is not revoked (that needs <pki>/revoke, which revokes any serial)
        clear: true,
        destination: { name: c.destination, create: true, type: "kubernetes.io/tls" },
        ...(c.rolloutRestartTargets.length ? { rolloutRestartTargets: c.rolloutRestartTargets } : {}),
    };
}
