/**
 * The policy pack's rules as plain functions (policy/pack.ts turns them into a `@pulumi/policy` PolicyPack):
 * one rule per pitfall of the hand-built Vault + VSO setup and per invariant this package keeps, each
 * with the fix in its message. They read `vault:*` resources and VSO custom resources
 * (`kubernetes:secrets.hashicorp.com/<version>:<Kind>`) whoever created them: this package's components,
 * `new vault.Policy(...)` by hand, or YAML through `k8s.yaml.ConfigFile`. A value not known yet (preview
 * of a value computed at apply) is skipped, never guessed. Messages name the resource's field, never a
 * secret value (the rules read no secret fields).
 */
import { checkRoleBinding } from "../components/config/validate";

/** One resource as the pack sees it (the `@pulumi/policy` ResourceValidationArgs fields the rules read). */
export interface PolicyResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
}

/** `mandatory` fails the preview; `advisory` is reported and lets it go on. */
export type Enforcement = "mandatory" | "advisory";

/** A rule about one resource at a time. */
export interface ResourceRule {
    name: string;
    description: string;
    enforcementLevel: Enforcement;
    /** The violations' messages (empty: none). */
    check(r: PolicyResource): string[];
}

/** A rule about the resources of the whole stack together. */
export interface StackRule {
    name: string;
    description: string;
    enforcementLevel: Enforcement;
    check(resources: PolicyResource[]): { urn: string; message: string }[];
}

export const VAULT_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";
export const VAULT_POLICY = "vault:index/policy:Policy";
export const VAULT_MOUNT = "vault:index/mount:Mount";

/** The VSO kind of a resource (`VaultStaticSecret`, ...), or undefined for anything else. */
export function vsoKind(type: string): string | undefined {
    const m = /^kubernetes:secrets\.hashicorp\.com\/[^:]+:(\w+)$/.exec(type);
    return m ? m[1] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function field(obj: unknown, ...path: string[]): unknown {
    let v: unknown = obj;
    for (const p of path) {
        if (!isObject(v)) {
            return undefined;
        }
        v = v[p];
    }
    return v;
}

function strings(v: unknown): string[] {
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/**
 * The namespace of a Kubernetes object; undefined when not known: not known yet (preview), or not set
 * (the Kubernetes provider's `namespace` option or the kubeconfig's context decides it, not the object).
 */
export function objectNamespace(props: Record<string, unknown>): string | undefined {
    const ns = field(props, "metadata", "namespace");
    return typeof ns === "string" && ns !== "" ? ns : undefined;
}

function objectName(props: Record<string, unknown>, fallback: string): string {
    const n = field(props, "metadata", "name");
    return typeof n === "string" ? n : fallback;
}

/** The `path "..."` stanzas of a Vault policy (HCL, or the JSON form Vault also takes) and their capabilities. */
export function policyPaths(text: string): { path: string; capabilities: string[] }[] {
    const out: { path: string; capabilities: string[] }[] = [];
    if (text.trim().startsWith("{")) {
        try {
            const doc = JSON.parse(text) as { path?: Record<string, { capabilities?: unknown }> };
            for (const [p, body] of Object.entries(isObject(doc.path) ? doc.path : {})) {
                out.push({ path: p, capabilities: strings(isObject(body) ? body.capabilities : undefined) });
            }
        } catch {
            // not JSON after all: Vault refuses it; nothing to check here
        }
        return out;
    }
    const hcl = stripHclComments(text);
    const re = /path\s+"([^"]*)"\s*\{/g;
    for (let m = re.exec(hcl); m; m = re.exec(hcl)) {
        // the stanza's body up to its own closing brace (allowed_parameters = { ... } nests)
        let depth = 1;
        let i = re.lastIndex;
        for (; i < hcl.length && depth > 0; i++) {
            depth += hcl[i] === "{" ? 1 : hcl[i] === "}" ? -1 : 0;
        }
        const body = hcl.slice(re.lastIndex, i - 1);
        const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(body);
        out.push({ path: m[1], capabilities: caps ? [...caps[1].matchAll(/"([^"]*)"/g)].map((c) => c[1]) : [] });
        re.lastIndex = i;
    }
    return out;
}

/** HCL without its comments (`#`, `//` to the end of the line, block comments), strings kept as they are. */
function stripHclComments(hcl: string): string {
    return hcl.replace(/("(?:[^"\\]|\\.)*")|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_all: string, str: string | undefined) => str ?? "");
}

const BINDING_FIELDS = [
    ["boundServiceAccountNamespaces", "bound_service_account_namespaces"],
    ["boundServiceAccountNames", "bound_service_account_names"],
] as const;

/** Each binding value of a role with the problem checkRoleBinding (the components' own check) finds in it. */
function bindingProblems(r: PolicyResource): { field: string; value: string; message: string }[] {
    const out: { field: string; value: string; message: string }[] = [];
    for (const [prop, vaultName] of BINDING_FIELDS) {
        for (const value of strings(r.props[prop])) {
            for (const p of checkRoleBinding(`${prop} (${vaultName})`, value, false)) {
                out.push({ field: p.field, value, message: p.message });
            }
        }
    }
    return out;
}

const hasQuote = (v: string) => /["'`]/.test(v);

export const resourceRules: ResourceRule[] = [
    {
        name: "vault-role-no-quoted-wildcard",
        description: 'A Kubernetes auth role bound to a quoted value (e.g. "\\"*\\"", as the Vault UI stores it) matches no namespace or service account.',
        enforcementLevel: "mandatory",
        check: (r) =>
            r.type !== VAULT_ROLE
                ? []
                : bindingProblems(r)
                      .filter((p) => hasQuote(p.value))
                      .map((p) => `role ${r.name}: ${p.field} ${p.message}. Fix: write the bare namespace or service account name, without quotes`),
    },
    {
        name: "vault-role-exact-bindings",
        description: "A Kubernetes auth role binds exact namespaces and service accounts: a wildcard or glob lets any namespace log in with the role.",
        enforcementLevel: "mandatory",
        check: (r) =>
            r.type !== VAULT_ROLE
                ? []
                : bindingProblems(r)
                      .filter((p) => !hasQuote(p.value) && p.value.includes("*"))
                      .map((p) => `role ${r.name}: ${p.field} ${p.message}. Fix: one role per namespace, bound to that namespace and its VSO service account`),
    },
    {
        name: "vault-role-no-default-serviceaccount",
        description: "A Kubernetes auth role bound to the `default` service account lets every pod of the namespace log in.",
        enforcementLevel: "mandatory",
        check: (r) =>
            r.type === VAULT_ROLE && strings(r.props.boundServiceAccountNames).includes("default")
                ? [
                      `role ${r.name}: boundServiceAccountNames includes "default", which every pod of the namespace runs as. Fix: bind a dedicated service account for VSO (this package's VsoNamespaceAccess creates "vso-auth")`,
                  ]
                : [],
    },
    {
        name: "vault-role-no-default-policy",
        description:
            "Tokens of a VSO role should carry only the namespace's policy, not Vault's `default` policy (anything added to `default` would reach them).",
        enforcementLevel: "advisory",
        check: (r) =>
            r.type === VAULT_ROLE && r.props.tokenNoDefaultPolicy !== true
                ? [
                      `role ${r.name}: tokenNoDefaultPolicy is ${r.props.tokenNoDefaultPolicy === undefined ? "not set" : String(r.props.tokenNoDefaultPolicy)}, so its tokens also get the "default" policy. Fix: set tokenNoDefaultPolicy: true`,
                  ]
                : [],
    },
    {
        name: "vault-default-policy-no-secrets",
        description: "Vault's `default` policy is attached to every token: a secret path in it is readable by every login, in every namespace.",
        enforcementLevel: "mandatory",
        check: (r) => {
            if (r.type !== VAULT_POLICY || r.props.name !== "default" || typeof r.props.policy !== "string") {
                return [];
            }
            return policyPaths(r.props.policy)
                .filter(
                    (p) =>
                        !/^(auth\/token|sys\/(capabilities|internal|renew|leases\/(renew|lookup)|tools|wrapping|control-group|mfa)|cubbyhole|identity\/(entity|oidc|mfa))/.test(
                            p.path,
                        ),
                )
                .map(
                    (p) =>
                        `policy ${r.name}: the "default" policy grants ${JSON.stringify(p.capabilities)} on "${p.path}", which every token in Vault carries. Fix: move the path into the policy of the one namespace that reads it (this package: VaultNamespaceAccess)`,
                );
        },
    },
    {
        name: "vault-policy-no-broad-wildcard",
        description:
            "A reading policy (read/list only, as VSO's are) grants exactly its paths: `*` at the top or right under a mount reads every secret of the mount.",
        enforcementLevel: "mandatory",
        check: (r) => {
            if (r.type !== VAULT_POLICY || typeof r.props.policy !== "string") {
                return [];
            }
            return (
                policyPaths(r.props.policy)
                    // read-only: a deployer's policy (create/update/delete on a whole mount) is another thing
                    .filter(
                        (p) =>
                            /^(\*|\+\/\*|[^/*+]+\/\*|[^/*+]+\/(data|metadata)\/\*)$/.test(p.path) &&
                            p.capabilities.includes("read") &&
                            p.capabilities.every((c) => c === "read" || c === "list"),
                    )
                    .map(
                        (p) =>
                            `policy ${r.name}: "${p.path}" grants ${JSON.stringify(p.capabilities)} on a whole mount (or all of Vault). Fix: grant the exact secret paths the namespace reads, e.g. "kv/data/<namespace>/<app>"`,
                    )
            );
        },
    },
    {
        name: "vso-not-in-default-namespace",
        description: "VSO objects (VaultConnection, VaultAuth, VaultStaticSecret, ...) belong in the app's own namespace, not `default`.",
        enforcementLevel: "mandatory",
        check: (r) => {
            const kind = vsoKind(r.type);
            if (!kind || kind.startsWith("Cluster") || objectNamespace(r.props) !== "default") {
                return [];
            }
            return [
                `${kind} ${objectName(r.props, r.name)}: metadata.namespace is "default", shared by every workload and ServiceAccount the cluster puts there. Fix: set metadata.namespace to the app's namespace`,
            ];
        },
    },
    {
        name: "vso-no-cluster-vault-connection",
        description: "VSO has no ClusterVaultConnection kind (the CRD does not exist): use a namespaced VaultConnection in each app namespace.",
        enforcementLevel: "mandatory",
        check: (r) =>
            vsoKind(r.type) === "ClusterVaultConnection"
                ? [
                      `ClusterVaultConnection ${objectName(r.props, r.name)}: VSO installs no such CRD, the apply fails with "no matches for kind". Fix: a VaultConnection in each app namespace`,
                  ]
                : [],
    },
    {
        name: "vso-auth-dedicated-serviceaccount",
        description: "A VaultAuth logs in as a dedicated service account, never `default` (or none, which VSO reads as `default`).",
        enforcementLevel: "mandatory",
        check: (r) => {
            const method = field(r.props, "spec", "method");
            // (the other methods, appRole, jwt, aws, gcp, log in without a ServiceAccount of the namespace)
            if (vsoKind(r.type) !== "VaultAuth" || (method !== undefined && method !== "kubernetes")) {
                return [];
            }
            const sa = field(r.props, "spec", "kubernetes", "serviceAccount");
            if (isObject(field(r.props, "spec")) && (sa === undefined || sa === "default")) {
                return [
                    `VaultAuth ${objectName(r.props, r.name)}: spec.kubernetes.serviceAccount is ${sa === undefined ? "not set" : '"default"'}: it logs in as the namespace's default service account, shared by every pod there. Fix: a dedicated service account (e.g. "vso-auth") bound by the Vault role`,
                ];
            }
            return [];
        },
    },
    {
        name: "vso-kv-v2-path-without-data",
        description: "For a kv-v2 mount, VSO adds `data/` itself: spec.path is the secret's path without `data/`, and spec.mount the bare mount.",
        enforcementLevel: "mandatory",
        check: (r) => {
            if (vsoKind(r.type) !== "VaultStaticSecret" || field(r.props, "spec", "type") !== "kv-v2") {
                return [];
            }
            const out: string[] = [];
            const p = field(r.props, "spec", "path");
            const mount = field(r.props, "spec", "mount");
            const name = objectName(r.props, r.name);
            if (typeof p === "string" && /^\/?(data|metadata)\//.test(p)) {
                out.push(
                    `VaultStaticSecret ${name}: spec.path "${p}" starts with "data/"; VSO reads "<mount>/data/<path>" itself, so this reads "…/data/data/…" and finds nothing. Fix: spec.path "${p.replace(/^\/?(data|metadata)\//, "")}"`,
                );
            }
            if (typeof mount === "string" && /\/(data|metadata)\/?$/.test(mount)) {
                out.push(
                    `VaultStaticSecret ${name}: spec.mount "${mount}" ends with a data/ segment. Fix: spec.mount "${mount.replace(/\/(data|metadata)\/?$/, "")}"`,
                );
            }
            return out;
        },
    },
    {
        name: "vso-connection-verifies-tls",
        description: "A VaultConnection to an https Vault verifies its certificate (skipTLSVerify: false, caCertSecretRef for a private CA).",
        enforcementLevel: "advisory",
        check: (r) =>
            vsoKind(r.type) === "VaultConnection" && field(r.props, "spec", "skipTLSVerify") === true
                ? [
                      `VaultConnection ${objectName(r.props, r.name)}: spec.skipTLSVerify is true: anyone on the path can read the secrets VSO fetches. Fix: spec.caCertSecretRef naming a Secret with the CA`,
                  ]
                : [],
    },
    {
        name: "vso-secret-rolls-its-workload",
        description: "A VaultStaticSecret names the workloads to restart when the value changes (rolloutRestartTargets); else pods keep the old value.",
        enforcementLevel: "advisory",
        check: (r) => {
            if (vsoKind(r.type) !== "VaultStaticSecret" || !isObject(r.props.spec)) {
                return [];
            }
            const t = field(r.props, "spec", "rolloutRestartTargets");
            return t === undefined || (Array.isArray(t) && t.length === 0)
                ? [
                      `VaultStaticSecret ${objectName(r.props, r.name)}: no spec.rolloutRestartTargets: a rotated value reaches the Secret, but running pods keep the old one. Fix: list the Deployments/StatefulSets that read it`,
                  ]
                : [];
        },
    },
];

/** KV v2 mount paths the stack enables (vault.Mount type kv-v2, or kv with options.version 2). */
export function kvV2Mounts(resources: PolicyResource[]): string[] {
    return resources
        .filter((r) => r.type === VAULT_MOUNT)
        .filter((r) => r.props.type === "kv-v2" || (r.props.type === "kv" && String(field(r.props, "options", "version")) === "2"))
        .map((r) => r.props.path)
        .filter((p): p is string => typeof p === "string")
        .map((p) => p.replace(/^\/+|\/+$/g, ""));
}

/** The stack's VaultAuth objects whose namespace and name are known. */
function vaultAuths(resources: PolicyResource[]): { ns: string; name: string; props: Record<string, unknown> }[] {
    return resources
        .filter((r) => vsoKind(r.type) === "VaultAuth")
        .map((r) => ({ ns: objectNamespace(r.props), name: field(r.props, "metadata", "name"), props: r.props }))
        .filter((a): a is { ns: string; name: string; props: Record<string, unknown> } => typeof a.ns === "string" && typeof a.name === "string");
}

const SECRET_KINDS = ["VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"];

export const stackRules: StackRule[] = [
    {
        name: "vso-vaultauth-same-namespace",
        description:
            'A VSO secret uses a VaultAuth of its own namespace: a reference into another namespace fails with "VaultAuth not found" unless that VaultAuth lists the secret\'s namespace in spec.allowedNamespaces.',
        enforcementLevel: "mandatory",
        check: (resources) => {
            const auths = vaultAuths(resources);
            const out: { urn: string; message: string }[] = [];
            for (const r of resources.filter((x) => SECRET_KINDS.includes(vsoKind(x.type) ?? ""))) {
                const ref = field(r.props, "spec", "vaultAuthRef");
                const ns = objectNamespace(r.props);
                if (typeof ref !== "string" || !ref.includes("/") || ns === undefined) {
                    continue;
                }
                const [refNs, refName] = ref.split("/", 2);
                const target = auths.find((a) => a.ns === refNs && a.name === refName);
                const allowed = strings(field(target?.props, "spec", "allowedNamespaces"));
                if (refNs === ns || allowed.includes(ns) || allowed.includes("*")) {
                    continue;
                }
                out.push({
                    urn: r.urn,
                    message: `${vsoKind(r.type)} ${objectName(r.props, r.name)}: spec.vaultAuthRef "${ref}" points into namespace "${refNs}", not its own "${ns}"${target ? `, and that VaultAuth's spec.allowedNamespaces does not list "${ns}"` : ""}. Fix: a VaultAuth (and VaultConnection) in "${ns}", referenced by name`,
                });
            }
            return out;
        },
    },
    {
        name: "vault-policy-kv-v2-data-path",
        description: 'On a KV v2 mount, secrets are read at "<mount>/data/<path>": a policy path "<mount>/<path>" grants nothing VSO uses.',
        enforcementLevel: "mandatory",
        check: (resources) => {
            const mounts = kvV2Mounts(resources);
            const out: { urn: string; message: string }[] = [];
            for (const r of resources.filter((x) => x.type === VAULT_POLICY && typeof x.props.policy === "string")) {
                for (const p of policyPaths(r.props.policy as string)) {
                    const mount = mounts.find((m) => p.path.startsWith(`${m}/`));
                    if (!mount) {
                        continue;
                    }
                    const rest = p.path.slice(mount.length + 1);
                    if (/^(data|metadata|delete|undelete|destroy|subkeys|config)(\/|$)/.test(rest) || rest === "*" || rest === "+") {
                        continue;
                    }
                    out.push({
                        urn: r.urn,
                        message: `policy ${r.name}: "${p.path}" is on the KV v2 mount "${mount}", where secrets are read at "${mount}/data/${rest}": this path grants nothing a read uses (403 "permission denied"). Fix: path "${mount}/data/${rest}"`,
                    });
                }
            }
            return out;
        },
    },
    {
        name: "vso-vaultauth-exists-in-namespace",
        description: "A VaultStaticSecret's VaultAuth must be in its namespace: the stack's VaultAuth of that name elsewhere is not found.",
        enforcementLevel: "mandatory",
        check: (resources) => {
            const auths = vaultAuths(resources);
            const out: { urn: string; message: string }[] = [];
            for (const r of resources.filter((x) => SECRET_KINDS.includes(vsoKind(x.type) ?? ""))) {
                const ns = objectNamespace(r.props);
                const ref = field(r.props, "spec", "vaultAuthRef");
                if (ns === undefined || typeof ref !== "string" || ref.includes("/")) {
                    continue;
                }
                const elsewhere = auths.filter((a) => a.name === ref && a.ns !== ns);
                if (elsewhere.length > 0 && !auths.some((a) => a.name === ref && a.ns === ns)) {
                    out.push({
                        urn: r.urn,
                        message: `${vsoKind(r.type)} ${objectName(r.props, r.name)} in "${ns}": its VaultAuth "${ref}" is in ${elsewhere.map((a) => `"${a.ns}"`).join(", ")}, not in "${ns}": VSO reports "VaultAuth not found". Fix: create the VaultAuth and VaultConnection in "${ns}"`,
                    });
                }
            }
            return out;
        },
    },
];

/** Every rule's name (resource and stack rules), in the pack's order. */
export const ruleNames: string[] = [...resourceRules.map((r) => r.name), ...stackRules.map((r) => r.name)];
