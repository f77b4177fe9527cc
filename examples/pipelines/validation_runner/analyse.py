"""The ParameterAnalyzer: for each parameter column, how often the rows of each value break a rule and how far their
predictions moved. The parameter whose values differ most in violation rate is what drives the differences."""
import collections
import csv
import os

from common import OUTPUTS, WORKING, rules, write_csv, write_json

parameters = rules()["parameters"]
with open(os.path.join(WORKING, "differences.csv"), newline="") as handle:
    reader = csv.reader(handle)
    header = next(reader)
    rule_columns = header[len(parameters) + 2:]
    groups = {p: collections.defaultdict(lambda: [0, 0, 0.0]) for p in parameters}  # value: rows, rows breaking a rule, sum |change|
    rows = 0
    for row in reader:
        rows += 1
        broken = any(flag == "1" for flag in row[len(parameters) + 2:])
        change = abs(float(row[len(parameters) + 1]))
        for index, name in enumerate(parameters):
            group = groups[name][row[index + 1]]
            group[0] += 1
            group[1] += broken
            group[2] += change

impact, table = [], []
for name, values in groups.items():
    rates = {value: broken / count for value, (count, broken, _) in values.items()}
    spread = max(rates.values()) - min(rates.values()) if rates else 0
    worst = max(rates, key=rates.get) if rates else None
    impact.append({"parameter": name, "impact": round(spread, 6), "worst_value": worst,
                   "worst_rate": round(rates.get(worst, 0), 6)})
    for value, (count, broken, moved) in sorted(values.items()):
        table.append([name, value, count, broken, round(broken / count, 6), round(moved / count, 6)])
impact.sort(key=lambda entry: -entry["impact"])
os.makedirs(os.path.join(OUTPUTS, "analysis"), exist_ok=True)
write_csv(os.path.join(OUTPUTS, "analysis", "parameter_impact.csv"),
          ["parameter", "value", "rows", "rows_breaking_a_rule", "violation_rate", "mean_abs_prediction_change"], table)
write_json(os.path.join(OUTPUTS, "analysis", "analysis.json"), {"rows": rows, "ranking": impact,
                                                                 "driver": impact[0]["parameter"] if impact and impact[0]["impact"] > 0 else None})
for entry in impact:
    print(f"{entry['parameter']:20} impact {entry['impact']:.4f}  worst value {entry['worst_value']} ({entry['worst_rate']:.2%} of its rows break a rule)")
