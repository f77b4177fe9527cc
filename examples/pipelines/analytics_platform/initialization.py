"""Stage 1, initialisation: settles the configuration and finds the data. Without a data_source it writes a sample
sales_data.csv (example data: dates, regions, products, channels, prices, discounts, marketing spend)."""
import datetime
import os
import random
import sys

from common import OUTPUTS, WORKING, WORKSPACE, param, write_json, write_rows

source = param("data_source")
if source:
    path = os.path.normpath(os.path.join(WORKSPACE, source))
    if not path.startswith(os.path.normpath(WORKSPACE) + os.sep):
        sys.exit(f"data_source '{source}' is outside the workspace; upload it (POST /api/uploads) or copy it in")
    if not os.path.isfile(path):
        sys.exit(f"data_source '{source}' does not exist in the workspace ({path}); upload it first or leave data_source empty for sample data")
else:
    rows = int(param("rows", "1000"))
    generator = random.Random(4)
    start = datetime.date(2025, 1, 1)
    records = []
    for number in range(rows):
        day = start + datetime.timedelta(days=int(365 * number / rows))
        spend = round(generator.uniform(100, 2000), 2)
        units = max(1, int(spend / 60 * (1 + day.month / 24) + generator.gauss(0, 4)))  # spend drives units; a slow upward trend
        price = generator.choice([19.0, 29.0, 49.0, 99.0])
        discount = generator.choice([0, 0, 0.05, 0.1, 0.2])
        records.append({"date": day.isoformat(), "region": generator.choice(["north", "south", "east", "west"]),
                        "product": {19.0: "starter", 29.0: "standard", 49.0: "plus", 99.0: "pro"}[price],
                        "channel": generator.choice(["online", "retail", "partner"]), "units": units, "unit_price": price,
                        "discount": discount, "marketing_spend": spend,
                        "revenue": round(units * price * (1 - discount) + generator.gauss(0, 20), 2)})
    path = os.path.join(WORKING, "sales_data.csv")
    write_rows(path, list(records[0]), records)
    print(f"no data_source given: generated {rows} sample rows in sales_data.csv")

settings = {"data_source": os.path.relpath(path, WORKSPACE) if source else "generated sales_data.csv", "path": path,
            "target_column": param("target_column", "revenue"), "time_column": param("time_column", "date"),
            "business_context": param("business_context", "sales"), "run_id": os.environ.get("SLUICE_RUN_ID"),
            "started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
write_json(os.path.join(OUTPUTS, "config.json"), settings)
print(f"analysing {settings['data_source']}: target {settings['target_column']}, time {settings['time_column']}, "
      f"context {settings['business_context']}")
