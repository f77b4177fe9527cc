#!/usr/bin/env bash
# Peak memory of a run of STEPS independent `true` steps against Sluice's idle size (a run of one such step),
# both measured by /usr/bin/time in the same run: what each step of a run costs in memory.
#   bench/memory.sh [STEPS]      (default 50000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-50000}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/generate.py" "$work/one" fan 1
python3 "$here/generate.py" "$work/many" fan "$steps"

# Peak resident set in kilobytes, from GNU time's %M.
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

idle=$(peak "$sluice" run fan -C "$work/one" --jobs "$(nproc)")
run=$(peak "$sluice" run fan -C "$work/many" --jobs "$(nproc)")
printf 'idle (1 step) %6.1f MB  run of %d steps %6.1f MB  above idle %6.1f MB  (%.2f KB/step)\n' \
    "$(echo "$idle / 1024" | bc -l)" "$steps" "$(echo "$run / 1024" | bc -l)" "$(echo "($run - $idle) / 1024" | bc -l)" \
    "$(echo "($run - $idle) / $steps" | bc -l)"
