"""Stage 2, loading: reads the CSV (any of , ; tab | as the separator), and records each column's type."""
import os
import sys

from common import WORKING, config, day, number, read_rows, write_json, write_rows

settings = config()
try:
    rows = read_rows(settings["path"])
except (OSError, UnicodeDecodeError) as error:
    sys.exit(f"cannot read {settings['data_source']}: {error}")
if not rows:
    sys.exit(f"{settings['data_source']} has a header but no rows")
columns = list(rows[0])
types = {}
for column in columns:
    values = [row[column] for row in rows if (row[column] or "").strip()]
    if values and all(number(v) is not None for v in values):
        types[column] = "number"
    elif values and all(day(v) is not None for v in values):
        types[column] = "date"
    else:
        types[column] = "text"
write_rows(os.path.join(WORKING, "loaded.csv"), columns, rows)
write_json(os.path.join(WORKING, "types.json"), types)
print(f"loaded {len(rows)} rows, {len(columns)} columns: " + ", ".join(f"{c} ({t})" for c, t in types.items()))
