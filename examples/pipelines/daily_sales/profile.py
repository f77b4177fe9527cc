"""Rows and empty values per column of the raw data set."""
import csv
import json

from common import output, working

with open(working("sales.csv"), newline="") as handle:
    reader = csv.DictReader(handle)
    empty = {name: 0 for name in reader.fieldnames}
    rows = 0
    for row in reader:
        rows += 1
        for name, value in row.items():
            empty[name] += value == ""
with open(output("profile.json"), "w") as handle:
    json.dump({"rows": rows, "empty_values": empty}, handle, indent=2)
print(f"profiled {rows} rows")
