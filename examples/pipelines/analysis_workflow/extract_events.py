"""Writes the app-events data set a real study reads from its warehouse: the same rows for the same `users`, every
time.

Users install an app on some day between June and November 2025, come back less and less often, and some of them pay.
"""
import csv
import datetime
import os
import random

from common import EVENTS, param

FIRST_DAY, LAST_DAY = datetime.date(2025, 6, 1), datetime.date(2025, 11, 30)
APPS = {"com.example.mandir": 0.5, "com.example.chalisa": 0.3, "com.example.panchang": 0.2}
COUNTRIES = ["IN", "IN", "IN", "US", "GB", "NP", "AE"]
PRICES = [0.99, 1.99, 4.99, 9.99, 49.99]

users = int(param("users", "2000"))
generator = random.Random(20250601)
span = (LAST_DAY - FIRST_DAY).days
rows = 0
os.makedirs(os.path.dirname(EVENTS), exist_ok=True)
temporary = EVENTS + ".tmp"
with open(temporary, "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["event_id", "event_time", "event_date", "app_id", "user_id", "event_name", "platform", "country",
                     "install_date", "session_id", "revenue_usd", "session_seconds"])
    for number in range(1, users + 1):
        user = f"u{number:07d}"
        app = generator.choices(list(APPS), weights=list(APPS.values()))[0]
        platform = "android" if generator.random() < 0.8 else "ios"
        country = generator.choice(COUNTRIES)
        installed = FIRST_DAY + datetime.timedelta(days=generator.randrange(span + 1))
        loyalty = generator.random()
        payer = generator.random() < 0.08
        sessions = 0
        for offset in range((LAST_DAY - installed).days + 1):
            day = installed + datetime.timedelta(days=offset)
            # Day 0 always; afterwards retention decays, slower for loyal users, and weekends are busier.
            chance = 1.0 if offset == 0 else 0.6 * loyalty / (1 + offset / 10) * (1.3 if day.weekday() >= 5 else 1)
            if generator.random() >= chance:
                continue
            for _ in range(1 + (generator.random() < 0.3)):
                sessions += 1
                session = f"{user}-{sessions}"
                moment = datetime.datetime.combine(day, datetime.time(generator.randrange(23), generator.randrange(60)))
                names = ["session_start"] + ["screen_view"] * generator.randint(1, 4)
                if generator.random() < 0.2:
                    names.append("ad_impression")
                if payer and generator.random() < 0.15:
                    names.append("purchase")
                for index, name in enumerate(names):
                    rows += 1
                    at = moment + datetime.timedelta(seconds=20 * index)
                    revenue = generator.choice(PRICES) if name == "purchase" else ""
                    seconds = generator.randint(30, 1800) if name == "session_start" else ""
                    writer.writerow([f"e{rows:09d}", at.isoformat(), day.isoformat(), app, user, name, platform, country,
                                     installed.isoformat(), session, revenue, seconds])
os.replace(temporary, EVENTS)
print(f"wrote {rows} events of {users} users to {os.path.relpath(EVENTS)}")
