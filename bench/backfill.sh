#!/usr/bin/env bash
# A backfill of DAYS one-step runs against a bare loop starting the same step as many times, in the same run.
#   bench/backfill.sh [DAYS] [MAX_ACTIVE]     (defaults: 365 and 2; ROUNDS=3, best kept)
# Each backfilled run is a full Sluice run: recorded (claim, queue, states, events), its directory, .env,
# run.log, summary.json and report.html written; the loop only starts the process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
days=${1:-365}
active=${2:-2}
rounds=${ROUNDS:-3}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pipelines"
cat > "$work/pipelines/daily.yaml" <<'YAML'
params: {day: {type: date, required: true}}
steps:
  - {name: a, command: 'test -n "$DAY"'}
YAML

source "$here/timing.sh"
loop() { for i in $(seq "$days"); do DAY=$i sh -c 'test -n "$DAY"'; done; }
backfill() { rm -rf "$work/.sluice" "$work/runs"; "$sluice" backfill daily -C "$work" --from 2025-01-01 --to "$(date -d "2025-01-01 + $((days - 1)) days" +%F)" \
    --max-active "$active" -p 'day={{ schedule.date }}'; }

loop_s="" sluice_s=""
for _ in $(seq "$rounds"); do
    loop_s=$(min "$loop_s" "$(elapsed loop)")
    sluice_s=$(min "$sluice_s" "$(elapsed backfill)")
done
printf 'backfill %d days (max-active %d)  bare loop %.3fs  sluice %.3fs  ratio %.1f  (sluice %.2f ms/run)\n' \
    "$days" "$active" "$loop_s" "$sluice_s" "$(echo "$sluice_s / $loop_s" | bc -l)" "$(echo "$sluice_s * 1000 / $days" | bc -l)"
