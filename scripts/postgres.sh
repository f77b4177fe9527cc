#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, on 127.0.0.1:${SLUICE_TEST_PG_PORT:-55432}, trusting local connections.
#   scripts/postgres.sh start   creates a cluster in /tmp, starts it and prints its URL
#   scripts/postgres.sh stop    stops it and removes the cluster
set -euo pipefail
port=${SLUICE_TEST_PG_PORT:-55432}
data=/tmp/sluice-test-postgres-$port
url="postgres://postgres@127.0.0.1:$port/postgres"

bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] || { echo "PostgreSQL is not installed: scripts/setup-machine.sh --for-tests installs it" >&2; exit 69; }
    echo "$dir"
}

# PostgreSQL refuses to run as root: the server runs as the `postgres` user the package creates.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
    pg=$(bin)
    if ! as_postgres "$pg/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        rm -rf "$data" && mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres: "$data"
        as_postgres "$pg/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
        as_postgres "$pg/pg_ctl" -D "$data" -l "$data/server.log" -w \
            -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
    fi
    echo "$url"
    ;;
stop)
    pg=$(bin)
    as_postgres "$pg/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    ;;
*) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
