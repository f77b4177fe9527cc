"""Phase 5: insights. A real study might ask a language model; here fixed rules read the metric tables and write
findings as text, for the chosen focus (or all of them)."""
import collections
import csv
import datetime
import os
import statistics

from common import OUTPUTS, date_range, output, param, read_json, selected_events, write_json, write_text

with open(os.path.join(OUTPUTS, "aggregations", "daily_metrics.csv"), newline="") as handle:
    daily = list(csv.DictReader(handle))
segments = read_json(os.path.join(OUTPUTS, "segments", "segment_stats.json"))["segments"]
focus = param("focus", "all")
findings = []


def finding(topic, text, value, warning=False):
    if focus in ("all", topic):
        findings.append({"topic": topic, "severity": "warning" if warning else "info", "text": text, "value": value})


def change(before, after):
    return (after - before) / before if before else 0.0


by_day = collections.defaultdict(lambda: collections.Counter())
for row in daily:
    day = by_day[row["date"]]
    for key in ("dau", "revenue_usd", "new_users", "sessions", "events"):
        day[key] += float(row[key])
days = sorted(by_day)
half = len(days) // 2
first, second = days[:half], days[half:]

if days:
    revenue_change = change(sum(by_day[d]["revenue_usd"] for d in first), sum(by_day[d]["revenue_usd"] for d in second))
    finding("revenue", f"Revenue {'rose' if revenue_change >= 0 else 'fell'} {abs(revenue_change):.0%} from the first half of the "
            f"period to the second.", round(revenue_change, 4), warning=revenue_change < -0.2)
    per_app = collections.Counter()
    for row in daily:
        per_app[row["app_id"]] += float(row["revenue_usd"])
    app, amount = per_app.most_common(1)[0]
    total = sum(per_app.values())
    finding("revenue", f"{app} earns {amount / total if total else 0:.0%} of the revenue ({amount:.2f} USD of {total:.2f}).", round(amount, 2))

    weekend = [by_day[d]["dau"] for d in days if datetime.date.fromisoformat(d).weekday() >= 5]
    weekday = [by_day[d]["dau"] for d in days if datetime.date.fromisoformat(d).weekday() < 5]
    if weekend and weekday:
        uplift = change(statistics.fmean(weekday), statistics.fmean(weekend))
        finding("engagement", f"Weekend days have {abs(uplift):.0%} {'more' if uplift >= 0 else 'fewer'} daily active users "
                f"than weekdays ({statistics.fmean(weekend):.0f} against {statistics.fmean(weekday):.0f}).", round(uplift, 4))
    sessions_per_user = sum(by_day[d]["sessions"] for d in days) / max(sum(by_day[d]["dau"] for d in days), 1)
    finding("engagement", f"An active user opens {sessions_per_user:.2f} sessions a day.", round(sessions_per_user, 3))

    growth = change(sum(by_day[d]["new_users"] for d in days[:7]), sum(by_day[d]["new_users"] for d in days[-7:]))
    finding("growth", f"New users in the last week are {abs(growth):.0%} {'above' if growth >= 0 else 'below'} the first week's.",
            round(growth, 4), warning=growth < -0.3)

    quiet = [d for i, d in enumerate(days) if i >= 7 and by_day[d]["dau"] < 0.5 * statistics.fmean(by_day[x]["dau"] for x in days[i - 7:i])]
    finding("health", f"{len(quiet)} days had less than half the daily active users of the week before"
            + (f": {', '.join(quiet[:5])}." if quiet else "."), len(quiet), warning=bool(quiet))
    start, end = date_range()
    missing = (end - start).days + 1 - len(days)
    finding("health", f"{missing} days of the range have no events at all.", missing, warning=missing > 0)

# Day-7 retention: of the users who installed early enough in the range, how many came back seven days later.
installs, returned = {}, set()
start, end = date_range()
for event in selected_events():
    installed = event["install_date"]
    if start.isoformat() <= installed <= (end - datetime.timedelta(days=7)).isoformat():
        installs[event["user_id"]] = installed
        if event["event_date"] == (datetime.date.fromisoformat(installed) + datetime.timedelta(days=7)).isoformat():
            returned.add(event["user_id"])
if installs:
    rate = len(returned) / len(installs)
    finding("retention", f"Day-7 retention is {rate:.1%} ({len(returned)} of {len(installs)} users who installed in the range).",
            round(rate, 4), warning=rate < 0.1)
dormant = segments.get("dormant", {}).get("share", 0)
finding("retention", f"{dormant:.0%} of the active users were not seen in the last days of the range (dormant).", dormant,
        warning=dormant > 0.5)

write_json(output("reports", "insights.json"), {"focus": focus, "findings": findings})
write_text(output("reports", "insights.md"), f"# Insights (focus: {focus})\n\n" + "".join(
    f"- {'⚠️ ' if f['severity'] == 'warning' else ''}**{f['topic']}**: {f['text']}\n" for f in findings))
for f in findings:
    print(f"[{f['topic']}] {f['text']}")
print(f"{len(findings)} findings")
