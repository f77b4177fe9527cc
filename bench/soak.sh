#!/usr/bin/env bash
# The full soak test of issue 6: 1,000 short runs started over the API by 50 concurrent clients while 20 WebSocket
# listeners follow every event (the suite runs a short version of the same test). Prints the figures.
# Usage: bench/soak.sh [RUNS] [CLIENTS] [LISTENERS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
SLUICE_SOAK_RUNS="${1:-1000}" SLUICE_SOAK_CLIENTS="${2:-50}" SLUICE_SOAK_LISTENERS="${3:-20}" \
    swift test --skip-build --disable-xctest --filter SoakTests 2>&1 | grep -E "soak:|passed|failed|Expectation"
