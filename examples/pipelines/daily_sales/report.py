"""report.md: totals, the best days, revenue per product and the data profile."""
import csv
import json
import os

from common import output

with open(output("revenue_by_day.csv"), newline="") as handle:
    days = list(csv.DictReader(handle))
with open(output("revenue_by_product.csv"), newline="") as handle:
    products = list(csv.DictReader(handle))
with open(output("profile.json")) as handle:
    profile = json.load(handle)

total = sum(float(day["revenue"]) for day in days)
orders = sum(int(day["orders"]) for day in days)
best = sorted(days, key=lambda day: float(day["revenue"]), reverse=True)[:3]
lines = [
    f"# Daily sales {os.environ['DATE_START']} to {os.environ['DATE_END']} (region: {os.environ['REGION']})",
    "",
    f"- Orders: {orders:,}",
    f"- Revenue: {total:,.2f}",
    f"- Malformed rows dropped: {profile['empty_values']['quantity']:,} of {profile['rows']:,}",
    "",
    "## Best days",
    "",
    *[f"- {day['date']}: {float(day['revenue']):,.2f} from {int(day['orders']):,} orders" for day in best],
    "",
    "## Revenue per product",
    "",
    "| product | orders | revenue |",
    "|---|---:|---:|",
    *[f"| {row['product']} | {int(row['orders']):,} | {float(row['revenue']):,.2f} |" for row in products],
]
with open(output("report.md"), "w") as handle:
    handle.write("\n".join(lines) + "\n")
print("\n".join(lines[:5]))
# Passed on to the steps downstream, and to a parent run's step when this pipeline runs as a child (regional_sales).
with open(os.environ["SLUICE_OUTPUT"], "a") as handle:
    handle.write(f"revenue={total:.2f}\norders={orders}\n")
