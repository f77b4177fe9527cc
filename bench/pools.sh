#!/usr/bin/env bash
# What a pool costs: the same fan-out of trivial steps run with `--jobs 2`, without a pool and with every instance in
# a pool of 2 (so that admission is the same, and each attempt takes and gives back a slot in the SQLite store), and
# with each instance asking for 1 CPU of 2 (`resources:`). Ratios against the run without either, measured in the
# same rounds.
#   bench/pools.sh [ITEMS]     (default 2000; ROUNDS=3, best kept)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
items=${1:-2000}
rounds=${ROUNDS:-3}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

mkdir -p "$work/pipelines"
list=$(seq -s, -f 'i%g' 1 "$items")
for variant in plain pooled sized; do
    extra=""
    [ "$variant" = pooled ] && extra="    pool: shared"
    [ "$variant" = sized ] && extra="    resources: {cpus: 1}"
    printf 'steps:\n  - name: map\n    foreach: [%s]\n    command: /bin/true\n%s\n' "$list" "$extra" > "$work/pipelines/$variant.yaml"
done
printf 'pools: {shared: 2}\ncpus: 2\n' > "$work/sluice.yaml"

plain="" pooled="" sized=""
for _ in $(seq "$rounds"); do
    plain=$(min "$plain" "$(elapsed "$sluice" run plain -C "$work" --jobs 2)")
    pooled=$(min "$pooled" "$(elapsed "$sluice" run pooled -C "$work" --jobs 2)")
    sized=$(min "$sized" "$(elapsed "$sluice" run sized -C "$work" --jobs 2)")
done
printf 'fan %6d steps  plain %7.3fs  pool of 2 %7.3fs  ratio %.2f  resources %7.3fs  ratio %.2f\n' "$items" "$plain" "$pooled" \
    "$(echo "$pooled / $plain" | bc -l)" "$sized" "$(echo "$sized / $plain" | bc -l)"
