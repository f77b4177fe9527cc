"""Stage 3, validation: the target must be numeric and the time column must hold dates, with enough rows to analyse.
Every problem is reported at once, naming the column and what to do."""
import os
import sys

from common import OUTPUTS, WORKING, config, read_json, read_rows, write_json

settings = config()
rows = read_rows(os.path.join(WORKING, "loaded.csv"))
types = read_json(os.path.join(WORKING, "types.json"))
problems, warnings = [], []
for role in ("target_column", "time_column"):
    if settings[role] not in types:
        problems.append(f"{role} '{settings[role]}' is not a column; the columns are: {', '.join(rows[0]) if rows else 'none'}")
if settings["target_column"] in types and types[settings["target_column"]] != "number":
    problems.append(f"target_column '{settings['target_column']}' is not numeric; choose one of: "
                    + ", ".join(c for c in rows[0] if types[c] == "number"))
if settings["time_column"] in types and types[settings["time_column"]] != "date":
    problems.append(f"time_column '{settings['time_column']}' does not hold dates (YYYY-MM-DD, DD/MM/YYYY, ...)")
if len(rows) < 10:
    problems.append(f"only {len(rows)} rows; at least 10 are needed")
nulls = {c: sum(1 for row in rows if not (row[c] or "").strip()) for c in types}
for column, count in nulls.items():
    if count:
        warnings.append(f"{column}: {count} empty values ({count / len(rows):.1%})")
duplicates = len(rows) - len({tuple(row.values()) for row in rows})
if duplicates:
    warnings.append(f"{duplicates} duplicate rows")
write_json(os.path.join(OUTPUTS, "validation.json"), {"rows": len(rows), "problems": problems, "warnings": warnings, "nulls": nulls,
                                                      "duplicates": duplicates, "passed": not problems})
for warning in warnings:
    print(f"warning: {warning}")
for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
