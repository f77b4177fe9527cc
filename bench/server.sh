#!/usr/bin/env bash
# The API while a big run executes: GET /api/health (the baseline), GET /api/runs/ID/status (where the run stands,
# in constant size) and GET /api/runs/ID (the run with every step and attempt), one after the other on the same
# server during one run of STEPS `sleep 0.05` steps, 2 at a time.
#   bench/server.sh [STEPS] [SECONDS]      (defaults: 1000 and 5 per route; CONNECTIONS=8 wrk connections)
# Needs wrk (apt-get install wrk).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-1000}
seconds=${2:-5}
connections=${CONNECTIONS:-8}
command -v wrk >/dev/null || { echo "bench/server.sh needs wrk: apt-get install wrk" >&2; exit 1; }

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/pipelines"
{ echo "steps:"; for i in $(seq "$steps"); do echo "  - {name: s$i, command: 'sleep 0.05'}"; done; } > "$work/pipelines/fan.yaml"

printf "jobs: 2\n" > "$work/sluice.yaml"
"$sluice" serve -C "$work" --port 0 > "$work/server.out" &
server=$!
until grep -q "http://" "$work/server.out" 2>/dev/null; do sleep 0.1; done
port=$(sed -E 's|.*:([0-9]+)$|\1|' "$work/server.out")
run=$(python3 -c 'import json, sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/pipelines/fan/runs", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["id"])' "$port")

# requests/s, p50 and p99 in ms, errors (non-2xx and socket errors), as wrk measured them.
measure() {
    wrk -t 2 -c "$connections" -d "${seconds}s" --latency "http://127.0.0.1:$port$1" | python3 -c '
import re, sys
text = sys.stdin.read()
def ms(label):
    value, unit = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout) (\d+)", text))
print(f"{rps:.0f} {ms(50):.2f} {ms(99):.2f} {errors}")'
}
started() { python3 -c 'import json, sys, urllib.request
status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/runs/{sys.argv[2]}/status"))
print(status["steps"] - status["counts"]["pending"])' "$port" "$run"; }

read -r health_rps health_p50 health_p99 health_errors < <(measure /api/health)
read -r status_rps status_p50 status_p99 status_errors < <(measure "/api/runs/$run/status")
read -r detail_rps detail_p50 detail_p99 detail_errors < <(measure "/api/runs/$run")
status_bytes=$(curl -s "http://127.0.0.1:$port/api/runs/$run/status" | wc -c)
detail_bytes=$(curl -s "http://127.0.0.1:$port/api/runs/$run" | wc -c)

echo "wrk $connections connections, ${seconds}s per route, $(nproc) cores, during one run of $steps steps ($(started) started by the end)"
printf '%-28s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %s\n' "/api/health" "$health_rps" "$health_p50" "$health_p99" "$health_errors"
printf '%-28s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %s  (%s bytes)\n' "/api/runs/ID/status" "$status_rps" "$status_p50" "$status_p99" "$status_errors" "$status_bytes"
printf '%-28s %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %s  (%s bytes)\n' "/api/runs/ID (every step)" "$detail_rps" "$detail_p50" "$detail_p99" "$detail_errors" "$detail_bytes"
printf 'status / health throughput %.2f\n' "$(echo "$status_rps / $health_rps" | bc -l)"
