"""Extracts one version of the model-output table (the `which` argument: old or new). A real extraction
queries BigQuery; here the table is generated: the same rows for every version, with predictions that depend on the
version. Each version moves the predictions of deep trees (param_depth 8 and more) by its own amount, plus a little
noise, so a comparison finds differences and the analysis can find what drives them."""
import hashlib
import os
import random
import sys

from common import EXTRACTS, HEADER, extract_path, param, write_csv

which = sys.argv[1]
version = param(f"{which}_version")
if not version:
    sys.exit(f"no {which}_version given: pass -p {which}_version=0.3615")
rows = int(param("rows", "100000"))
seed = int(hashlib.sha256(version.encode()).hexdigest(), 16)
deep_shift = (seed % 100) / 1000  # between 0 and 0.1
base, noise = random.Random(3615), random.Random(seed)
dropped = 0
table = []
for row_id in range(1, rows + 1):
    region, segment = base.choice(["north", "south", "east", "west", "central"]), base.choice(["retail", "smb", "enterprise", "public"])
    depth, rate, feature = base.randint(3, 10), base.choice([0.01, 0.05, 0.1]), base.random()
    prediction = min(max(0.2 + 0.6 * feature + (deep_shift * (depth - 7) if depth >= 8 else 0) + noise.gauss(0, 0.002), 0), 1)
    if noise.random() < 0.0002:  # each version loses a few rows
        dropped += 1
        continue
    table.append([row_id, region, segment, depth, rate, round(feature, 6), round(prediction, 6), round(prediction * 100, 4),
                  int(prediction >= 0.5)])
os.makedirs(EXTRACTS, exist_ok=True)
write_csv(extract_path(version), HEADER, table)
print(f"extracted version {version}: {len(table)} rows ({dropped} missing) to {os.path.relpath(extract_path(version))}")
