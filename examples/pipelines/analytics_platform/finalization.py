"""Stage 7, finalisation: results.json (what the platform's GET /analyze/{id}/results returns) and insights.md."""
import datetime
import os

from common import OUTPUTS, config, read_json, write_json

settings = config()
analysis = read_json(os.path.join(OUTPUTS, "analysis.json"))
results = {
    "status": "completed", "config": {k: v for k, v in settings.items() if k != "path"},
    "validation": read_json(os.path.join(OUTPUTS, "validation.json")), "processing": read_json(os.path.join(OUTPUTS, "processing.json")),
    "summary": {"rows": read_json(os.path.join(OUTPUTS, "processing.json"))["kept"], "months": len(analysis["monthly"]),
                "total": sum(analysis["monthly"].values()), "trend_per_month": analysis["trend_per_month"],
                "strongest_correlation": max(((c, r) for c, r in analysis["correlations"].items() if r is not None),
                                             key=lambda item: abs(item[1]), default=None)},
    "insights": analysis["insights"],
    "files": sorted([name for name in os.listdir(OUTPUTS) if not name.endswith(".tmp")] + ["results.json", "insights.md"]),
    "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
}
write_json(os.path.join(OUTPUTS, "results.json"), results)
with open(os.path.join(OUTPUTS, "insights.md"), "w") as handle:
    handle.write(f"# Insights: {settings['data_source']}\n\n" + "".join(f"- {i}\n" for i in analysis["insights"]))
print(f"results.json and insights.md written; files: {', '.join(results['files'])}")
