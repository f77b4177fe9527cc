"""The ComparativeValidator: reads both extracts side by side, chunk_size rows at a time (memory stays flat however
large the tables), and applies every rule of rules.json. Writes each chunk's violations, a summary per rule, and the
per-row differences the analysis reads. With fail_on_violation, a broken rule fails the step."""
import csv
import os
import sys

from common import OUTPUTS, WORKING, extract_path, param, rules, write_csv, write_json

config = rules()
key, parameters = config["key"], config["parameters"]
old_version, new_version = param("old_version"), param("new_version")
chunk_size = int(param("chunk_size", "10000"))
for version in (old_version, new_version):
    if not os.path.exists(extract_path(version)):
        sys.exit(f"no extract of version {version} at {os.path.relpath(extract_path(version))}: run the extraction "
                 f"(do not --skip it) for this version first")


def keyed(path):
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            yield int(row[key]), row


def violated(rule, old, new):
    if rule["type"] == "numeric_tolerance":
        a, b = float(old[rule["column"]]), float(new[rule["column"]])
        limit = rule.get("absolute", 0) or rule.get("relative", 0) * abs(a)
        return abs(a - b) > limit
    if rule["type"] == "equal":
        return old[rule["column"]] != new[rule["column"]]
    if rule["type"] == "no_new_nulls":
        return any(old[c] != "" and new[c] == "" for c in rule["columns"])
    return False


row_rules = [r for r in config["rules"] if r["type"] in ("numeric_tolerance", "equal", "no_new_nulls")]
totals = {r["name"]: 0 for r in row_rules}
counts = {"old": 0, "new": 0, "matched": 0, "only_old": 0, "only_new": 0}
chunks, chunk, first = [], {r["name"]: 0 for r in row_rules}, None
with open(os.path.join(WORKING, "differences.csv"), "w", newline="") as handle:
    differences = csv.writer(handle)
    differences.writerow(["row_id"] + parameters + ["prediction_change"] + [r["name"] for r in row_rules])
    olds, news = keyed(extract_path(old_version)), keyed(extract_path(new_version))
    old, new = next(olds, None), next(news, None)
    while old or new:
        if new is None or (old and old[0] < new[0]):
            counts["only_old"] += 1
            old = next(olds, None)
        elif old is None or new[0] < old[0]:
            counts["only_new"] += 1
            new = next(news, None)
        else:
            counts["matched"] += 1
            first = first or old[0]
            flags = [violated(r, old[1], new[1]) for r in row_rules]
            for rule, flag in zip(row_rules, flags):
                chunk[rule["name"]] += flag
                totals[rule["name"]] += flag
            differences.writerow([old[0]] + [old[1][p] for p in parameters]
                                 + [round(float(new[1]["prediction"]) - float(old[1]["prediction"]), 6)] + [int(f) for f in flags])
            if counts["matched"] % chunk_size == 0:
                chunks.append([len(chunks) + 1, first, old[0], chunk_size] + list(chunk.values()))
                chunk, first = {r["name"]: 0 for r in row_rules}, None
            last = old[0]
            old, new = next(olds, None), next(news, None)
    if first is not None:
        chunks.append([len(chunks) + 1, first, last, counts["matched"] % chunk_size] + list(chunk.values()))
counts["old"] = counts["matched"] + counts["only_old"]
counts["new"] = counts["matched"] + counts["only_new"]

results = []
for rule in config["rules"]:
    if rule["type"] == "row_count":
        result = {"passed": counts["old"] == counts["new"], "detail": f"{counts['old']} rows in {old_version}, {counts['new']} in {new_version}"}
    elif rule["type"] == "key_coverage":
        rate = (counts["only_old"] + counts["only_new"]) / max(counts["old"], counts["new"], 1)
        result = {"passed": rate <= rule["max_missing_rate"], "rate": round(rate, 6), "limit": rule["max_missing_rate"],
                  "detail": f"{counts['only_old']} rows only in {old_version}, {counts['only_new']} only in {new_version}"}
    else:
        rate = totals[rule["name"]] / max(counts["matched"], 1)
        limit = rule.get("max_violation_rate", 0)
        result = {"passed": rate <= limit, "violations": totals[rule["name"]], "rate": round(rate, 6), "limit": limit,
                  "detail": f"{totals[rule['name']]} of {counts['matched']} matched rows ({rate:.2%}; at most {limit:.2%} allowed)"}
    results.append({"name": rule["name"], "type": rule["type"], **result})
    print(f"{'pass' if result['passed'] else 'FAIL'}  {rule['name']}: {result['detail']}")

os.makedirs(os.path.join(OUTPUTS, "validation"), exist_ok=True)
write_csv(os.path.join(OUTPUTS, "validation", "chunk_results.csv"), ["chunk", "first_row_id", "last_row_id", "rows"] + list(totals), chunks)
passed = all(r["passed"] for r in results)
write_json(os.path.join(OUTPUTS, "validation", "validation_summary.json"), {
    "old_version": old_version, "new_version": new_version, "chunk_size": chunk_size, "chunks": len(chunks), **counts,
    "rules": results, "passed": passed})
print(f"{len(chunks)} chunks of up to {chunk_size} rows; {sum(r['passed'] for r in results)} of {len(results)} rules hold")
if not passed and param("fail_on_violation") == "true":
    sys.exit(1)
