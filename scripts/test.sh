#!/usr/bin/env bash
# The full test suite: unit and integration tests with real processes and a real SQLite store, and end-to-end
# tests that run the built `sluice` binary, drive the web UI in headless Chromium and open exports in LibreOffice
# (both installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh --for-tests
swift build --build-tests
swift test --skip-build --disable-xctest
