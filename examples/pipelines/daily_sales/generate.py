"""Writes sales.csv: the same rows for the same parameters, every time."""
import csv
import os
import random

from common import days, working

REGIONS = ["north", "south", "east", "west"]
PRODUCTS = ["basic", "standard", "premium", "enterprise"]
PRICES = {"basic": 9.0, "standard": 29.0, "premium": 99.0, "enterprise": 499.0}

rows_per_day = int(os.environ["ROWS_PER_DAY"])
generator = random.Random(42)
count = 0
with open(working("sales.csv"), "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["order_id", "date", "region", "product", "quantity", "unit_price"])
    for day in days():
        for _ in range(rows_per_day):
            count += 1
            product = generator.choice(PRODUCTS)
            quantity = generator.randint(1, 5) if generator.random() > 0.01 else ""  # about 1% malformed rows
            writer.writerow([count, day.isoformat(), generator.choice(REGIONS), product, quantity, PRICES[product]])
print(f"generated {count} rows for {len(days())} days")
