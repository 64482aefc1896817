#!/bin/sh
# Entrypoint of the locally built docker.io/hashicorp/vault image (scripts/tools/build-images.sh),
# modelled on HashiCorp's .release/docker/docker-entrypoint.sh (vault module, same version).
# The shell is busybox ash. Differences from upstream:
#   - no dumb-init: under Kubernetes the pod's pause container reaps zombies, and vault-helm
#     runs `/bin/sh -ec '/usr/local/bin/docker-entrypoint.sh vault server ...'`, so vault
#     ends up as the container's PID 1 through `exec`;
#   - no chown of /vault/{config,logs,file} and no setcap cap_ipc_lock: the chart runs the pod
#     as uid 100 / gid 1000 without privileges (and sets SKIP_CHOWN / SKIP_SETCAP anyway);
#     the image already creates those directories owned by 100:1000;
#   - no su-exec: run as root (e.g. `ctr run` without --user), vault stays root; busybox has
#     no equivalent (its setpriv cannot change uids). Kubernetes pods set runAsUser.
set -e

# Prevent core dumps
ulimit -c 0 2>/dev/null || true

# Allow setting VAULT_REDIRECT_ADDR and VAULT_CLUSTER_ADDR using an interface name instead
# of an IP address (VAULT_REDIRECT_INTERFACE / VAULT_CLUSTER_INTERFACE). If VAULT_*_ADDR is
# also set, the result keeps its scheme and port with the interface's IPv4 address.
get_addr() {
    if_ip=$(ip -o -4 addr show dev "$1" | sed -n 's#.* inet \([0-9.]*\)/.*#\1#p' | head -n 1)
    echo "$2" | sed "s#^\(.*://\)[^:/]*\(:.*\)\$#\1${if_ip}\2#"
}

if [ -n "$VAULT_REDIRECT_INTERFACE" ]; then
    VAULT_REDIRECT_ADDR=$(get_addr "$VAULT_REDIRECT_INTERFACE" "${VAULT_REDIRECT_ADDR:-http://0.0.0.0:8200}")
    export VAULT_REDIRECT_ADDR
    echo "Using $VAULT_REDIRECT_INTERFACE for VAULT_REDIRECT_ADDR: $VAULT_REDIRECT_ADDR"
fi
if [ -n "$VAULT_CLUSTER_INTERFACE" ]; then
    VAULT_CLUSTER_ADDR=$(get_addr "$VAULT_CLUSTER_INTERFACE" "${VAULT_CLUSTER_ADDR:-https://0.0.0.0:8201}")
    export VAULT_CLUSTER_ADDR
    echo "Using $VAULT_CLUSTER_INTERFACE for VAULT_CLUSTER_ADDR: $VAULT_CLUSTER_ADDR"
fi

# Extra configuration files can be placed in VAULT_CONFIG_DIR, or passed as JSON in
# VAULT_LOCAL_CONFIG.
VAULT_CONFIG_DIR=/vault/config
if [ -n "$VAULT_LOCAL_CONFIG" ]; then
    echo "$VAULT_LOCAL_CONFIG" > "$VAULT_CONFIG_DIR/local.json"
fi

# `docker run <image> -version` style: pass flags to vault.
case "$1" in
    -*) set -- vault "$@" ;;
esac

# Vault subcommands given without `vault` (e.g. the image's default command `server -dev`).
# As upstream, only this form adds the config directory and the dev-mode defaults; the
# chart's explicit `vault server ...` commands run unchanged.
if [ "$1" = 'server' ]; then
    shift
    set -- vault server \
        -config="$VAULT_CONFIG_DIR" \
        -dev-root-token-id="$VAULT_DEV_ROOT_TOKEN_ID" \
        -dev-listen-address="${VAULT_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}" \
        "$@"
elif [ "$1" = 'version' ]; then
    # special case: `vault --help version` has no usage line to grep for
    set -- vault "$@"
elif [ -n "$1" ] && vault --help "$1" 2>&1 | grep -q "vault $1"; then
    # There is no exit code telling whether $1 is a subcommand; grep its usage line.
    set -- vault "$@"
fi

exec "$@"
