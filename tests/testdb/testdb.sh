#!/usr/bin/env bash
# testdb.sh: start and stop throwaway MariaDB 10.11 / PostgreSQL 15 servers for tests.
#
#   testdb.sh start mariadb DIR    initialise and start MariaDB with its data in DIR
#   testdb.sh start postgres DIR   initialise and start PostgreSQL with its data in DIR
#   testdb.sh stop DIR             stop whatever runs from DIR and remove DIR (idempotent)
#
# DIR must be a plain path (letters, digits, _ . / + -); it is created if missing and must not
# already hold a test database.
#
# On success `start` prints shell-style KEY=VALUE lines on stdout and writes the same lines to
# DIR/env:
#   KIND HOST PORT USER PASSWORD DATABASE SOCKET PID ADMIN_USER ADMIN_PASSWORD DIR LOG TLS_CA
# USER/PASSWORD is the least-privileged replication user `sluice`/`sluice` that sluice itself
# connects with; ADMIN_USER/ADMIN_PASSWORD may do anything (tests use it for setup). DATABASE is
# `sluice_test` on both kinds. Progress and errors go to stderr only.
#
# MariaDB also accepts TLS: start generates a throwaway CA and a server certificate (EC P-256,
# subjectAltName IP:127.0.0.1 and DNS:localhost) in DIR/tls and starts mariadbd with
# --ssl-ca/--ssl-cert/--ssl-key. TLS_CA is the CA's PEM file, for clients that verify the server.
# It is empty for PostgreSQL, and for MariaDB when the openssl CLI is missing (no TLS then).
#
# If the server does not accept connections within SLUICE_TESTDB_TIMEOUT seconds (default 60), or
# exits during start-up, `start` prints the tail of the server log to stderr, kills what it
# started and exits non-zero. DIR is kept for its logs; `stop DIR` removes it.
#
# The server listens on 127.0.0.1 only, on a free port (retried when another process takes the
# port first), with its unix socket inside DIR. It runs in a session of its own (setsid), so a ^C
# aimed at a test does not reach it. `stop` asks for a fast shutdown (MariaDB SIGTERM, PostgreSQL
# SIGINT), waits up to SLUICE_TESTDB_STOP_TIMEOUT seconds (default 20) for the server and all
# its child processes, then SIGKILLs them.
#
# Extra server options, split on whitespace, are appended from SLUICE_TESTDB_MARIADB_ARGS (e.g.
# "--binlog-row-metadata=MINIMAL") and SLUICE_TESTDB_POSTGRES_ARGS (e.g. "-c wal_level=replica").
#
# If SLUICE_TESTDB_OWNER_PID is set, a small watchdog runs `stop DIR` once that process is gone
# (after letting a start in progress finish), so a test binary that crashes or is killed by a
# timeout does not leak servers or directories.
#
# Works as root (MariaDB runs with --user=root, PostgreSQL as the `postgres` OS user through
# runuser) and as an ordinary user. As root, DIR is chowned to postgres; if postgres cannot reach
# DIR (a parent is not traversable), the cluster lives in a private /tmp/sluice-testdb-pg.* dir
# instead, recorded in DIR and removed by `stop`. Needs no systemd and reads no /etc/mysql or
# /etc/postgresql config.
set -euo pipefail

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
readonly SCRIPT_PATH
readonly START_TIMEOUT="${SLUICE_TESTDB_TIMEOUT:-60}"
readonly STOP_TIMEOUT="${SLUICE_TESTDB_STOP_TIMEOUT:-20}"
readonly PORT_ATTEMPTS=5
readonly PG_BIN="${SLUICE_PG_BIN:-/usr/lib/postgresql/15/bin}"
readonly TEST_USER=sluice
readonly TEST_PASSWORD=sluice
readonly TEST_DATABASE=sluice_test
readonly MARIADB_ADMIN_PASSWORD=root
readonly LOG_TAIL_LINES=40
# sun_path is 108 bytes including the terminating NUL.
readonly MAX_SOCKET_PATH=107

# Never fails: the caller may have gone away and closed our stderr (see main).
log() { printf 'testdb: %s\n' "$*" >&2 || true; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<'EOF'
usage: testdb.sh start mariadb|postgres DIR
       testdb.sh stop DIR
EOF
  exit 2
}

is_root() { [[ "$(id -u)" == 0 ]]; }

# Prints an absolute path for $1 (which need not exist yet).
abspath() {
  local p="$1"
  [[ "$p" == /* ]] || p="$PWD/$p"
  printf '%s\n' "$p"
}

# A port that was free a moment ago. Python's bind to port 0 asks the kernel; without python3 we
# guess below the ephemeral range. Either way the caller retries if the server cannot bind it.
pick_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
  else
    echo $((20000 + RANDOM % 12000))
  fi
}

print_log_tail() {
  local file="$1"
  if [[ -s "$file" ]]; then
    log "last $LOG_TAIL_LINES lines of $file:"
    tail -n "$LOG_TAIL_LINES" "$file" | sed 's/^/  | /' >&2
  else
    log "$file is empty or missing"
  fi
}

# pids (one a line) of the live processes whose /proc/PID/stat field number $1 (counting from
# the state after the comm: 0 state, 1 ppid, 2 pgrp) equals $2. Reads /proc so that it needs
# nothing beyond bash.
pids_where() {
  local index="$1" want="$2" stat pid rest fields
  for stat in /proc/[0-9]*/stat; do
    { read -r pid rest <"$stat"; } 2>/dev/null || continue
    # rest is "(comm) state ppid pgrp ..."; comm may contain spaces, so cut at the last ')'.
    rest="${rest##*) }"
    read -r -a fields <<<"$rest"
    # Zombies (Z) and dead (X) processes count as gone: an init that does not reap (some
    # containers) would otherwise make stop wait for processes that already exited.
    [[ "${fields[$index]:-}" == "$want" && "${fields[0]}" != [ZX] ]] && printf '%s\n' "$pid"
  done
  return 0
}

# True if pid $1 is alive, not a zombie, and one of ours: a database server or the runuser or
# setsid that wraps it. Guards against signalling an unrelated process that reused the number.
is_ours_alive() {
  local stat rest state comm
  { read -r _ rest <"/proc/$1/stat"; } 2>/dev/null || return 1
  comm="${rest%) *}"
  comm="${comm#(}"
  rest="${rest##*) }"
  state="${rest%% *}"
  [[ "$state" != [ZX] ]] || return 1
  case "$comm" in
    mariadbd | mysqld | postgres | postmaster | runuser | setsid) return 0 ;;
  esac
  return 1
}

proc_comm() { cat "/proc/$1/comm" 2>/dev/null || true; }

# Waits up to $1 seconds until none of the remaining pids is alive.
wait_pids_gone() {
  local deadline=$((SECONDS + $1)) p alive
  shift
  while true; do
    alive=0
    for p in "$@"; do
      if is_ours_alive "$p"; then
        alive=1
        break
      fi
    done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------------
# Shared helpers for start.

write_env() {
  local dir="$1"
  shift
  local tmp="$dir/env.tmp"
  : >"$tmp"
  local kv
  for kv in "$@"; do printf '%s\n' "$kv" >>"$tmp"; done
  mv "$tmp" "$dir/env"
  cat "$dir/env"
}

check_dir_arg() {
  local dir="$1"
  [[ "$dir" =~ ^[A-Za-z0-9_./+-]+$ ]] ||
    die "DIR must be a plain path (letters, digits, _ . / + -), got '$dir'"
}

prepare_dir() {
  local dir="$1" kind="$2"
  if [[ -e "$dir/kind" ]]; then
    die "$dir already holds a test database ($(cat "$dir/kind")); run 'testdb.sh stop $dir' first"
  fi
  mkdir -p "$dir"
  printf '%s\n' "$kind" >"$dir/kind"
}

# Started before anything else, so that DIR is cleaned up even if the owner dies mid-start.
# Once the owner is gone, it waits for this start to finish (DIR/start.done) and then runs stop.
start_watchdog() {
  local dir="$1"
  local owner="${SLUICE_TESTDB_OWNER_PID:-}"
  [[ -n "$owner" ]] || return 0
  [[ "$owner" =~ ^[0-9]+$ ]] || die "SLUICE_TESTDB_OWNER_PID must be a pid, got '$owner'"
  # Detached from our stdout so that a caller reading our output sees EOF when we exit.
  # shellcheck disable=SC2016 # the inner script expands its own positional parameters
  setsid bash -c '
    owner="$1"; dir="$2"; script="$3"; starter="$4"
    while kill -0 "$owner" 2>/dev/null && [[ -d "$dir" ]]; do sleep 1; done
    while kill -0 "$starter" 2>/dev/null && [[ -d "$dir" && ! -e "$dir/start.done" ]]; do
      sleep 0.2
    done
    [[ -d "$dir" ]] && exec bash "$script" stop "$dir"
    exit 0' testdb-watchdog "$owner" "$dir" "$SCRIPT_PATH" "$$" \
    </dev/null >>"$dir/watchdog.log" 2>&1 &
  printf '%s\n' "$!" >"$dir/watchdog.pid"
}

# ---------------------------------------------------------------------------------------------
# MariaDB

mariadb_bootstrap_sql() {
  # install-db runs this in bootstrap mode with --skip-grant-tables; FLUSH PRIVILEGES loads the
  # grant tables so that CREATE USER and GRANT work.
  cat <<EOF
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS \`$TEST_DATABASE\`;
CREATE DATABASE IF NOT EXISTS \`test\`;
CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '$MARIADB_ADMIN_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
EOF
  local host
  for host in '%' 'localhost'; do
    cat <<EOF
CREATE USER IF NOT EXISTS '$TEST_USER'@'$host' IDENTIFIED BY '$TEST_PASSWORD';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, SELECT ON *.* TO '$TEST_USER'@'$host';
GRANT ALL PRIVILEGES ON \`$TEST_DATABASE\`.* TO '$TEST_USER'@'$host';
GRANT ALL PRIVILEGES ON \`test\`.* TO '$TEST_USER'@'$host';
GRANT ALL PRIVILEGES ON \`test\\_%\`.* TO '$TEST_USER'@'$host';
EOF
  done
}

# Creates DIR/tls/{ca.pem,server-cert.pem,server-key.pem}: a throwaway CA and a server
# certificate it signed, valid for 127.0.0.1 and localhost. Prints the CA path, or nothing (and
# logs why) if the openssl CLI is missing.
make_test_certs() {
  local tls="$1/tls"
  if ! command -v openssl >/dev/null 2>&1; then
    log "mariadb: openssl not found; starting without TLS"
    return 0
  fi
  mkdir -p "$tls"
  chmod 700 "$tls"
  printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' >"$tls/server-ext.cnf"
  if ! {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" -days 30 -subj "/CN=sluice testdb CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tls/server-key.pem" -out "$tls/server.csr" -subj "/CN=localhost" &&
      openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
        -set_serial 2 -days 30 -extfile "$tls/server-ext.cnf" -out "$tls/server-cert.pem"
  } >"$tls/openssl.log" 2>&1; then
    print_log_tail "$tls/openssl.log"
    die "mariadb: generating the test TLS certificates failed"
  fi
  printf '%s\n' "$tls/ca.pem"
}

start_mariadb() {
  local dir="$1"
  local data="$dir/data" tmpdir="$dir/tmp" sock="$dir/mysqld.sock"
  local errlog="$dir/mariadbd.err" pidfile="$dir/mariadbd.pid"
  ((${#sock} <= MAX_SOCKET_PATH)) || die "socket path $sock is longer than $MAX_SOCKET_PATH bytes"
  command -v mariadbd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v mariadbd >/dev/null 2>&1 || die "mariadbd not found (install mariadb-server)"
  mkdir -p "$data" "$tmpdir"

  local user_opt=()
  is_root && user_opt=(--user=root)

  # Options shared by install-db (bootstrap) and the server, so InnoDB sees the same layout.
  local common=(
    --datadir="$data" --tmpdir="$tmpdir" "${user_opt[@]}"
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
  )
  mariadb_bootstrap_sql >"$dir/bootstrap.sql"
  log "mariadb: initialising $data"
  if ! timeout "$START_TIMEOUT" mariadb-install-db --no-defaults "${common[@]}" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve --extra-file="$dir/bootstrap.sql" \
    >"$dir/install-db.log" 2>&1; then
    print_log_tail "$dir/install-db.log"
    die "mariadb-install-db failed or took more than ${START_TIMEOUT}s"
  fi

  local ca tls_opts=()
  ca="$(make_test_certs "$dir")"
  if [[ -n "$ca" ]]; then
    tls_opts=(--ssl-ca="$ca" --ssl-cert="$dir/tls/server-cert.pem" --ssl-key="$dir/tls/server-key.pem")
  fi

  local extra=()
  read -r -a extra <<<"${SLUICE_TESTDB_MARIADB_ARGS:-}"
  local attempt port pid
  for ((attempt = 1; attempt <= PORT_ATTEMPTS; attempt++)); do
    port="$(pick_port)"
    log "mariadb: starting on 127.0.0.1:$port (attempt $attempt)"
    : >"$errlog"
    # setsid: mariadbd leads its own session and process group, so `stop` can signal the group
    # and a ^C aimed at the test does not reach it.
    setsid mariadbd --no-defaults "${common[@]}" \
      --bind-address=127.0.0.1 --port="$port" --socket="$sock" --pid-file="$pidfile" \
      --log-error="$errlog" --skip-name-resolve --max-connections=200 \
      --server-id=1 --log-bin=mariadb-bin --log-slave-updates=ON --gtid-strict-mode=ON \
      --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
      --binlog-checksum=CRC32 \
      --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 "${tls_opts[@]}" "${extra[@]}" \
      </dev/null >"$dir/mariadbd.out" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$dir/server.pgid"

    local deadline=$((SECONDS + START_TIMEOUT)) ready=0
    while ((SECONDS < deadline)); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if mariadb-admin --no-defaults --protocol=socket --socket="$sock" -uroot \
        --connect-timeout=2 ping >/dev/null 2>&1; then
        ready=1
        break
      fi
      sleep 0.2
    done
    if ((ready)); then break; fi

    if ! kill -0 "$pid" 2>/dev/null && grep -qiE 'address already in use|Do you already have another' "$errlog"; then
      log "mariadb: port $port was taken, retrying"
      wait "$pid" 2>/dev/null || true
      continue
    fi
    print_log_tail "$errlog"
    print_log_tail "$dir/mariadbd.out"
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || true
      die "mariadb did not accept connections within ${START_TIMEOUT}s (see $errlog)"
    fi
    die "mariadbd exited during start-up (see $errlog)"
  done
  ((ready)) || die "mariadb: no free port after $PORT_ATTEMPTS attempts"

  printf '%s\n' "$pid" >"$dir/server.pid"
  write_env "$dir" KIND=mariadb HOST=127.0.0.1 "PORT=$port" "USER=$TEST_USER" \
    "PASSWORD=$TEST_PASSWORD" "DATABASE=$TEST_DATABASE" "SOCKET=$sock" "PID=$pid" \
    ADMIN_USER=root "ADMIN_PASSWORD=$MARIADB_ADMIN_PASSWORD" "DIR=$dir" "LOG=$errlog" \
    "TLS_CA=$ca"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Runs a command as the OS user that owns the cluster.
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local dir="$1"
  local data="$dir/pgdata" logfile="$dir/postgres.log"
  [[ -x "$PG_BIN/postgres" ]] || die "$PG_BIN/postgres not found (install postgresql-15)"

  if is_root; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' OS user"
    chown postgres: "$dir"
    chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
      # A parent of DIR is not traversable for postgres (for example DIR under a 0700 home or
      # mktemp dir). Keep the data in a private dir under /tmp instead of loosening parents.
      local side
      side="$(mktemp -d /tmp/sluice-testdb-pg.XXXXXX)"
      chown postgres: "$side"
      printf '%s\n' "$side" >"$dir/side_dir"
      log "postgres: $dir is not reachable for the postgres user; using $side for data"
      data="$side/pgdata"
      logfile="$side/postgres.log"
    fi
  fi
  local sockdir
  sockdir="$(dirname "$data")"
  ((${#sockdir} + 20 <= MAX_SOCKET_PATH)) || die "socket dir $sockdir is too long for a unix socket"

  log "postgres: initialising $data"
  if ! as_pg timeout "$START_TIMEOUT" "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1; then
    print_log_tail "$dir/initdb.log"
    die "initdb failed or took more than ${START_TIMEOUT}s"
  fi
  as_pg tee "$data/pg_hba.conf" >/dev/null <<'EOF'
# testdb.sh: local socket (inside the private test dir) is trusted, TCP needs a password.
local   all          all                      trust
local   replication  all                      trust
host    all          all         127.0.0.1/32 scram-sha-256
host    replication  all         127.0.0.1/32 scram-sha-256
EOF
  as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- testdb.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
max_connections = 100
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF

  local extra=()
  read -r -a extra <<<"${SLUICE_TESTDB_POSTGRES_ARGS:-}"
  local attempt port pgid pid=""
  for ((attempt = 1; attempt <= PORT_ATTEMPTS; attempt++)); do
    port="$(pick_port)"
    log "postgres: starting on 127.0.0.1:$port (attempt $attempt)"
    as_pg tee "$logfile" </dev/null >/dev/null
    # setsid first, so runuser and the postmaster share a new process group that stop can
    # signal as a whole.
    if is_root; then
      setsid runuser -u postgres -- "$PG_BIN/postgres" -D "$data" -p "$port" "${extra[@]}" \
        </dev/null >>"$logfile" 2>&1 &
    else
      setsid "$PG_BIN/postgres" -D "$data" -p "$port" "${extra[@]}" </dev/null >>"$logfile" 2>&1 &
    fi
    pgid=$!
    printf '%s\n' "$pgid" >"$dir/server.pgid"

    local deadline=$((SECONDS + START_TIMEOUT)) ready=0
    while ((SECONDS < deadline)); do
      if ! kill -0 "$pgid" 2>/dev/null; then break; fi
      if "$PG_BIN/pg_isready" -q -h "$sockdir" -p "$port" -t 2 >/dev/null 2>&1; then
        ready=1
        break
      fi
      sleep 0.2
    done
    if ((ready)); then break; fi

    if ! kill -0 "$pgid" 2>/dev/null && grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$logfile"; then
      log "postgres: port $port was taken, retrying"
      wait "$pgid" 2>/dev/null || true
      continue
    fi
    print_log_tail "$logfile"
    if kill -0 "$pgid" 2>/dev/null; then
      kill -KILL -- "-$pgid" 2>/dev/null || true
      die "postgres did not accept connections within ${START_TIMEOUT}s (see $logfile)"
    fi
    die "postgres exited during start-up (see $logfile)"
  done
  ((ready)) || die "postgres: no free port after $PORT_ATTEMPTS attempts"
  pid="$(head -n 1 "$data/postmaster.pid")"
  printf '%s\n' "$pid" >"$dir/server.pid"

  log "postgres: creating role $TEST_USER and database $TEST_DATABASE"
  if ! as_pg timeout "$START_TIMEOUT" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -p "$port" -U postgres \
    -d postgres >"$dir/bootstrap.log" 2>&1 <<EOF; then
CREATE ROLE $TEST_USER WITH LOGIN REPLICATION SUPERUSER PASSWORD '$TEST_PASSWORD';
CREATE DATABASE $TEST_DATABASE OWNER $TEST_USER;
EOF
    print_log_tail "$dir/bootstrap.log"
    print_log_tail "$logfile"
    die "postgres: creating the test role and database failed"
  fi

  write_env "$dir" KIND=postgres HOST=127.0.0.1 "PORT=$port" "USER=$TEST_USER" \
    "PASSWORD=$TEST_PASSWORD" "DATABASE=$TEST_DATABASE" "SOCKET=$sockdir/.s.PGSQL.$port" \
    "PID=$pid" "ADMIN_USER=$TEST_USER" "ADMIN_PASSWORD=$TEST_PASSWORD" "DIR=$dir" \
    "LOG=$logfile" "TLS_CA="
}

# ---------------------------------------------------------------------------------------------
# stop

# Stops the server started from DIR, if any, but keeps DIR. Also stops the watchdog unless $2 is
# "keep-watchdog".
kill_server() {
  local dir="$1" watchdog="${2:-}"

  # The watchdog exits on its own once DIR is gone; kill it early unless it is us.
  if [[ "$watchdog" != keep-watchdog && -f "$dir/watchdog.pid" ]]; then
    local wpid
    wpid="$(cat "$dir/watchdog.pid" 2>/dev/null || true)"
    if [[ -n "$wpid" && "$wpid" != "$$" && "$(proc_comm "$wpid")" == bash ]]; then
      kill -TERM "$wpid" 2>/dev/null || true
    fi
  fi

  local kind pgid="" pid=""
  kind="$(cat "$dir/kind" 2>/dev/null || true)"
  [[ -f "$dir/server.pgid" ]] && pgid="$(cat "$dir/server.pgid" 2>/dev/null || true)"
  [[ -f "$dir/server.pid" ]] && pid="$(cat "$dir/server.pid" 2>/dev/null || true)"

  # Everything to wait for: the session we started (mariadbd, or runuser + postmaster) and the
  # postmaster's children, which PostgreSQL moves into process groups of their own.
  local candidates=() pids=() p
  if [[ -n "$pgid" ]]; then
    mapfile -t candidates < <(pids_where 2 "$pgid")
  fi
  if [[ -n "$pid" ]]; then
    candidates+=("$pid")
    mapfile -t -O "${#candidates[@]}" candidates < <(pids_where 1 "$pid")
  fi
  for p in "${candidates[@]}"; do
    is_ours_alive "$p" && pids+=("$p")
  done
  ((${#pids[@]} > 0)) || return 0

  # Graceful first: SIGTERM is MariaDB's normal shutdown, SIGINT is PostgreSQL's fast one.
  local sig=TERM
  [[ "$kind" == postgres ]] && sig=INT
  if [[ -n "$pid" ]] && is_ours_alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
  elif [[ -n "$pgid" ]]; then
    kill "-$sig" -- "-$pgid" 2>/dev/null || true
  fi
  if ! wait_pids_gone "$STOP_TIMEOUT" "${pids[@]}"; then
    log "stop: $kind in $dir did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    [[ -n "$pgid" ]] && { kill -KILL -- "-$pgid" 2>/dev/null || true; }
    for p in "${pids[@]}"; do
      is_ours_alive "$p" && { kill -KILL "$p" 2>/dev/null || true; }
    done
    wait_pids_gone 10 "${pids[@]}" || log "stop: processes ${pids[*]} survived SIGKILL"
  fi
}

stop_dir() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  kill_server "$dir"

  local side=""
  [[ -f "$dir/side_dir" ]] && side="$(cat "$dir/side_dir" 2>/dev/null || true)"
  if [[ -n "$side" && "$side" == /tmp/sluice-testdb-pg.* ]]; then
    rm -rf -- "$side"
  fi
  # Another stop (the watchdog) may be removing DIR at the same time; tolerate that.
  rm -rf -- "$dir" 2>/dev/null || { sleep 0.5; rm -rf -- "$dir"; }
}

# ---------------------------------------------------------------------------------------------

# A failed start leaves no process behind but keeps DIR (and its logs) for `stop`; the watchdog
# stays, to remove DIR if the owner is gone.
on_start_exit() {
  local rc="$1"
  if ((rc != 0)); then kill_server "$START_DIR" keep-watchdog || true; fi
  : >"$START_DIR/start.done" 2>/dev/null || true
  exit "$rc"
}

main() {
  (($# >= 1)) || usage
  case "$1" in
    start)
      (($# == 3)) || usage
      local kind="$2" dir
      dir="$(abspath "$3")"
      check_dir_arg "$dir"
      case "$kind" in
        mariadb | postgres) ;;
        *) usage ;;
      esac
      # If the caller dies, writing to its pipes must fail (EPIPE) rather than kill us
      # halfway (SIGPIPE), so that the EXIT trap and the watchdog can clean up.
      trap '' PIPE
      prepare_dir "$dir" "$kind"
      START_DIR="$dir"
      trap 'on_start_exit $?' EXIT
      start_watchdog "$dir"
      local started=$SECONDS
      "start_$kind" "$dir"
      log "$kind: ready in $((SECONDS - started))s"
      ;;
    stop)
      (($# == 2)) || usage
      local dir
      dir="$(abspath "$2")"
      check_dir_arg "$dir"
      stop_dir "$dir"
      ;;
    *) usage ;;
  esac
}

main "$@"
