#!/usr/bin/env bash
# Run-status requests (GET /api/runs/ID: the run with all its steps and attempts) while a 1,000-step run executes,
# against a baseline measured in the same run: the same client fetching a static file (/style.css) from the same
# server while nothing runs.
#   bench/server.sh [STEPS] [SECONDS]      (defaults: 1000 and 10; THREADS=4 client connections)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-1000}
seconds=${2:-10}
threads=${THREADS:-4}

swift build -c release --package-path "$root" >/dev/null
sluice="$root/.build/release/sluice"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/pipelines"
{ echo "steps:"; for i in $(seq "$steps"); do echo "  - {name: s$i, command: 'sleep 0.05'}"; done; } > "$work/pipelines/fan.yaml"

"$sluice" serve -C "$work" --port 0 > "$work/server.out" &
server=$!
until grep -q "http://" "$work/server.out" 2>/dev/null; do sleep 0.1; done
port=$(sed -E 's|.*:([0-9]+)$|\1|' "$work/server.out")

read -r base_rps base_p50 base_p99 base_errors < <(python3 "$here/load.py" 127.0.0.1 "$port" /style.css "$seconds" "$threads")
run=$(python3 -c 'import json, sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/pipelines/fan/runs", data=b"{}", method="POST")
print(json.load(urllib.request.urlopen(request))["id"])' "$port")
read -r rps p50 p99 errors < <(python3 "$here/load.py" 127.0.0.1 "$port" "/api/runs/$run" "$seconds" "$threads")
done_steps=$(python3 -c 'import json, sys, urllib.request
steps = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/runs/{sys.argv[2]}"))["steps"]
print(sum(1 for s in steps if s["state"] != "pending"), len(steps))' "$port" "$run")

echo "threads=$threads  ${seconds}s each  $(nproc) cores"
printf 'static file, idle server      %6.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n' "$base_rps" "$base_p50" "$base_p99" "$base_errors"
printf 'run status, %4d-step run    %6.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  (steps started by the end: %s)\n' \
    "$steps" "$rps" "$p50" "$p99" "$errors" "$done_steps"
printf 'ratio (run status / static)   throughput %.2f  p99 %.1fx\n' "$(echo "$rps / $base_rps" | bc -l)" "$(echo "$p99 / $base_p99" | bc -l)"
