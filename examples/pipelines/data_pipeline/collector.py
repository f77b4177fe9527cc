"""Phase 1, the DataCollector: merges every monthly report and purchase order export (CSV or XLSX) into two
consolidated tables, normalising dates, shifts and resin codes and dropping duplicates. A table is rewritten, atomically,
only when its content hash changed.

`inject_failure` simulates the faults the pipeline recovers from:
- `collector`: the process dies half-way through writing productRecords.csv, leaving a torn file;
- `collector_and_backup`: the same, after the stored backup of that table rotted on disk, so that the rollback must fail.
"""
import csv
import datetime
import glob
import os
import re
import sys

import xlsx
from common import DYNAMIC, ORDERS, REPORTS, WORKSPACE, csv_text, param, sha256, write_if_changed

SHIFTS = {"day": "day", "d": "day", "night": "night", "n": "night"}
rejected = []


def rows_of(path):
    """Each data row of an export as a dict by column name."""
    if path.endswith(".xlsx"):
        table = xlsx.read(path)
    else:
        with open(path, newline="") as handle:
            table = list(csv.reader(handle))
    header = [name.strip().lower() for name in table[0]]
    for number, values in enumerate(table[1:], start=2):
        yield f"{os.path.basename(path)}:{number}", dict(zip(header, values))


def iso_date(text):
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(text.strip(), form).date().isoformat()
        except ValueError:
            pass
    raise ValueError(f"date '{text}' is neither YYYY-MM-DD nor DD/MM/YYYY")


def resin(text):
    match = re.fullmatch(r"(?i)\s*rc[\s-]*(\d+)\s*", text)
    if not match:
        raise ValueError(f"resin code '{text}' is not RC-nn")
    return f"RC-{int(match.group(1)):02d}"


def exports(folder):
    return sorted(glob.glob(os.path.join(folder, "*.csv")) + glob.glob(os.path.join(folder, "*.xlsx")))


shifts = {}  # a record without its shift: the shift. A repeat of a record keeps the shift when one export knows it.
for path in exports(REPORTS):
    for where, row in rows_of(path):
        try:
            record = (iso_date(row["report_date"]), row["machine_code"].strip().upper(), row["item_code"].strip().upper(),
                      resin(row["resin_code"]), int(float(row["good_qty"])), int(float(row["defect_qty"])))
        except (KeyError, ValueError) as error:
            rejected.append(f"{where}: {error}")
            continue
        shift = SHIFTS.get(row.get("shift", "").strip().lower(), "unknown")
        if shifts.get(record, "unknown") == "unknown":
            shifts[record] = shift
records = [(r[0], shift) + r[1:] for r, shift in shifts.items()]

orders = {}  # po_number: the latest revision, since later exports revise earlier orders
for path in exports(ORDERS):
    for where, row in rows_of(path):
        try:
            orders[row["po_number"].strip()] = (row["po_number"].strip(), iso_date(row["order_date"]), row["item_code"].strip().upper(),
                                                int(float(row["quantity"])), float(row["unit_price"]), row["supplier"].strip())
        except (KeyError, ValueError) as error:
            rejected.append(f"{where}: {error}")

for line in rejected[:20]:
    print(f"rejected {line}", file=sys.stderr)
tables = {
    "productRecords.csv": csv_text(["report_date", "shift", "machine_code", "item_code", "resin_code", "good_qty", "defect_qty"],
                                   sorted(records)),
    "purchaseOrders.csv": csv_text(["po_number", "order_date", "item_code", "quantity", "unit_price", "supplier"],
                                   [orders[key] for key in sorted(orders)]),
}
print(f"{len(exports(REPORTS))} reports and {len(exports(ORDERS))} order exports: {len(records)} production records, "
      f"{len(orders)} purchase orders, {len(rejected)} rows rejected")

injected = param("inject_failure", "none")
if injected != "none":
    if injected == "collector_and_backup":
        # The backups Sluice keeps under .sluice/versions rot: one byte changes in each stored copy of the table.
        for copy in glob.glob(os.path.join(WORKSPACE, ".sluice", "versions", "data_pipeline", "collector", "**", "productRecords.csv"),
                              recursive=True):
            with open(copy, "r+b") as handle:
                first = handle.read(1)
                handle.seek(0)
                handle.write(b"#" if first != b"#" else b"!")
            print(f"injected: damaged the stored copy {os.path.relpath(copy, WORKSPACE)}")
    text = tables["productRecords.csv"]
    with open(os.path.join(DYNAMIC, "productRecords.csv"), "w") as handle:  # not atomic, on purpose
        handle.write(text[: len(text) // 2])
    print("injected failure: the collector stopped half-way through writing productRecords.csv", file=sys.stderr)
    sys.exit(3)

for name, text in tables.items():
    changed = write_if_changed(os.path.join(DYNAMIC, name), text)
    print(f"{name}: {'written' if changed else 'unchanged'} (sha256 {sha256(text)[:12]}, {text.count(chr(10)) - 1} rows)")
