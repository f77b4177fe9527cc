"""Phase 2, the DataLoaderAgent: loads every database named in databaseSchemas.json (the collector's dynamic tables
and the static XLSX databases), checks each against its schema, and writes the validated tables to shared_db/ when
their content changed. Sluice keeps the versions of shared_db/ (newest, history and annotations.json), since it is
this step's declared output: `sluice versions data_pipeline loader`."""
import csv
import datetime
import json
import os
import sys

import xlsx
from common import ROOT, SCHEMAS, SHARED, csv_text, sha256, write_if_changed

PARSE = {"int": int, "float": float, "date": lambda v: datetime.date.fromisoformat(v).isoformat(), "text": str}


def table(path):
    if path.endswith(".xlsx"):
        return xlsx.read(path)
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


with open(SCHEMAS) as handle:
    schemas = json.load(handle)
problems, report = [], {}
for kind, databases in schemas.items():
    for name, schema in databases.items():
        path = os.path.join(ROOT, schema["path"])
        if not os.path.exists(path):
            problems.append(f"{name}: {schema['path']} does not exist")
            continue
        header, *rows = table(path)
        columns = list(schema["columns"])
        missing, extra = [c for c in columns if c not in header], [c for c in header if c not in columns]
        if missing or extra:
            problems.append(f"{name}: columns differ from the schema (missing: {missing or 'none'}, unexpected: {extra or 'none'})")
            continue
        typed, keys = [], set()
        for number, values in enumerate(rows, start=2):
            record = dict(zip(header, values))
            try:
                typed.append([PARSE[schema["columns"][c]](record[c].strip()) for c in columns])
            except (ValueError, KeyError) as error:
                problems.append(f"{name}: {schema['path']} line {number}: {error}")
                continue
            key = tuple(record[c] for c in schema["key"])
            if key in keys:
                problems.append(f"{name}: {schema['path']} line {number}: duplicate key {key}")
            keys.add(key)
        text = csv_text(columns, sorted(typed, key=lambda row: [str(value) for value in row]))
        changed = write_if_changed(os.path.join(SHARED, f"{name}.csv"), text)
        report[name] = {"kind": kind, "rows": len(typed), "sha256": sha256(text), "changed": changed}
        print(f"{name:15} {kind:9} {len(typed):6} rows  {'new version' if changed else 'unchanged'}  sha256 {sha256(text)[:12]}")

outputs = os.environ.get("SLUICE_OUTPUTS_DIR")
if outputs:
    with open(os.path.join(outputs, "loader_report.json"), "w") as handle:
        json.dump({"databases": report, "problems": problems}, handle, indent=2, sort_keys=True)
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
