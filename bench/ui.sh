#!/usr/bin/env bash
# The web UI's run page at STEPS steps, in headless Chromium, timed by the browser's own Performance API (bench/ui.py):
# the first render of a finished run and of a running one, and how long applying one batch of live events takes.
#   bench/ui.sh [STEPS]      (default 10000; ROUNDS=3 first renders of the finished run)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
steps=${1:-10000}
rounds=${ROUNDS:-3}

# SLUICE=PATH measures that binary instead (an older build, for figures before and after a change).
[ -n "${SLUICE:-}" ] || "$root/scripts/release.sh" >/dev/null
sluice=${SLUICE:-$root/.build/release/sluice}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/pipelines"
for name in finished live; do
    { echo "steps:"; for i in $(seq "$steps"); do
        if (( i % 1000 == 0 )); then echo "  - {name: s$i, command: 'exit 3'}"; else echo "  - {name: s$i, command: 'true'}"; fi
    done; } > "$work/pipelines/$name.yaml"
done
# The live run succeeds: the bench waits for that.
sed -i "s/'exit 3'/'true'/" "$work/pipelines/live.yaml"
"$sluice" run -C "$work" finished --continue-on-error --jobs 2 >/dev/null || true
finished=$("$sluice" runs -C "$work" --limit 1 --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
printf "jobs: 2\n" > "$work/sluice.yaml"
"$sluice" serve -C "$work" --port 0 > "$work/server.out" &
server=$!
until grep -q "http://" "$work/server.out" 2>/dev/null; do sleep 0.1; done
address=$(grep -o 'http://[0-9.:]*' "$work/server.out")
echo "$steps steps, $(nproc) cores, Chromium $(chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)"
python3 "$here/ui.py" "$address" "$finished" live "$rounds"
