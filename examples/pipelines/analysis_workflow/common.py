"""What every phase of the analysis workflow shares: where files are, the run's parameters, typed rows."""
import csv
import datetime
import json
import os

WORKSPACE = os.environ.get("SLUICE_WORKSPACE", ".")
OUTPUTS = os.environ.get("SLUICE_OUTPUTS_DIR", "outputs")
EVENTS = os.path.join(WORKSPACE, "data", "analysis_workflow", "app_events.csv")
FOLDERS = ["schema", "segments", "aggregations", "validation", "reports", "raw_data"]  # the phases' outputs/ folders


def param(name, default=""):
    """A pipeline parameter: Sluice passes each one as an upper-case environment variable."""
    return os.environ.get(name.upper(), default)


def setting(name, default):
    return type(default)(os.environ.get(name, default))


def output(*parts):
    """A path under the run's outputs/, with its folder created."""
    path = os.path.join(OUTPUTS, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_text(path, text):
    """Write-then-rename, so that a reader never sees half a file."""
    temporary = path + ".tmp"
    with open(temporary, "w", newline="") as handle:
        handle.write(text)
    os.replace(temporary, path)


def write_json(path, value):
    write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def write_csv(path, header, rows):
    temporary = path + ".tmp"
    with open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    os.replace(temporary, path)


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def date_range():
    return datetime.date.fromisoformat(param("date_start")), datetime.date.fromisoformat(param("date_end"))


def selected_events():
    """The events of the run's app filter and date range, with numbers parsed."""
    start, end = (day.isoformat() for day in date_range())
    app = param("app_filter")
    with open(EVENTS, newline="") as handle:
        for row in csv.DictReader(handle):
            if start <= row["event_date"] <= end and (not app or row["app_id"] == app):
                row["revenue_usd"] = float(row["revenue_usd"] or 0)
                row["session_seconds"] = int(row["session_seconds"] or 0)
                yield row
