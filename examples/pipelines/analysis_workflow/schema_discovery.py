"""Phase 1: schema discovery and field mapping. Infers each field's type from every value, and which role it plays."""
import csv
import datetime
import re
import sys

from common import EVENTS, output, write_csv, write_json, write_text

ROLES = {  # role: patterns of field names that play it, most specific first
    "event_id": [r"^event_id$", r"_id$"], "timestamp": [r"_time$", r"^timestamp$"], "date": [r"_date$", r"^date$"],
    "app": [r"^app"], "user": [r"^user"], "event": [r"^event_name$", r"^event$"], "revenue": [r"revenue", r"amount"],
    "platform": [r"platform"], "country": [r"country"], "install_date": [r"install"], "duration": [r"seconds", r"duration"],
}
REQUIRED_ROLES = ["timestamp", "date", "app", "user", "event", "revenue"]
DISTINCT_CAP = 1000


PARSERS = {"integer": int, "float": float, "date": datetime.date.fromisoformat, "timestamp": datetime.datetime.fromisoformat}


def kind(value, likely):
    """The narrowest type `value` parses as, trying the field's type so far first (most values share it)."""
    if likely in PARSERS:
        try:
            PARSERS[likely](value)
            if likely != "float" or not value.lstrip("-").isdigit():
                return likely
        except ValueError:
            pass
    elif likely == "string":
        return "string"
    for name, parse in PARSERS.items():
        try:
            parse(value)
            return name
        except ValueError:
            pass
    return "string"


def extremes(pair, value):
    """Keeps [lowest, highest] in `pair`."""
    if not pair:
        pair.extend([value, value])
    else:
        pair[0], pair[1] = min(pair[0], value), max(pair[1], value)


WIDER = {("integer", "float"): "float", ("float", "integer"): "float", ("date", "timestamp"): "timestamp",
         ("timestamp", "date"): "timestamp"}

with open(EVENTS, newline="") as handle:
    reader = csv.reader(handle)
    header = next(reader)
    fields = [{"name": name, "type": None, "nulls": 0, "distinct": set(), "numbers": [], "texts": []} for name in header]
    rows = 0
    sample = []
    for row in reader:
        rows += 1
        if len(sample) < 100:
            sample.append(row)
        for field, value in zip(fields, row):
            if value == "":
                field["nulls"] += 1
                continue
            found = kind(value, field["type"])
            if field["type"] is None or field["type"] == found:
                field["type"] = found
            else:
                field["type"] = WIDER.get((field["type"], found), "string")
            if len(field["distinct"]) <= DISTINCT_CAP:
                field["distinct"].add(value)
            extremes(field["numbers"] if found in ("integer", "float") else field["texts"],
                     float(value) if found in ("integer", "float") else value)

def range_of(field):
    pair = field["numbers"] if field["type"] in ("integer", "float") else field["texts"]
    return (pair[0], pair[1]) if pair else (None, None)


mapping = {}
for role, patterns in ROLES.items():
    for pattern in patterns:
        match = next((f["name"] for f in fields if re.search(pattern, f["name"]) and f["name"] not in mapping.values()), None)
        if match:
            mapping[role] = match
            break

schema = {"source": "app_events.csv", "rows": rows, "fields": [{
    "name": f["name"], "type": f["type"] or "empty", "nullable": f["nulls"] > 0, "null_fraction": round(f["nulls"] / max(rows, 1), 4),
    "distinct": len(f["distinct"]) if len(f["distinct"]) <= DISTINCT_CAP else f"more than {DISTINCT_CAP}",
    "min": range_of(f)[0], "max": range_of(f)[1],
} for f in fields]}
write_json(output("schema", "schema.json"), schema)
write_json(output("schema", "field_mapping.json"), mapping)
write_csv(output("raw_data", "sample.csv"), header, sample)
lines = ["# Schema of app_events.csv", "", f"{rows} rows.", "", "| field | type | nulls | distinct | min | max | role |",
         "|---|---|---|---|---|---|---|"]
roles = {field: role for role, field in mapping.items()}
for f in schema["fields"]:
    lines.append(f"| {f['name']} | {f['type']} | {f['null_fraction']:.1%} | {f['distinct']} | {f['min']} | {f['max']} | {roles.get(f['name'], '')} |")
write_text(output("schema", "schema.md"), "\n".join(lines) + "\n")

missing = [role for role in REQUIRED_ROLES if role not in mapping]
for f in schema["fields"]:
    print(f"{f['name']:16} {f['type']:10} nulls {f['null_fraction']:7.2%}  role {roles.get(f['name'], '-')}")
if missing:
    print(f"no field plays the role of: {', '.join(missing)}; the later phases need them", file=sys.stderr)
    sys.exit(1)
print(f"{rows} rows, {len(fields)} fields, {len(mapping)} mapped")
