"""Stage 5, analysis: descriptive statistics of every numeric column, the target's trend by month, each numeric
column's correlation with the target, the target by category, and rule-based insights worded for the business context."""
import collections
import os
import statistics

from common import OUTPUTS, WORKING, config, number, read_json, read_rows, write_json

settings = config()
types = read_json(os.path.join(WORKING, "types.json"))
rows = read_rows(os.path.join(WORKING, "processed.csv"))
target = settings["target_column"]
numeric = [c for c, t in types.items() if t == "number"]


def describe(values):
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {"count": len(values), "mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "q1": quartiles[0], "median": quartiles[1], "q3": quartiles[2], "max": max(values)}


columns = {c: [number(row[c]) for row in rows] for c in numeric}
stats = {c: describe([v for v in values if v is not None]) for c, values in columns.items() if any(v is not None for v in values)}

monthly = collections.defaultdict(float)
for row in rows:
    monthly[row["month"]] += number(row[target])
months = sorted(monthly)
slope = 0.0
if len(months) > 1:
    xs, ys = list(range(len(months))), [monthly[m] for m in months]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)

correlations = {}
for column in numeric:
    if column == target:
        continue
    pairs = [(a, b) for a, b in zip(columns[column], columns[target]) if a is not None and b is not None]
    try:
        correlations[column] = statistics.correlation([a for a, _ in pairs], [b for _, b in pairs])
    except statistics.StatisticsError:  # a constant column, or too few rows
        correlations[column] = None

categories = {}
for column in [c for c, t in types.items() if t == "text"] + ["weekday"]:
    totals = collections.defaultdict(float)
    for row in rows:
        totals[row[column]] += number(row[target])
    if 1 < len(totals) <= 20:
        categories[column] = dict(sorted(totals.items(), key=lambda item: -item[1]))

noun = {"sales": "sales", "marketing": "campaign results", "operations": "output", "finance": "income"}.get(settings["business_context"], target)
insights = []
if months:
    change = (monthly[months[-1]] - monthly[months[0]]) / monthly[months[0]] if monthly[months[0]] else 0
    insights.append(f"{target} {'grows' if slope >= 0 else 'shrinks'} by {abs(slope):,.0f} a month on average "
                    f"({change:+.0%} from {months[0]} to {months[-1]}).")
ranked = sorted(((c, r) for c, r in correlations.items() if r is not None), key=lambda item: -abs(item[1]))
if ranked:
    column, r = ranked[0]
    insights.append(f"{column} moves most with {target} (correlation {r:+.2f}): "
                    f"{'more' if r > 0 else 'less'} {column} goes with higher {noun}.")
for column, totals in categories.items():
    best, amount = next(iter(totals.items()))
    insights.append(f"{column} '{best}' brings the most {noun}: {amount / sum(totals.values()):.0%} of the {target}.")

write_json(os.path.join(OUTPUTS, "analysis.json"), {"target": target, "statistics": stats, "monthly": {m: monthly[m] for m in months},
                                                    "trend_per_month": slope, "correlations": correlations,
                                                    "categories": categories, "insights": insights})
for insight in insights:
    print(f"insight: {insight}")
