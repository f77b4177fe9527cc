"""Phase 0: the system health check. Fails, saying why, when the machine cannot run the workflow."""
import json
import shutil
import sys

from common import FOLDERS, OUTPUTS, output, param, setting, write_json

checks = []


def check(name, passed, detail):
    checks.append({"check": name, "passed": passed, "detail": detail})
    print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")


check("python", sys.version_info >= (3, 9), f"Python {sys.version.split()[0]} (3.9 or later needed)")
free_mb = shutil.disk_usage(OUTPUTS).free // 2**20
check("disk", free_mb >= 100, f"{free_mb} MB free for outputs (100 MB needed)")
for name, default in [("DEFAULT_ITERATIONS", 1000), ("QUICK_ITERATIONS", 100), ("MINIMUM_SAMPLE_SIZE", 100),
                      ("ANALYSIS_WINDOW_DAYS", 7)]:
    try:
        value = setting(name, default)
        check(name, value > 0, f"{value}")
    except ValueError as error:
        check(name, False, f"not a whole number: {error}")
threshold = setting("CONFIDENCE_THRESHOLD", 0.95)
check("CONFIDENCE_THRESHOLD", 0 < threshold < 1, f"{threshold} (between 0 and 1)")

for folder in FOLDERS:
    output(folder, ".keep")
write_json(output("health_check.json"), {
    "checks": checks,
    "parameters": {name: param(name) for name in ["quick", "focus", "app_filter", "date_start", "date_end"]},
})
failed = [entry["check"] for entry in checks if not entry["passed"]]
if failed:
    print(f"health check failed: {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)
print(f"health check passed; output folders: {', '.join(FOLDERS)}")
