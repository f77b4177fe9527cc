"""Phase 2: data aggregation and core metrics for the run's app filter and date range."""
import collections

from common import date_range, output, param, selected_events, write_csv, write_json

daily = collections.defaultdict(lambda: {"users": set(), "events": 0, "sessions": 0, "revenue": 0.0, "payers": set(),
                                         "new_users": set(), "seconds": 0})
apps = collections.defaultdict(lambda: {"users": set(), "events": 0, "revenue": 0.0})
event_counts = collections.Counter()
events = 0
for event in selected_events():
    events += 1
    day = daily[(event["event_date"], event["app_id"])]
    day["users"].add(event["user_id"])
    day["events"] += 1
    day["revenue"] += event["revenue_usd"]
    day["seconds"] += event["session_seconds"]
    if event["event_name"] == "session_start":
        day["sessions"] += 1
    if event["event_name"] == "purchase":
        day["payers"].add(event["user_id"])
    if event["install_date"] == event["event_date"]:
        day["new_users"].add(event["user_id"])
    app = apps[event["app_id"]]
    app["users"].add(event["user_id"])
    app["events"] += 1
    app["revenue"] += event["revenue_usd"]
    event_counts[event["event_name"]] += 1

write_csv(output("aggregations", "daily_metrics.csv"),
          ["date", "app_id", "dau", "events", "sessions", "revenue_usd", "payers", "new_users", "avg_session_seconds"],
          [[date, app, len(d["users"]), d["events"], d["sessions"], round(d["revenue"], 2), len(d["payers"]), len(d["new_users"]),
            round(d["seconds"] / d["sessions"], 1) if d["sessions"] else 0] for (date, app), d in sorted(daily.items())])
write_csv(output("aggregations", "app_summary.csv"), ["app_id", "users", "events", "revenue_usd", "arpu_usd"],
          [[app, len(a["users"]), a["events"], round(a["revenue"], 2), round(a["revenue"] / len(a["users"]), 4)]
           for app, a in sorted(apps.items())])
write_csv(output("aggregations", "event_counts.csv"), ["event_name", "events"], sorted(event_counts.items()))
start, end = date_range()
totals = {"events": events, "users": len(set().union(*(a["users"] for a in apps.values()))),
          "revenue_usd": round(sum(a["revenue"] for a in apps.values()), 2), "days": (end - start).days + 1,
          "app_filter": param("app_filter") or None, "date_start": start.isoformat(), "date_end": end.isoformat()}
write_json(output("aggregations", "totals.json"), totals)
print(f"{events} events of {totals['users']} users over {totals['days']} days; revenue {totals['revenue_usd']} USD")
