#!/usr/bin/env bash
# A PostgreSQL cluster of its own for the tests, never the system's: made with initdb in a
# temporary folder, owned by the `postgres` OS user, listening on 127.0.0.1 only and on a socket
# in that folder. Installs Debian's postgresql if it is missing.
#
# Usage: source scripts/postgres.sh; pg_start      (sets PGHOST, PGPORT, PGUSER and
#        BYOKIT_TEST_DATABASE_URL, the superuser's URL without a database); pgbouncer_start
#        (a PgBouncer in transaction mode in front of it: BYOKIT_TEST_POOLER_URL); pg_stop at
#        the end stops both.

source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

pg_install() {
  if [ -z "$(pg_bin)" ]; then
    debian_install postgresql
  fi
}

pg_start() {
  pg_install
  local bin
  bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/byokit-pg.XXXXXX)
  chown postgres: "$PG_DIR"
  PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 \
    --locale=C.UTF-8 >/dev/null
  # TLS with a CA of its own (clients may also connect in plain text, as the tests mostly do).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=byokit test CA" \
    -keyout "$PG_DIR/ca.key" -out "$PG_DIR/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$PG_DIR/server.key" \
    -out "$PG_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$PG_DIR/san.ext"
  openssl x509 -req -in "$PG_DIR/server.csr" -CA "$PG_DIR/ca.pem" -CAkey "$PG_DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$PG_DIR/san.ext" -out "$PG_DIR/server.pem" 2>/dev/null
  chown postgres: "$PG_DIR/server.key" "$PG_DIR/server.pem"
  chmod 600 "$PG_DIR/server.key"
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PG_DIR -c fsync=on -c max_connections=300 \
        -c ssl=on -c ssl_cert_file=$PG_DIR/server.pem -c ssl_key_file=$PG_DIR/server.key" \
    >/dev/null
  export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PG_DIR
  export BYOKIT_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT"
  export BYOKIT_TEST_DATABASE_CA="$PG_DIR/ca.pem"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT ($PG_DIR)"
}

pgbouncer_start() {
  command -v pgbouncer >/dev/null || debian_install pgbouncer
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '"postgres" ""\n' >"$PG_DIR/userlist.txt"
  cat >"$PG_DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PGPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $PG_DIR/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = $PG_DIR/pgbouncer.log
pidfile = $PG_DIR/pgbouncer.pid
INI
  chown postgres: "$PG_DIR/pgbouncer.ini" "$PG_DIR/userlist.txt"
  runuser -u postgres -- pgbouncer -d "$PG_DIR/pgbouncer.ini"
  export BYOKIT_TEST_POOLER_URL="postgres://postgres@127.0.0.1:$port"
  echo "PgBouncer $(pgbouncer --version | head -n 1 | awk '{print $2}') (transaction mode) on 127.0.0.1:$port"
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/pgbouncer.pid" ]; then
    kill "$(cat "$PG_DIR/pgbouncer.pid")" 2>/dev/null || true
  fi
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    rm -rf "$PG_DIR"
  fi
}
