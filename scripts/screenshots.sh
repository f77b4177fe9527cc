#!/usr/bin/env bash
# Screenshots of the examples for their READMEs (examples/images/): each example run once in a scratch copy of the
# examples workspace, then its pipeline page, its run page, its report and its own HTML output, as headless Chromium
# shows them through `sluice serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh --for-tests
scripts/release.sh
sluice="$PWD/.build/release/sluice"
images="$PWD/examples/images"
docs="$PWD/docs/images"
scratch=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
cp -r examples/pipelines "$scratch/"
cd "$scratch"

last_run() { "$sluice" runs --limit 1 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])'; }
"$sluice" run analysis_workflow >/dev/null; analysis=$(last_run)
"$sluice" run data_pipeline >/dev/null
"$sluice" run data_pipeline -p months=7 -p inject_failure=collector >/dev/null || true; data=$(last_run)
"$sluice" run mixpanel_pipeline >/dev/null; mixpanel=$(last_run)
"$sluice" run validation_runner >/dev/null; validation=$(last_run)
"$sluice" run analytics_platform >/dev/null; analytics=$(last_run)
# A few runs of daily_sales for its history grid.
for region in all north south; do "$sluice" run daily_sales -p region=$region >/dev/null || true; done
# A big run: 3,000 steps, some failing, for the run page's header, its drawn-in-view table and its timeline.
{ echo "description: a big flat run"; echo "steps:"
  for i in $(seq 3000); do
      if (( i % 250 == 0 )); then echo "  - {name: part_$i, command: 'exit 3'}"; else echo "  - {name: part_$i, command: 'true'}"; fi
  done; } > pipelines/big_run.yaml
"$sluice" run big_run --continue-on-error --jobs 2 >/dev/null || true; big=$(last_run)

"$sluice" serve --port 5099 >/dev/null 2>&1 & server=$!
until curl -sf http://127.0.0.1:5099/api/health >/dev/null; do sleep 0.2; done
shoot() {  # shoot NAME URL [HEIGHT]
    timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=4000 \
        --window-size=1280,"${3:-900}" --screenshot="$images/$1.png" "$2" >/dev/null 2>&1
    echo "$images/$1.png"
}
mkdir -p "$images"
for pair in analysis_workflow:$analysis data_pipeline:$data mixpanel_pipeline:$mixpanel validation_runner:$validation \
            analytics_platform:$analytics; do
    name=${pair%%:*} run=${pair#*:}
    shoot "$name-pipeline" "http://127.0.0.1:5099/#/pipelines/$name"
    shoot "$name-run" "http://127.0.0.1:5099/#/runs/$run" 1100
done
shoot data_pipeline-report "http://127.0.0.1:5099/api/runs/$data/report" 1300
# The outputs route serves files as downloads, so the dashboard is opened as the file it is.
shoot analytics_platform-dashboard "file://$scratch/runs/$analytics/outputs/dashboard.html" 1300
# The README's two: a pipeline page with a schedule, modes and parameters, and a run that failed (its log, the review).
images=$docs shoot ui-pipeline "http://127.0.0.1:5099/#/pipelines/daily_sales" 1500
images=$docs shoot ui-run "http://127.0.0.1:5099/#/runs/$data" 1300
images=$docs shoot ui-big-run "http://127.0.0.1:5099/#/runs/$big" 1300
