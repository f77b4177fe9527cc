#!/usr/bin/env bash
# Start-up: a run of a one-step pipeline (`true`) against make on a one-target Makefile, and `sluice --version`,
# best of ROUNDS each, alternately, in the same run.
#   bench/startup.sh      (ROUNDS=20)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-20}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source "$here/timing.sh"
python3 "$here/generate.py" "$work" fan 1
"$sluice" run fan -C "$work" >/dev/null  # the store exists, as it does for every run after a workspace's first

make_s="" run_s="" version_s=""
for _ in $(seq "$rounds"); do
    make_s=$(min "$make_s" "$(elapsed make -s -C "$work")")
    run_s=$(min "$run_s" "$(elapsed "$sluice" run fan -C "$work")")
    version_s=$(min "$version_s" "$(elapsed "$sluice" --version)")
done
printf 'one-step run  make %6.1f ms  sluice %6.1f ms  ratio %.1f   sluice --version %6.1f ms\n' \
    "$(echo "$make_s * 1000" | bc -l)" "$(echo "$run_s * 1000" | bc -l)" "$(echo "$run_s / $make_s" | bc -l)" \
    "$(echo "$version_s * 1000" | bc -l)"
