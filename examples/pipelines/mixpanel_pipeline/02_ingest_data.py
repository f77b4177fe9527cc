"""Step 2: migrates the database schema (each migration once, recorded in schema_migrations) and ingests every
cached day not yet ingested, without duplicates: events are keyed by Mixpanel's $insert_id, users by distinct_id.
New users are valid (valid_user defaults to TRUE)."""
import datetime
import glob
import hashlib
import json
import os

from common import CACHE, connect, window

BASE = [  # the database as it was before any migration
    """CREATE TABLE IF NOT EXISTS fact_mixpanel_user (
        distinct_id TEXT PRIMARY KEY, first_seen INTEGER, last_seen INTEGER, platform TEXT, country TEXT,
        abi_campaign TEXT, abi_adset TEXT, abi_ad TEXT)""",
    """CREATE TABLE IF NOT EXISTS fact_mixpanel_event (
        insert_id TEXT PRIMARY KEY, distinct_id TEXT NOT NULL, event TEXT NOT NULL, time INTEGER NOT NULL,
        product_id TEXT, revenue REAL)""",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
]
MIGRATIONS = [
    (1, "valid_user", "ALTER TABLE fact_mixpanel_user ADD COLUMN valid_user BOOLEAN DEFAULT TRUE"),
    (2, "economic_tier", "ALTER TABLE fact_mixpanel_user ADD COLUMN economic_tier TEXT"),
    (3, "fact_user_products", """CREATE TABLE fact_user_products (
    user_product_id INTEGER PRIMARY KEY AUTOINCREMENT,
    distinct_id TEXT NOT NULL REFERENCES fact_mixpanel_user(distinct_id),
    product_id TEXT NOT NULL,
    valid_lifecycle BOOLEAN DEFAULT FALSE,
    UNIQUE (distinct_id, product_id)
)"""),
    (4, "has_abi_attribution", "ALTER TABLE fact_mixpanel_user ADD COLUMN has_abi_attribution BOOLEAN DEFAULT FALSE"),
    (5, "event_count", "ALTER TABLE fact_mixpanel_user ADD COLUMN event_count INTEGER DEFAULT 0"),
    (6, "ingested_files", "CREATE TABLE ingested_files (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, events INTEGER NOT NULL)"),
    (7, "event_user_index", "CREATE INDEX fact_mixpanel_event_user ON fact_mixpanel_event (distinct_id, product_id, event, time)"),
]

connection = connect()
connection.execute("BEGIN IMMEDIATE")
for statement in BASE:
    connection.execute(statement)
applied = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
pending = [m for m in MIGRATIONS if m[0] not in applied]
for version, name, statement in pending:
    connection.execute(statement)
    connection.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                       (version, name, datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")))
    print(f"migration {version} applied: {name}")
print(f"schema at version {MIGRATIONS[-1][0]}: {len(pending)} migrations applied now")

known = dict(connection.execute("SELECT name, sha256 FROM ingested_files"))
wanted = {f"{day.isoformat()}.jsonl" for day in window()}
new_events = new_users = 0
for path in sorted(glob.glob(os.path.join(CACHE, "*.jsonl"))):
    name = os.path.basename(path)
    with open(path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if name not in wanted or known.get(name) == digest:
        continue
    events = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    for event in events:
        p = event["properties"]
        before = connection.total_changes
        connection.execute("""INSERT INTO fact_mixpanel_user (distinct_id, first_seen, last_seen, platform, country, abi_campaign, abi_adset, abi_ad)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (distinct_id) DO NOTHING""",
                           (p["distinct_id"], p["time"], p["time"], p.get("$os"), p.get("mp_country_code"), p.get("abi_campaign"),
                            p.get("abi_adset"), p.get("abi_ad")))
        new_users += connection.total_changes - before
        connection.execute("""UPDATE fact_mixpanel_user SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?)
            WHERE distinct_id = ? AND (first_seen > ? OR last_seen < ?)""", (p["time"], p["time"], p["distinct_id"], p["time"], p["time"]))
        before = connection.total_changes
        connection.execute("INSERT OR IGNORE INTO fact_mixpanel_event VALUES (?, ?, ?, ?, ?, ?)",
                           (p["$insert_id"], p["distinct_id"], event["event"], p["time"], p.get("product_id"), p.get("revenue")))
        new_events += connection.total_changes - before
    connection.execute("INSERT OR REPLACE INTO ingested_files VALUES (?, ?, ?)", (name, digest, len(events)))
connection.execute("COMMIT")
totals = connection.execute("SELECT (SELECT count(*) FROM fact_mixpanel_user), (SELECT count(*) FROM fact_mixpanel_event)").fetchone()
print(f"ingested {new_events} new events and {new_users} new users; the database holds {totals[1]} events of {totals[0]} users")
