# shellcheck shell=bash
# The bed's PostgreSQL (`bed.sh postgres`): the database `npm start`'s dynamic-credential variant
# uses. Debian's postgresql-15 binaries, run as the `postgres` user; it binds the node address when the
# bed has a node (Vault runs in a pod there and reaches it like the API server: nothing outside this
# machine can), else 127.0.0.1. It lives as long as the bed (stopped and removed by `bed.sh stop`).
# Set up once with docs/database.md's SQL: a dedicated admin role for Vault (`vault_admin`, CREATEROLE,
# not the superuser; its random password in $BED/postgres-admin-password, mode 0600, never printed),
# the group role `app_rw`, the database `appdb` and a table `items` owned by `app_rw`.
# Writes $BED/postgres.env (PVV_PG_HOST, PVV_PG_PORT, PVV_PG_BIN). Sourced by scripts/bed.sh.

PG_BIN_DIR="${PVV_PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"

postgres_dir() { cat "$BED/postgres-dir" 2>/dev/null || true; }

# psql as the superuser over the server's socket (trust, in a 0700 directory only postgres can enter);
# the SQL on stdin, never on a command line
pg_su() {
  local dir; dir="$(postgres_dir)"
  setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$PG_BIN_DIR/psql" -h "$dir" -p "$(cat "$BED/ports/postgres")" -d "${1:-postgres}" -v ON_ERROR_STOP=1 -qAt -f -
}

start_postgres() {
  [[ -x "$PG_BIN_DIR/postgres" ]] || { log "no PostgreSQL at $PG_BIN_DIR (as root: bash scripts/test-packages.sh ensure installs postgresql-15)"; return 3; }
  id -u postgres >/dev/null 2>&1 || { log "no 'postgres' user (Debian's postgresql-15 package creates it)"; return 3; }
  core_running || die "the bed is not running: scripts/bed.sh start first"
  local host=$HOST dir port fresh=0
  if has_node; then host=$NODE_IP; fi
  dir="$(postgres_dir)"
  if running postgres && [[ -f "$BED/postgres.env" ]] && grep -q "PVV_PG_HOST='$host'" "$BED/postgres.env"; then
    log "postgres already running ($host:$(cat "$BED/ports/postgres"))"; return 0
  fi
  stop_postgres quiet
  # outside the bed's directory (mode 0700, root's): the postgres user must own its data
  dir="$(mktemp -d /tmp/pvv-bed-pg.XXXXXX)"; echo "$dir" >"$BED/postgres-dir"
  chown postgres:postgres "$dir"; chmod 700 "$dir"
  # local socket: trust (only postgres can reach it); TCP: passwords (SCRAM)
  setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$PG_BIN_DIR/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$BED/logs/postgres-initdb.log" 2>&1 ||
    { tail -n 20 "$BED/logs/postgres-initdb.log" >&2; die "initdb failed (see $BED/logs/postgres-initdb.log)"; }
  # with a node: pods (Vault in the cluster) connect from the pod range, this machine from the node address
  if has_node; then printf 'host all all %s scram-sha-256\nhost all all %s/32 scram-sha-256\n' "$POD_CIDR" "$NODE_IP" >>"$dir/data/pg_hba.conf"; fi
  port="$(pick_port postgres)"
  mkdir -p "$BED/logs"; echo "+ $PG_BIN_DIR/postgres -D $dir/data -h $host -p $port" >"$BED/logs/postgres.log"
  # setpriv execs postgres itself (no wrapper process): the pid file names the server
  nohup setsid setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$PG_BIN_DIR/postgres" -D "$dir/data" -k "$dir" -h "$host" -p "$port" >>"$BED/logs/postgres.log" 2>&1 </dev/null 9>&- &
  echo $! >"$BED/postgres.pid"; echo "$PG_BIN_DIR/postgres" >"$BED/postgres.exe"
  wait_for postgres "PostgreSQL $host:$port" "$PG_BIN_DIR/pg_isready" -q -h "$host" -p "$port"
  # docs/database.md's SQL (the password through a psql variable on stdin, never a command line)
  local pw; pw="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
  (umask 077; printf '%s' "$pw" >"$BED/postgres-admin-password")
  pg_su <<SQL >/dev/null
\\set pw '$pw'
CREATE ROLE vault_admin WITH LOGIN CREATEROLE PASSWORD :'pw';
GRANT pg_signal_backend TO vault_admin;
CREATE ROLE app_rw NOLOGIN;
GRANT app_rw TO vault_admin WITH ADMIN OPTION;
CREATE DATABASE appdb;
SQL
  pg_su appdb <<'SQL' >/dev/null
GRANT USAGE, CREATE ON SCHEMA public TO app_rw;
CREATE TABLE items (id int, note text);
ALTER TABLE items OWNER TO app_rw;
SQL
  (umask 077; cat >"$BED/postgres.env" <<EOF
export PVV_PG_HOST='$host'
export PVV_PG_PORT='$port'
export PVV_PG_BIN='$PG_BIN_DIR'
EOF
  )
  log "postgres running at $host:$port (database appdb; Vault's admin role vault_admin, password in $BED/postgres-admin-password)"
}

stop_postgres() {
  local dir pid i
  dir="$(postgres_dir)"
  if running postgres; then
    pid="$(pid_of postgres)"
    kill -INT "$pid" 2>/dev/null || true   # fast shutdown: Vault's open connections do not hold it up
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "postgres ($pid) did not stop; sending KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    [[ "${1:-}" == quiet ]] || log "stopped postgres ($pid)"
  fi
  if [[ -n "$dir" && "$dir" == /tmp/pvv-bed-pg.* ]]; then rm -rf "$dir"; fi
  rm -f "$BED/postgres.pid" "$BED/postgres.exe" "$BED/postgres-dir" "$BED/postgres.env" "$BED/postgres-admin-password"
}
