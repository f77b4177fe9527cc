#!/usr/bin/env bash
# Peak memory of a run of STEPS independent `true` steps, written out and as the instances of one `foreach` step,
# against Sluice's idle size (a run of one such step), all measured by /usr/bin/time in the same run: what each step
# of a run costs in memory.
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
report() { # what run_kb
    printf '%-34s %6.1f MB  above idle %6.1f MB  (%.2f KB/step)\n' "$1" "$(echo "$2 / 1024" | bc -l)" \
        "$(echo "($2 - $idle) / 1024" | bc -l)" "$(echo "($2 - $idle) / $steps" | bc -l)"
}
printf '%-34s %6.1f MB\n' "idle (a run of 1 step)" "$(echo "$idle / 1024" | bc -l)"
report "run of $steps steps, as written" "$(peak "$sluice" run fan -C "$work/many" --jobs "$(nproc)")"
# The same number of steps as the instances of one `foreach` step: what a step costs once its definition is read.
python3 "$here/fanout.py" "$work/instances" "$steps"
report "run of $steps fan-out instances" "$(peak "$sluice" run fanout -C "$work/instances" --jobs "$(nproc)")"
