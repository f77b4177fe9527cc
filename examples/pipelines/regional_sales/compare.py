"""comparison.md: each region's revenue and orders, as its child run of daily_sales passed them on."""
import json
import os

regions = json.loads(os.environ["REGIONS"])
revenues = [float(value) for value in json.loads(os.environ["REVENUES"])]
orders = [int(value) for value in json.loads(os.environ["ORDERS"])]
rows = sorted(zip(regions, revenues, orders), key=lambda row: row[1], reverse=True)
lines = [
    f"# Sales per region, {os.environ['DATE_START']} to {os.environ['DATE_END']}",
    "",
    "| region | orders | revenue |",
    "|---|---:|---:|",
    *[f"| {region} | {count:,} | {revenue:,.2f} |" for region, revenue, count in rows],
]
os.makedirs(os.environ["SLUICE_OUTPUTS_DIR"], exist_ok=True)
with open(os.path.join(os.environ["SLUICE_OUTPUTS_DIR"], "comparison.md"), "w") as handle:
    handle.write("\n".join(lines) + "\n")
print(f"best region: {rows[0][0]} ({rows[0][1]:,.2f})")
