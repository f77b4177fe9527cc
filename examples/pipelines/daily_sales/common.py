"""Paths and parameters shared by the daily_sales steps (Python standard library only)."""
import datetime
import os

OUTPUTS = os.environ.get("SLUICE_OUTPUTS_DIR", "outputs")
WORKING = os.environ.get("SLUICE_WORKING_DIR", "working")


def output(name):
    os.makedirs(OUTPUTS, exist_ok=True)
    return os.path.join(OUTPUTS, name)


def working(name):
    os.makedirs(WORKING, exist_ok=True)
    return os.path.join(WORKING, name)


def days():
    start = datetime.date.fromisoformat(os.environ["DATE_START"])
    end = datetime.date.fromisoformat(os.environ["DATE_END"])
    if end < start:
        raise SystemExit(f"date_end {end} is before date_start {start}: swap them")
    return [start + datetime.timedelta(days=offset) for offset in range((end - start).days + 1)]
