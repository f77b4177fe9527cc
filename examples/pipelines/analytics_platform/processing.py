"""Stage 4, processing: drops duplicates and rows whose target or time cannot be read, fills empty categories, and
derives month and weekday from the time column."""
import os

from common import OUTPUTS, WORKING, config, day, number, read_json, read_rows, write_json, write_rows

settings = config()
types = read_json(os.path.join(WORKING, "types.json"))
target, time = settings["target_column"], settings["time_column"]
seen, kept, dropped = set(), [], {"duplicates": 0, "unreadable target": 0, "unreadable time": 0}
for row in read_rows(os.path.join(WORKING, "loaded.csv")):
    signature = tuple(row.values())
    if signature in seen:
        dropped["duplicates"] += 1
        continue
    seen.add(signature)
    when = day(row[time])
    if number(row[target]) is None:
        dropped["unreadable target"] += 1
    elif when is None:
        dropped["unreadable time"] += 1
    else:
        for column, kind in types.items():
            if kind == "text" and not (row[column] or "").strip():
                row[column] = "unknown"
        row[time] = when.isoformat()
        row["month"] = when.strftime("%Y-%m")
        row["weekday"] = when.strftime("%A")
        kept.append(row)
kept.sort(key=lambda row: row[time])
write_rows(os.path.join(WORKING, "processed.csv"), list(types) + ["month", "weekday"], kept)
write_json(os.path.join(OUTPUTS, "processing.json"), {"kept": len(kept), "dropped": dropped})
print(f"kept {len(kept)} rows; dropped " + ", ".join(f"{n} {why}" for why, n in dropped.items()))
