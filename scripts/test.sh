#!/usr/bin/env bash
# The full test suite: unit and integration tests with real processes and a real SQLite store, and end-to-end
# tests that run the built `sluice` binary, drive the web UI in headless Chromium, open exports in LibreOffice,
# fuzz the API with schemathesis, generate a client from its document with openapi-python-client, check pipeline
# files against their JSON Schema with check-jsonschema, read download names with Werkzeug, read workbooks with openpyxl, compare
# schedules with croniter, check `/metrics` with promtool, run the store's tests against PostgreSQL, steps on workers
# in three network namespaces and on a real single-node Slurm (all installed when missing; the Python packages into
# .build/tools/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-machine.sh --for-tests
tools="schemathesis==4.32.5 werkzeug==3.1.8 openpyxl==3.1.5 croniter==7.0.0 openapi-python-client==0.29.1 check-jsonschema==0.39.0 openlineage-python==1.54.0 opentelemetry-proto==1.45.2"
if [ "$(cat .build/tools/venv/installed 2>/dev/null)" != "$tools" ]; then
    python3 -m venv .build/tools/venv
    .build/tools/venv/bin/pip install --quiet --disable-pip-version-check $tools
    echo "$tools" > .build/tools/venv/installed
fi
# The code's format (.swift-format) and the web UI's script (ESLint's recommended rules, scripts/eslint.json). Debian's
# ESLint finds its modules under /usr/share/nodejs, where a Node.js from elsewhere does not look by itself.
swift format lint --recursive --strict --parallel Sources Tests Package.swift bench
NODE_PATH=/usr/share/nodejs eslint --no-eslintrc -c scripts/eslint.json Sources/SluiceServer/Web/*.js
swift build --build-tests
# The shared store's and the workers' tests run against a real PostgreSQL, the Slurm executor's against a real Slurm:
# both started here and stopped at the end.
trap 'scripts/postgres.sh stop; scripts/slurm.sh stop' EXIT
SLUICE_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
SLUICE_TEST_POSTGRES_CA=$(scripts/postgres.sh ca)
SLURM_CONF=$(scripts/slurm.sh start)
export SLUICE_TEST_POSTGRES_URL SLUICE_TEST_POSTGRES_CA SLURM_CONF
# Three test processes side by side, each running its tests one at a time. Within one process, tests run one at a
# time: many wait on child processes synchronously, and two of them at once would take both threads of the
# cooperative pool from the servers other tests run in that process (2 cores here). Most of the suite's time is
# spent waiting on steps, servers and browsers, so three processes finish in about half the time of one. The shards
# are split by suite, and the last takes every suite the others do not name, so none is left out. The test binary
# is run as `swift test` runs it: two `swift test` at once would wait for each other's hold on the build folder.
# The test of workers cut off the network measures leases against the clock: it runs last, on a quiet machine.
web='^SluiceServerTests\.'
engine='^(SluiceKitTests|StoreTests)\.|^EndToEndTests\.(SlurmExecutorTests|RunOwnershipTests)/'
alone='^EndToEndTests\.WorkerNetworkTests/'
logs=$(mktemp -d)
shard() {
    local name=$1
    shift
    .build/debug/SluicePackageTests.xctest --testing-library swift-testing --no-parallel "$@" > "$logs/$name.log" 2>&1
}
shard web --filter "$web" &
web_pid=$!
shard engine --filter "$engine" &
engine_pid=$!
shard commands --skip "$web" --skip "$engine" --skip "$alone" &
commands_pid=$!
status=0
report() {
    echo "::: $1 tests $2"
    cat "$logs/$1.log"
}
for name in web engine commands; do
    pid="${name}_pid"
    if wait "${!pid}"; then report "$name" passed; else report "$name" failed; status=1; fi
done
if shard network --filter "$alone"; then report network passed; else report network failed; status=1; fi
# The failures again, together, at the end of the output.
grep -h '✘' "$logs"/*.log || true
rm -rf "$logs"
exit $status
