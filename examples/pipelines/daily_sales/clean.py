"""Keeps well-formed rows of the chosen region."""
import csv
import os

from common import working

region = os.environ["REGION"]
kept = dropped = 0
with open(working("sales.csv"), newline="") as source, open(working("clean.csv"), "w", newline="") as target:
    reader = csv.DictReader(source)
    writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
    writer.writeheader()
    for row in reader:
        if not row["quantity"] or (region != "all" and row["region"] != region):
            dropped += 1
            continue
        writer.writerow(row)
        kept += 1
print(f"kept {kept} rows, dropped {dropped}")
