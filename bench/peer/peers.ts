/**
 * The peers the benchmark runs, as programs: Terraform, plain @pulumi/vault, and this package's components, for the same Vault configuration.
 */
import { Options, ComponentsApi } from "./common";
import * as fs from "fs";
import * as path from "path";

// ------------------------------------------------------------------------------------------- programs

export const SELF_TOKEN_POLICY = [
    "# VSO's own token (the part of Vault's default policy it uses; roles leave default out)",
    'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}',
    'path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n',
].join("\n");

export function terraformConfig(n: number, prefix: string, addr: string, caFile: string, providerVersion: string): string {
    return `terraform {
  required_providers {
    vault = { source = "hashicorp/vault", version = "= ${providerVersion}" }
  }
}

# token: VAULT_TOKEN from the environment
provider "vault" {
  address          = "${addr}"
  skip_child_token = true
}

locals {
  prefix     = "${prefix}"
  namespaces = [for i in range(${n}) : "${prefix}-ns-\${i}"]
}

resource "vault_mount" "kv" {
  path        = "\${local.prefix}-kv"
  type        = "kv"
  options     = { version = "2" }
  description = "KV v2 secrets engine managed by pulumi-vault-vso"
}

resource "vault_auth_backend" "kubernetes" {
  type        = "kubernetes"
  path        = "\${local.prefix}-k8s"
  description = "Kubernetes auth for the Vault Secrets Operator, managed by pulumi-vault-vso"
}

resource "vault_kubernetes_auth_backend_config" "kubernetes" {
  backend                = vault_auth_backend.kubernetes.path
  kubernetes_host        = "https://127.0.0.1:6443"
  kubernetes_ca_cert     = file("${caFile}")
  disable_iss_validation = true
}

resource "vault_policy" "ns" {
  for_each = toset(local.namespaces)
  name     = "vso-\${each.key}-read"
  policy   = <<-EOT
    path "\${vault_mount.kv.path}/data/apps/\${each.key}" {
      capabilities = ["read"]
    }

    ${SELF_TOKEN_POLICY.split("\n").join("\n    ")}
    EOT
}

resource "vault_kubernetes_auth_backend_role" "ns" {
  for_each                         = toset(local.namespaces)
  backend                          = vault_auth_backend.kubernetes.path
  role_name                        = "vso-\${each.key}"
  bound_service_account_names      = ["vso-auth"]
  bound_service_account_namespaces = [each.key]
  token_policies                   = [vault_policy.ns[each.key].name]
  token_ttl                        = 3600
  token_no_default_policy          = true
  audience                         = "vault"
}
`;
}

export function rawProgram(n: number, prefix: string, caFile: string): string {
    return `import * as fs from "fs";
import * as vault from "@pulumi/vault";

const prefix = ${JSON.stringify(prefix)};
const caCert = fs.readFileSync(${JSON.stringify(caFile)}, "utf8");
const selfTokenPolicy = ${JSON.stringify(SELF_TOKEN_POLICY)};

const kv = new vault.Mount("kv", {
    path: \`\${prefix}-kv\`,
    type: "kv",
    options: { version: "2" },
    description: "KV v2 secrets engine managed by pulumi-vault-vso",
});
const auth = new vault.AuthBackend("kubernetes", {
    type: "kubernetes",
    path: \`\${prefix}-k8s\`,
    description: "Kubernetes auth for the Vault Secrets Operator, managed by pulumi-vault-vso",
});
new vault.kubernetes.AuthBackendConfig("kubernetes-config", {
    backend: auth.path,
    kubernetesHost: "https://127.0.0.1:6443",
    kubernetesCaCert: caCert,
    disableIssValidation: true,
});
for (let i = 0; i < ${n}; i++) {
    const ns = \`\${prefix}-ns-\${i}\`;
    const policy = new vault.Policy(\`\${ns}-policy\`, {
        name: \`vso-\${ns}-read\`,
        policy: kv.path.apply((p) => \`path "\${p}/data/apps/\${ns}" {\\n  capabilities = ["read"]\\n}\\n\\n\${selfTokenPolicy}\`),
    });
    new vault.kubernetes.AuthBackendRole(\`\${ns}-role\`, {
        backend: auth.path,
        roleName: \`vso-\${ns}\`,
        boundServiceAccountNames: ["vso-auth"],
        boundServiceAccountNamespaces: [ns],
        tokenPolicies: [policy.name],
        tokenTtl: 3600,
        tokenNoDefaultPolicy: true,
        audience: "vault",
    });
}
`;
}

/** Every file under `dir`, in subfolders too (the components live in one folder per layer since issue 23). */
function filesUnder(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

/** The access component's class name in this checkout (it was renamed during the restructuring). */
export function accessClassOf(repo: string): string {
    const dir = path.join(repo, "components");
    const src = filesUnder(dir)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => fs.readFileSync(f, "utf8"))
        .join("\n");
    for (const name of ["VaultNamespaceAccess", "NamespaceVaultAccess"]) {
        if (new RegExp(`export class ${name}\\b`).test(src)) {
            return name;
        }
    }
    throw new Error(`no per-namespace Vault access component (VaultNamespaceAccess/NamespaceVaultAccess) in ${dir}`);
}

/**
 * Whether the measured components have VaultNamespaceAccessSet: in the built package (lib/components/*.js and
 * .d.ts, what `--components-from package` imports) or in the sources (`--components-from source`).
 */
export function hasAccessSet(repo: string, from: Options["componentsFrom"]): boolean {
    const dir = path.join(repo, from === "package" ? path.join("lib", "components") : "components");
    if (!fs.existsSync(dir)) {
        return false;
    }
    const files = filesUnder(dir);
    const has = (ext: string, re: RegExp) => files.some((f) => f.endsWith(ext) && re.test(fs.readFileSync(f, "utf8")));
    return from === "package"
        ? has(".js", /\bclass VaultNamespaceAccessSet\b/) && has(".d.ts", /export declare class VaultNamespaceAccessSet\b/)
        : has(".ts", /export class VaultNamespaceAccessSet\b/);
}

/** The components API the benchmark uses: the option, else `set` when the checkout has it. */
export function componentsApiOf(opt: Options): ComponentsApi {
    const available = hasAccessSet(opt.repo, opt.componentsFrom);
    if (opt.componentsApi === "set" && !available) {
        throw new Error(
            `--components-api set: ${opt.repo} has no VaultNamespaceAccessSet in ${opt.componentsFrom === "package" ? "its built package (lib/components)" : "components/"}`,
        );
    }
    return opt.componentsApi ?? (available ? "set" : "per-namespace");
}

export function componentsProgram(n: number, prefix: string, caFile: string, componentsImport: string, accessClass: string, api: ComponentsApi): string {
    // the same KV mount and auth method either way; the namespaces' access differs
    const header = (accessImport: string) => `import * as fs from "fs";
import { KubernetesAuthMethod, KvV2Engine, ${accessImport} } from ${JSON.stringify(componentsImport)};

const prefix = ${JSON.stringify(prefix)};
const kv = new KvV2Engine("kv", { path: \`\${prefix}-kv\`, protect: false });
const auth = new KubernetesAuthMethod("kubernetes", {
    path: \`\${prefix}-k8s\`,
    kubernetesHost: "https://127.0.0.1:6443",
    kubernetesCaCert: fs.readFileSync(${JSON.stringify(caFile)}, "utf8"),
});
`;
    if (api === "set") {
        return `${header("VaultNamespaceAccessSet")}const namespaces: { namespace: string; paths: string[] }[] = [];
for (let i = 0; i < ${n}; i++) {
    const ns = \`\${prefix}-ns-\${i}\`;
    namespaces.push({ namespace: ns, paths: [\`apps/\${ns}\`] });
}
new VaultNamespaceAccessSet("access", { namespaces, kvPath: \`\${prefix}-kv\`, authPath: auth.path }, { dependsOn: [kv, auth] });
`;
    }
    return `${header(accessClass)}for (let i = 0; i < ${n}; i++) {
    const ns = \`\${prefix}-ns-\${i}\`;
    new ${accessClass}(ns, {
        namespace: ns,
        paths: [\`apps/\${ns}\`],
        kvPath: \`\${prefix}-kv\`,
        authPath: auth.path,
    }, { dependsOn: [kv, auth] });
}
`;
}

export const TSCONFIG = {
    compilerOptions: {
        target: "ES2020",
        module: "commonjs",
        moduleResolution: "node",
        lib: ["ES2020"],
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        forceConsistentCasingInFileNames: true,
        types: ["node"],
    },
    files: ["index.ts"],
};

export function writePulumiProject(
    dir: string,
    name: string,
    programTs: string,
    nodeModules: string,
    main = "index.ts",
    typescript = true,
    extraModules: Record<string, string> = {},
): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: ${typescript}\nmain: ${main}\n`);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, main }, null, 2) + "\n");
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2) + "\n");
    fs.writeFileSync(path.join(dir, "index.ts"), programTs);
    const nm = path.join(dir, "node_modules");
    if (fs.existsSync(nm)) {
        return;
    }
    if (!Object.keys(extraModules).length) {
        fs.symlinkSync(nodeModules, nm);
        return;
    }
    // a node_modules of links to the shared one, plus the extra packages (this package, as a user installs it)
    fs.mkdirSync(nm);
    for (const entry of fs.readdirSync(nodeModules)) {
        if (!(entry in extraModules)) {
            fs.symlinkSync(path.join(nodeModules, entry), path.join(nm, entry));
        }
    }
    for (const [pkg, target] of Object.entries(extraModules)) {
        fs.symlinkSync(target, path.join(nm, pkg));
    }
}

/** What the components program imports: this package's Vault-only entry point when it has one, else its main entry. */
export function packageImportOf(repo: string): { specifier: string; name: string } {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { name: string; exports?: Record<string, unknown> };
    return { specifier: pkg.exports?.["./vault"] ? `${pkg.name}/vault` : pkg.name, name: pkg.name };
}
