"""Paths and helpers shared by the data pipeline's steps (the plant's folder layout, under data/data_pipeline/)."""
import csv
import hashlib
import io
import os

WORKSPACE = os.environ.get("SLUICE_WORKSPACE", ".")
ROOT = os.path.join(WORKSPACE, "data", "data_pipeline")
DATABASE = os.path.join(ROOT, "database")
REPORTS = os.path.join(DATABASE, "monthlyReports_history")
ORDERS = os.path.join(DATABASE, "purchaseOrders_history")
STATIC = os.path.join(DATABASE, "staticDatabase")
DYNAMIC = os.path.join(DATABASE, "dynamicDatabase")
SHARED = os.path.join(ROOT, "shared_db")
SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "databaseSchemas.json")


def param(name, default=""):
    return os.environ.get(name.upper(), default)


def csv_text(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def sha256(data):
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def write_if_changed(path, text):
    """Writes `text` atomically (temporary file, fsync, rename) only when its hash differs from the file's.
    Returns whether it wrote."""
    if os.path.exists(path):
        with open(path, "rb") as handle:
            if sha256(handle.read()) == sha256(text):
                return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return True
