#!/usr/bin/env bash
# A fan-out on Slurm: how many `sbatch` calls its instances take, and how long the run is.
#   bench/slurm.sh [ITEMS]     (default 1200; needs Slurm: SLURM_CONF=$(scripts/slurm.sh start))
# A shim in front of sbatch counts the calls, then runs the real sbatch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
items=${1:-1200}
: "${SLURM_CONF:?start Slurm first: export SLURM_CONF=\$(scripts/slurm.sh start)}"

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

mkdir -p "$work/pipelines" "$work/shim"
python3 -c "import sys; n = int(sys.argv[1]); print('executor: slurm\nsteps:\n  - name: map\n    command: \"true\"\n    foreach: [' + ', '.join(f'i{i}' for i in range(n)) + ']')" \
    "$items" >"$work/pipelines/fan.yaml"
printf '#!/bin/sh\necho called >> "%s/calls"\nexec %s "$@"\n' "$work" "$(command -v sbatch)" >"$work/shim/sbatch"
chmod +x "$work/shim/sbatch"
seconds=$(PATH="$work/shim:$PATH" elapsed "$sluice" run fan -C "$work")
max=$(scontrol show config | awk '/^MaxArraySize/ {print $3}')
printf 'slurm  %6d instances  %d sbatch calls (MaxArraySize %s)  %.1fs\n' "$items" "$(wc -l <"$work/calls")" "$max" "$seconds"
