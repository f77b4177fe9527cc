#!/usr/bin/env bash
# The full test suite: unit and integration tests with real processes and a real SQLite store, and end-to-end
# tests that run the built `sluice` binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh
swift build --build-tests
swift test --skip-build --disable-xctest
