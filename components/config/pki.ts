/**
 * TLS certificates from Vault's PKI engine through VSO (issue 21, item 2): the args of a PKI mount with
 * its root CA and of each app's certificate, their checks and their plan (pure).
 *
 * Each app gets an issuing role of its own whose allowed domains are exactly the names the app asks
 * for (no subdomains, globs, wildcards or any-name), so a namespace can issue nothing wider.
 */
import { durationSeconds } from "./database";
import { ValidationProblem, checkKubernetesName, checkMountPath, checkRolloutRestartTarget, typeProblem } from "./validate";
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
}

/** Vault's PKI engine with a root CA of its own, and the apps' certificates. */
export interface PkiArgs {
    /** Mount path of the PKI engine. Default `"pki"`. */
    path?: string;
    /** The root CA's common name. Default `"pulumi-vault-vso root CA"`. */
    caCommonName?: string;
    /** The root CA's lifetime. Default `"87600h"` (10 years). */
    caTtl?: string;
    /** The apps' certificates. */
    certificates: PkiCertificateArgs[];
}

export const PKI_DEFAULTS = { path: "pki", caCommonName: "pulumi-vault-vso root CA", caTtl: 87600 * 3600, ttl: 720 * 3600 } as const;
export const PKI_FIELDS = ["path", "caCommonName", "caTtl", "certificates"];
export const PKI_CERTIFICATE_FIELDS = ["name", "namespace", "commonName", "altNames", "ttl", "expiryOffset", "destination", "rolloutRestartTargets"];

/** One app's certificate as planned. */
export interface PkiCertificatePlan {
    app: string;
    namespace: string;
    /** The issuing role: `[<cluster>-]<namespace>-<app>`. */
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
    d.certificates.forEach((c, i) => {
        const p = `${field}.certificates[${i}]`;
        problems.push(...certificateProblems(p, c));
        if (!isObject(c) || typeof c.name !== "string" || typeof c.namespace !== "string") {
            return;
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

/** Plans validated PKI args (pure). */
export function planPki(d: PkiArgs, cluster?: string): PkiPlan {
    const path = d.path ?? PKI_DEFAULTS.path;
    const certificates = d.certificates.map((c) => {
        const ttl = durationSeconds(c.ttl ?? PKI_DEFAULTS.ttl)!;
        const roleName = pkiRoleName(c.namespace, c.name, cluster);
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
