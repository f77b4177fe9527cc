"""Paths and helpers shared by the Mixpanel pipeline's steps (the database/ and data_cache/ folders)."""
import datetime
import os
import sqlite3

WORKSPACE = os.environ.get("SLUICE_WORKSPACE", ".")
ROOT = os.path.join(WORKSPACE, "data", "mixpanel_pipeline")
DATABASE = os.path.join(ROOT, "database", "mixpanel_data.db")
CACHE = os.path.join(ROOT, "data_cache", "mixpanel")


def param(name, default=""):
    return os.environ.get(name.upper(), default)


def window():
    """The days the cache must cover: the last `days` days up to `as_of` (default: today, UTC)."""
    as_of = param("as_of")
    last = datetime.date.fromisoformat(as_of) if as_of else datetime.datetime.now(datetime.timezone.utc).date()
    days = int(param("days", "90"))
    return [last - datetime.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def connect():
    """The database, created if missing. Each step runs in one transaction: all of its changes, or none."""
    os.makedirs(os.path.dirname(DATABASE), exist_ok=True)
    connection = sqlite3.connect(DATABASE, isolation_level=None)
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA busy_timeout = 10000")
    return connection


def update(connection, label, sql, *arguments):
    """Runs an UPDATE written to touch only rows whose value changes, and says how many it changed."""
    changed = connection.execute(sql, arguments).rowcount
    print(f"{label}: {changed} rows changed")
    return changed
