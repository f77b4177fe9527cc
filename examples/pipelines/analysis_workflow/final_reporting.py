"""Phase 6: final reporting. Runs whatever the earlier phases did (its trigger rule is all_done): writes the run
summary and an index of every output, with sizes and SHA-256, in JSON and Markdown."""
import hashlib
import json
import os

from common import OUTPUTS, output, param, read_json, write_json, write_text


def digest(path):
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def optional(*parts):
    path = os.path.join(OUTPUTS, *parts)
    return read_json(path) if os.path.exists(path) else None


files = []
for folder, _, names in sorted(os.walk(OUTPUTS)):
    for name in sorted(names):
        path = os.path.join(folder, name)
        relative = os.path.relpath(path, OUTPUTS)
        if name != ".keep" and not relative.startswith("reports/index") and relative != "reports/run_summary.json":
            files.append({"path": relative, "bytes": os.path.getsize(path), "sha256": digest(path)})

qa, insights, totals = optional("validation", "qa_report.json"), optional("reports", "insights.json"), optional("aggregations", "totals.json")
# True: the phase's output is here; False: its checks failed; None: it did not run (or wrote nothing).
phases = {
    "schema_discovery": os.path.exists(os.path.join(OUTPUTS, "schema", "schema.json")) or None,
    "data_aggregation": totals is not None or None,
    "user_segmentation": optional("segments", "segment_stats.json") is not None or None,
    "quality_assurance": None if qa is None else qa["passed"],
    "insights": insights is not None or None,
}
summary = {
    "run_id": os.environ.get("SLUICE_RUN_ID"),
    "parameters": {name: param(name) for name in ["quick", "focus", "app_filter", "date_start", "date_end", "users"]},
    "phases_with_output": phases,
    "totals": totals,
    "failed_checks": [c["check"] for c in qa["checks"] if not c["passed"]] if qa else None,
    "findings": len(insights["findings"]) if insights else 0,
    "files": len(files),
}
write_json(output("reports", "run_summary.json"), summary)
write_json(output("reports", "index.json"), files)
lines = [f"# Run {summary['run_id']}", "", "| phase | result |", "|---|---|"]
lines += [f"| {phase} | {({True: 'ok', False: 'checks failed', None: 'did not run'})[done]} |" for phase, done in phases.items()]
lines += ["", "| file | bytes | sha256 |", "|---|---|---|"] + [f"| {f['path']} | {f['bytes']} | {f['sha256'][:12]} |" for f in files]
write_text(output("reports", "index.md"), "\n".join(lines) + "\n")
print(json.dumps(summary["phases_with_output"]))
print(f"indexed {len(files)} files in reports/index.md and reports/index.json")
