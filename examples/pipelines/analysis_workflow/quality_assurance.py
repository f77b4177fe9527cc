"""Phase 4: quality assurance. Real checks on the data and on what the earlier phases wrote; any failed check fails
the phase. In the validate-only mode the aggregation and segmentation did not run, and their checks are left out."""
import csv
import os
import sys

from common import EVENTS, OUTPUTS, read_json, selected_events, setting, write_json, write_text, output

results = []


def check(name, passed, detail):
    results.append({"check": name, "passed": bool(passed), "detail": detail})
    print(f"{'pass' if passed else 'FAIL'}  {name}: {detail}")


schema = read_json(os.path.join(OUTPUTS, "schema", "schema.json"))
mapping = read_json(os.path.join(OUTPUTS, "schema", "field_mapping.json"))
with open(EVENTS, newline="") as handle:
    header = next(csv.reader(handle))
check("schema is current", [f["name"] for f in schema["fields"]] == header, f"{len(header)} fields in the data, {len(schema['fields'])} in the schema")
types = {f["name"]: f["type"] for f in schema["fields"]}
check("revenue is numeric", types.get(mapping.get("revenue")) in ("float", "integer"), f"{mapping.get('revenue')} is {types.get(mapping.get('revenue'))}")
check("timestamps parse", types.get(mapping.get("timestamp")) == "timestamp", f"{mapping.get('timestamp')} is {types.get(mapping.get('timestamp'))}")

ids, duplicates, negative, users, revenue, outside = set(), 0, 0, set(), 0.0, 0
for event in selected_events():
    duplicates += event["event_id"] in ids
    ids.add(event["event_id"])
    negative += event["revenue_usd"] < 0
    outside += not event["event_time"].startswith(event["event_date"])
    users.add(event["user_id"])
    revenue += event["revenue_usd"]
check("event ids are unique", duplicates == 0, f"{duplicates} duplicates among {len(ids)} events")
check("no negative revenue", negative == 0, f"{negative} events with negative revenue")
check("event time matches event date", outside == 0, f"{outside} events whose time falls on another day")
minimum = setting("MINIMUM_SAMPLE_SIZE", 100)
check("sample size", len(users) >= minimum, f"{len(users)} users in the selection; at least {minimum} needed for the statistics")

totals_file = os.path.join(OUTPUTS, "aggregations", "totals.json")
if os.path.exists(totals_file):
    totals = read_json(totals_file)
    with open(os.path.join(OUTPUTS, "aggregations", "daily_metrics.csv"), newline="") as handle:
        daily = list(csv.DictReader(handle))
    daily_revenue = sum(float(row["revenue_usd"]) for row in daily)
    check("daily revenue reconciles with the events", abs(daily_revenue - revenue) < 0.01 * max(len(daily), 1),
          f"{daily_revenue:.2f} in daily_metrics.csv, {revenue:.2f} in the events")
    check("event totals reconcile", totals["events"] == len(ids), f"{totals['events']} aggregated, {len(ids)} selected")
stats_file = os.path.join(OUTPUTS, "segments", "segment_stats.json")
if os.path.exists(stats_file):
    stats = read_json(stats_file)
    segmented = sum(s["users"] for s in stats["segments"].values())
    check("every user is in one segment", segmented == len(users), f"{segmented} segmented, {len(users)} selected")

failed = [r for r in results if not r["passed"]]
write_json(output("validation", "qa_report.json"), {"passed": not failed, "checks": results})
write_text(output("validation", "qa_report.md"), "# Quality assurance\n\n" + "".join(
    f"- {'✅' if r['passed'] else '❌'} **{r['check']}**: {r['detail']}\n" for r in results))
if failed:
    print(f"{len(failed)} of {len(results)} checks failed: {', '.join(r['check'] for r in failed)}", file=sys.stderr)
    sys.exit(1)
print(f"all {len(results)} checks passed")
