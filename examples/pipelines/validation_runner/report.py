"""Writes the run's report in JSON and CSV: the validation summary, and the analysis unless it was skipped."""
import json
import os

from common import OUTPUTS, param, write_csv, write_json


def load(*parts):
    path = os.path.join(OUTPUTS, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


summary = load("validation", "validation_summary.json")
analysis = load("analysis", "analysis.json")
report = {"old_version": param("old_version"), "new_version": param("new_version"), "passed": summary["passed"],
          "rules": summary["rules"], "rows": {k: summary[k] for k in ("old", "new", "matched", "only_old", "only_new")},
          "analysis": analysis or "skipped"}
write_json(os.path.join(OUTPUTS, "validation_report.json"), report)
rows = [["rule", r["name"], "pass" if r["passed"] else "FAIL", r["detail"]] for r in summary["rules"]]
if analysis:
    rows += [["driver", e["parameter"], e["impact"], f"worst value {e['worst_value']} ({e['worst_rate']:.2%})"] for e in analysis["ranking"]]
write_csv(os.path.join(OUTPUTS, "validation_report.csv"), ["kind", "name", "result", "detail"], rows)
verdict = "all rules hold" if summary["passed"] else "some rules are broken"
print(f"{param('old_version')} → {param('new_version')}: {verdict}; "
      + (f"main driver: {analysis['driver']}" if analysis else "analysis skipped"))
