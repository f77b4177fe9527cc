#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, on 127.0.0.1:${SLUICE_TEST_PG_PORT:-55432}, trusting local connections.
# It offers TLS with a self-signed certificate for 127.0.0.1, and has a role `secure` that may only connect over TLS.
#   scripts/postgres.sh start   creates a cluster in /tmp, starts it and prints its URL
#   scripts/postgres.sh ca      prints the path of its certificate (the authority to trust for verify-full)
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
        as_postgres openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
            -keyout "$data/server.key" -out "$data/server.crt" 2>/dev/null
        # First match wins: `secure` over TLS only, everyone else as initdb allowed.
        printf 'hostssl all secure 127.0.0.1/32 trust\nhostnossl all secure 127.0.0.1/32 reject\n' | cat - "$data/pg_hba.conf" > "$data/hba" &&
            mv "$data/hba" "$data/pg_hba.conf"
        as_postgres "$pg/pg_ctl" -D "$data" -l "$data/server.log" -w \
            -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 -c ssl=on" start >/dev/null
        as_postgres "$pg/psql" -h "$data" -p "$port" -U postgres -qc "CREATE ROLE secure LOGIN SUPERUSER" postgres
    fi
    echo "$url"
    ;;
ca) echo "$data/server.crt" ;;
stop)
    pg=$(bin)
    as_postgres "$pg/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    ;;
*) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
