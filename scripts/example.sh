#!/usr/bin/env bash
# The main job: builds Sluice and runs the analysis workflow example (examples/pipelines/analysis_workflow.yaml) on
# the embedded SQLite store. Extra arguments go to `sluice run`, e.g.: scripts/example.sh -p focus=revenue -p quick=true
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh
scripts/release.sh
.build/release/sluice validate -C examples
.build/release/sluice run analysis_workflow -C examples "$@"
echo
echo "Its outputs: examples/runs/<run id>/outputs/ (start with reports/index.md). Recent runs:"
.build/release/sluice runs -C examples --limit 5
