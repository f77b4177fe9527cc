"""Phase 3: user segmentation with a statistical footing: each segment's mean revenue and activity come with
bootstrap confidence intervals (DEFAULT_ITERATIONS resamples, QUICK_ITERATIONS with `quick`)."""
import collections
import datetime
import random
import statistics

from common import date_range, output, param, selected_events, setting, write_csv, write_json

users = collections.defaultdict(lambda: {"days": set(), "revenue": 0.0, "sessions": 0, "last": ""})
for event in selected_events():
    user = users[event["user_id"]]
    user["days"].add(event["event_date"])
    user["revenue"] += event["revenue_usd"]
    user["sessions"] += event["event_name"] == "session_start"
    user["last"] = max(user["last"], event["event_date"])

start, end = date_range()
window = (end - start).days + 1
recent = (end - datetime.timedelta(days=setting("ANALYSIS_WINDOW_DAYS", 7) - 1)).isoformat()
revenues = sorted((u["revenue"] for u in users.values() if u["revenue"] > 0), reverse=True)
whale_floor = revenues[max(len(revenues) // 10 - 1, 0)] if revenues else float("inf")  # the top tenth of payers


def segment(user):
    if user["revenue"] > 0 and user["revenue"] >= whale_floor:
        return "whale"
    if user["revenue"] > 0:
        return "payer"
    if user["last"] < recent:
        return "dormant"
    return "engaged" if len(user["days"]) >= max(window // 10, 2) else "casual"


iterations = setting("QUICK_ITERATIONS", 100) if param("quick") == "true" else setting("DEFAULT_ITERATIONS", 1000)
confidence = setting("CONFIDENCE_THRESHOLD", 0.95)
generator = random.Random(7)


def interval(values):
    """The bootstrap confidence interval of the mean."""
    if len(values) < 2:
        return [values[0], values[0]] if values else [0.0, 0.0]
    means = sorted(statistics.fmean(generator.choices(values, k=len(values))) for _ in range(iterations))
    cut = int(iterations * (1 - confidence) / 2)
    return [round(means[cut], 4), round(means[-cut - 1], 4)]


members = collections.defaultdict(list)
for name, user in sorted(users.items()):
    members[segment(user)].append((name, user))
write_csv(output("segments", "user_segments.csv"), ["user_id", "segment", "active_days", "sessions", "revenue_usd", "last_seen"],
          [[name, label, len(u["days"]), u["sessions"], round(u["revenue"], 2), u["last"]]
           for label, group in sorted(members.items()) for name, u in group])
stats = {"users": len(users), "iterations": iterations, "confidence": confidence, "segments": {}}
for label, group in sorted(members.items()):
    revenue = [u["revenue"] for _, u in group]
    days = [float(len(u["days"])) for _, u in group]
    stats["segments"][label] = {
        "users": len(group), "share": round(len(group) / len(users), 4),
        "mean_revenue_usd": round(statistics.fmean(revenue), 4), "revenue_ci": interval(revenue),
        "mean_active_days": round(statistics.fmean(days), 2), "active_days_ci": interval(days),
    }
    print(f"{label:8} {len(group):6} users  mean revenue {stats['segments'][label]['mean_revenue_usd']:8.3f}  "
          f"CI {stats['segments'][label]['revenue_ci']}")
write_json(output("segments", "segment_stats.json"), stats)
print(f"{len(users)} users in {len(members)} segments, {iterations} bootstrap iterations")
