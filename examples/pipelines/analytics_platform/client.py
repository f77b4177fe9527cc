#!/usr/bin/env python3
"""The analytics platform's REST workflow against `sluice serve`, with the standard library only: upload a CSV, start the analytics
pipeline on it, poll its progress, then fetch the results and the dashboard.

    sluice serve -C examples &
    python3 examples/pipelines/analytics_platform/client.py sales_data.csv --target revenue --context sales
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
arguments.add_argument("file", help="the CSV to analyse")
arguments.add_argument("--server", default="http://127.0.0.1:5001")
arguments.add_argument("--token", default=os.environ.get("SLUICE_TOKEN"), help="the server's token, if it has one")
arguments.add_argument("--target", default="revenue")
arguments.add_argument("--time", default="date")
arguments.add_argument("--context", default="sales")
arguments.add_argument("--out", default=".", help="where to save results.json and dashboard.html")
options = arguments.parse_args()


def call(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(options.server + path, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    if options.token:
        request.add_header("Authorization", f"Bearer {options.token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode(errors='replace')}")


# 1. Upload (POST /api/uploads, multipart/form-data); this client's file replaces its own earlier upload.
boundary = uuid.uuid4().hex
with open(options.file, "rb") as handle:
    content = handle.read()
name = os.path.basename(options.file)
form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        f"Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
uploaded = json.loads(call("POST", "/api/uploads?overwrite=true", form, f"multipart/form-data; boundary={boundary}"))
stored = uploaded[0] if isinstance(uploaded, list) else uploaded
print(f"uploaded {stored['path']} ({stored['size']} bytes)")

# 2. Start the analysis.
run = json.loads(call("POST", "/api/pipelines/analytics_platform/runs", json.dumps({"params": {
    "data_source": stored["path"], "target_column": options.target, "time_column": options.time,
    "business_context": options.context}}).encode()))
print(f"started run {run['id']}")

# 3. Poll its progress until it ends.
while True:
    detail = json.loads(call("GET", f"/api/runs/{run['id']}"))
    steps = detail["steps"]
    done = sum(step["state"] not in ("pending", "running") for step in steps)
    running = [step["step"] for step in steps if step["state"] == "running"]
    print(f"progress: {100 * done / len(steps):5.1f}%  {detail['run']['status']}  {' '.join(running)}")
    if detail["run"]["status"] not in ("running", "pending"):
        break
    time.sleep(0.5)

# 4. Results and dashboard.
if detail["run"]["status"] != "success":
    for step in (s for s in steps if s["state"] in ("failed", "timed_out")):
        log = call("GET", f"/api/runs/{run['id']}/steps/{step['step']}/log").decode(errors="replace")
        print(f"{step['step']} {step['state']}; the end of its log:\n" + "\n".join(log.splitlines()[-5:]), file=sys.stderr)
    sys.exit(f"run {run['id']} ended {detail['run']['status']}")
for output in ("results.json", "dashboard.html"):
    with open(os.path.join(options.out, output), "wb") as handle:
        handle.write(call("GET", f"/api/runs/{run['id']}/outputs/{output}"))
results = json.load(open(os.path.join(options.out, "results.json")))
print("insights:\n" + "\n".join(f"  - {insight}" for insight in results["insights"]))
print(f"saved results.json and dashboard.html in {os.path.abspath(options.out)}")
