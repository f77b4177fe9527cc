#!/usr/bin/env bash
# Sluice against GNU make on the same trivial steps, measured in the same run; prints the ratios.
#   bench/run.sh [CHAIN_STEPS] [FAN_STEPS]     (defaults: 1000 and 10000; ROUNDS=5 runs of each, best kept)
# Sluice records every state change in its SQLite store (synchronous=FULL); make records nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
chain=${1:-1000}
fan=${2:-10000}
jobs=$(nproc)

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rounds=${ROUNDS:-5}

source "$here/timing.sh"

measure() { # shape count
    local shape=$1 count=$2 dir="$work/$1"
    python3 "$here/generate.py" "$dir" "$shape" "$count"
    # Interleaved and best of $rounds: the machine is shared and noisy, and both tools see the same noise.
    local make_s="" sluice_s=""
    for _ in $(seq "$rounds"); do
        make_s=$(min "$make_s" "$(elapsed make -s -C "$dir" -j"$jobs")")
        sluice_s=$(min "$sluice_s" "$(elapsed "$sluice" run "$shape" -C "$dir" --jobs "$jobs")")
    done
    local ratio
    ratio=$(echo "$sluice_s / $make_s" | bc -l)
    printf '%-6s %6d steps  make %8.3fs  sluice %8.3fs  ratio %.2f  (sluice %.3f ms/step)\n' \
        "$shape" "$count" "$make_s" "$sluice_s" "$ratio" "$(echo "$sluice_s * 1000 / $count" | bc -l)"
}

echo "jobs=$jobs  $(make --version | head -1)"
measure chain "$chain"
measure fan "$fan"
