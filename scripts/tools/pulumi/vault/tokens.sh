#!/usr/bin/env bash
# Regenerates tokens.txt from an installed @pulumi/vault (node_modules of the repo root).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG=${1:-$HERE/../../../../node_modules/@pulumi/vault}
ver=$(sed -n 's/^ *"version": "\(.*\)",/\1/p' "$PKG/package.json" | head -1)
{
  echo "# Resource and function tokens of the @pulumi/vault npm package $ver (regenerate: scripts/tools/pulumi/vault/tokens.sh)"
  grep -rhoE "__pulumiType = '[^']+'" --include=*.js "$PKG" | sed "s/.*= '//;s/'//" | sort -u
  grep -rhoE 'invoke\("vault:[^"]+"' --include=*.js "$PKG" | sed 's/invoke("//;s/"//' | sort -u
} >"$HERE/tokens.txt"
