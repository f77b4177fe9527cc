#!/usr/bin/env bash
# Three "hosts" on one machine for the workers' tests: network namespaces sl-h1, sl-h2 and sl-h3, joined by veth pairs
# to a bridge (10.77.0.1-3/24, the machine itself 10.77.0.254), with a throw-away PostgreSQL in sl-h1 on 10.77.0.1:55440. Needs root and iproute2.
#   scripts/netns.sh up           creates them, starts PostgreSQL and prints its URL
#   scripts/netns.sh cut HOST     unplugs HOST (h2, h3) from the bridge; `plug HOST` plugs it back
#   scripts/netns.sh down         stops PostgreSQL and removes them
set -euo pipefail
port=55440
data=/tmp/sluice-test-netns-postgres
hosts=(h1 h2 h3)

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }
in_h1() { ip netns exec sl-h1 "$@"; }

down() {
    in_h1 runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    for host in "${hosts[@]}"; do
        ip netns del "sl-$host" 2>/dev/null || true
        ip link del "sl-$host-b" 2>/dev/null || true
    done
    ip link del sl-br 2>/dev/null || true
}

case "${1:-}" in
up)
    [ "$(id -u)" = 0 ] || { echo "network namespaces need root" >&2; exit 69; }
    down
    ip link add sl-br type bridge
    # The machine itself is on the network too (10.77.0.254): the test reads the store from there.
    ip addr add 10.77.0.254/24 dev sl-br
    ip link set sl-br up
    for i in 1 2 3; do
        host=h$i
        ip netns add "sl-$host"
        ip link add "sl-$host-b" type veth peer name eth0 netns "sl-$host"
        ip link set "sl-$host-b" master sl-br up
        ip netns exec "sl-$host" ip addr add "10.77.0.$i/24" dev eth0
        ip netns exec "sl-$host" ip link set eth0 up
        ip netns exec "sl-$host" ip link set lo up
    done
    mkdir -p "$data" && chown postgres: "$data"
    runuser -u postgres -- "$(pg_bin)/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
    echo "host all all 10.77.0.0/24 trust" >> "$data/pg_hba.conf"
    in_h1 runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$data" -l "$data/server.log" -w \
        -o "-p $port -k $data -c listen_addresses=10.77.0.1 -c max_connections=200" start >/dev/null
    echo "postgres://postgres@10.77.0.1:$port/postgres"
    ;;
cut) ip link set "sl-$2-b" down ;;
plug) ip link set "sl-$2-b" up ;;
down) down ;;
*) echo "usage: $0 up|cut HOST|plug HOST|down" >&2; exit 64 ;;
esac
