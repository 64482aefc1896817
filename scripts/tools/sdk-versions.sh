# Source this file: sets PULUMI_VERSION, PULUMI_K8S_PROVIDER_VERSION and PULUMI_VAULT_PROVIDER_VERSION
# from package.json's devDependencies (the one place the Pulumi SDK pins live; the CLI and the
# provider plugins are built at the SDKs' versions).
_pvv_pkg="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/package.json"
_pvv_dep() { node -e 'const p=require(process.argv[1]); const v=(p.devDependencies||{})[process.argv[2]]||(p.dependencies||{})[process.argv[2]]; if(!/^\d+\.\d+\.\d+$/.test(v||"")){console.error(`${process.argv[2]} in ${process.argv[1]} must be an exact version, found ${v}`);process.exit(1)} console.log(v)' "$_pvv_pkg" "$1"; }
PULUMI_VERSION=$(_pvv_dep @pulumi/pulumi)
PULUMI_K8S_PROVIDER_VERSION=$(_pvv_dep @pulumi/kubernetes)
PULUMI_VAULT_PROVIDER_VERSION=$(_pvv_dep @pulumi/vault)
export PULUMI_VERSION PULUMI_K8S_PROVIDER_VERSION PULUMI_VAULT_PROVIDER_VERSION
unset -f _pvv_dep; unset _pvv_pkg
