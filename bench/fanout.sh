#!/usr/bin/env bash
# One step fanned out with `foreach`: how a huge item list validates and dry-runs, how a run of its instances
# compares with GNU make on as many targets (measured in the same run), and a no-op rerun of cached instances.
#   bench/fanout.sh [ITEMS] [RUN_ITEMS]     (defaults: 100000 and 10000; ROUNDS=3, best kept)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
items=${1:-100000}
run_items=${2:-10000}
rounds=${ROUNDS:-3}
jobs=2

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

# "SECONDS MAX_RSS_MB" of one run of a command.
resources() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %d\n", $1, $2 / 1024}'; }

python3 "$here/fanout.py" "$work/huge" "$items"
read -r seconds rss < <(resources "$sluice" validate -C "$work/huge")
printf 'validate  foreach over %6d items  %6.2fs  %4d MB\n' "$items" "$seconds" "$rss"
read -r seconds rss < <(resources "$sluice" run fanout -C "$work/huge" --dry-run)
printf 'dry run   foreach over %6d items  %6.2fs  %4d MB\n' "$items" "$seconds" "$rss"

python3 "$here/fanout.py" "$work/run" "$run_items"
make_s="" sluice_s=""
for _ in $(seq "$rounds"); do
    make_s=$(min "$make_s" "$(elapsed make -s -C "$work/run" -j"$jobs")")
    sluice_s=$(min "$sluice_s" "$(elapsed "$sluice" run fanout -C "$work/run" --jobs "$jobs")")
done
printf 'run       %6d instances  make %7.3fs  sluice %7.3fs  ratio %.2f\n' "$run_items" "$make_s" "$sluice_s" \
    "$(echo "$sluice_s / $make_s" | bc -l)"

"$sluice" run cached -C "$work/run" --jobs "$jobs" >/dev/null
noop=""
for _ in $(seq "$rounds"); do noop=$(min "$noop" "$(elapsed "$sluice" run cached -C "$work/run" --jobs "$jobs")"); done
printf 'rerun     %6d cached instances, none runs  %6.3fs\n' "$run_items" "$noop"
