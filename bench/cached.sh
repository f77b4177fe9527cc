#!/usr/bin/env bash
# Change detection: a first run and a no-op rerun of N steps with declared inputs (TOTAL_MB in all), Sluice
# against GNU make on the same files, measured in the same run; prints times, ratios and bytes read.
#   bench/cached.sh [STEPS] [TOTAL_MB]      (defaults: 10000 and 1024; ROUNDS=3 first runs and no-op reruns of each,
#                                            best kept)
# Make compares mtimes; Sluice compares SHA-256 fingerprints, rehashing a file only when its size, mtime or
# inode changed, and records every step in its store.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-10000}
total_mb=${2:-1024}
rounds=${ROUNDS:-3}
jobs=$(nproc)

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs a command with output discarded; prints "SECONDS RCHAR" (rchar: bytes the command and its children read
# through system calls, from /proc: a reaped child's I/O is added to its parent's).
measure() {
    bash -c 'start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
             echo "$(echo "$end - $start" | bc -l) $(awk "/^rchar/ {print \$2}" /proc/$$/io)"' measure "$@"
}

source "$here/timing.sh"

python3 "$here/generate_cached.py" "$work/sluice" "$steps" "$total_mb"
cp -r "$work/sluice" "$work/make"
echo "jobs=$jobs  $steps steps over $(du -sm "$work/sluice/data" | cut -f1) MB of inputs  $(make --version | head -1)"

# Best of $rounds first runs, alternately, each from no outputs and no store, and after a sync: the inputs just
# written must not be flushed to disk during one tool's run and not the other's.
make_first="" sluice_first=""
for _ in $(seq "$rounds"); do
    rm -f "$work/make/out/"*; sync
    read -r seconds make_first_read < <(measure make -s -C "$work/make" -j"$jobs"); make_first=$(min "$make_first" "$seconds")
    rm -rf "$work/sluice/out/"* "$work/sluice/.sluice" "$work/sluice/runs"; sync
    read -r seconds sluice_first_read < <(measure "$sluice" run cached -C "$work/sluice" --jobs "$jobs")
    sluice_first=$(min "$sluice_first" "$seconds")
done
printf 'first run   make %8.3fs  sluice %8.3fs  ratio %.2f  sluice read %d MB\n' \
    "$make_first" "$sluice_first" "$(echo "$sluice_first / $make_first" | bc -l)" "$((sluice_first_read / 1048576))"

make_noop="" sluice_noop="" make_read=0 sluice_read=0
for _ in $(seq "$rounds"); do
    read -r seconds bytes < <(measure make -s -C "$work/make" -j"$jobs"); make_noop=$(min "$make_noop" "$seconds"); make_read=$bytes
    read -r seconds bytes < <(measure "$sluice" run cached -C "$work/sluice" --jobs "$jobs"); sluice_noop=$(min "$sluice_noop" "$seconds"); sluice_read=$bytes
done
"$sluice" runs -C "$work/sluice" --limit 1 | tail -1
printf 'no-op rerun make %8.3fs  sluice %8.3fs  ratio %.2f  read: make %.1f MB, sluice %.1f MB (inputs: %d MB)\n' \
    "$make_noop" "$sluice_noop" "$(echo "$sluice_noop / $make_noop" | bc -l)" \
    "$(echo "$make_read / 1048576" | bc -l)" "$(echo "$sluice_read / 1048576" | bc -l)" "$total_mb"
