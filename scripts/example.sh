#!/usr/bin/env bash
# The main job: builds Sluice and runs the example pipeline examples/pipelines/daily_sales.yaml.
# Extra arguments go to `sluice run`, e.g.: scripts/example.sh -p region=north -p date_end=2025-12-31
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh
swift build -c release
.build/release/sluice validate -C examples
.build/release/sluice run daily_sales -C examples "$@"
echo
echo "The report: examples/runs/<run id>/outputs/report.md. Recent runs:"
.build/release/sluice runs -C examples --limit 5
