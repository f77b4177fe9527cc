"""What the analytics platform's seven stages share: the run's configuration, where each stage leaves its work, and
small typed-CSV and JSON helpers."""
import csv
import datetime
import json
import os

WORKSPACE = os.environ.get("SLUICE_WORKSPACE", ".")
OUTPUTS = os.environ.get("SLUICE_OUTPUTS_DIR", "outputs")
WORKING = os.environ.get("SLUICE_WORKING_DIR", "working")


def param(name, default=""):
    return os.environ.get(name.upper(), default)


def config():
    """The configuration the initialisation stage settled (the platform's PipelineConfig)."""
    return read_json(os.path.join(OUTPUTS, "config.json"))


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def write_json(path, value):
    with open(path + ".tmp", "w") as handle:
        json.dump(value, handle, indent=2, sort_keys=True, default=str)
    os.replace(path + ".tmp", path)


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        return list(csv.DictReader(handle, dialect=dialect))


def write_rows(path, header, rows):
    with open(path + ".tmp", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(path + ".tmp", path)


def number(text):
    try:
        value = float(str(text).replace(",", "").strip())
        return value if value == value and abs(value) != float("inf") else None
    except ValueError:
        return None


def day(text):
    text = str(text).strip()
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, form).date()
        except ValueError:
            pass
    return None
