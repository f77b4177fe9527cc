"""Paths and helpers shared by the validation runner's steps."""
import csv
import json
import os

WORKSPACE = os.environ.get("SLUICE_WORKSPACE", ".")
EXTRACTS = os.path.join(WORKSPACE, "data", "validation_runner", "extracts")
OUTPUTS = os.environ.get("SLUICE_OUTPUTS_DIR", "outputs")
WORKING = os.environ.get("SLUICE_WORKING_DIR", "working")
HEADER = ["row_id", "region", "segment", "param_depth", "param_learning_rate", "feature_a", "prediction", "score", "label"]


def param(name, default=""):
    return os.environ.get(name.upper(), default)


def extract_path(version):
    return os.path.join(EXTRACTS, f"model_output_{version}.csv")


def rules():
    """The validation rules: the file named by the `rules` parameter, relative to the workspace."""
    with open(os.path.join(WORKSPACE, param("rules", "pipelines/validation_runner/rules.json"))) as handle:
        return json.load(handle)


def write_json(path, value):
    with open(path + ".tmp", "w") as handle:
        json.dump(value, handle, indent=2, sort_keys=True)
    os.replace(path + ".tmp", path)


def write_csv(path, header, rows):
    with open(path + ".tmp", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(path + ".tmp", path)
