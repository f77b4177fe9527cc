#!/usr/bin/env bash
# Steps per second on workers: a STEPS-step pipeline (independent steps running $STEP, default `true`) run from host sl-h1 by 1, 2 and 3
# workers on hosts sl-h2, sl-h3 and sl-h1 (network namespaces, scripts/netns.sh; needs root), against the same
# pipeline on the local executor and a bare loop starting the same step as many times, all in the same run.
#   bench/workers.sh [STEPS] [SLOTS]     (defaults: 200 and 4 slots per worker; ROUNDS=3, best kept)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-200}
slots=${2:-4}
rounds=${ROUNDS:-3}
step=${STEP:-true}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
workers=()
cleanup() { for pid in "${workers[@]}"; do kill "$pid" 2>/dev/null || true; done; "$root/scripts/netns.sh" down; rm -rf "$work"; }
trap cleanup EXIT
url=$("$root/scripts/netns.sh" up)
mkdir -p "$work/pipelines"
{ echo "steps:"; for i in $(seq "$steps"); do echo "  - {name: s$i, command: '$step'}"; done; } > "$work/pipelines/wide.yaml"
printf 'store: %s\njobs: %d\n' "$url" $((3 * slots)) > "$work/sluice.yaml"

source "$here/timing.sh"
loop() { for _ in $(seq "$steps"); do sh -c "$step"; done; }
run() { ip netns exec sl-h1 env SLUICE_EXECUTOR="$1" "$sluice" run wide -C "$work"; }
best() { local best=""; for _ in $(seq "$rounds"); do best=$(min "$best" "$(elapsed "$@")"); done; echo "$best"; }

loop_s=$(best loop)
local_s=$(best run local)
printf '%d steps of `%s`  bare loop %.2fs (%.0f steps/s)  local executor %.2fs (%.0f steps/s)\n' "$steps" "$step" "$loop_s" \
    "$(echo "$steps / $loop_s" | bc -l)" "$local_s" "$(echo "$steps / $local_s" | bc -l)"
for host in h2 h3 h1; do
    ip netns exec "sl-$host" "$sluice" worker -C "$work" --name "bench-$host" --slots "$slots" >/dev/null &
    workers+=($!)
    workers_s=$(best run workers)
    printf '%d worker(s)  %.2fs  %.0f steps/s  ratio to the local executor %.1f\n' "${#workers[@]}" "$workers_s" \
        "$(echo "$steps / $workers_s" | bc -l)" "$(echo "$workers_s / $local_s" | bc -l)"
done
