#!/usr/bin/env bash
# The same STEPS-step run recorded in SQLite and in PostgreSQL (a throw-away server, scripts/postgres.sh on port
# 55439), alternately, in the same run: what the shared store costs per step.
#   bench/store.sh [STEPS]      (default 1000; ROUNDS=3, best kept)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-1000}
rounds=${ROUNDS:-3}
export SLUICE_TEST_PG_PORT=55439

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap '"$root/scripts/postgres.sh" stop; rm -rf "$work"' EXIT
url=$("$root/scripts/postgres.sh" start)
mkdir -p "$work/pipelines"
{ echo "steps:"; for i in $(seq "$steps"); do echo "  - {name: s$i, command: 'true'}"; done; } > "$work/pipelines/fan.yaml"

source "$here/timing.sh"
run() { SLUICE_STORE="$1" "$sluice" run fan -C "$work" --jobs 2; }

sqlite_s="" postgres_s=""
for _ in $(seq "$rounds"); do
    sqlite_s=$(min "$sqlite_s" "$(elapsed run "$work/store.sqlite")")
    postgres_s=$(min "$postgres_s" "$(elapsed run "$url")")
done
printf '%d steps  sqlite %.2fs (%.2f ms/step)  postgresql %.2fs (%.2f ms/step)  ratio %.1f\n' "$steps" \
    "$sqlite_s" "$(echo "$sqlite_s * 1000 / $steps" | bc -l)" "$postgres_s" "$(echo "$postgres_s * 1000 / $steps" | bc -l)" \
    "$(echo "$postgres_s / $sqlite_s" | bc -l)"
