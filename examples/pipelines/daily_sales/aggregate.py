"""Revenue and orders per day and per product, as CSV tables."""
import collections
import csv

from common import output, working

by_day = collections.defaultdict(lambda: [0, 0.0])
by_product = collections.defaultdict(lambda: [0, 0.0])
with open(working("clean.csv"), newline="") as handle:
    for row in csv.DictReader(handle):
        revenue = int(row["quantity"]) * float(row["unit_price"])
        for table, key in ((by_day, row["date"]), (by_product, row["product"])):
            table[key][0] += 1
            table[key][1] += revenue

for name, table, key in (("revenue_by_day.csv", by_day, "date"), ("revenue_by_product.csv", by_product, "product")):
    with open(output(name), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([key, "orders", "revenue"])
        for value in sorted(table):
            writer.writerow([value, table[value][0], f"{table[value][1]:.2f}"])
print(f"aggregated {len(by_day)} days and {len(by_product)} products")
