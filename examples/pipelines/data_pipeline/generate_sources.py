"""Stands in for the plant's exports: monthly production reports and purchase orders as they land in the plant's
history folders, in the formats real exports drift through. The same files for the same parameters, every time:
- odd months are .xlsx with dd/mm/yyyy dates, even months .csv with ISO dates;
- the first two months predate the `shift` column; resin codes come as RC-01, rc01 or RC 01;
- each report repeats the last two days of the month before, and purchase orders are revised in the next month's file.
"""
import datetime
import os
import random

import xlsx
from common import ORDERS, REPORTS, STATIC, csv_text, param

MACHINES = [f"M{n:02d}" for n in range(1, 9)]
ITEMS = {f"IT{n:03d}": f"RC-{n % 5 + 1:02d}" for n in range(1, 25)}
SUPPLIERS = ["Acme Polymers", "Borealis", "Sabic", "LG Chem"]


def resin_variant(code, generator):
    number = code[3:]
    return generator.choice([code, f"rc{number}", f"RC {number}", code.lower()])


def save(path, header, rows, as_xlsx):
    """Writes the file only when its bytes change, so that an unchanged export keeps its hash and its mtime."""
    temporary = path + ".tmp"
    if as_xlsx:
        xlsx.write(temporary, header, rows)
    else:
        with open(temporary, "w") as handle:
            handle.write(csv_text(header, rows))
    if os.path.exists(path) and open(path, "rb").read() == open(temporary, "rb").read():
        os.remove(temporary)
        return False
    os.replace(temporary, path)
    return True


months = int(param("months", "6"))
rows_per_month = int(param("rows_per_month", "400"))
for folder in (REPORTS, ORDERS, STATIC):
    os.makedirs(folder, exist_ok=True)
written = 0
previous_tail, previous_orders = [], []
for index in range(months):
    year, month = 2025 + index // 12, index % 12 + 1
    first = datetime.date(year, month, 1)
    days = ((first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - first).days
    generator = random.Random(year * 100 + month)
    as_xlsx = month % 2 == 1
    with_shift = index >= 2
    spelled = (lambda d: d.strftime("%d/%m/%Y")) if as_xlsx else (lambda d: d.isoformat())

    records = []
    for _ in range(rows_per_month):
        day = first + datetime.timedelta(days=generator.randrange(days))
        item = generator.choice(list(ITEMS))
        good = generator.randint(100, 5000)
        records.append([day, generator.choice(["day", "night", "D", "N"]), generator.choice(MACHINES), item,
                        resin_variant(ITEMS[item], generator), good, generator.randint(0, good // 20)])
    header = ["report_date"] + (["shift"] if with_shift else []) + ["machine_code", "item_code", "resin_code", "good_qty", "defect_qty"]
    rows = [[spelled(r[0])] + ([r[1]] if with_shift else []) + r[2:] for r in previous_tail + records]
    written += save(os.path.join(REPORTS, f"monthlyReport_{year}-{month:02d}.{'xlsx' if as_xlsx else 'csv'}"), header, rows, as_xlsx)
    last_days = {first + datetime.timedelta(days=days - 2), first + datetime.timedelta(days=days - 1)}
    previous_tail = [r for r in records if r[0] in last_days]

    orders = [[f"PO{year}{month:02d}{n:04d}", first + datetime.timedelta(days=generator.randrange(days)),
               generator.choice(list(ITEMS)), generator.randint(1, 50) * 100, round(generator.uniform(1.2, 3.5), 2),
               generator.choice(SUPPLIERS)] for n in range(rows_per_month // 4)]
    revised = [[o[0], o[1], o[2], o[3] + 500, o[4], o[5]] for o in previous_orders[:5]]
    rows = [[o[0], spelled(o[1])] + o[2:] for o in revised + orders]
    written += save(os.path.join(ORDERS, f"purchaseOrders_{year}-{month:02d}.{'xlsx' if as_xlsx else 'csv'}"),
                    ["po_number", "order_date", "item_code", "quantity", "unit_price", "supplier"], rows, as_xlsx)
    previous_orders = orders

written += save(os.path.join(STATIC, "itemInfo.xlsx"), ["item_code", "item_name", "resin_code", "unit_weight_g"],
                [[item, f"Moulded part {item[2:]}", resin, 10 + int(item[2:]) * 3] for item, resin in ITEMS.items()], True)
written += save(os.path.join(STATIC, "machineInfo.xlsx"), ["machine_code", "tonnage", "line"],
                [[m, 80 + 40 * n, f"L{n % 3 + 1}"] for n, m in enumerate(MACHINES)], True)
print(f"{months} months of reports and purchase orders, 2 static databases: {written} files written, the rest unchanged")
