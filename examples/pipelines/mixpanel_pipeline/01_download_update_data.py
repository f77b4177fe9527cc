"""Step 1: makes sure the local cache holds the last `days` days of Mixpanel export data, one JSON-lines file per
day, fetching only the days that are missing. The "download" is simulated: each day's events come from a random
generator seeded with that day and the user count, so a day fetched twice is the same file."""
import datetime
import json
import os
import random

from common import CACHE, param, window

PRODUCTS = ["P1", "P2", "P3", "P4", "P5", "P6"]
users = int(param("users", "3000"))


def profile(number):
    """A user's fixed properties. About 3% are broken in ways step 4 must catch."""
    generator = random.Random(number)
    person = {"distinct_id": f"user_{number:06d}", "$os": generator.choice(["Android", "iOS"]),
              "mp_country_code": generator.choice(["IN", "US", "GB", "NP", "AE"])}
    if generator.random() < 0.35:
        person.update(abi_campaign=f"cmp_{generator.randrange(12)}", abi_adset=f"adset_{generator.randrange(40)}",
                      abi_ad=f"ad_{generator.randrange(200)}")
        if generator.random() < 0.15:
            del person["abi_ad"]  # a half-attributed install: campaign and adset, no ad
    broken = generator.random()
    if broken < 0.01:
        del person["$os"]
    elif broken < 0.02:
        person["distinct_id"] = f"$device:{number:06d}"
    elif broken < 0.03:
        del person["mp_country_code"]
    return person


def events_of(day):
    generator = random.Random(day.toordinal() * 7919 + users)
    midnight = int(datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc).timestamp())
    for number in sorted(generator.sample(range(users), k=max(1, users // 6))):
        person = profile(number)
        moment = midnight + generator.randrange(80000)
        names = ["App Open"] + ["Product Open"] * generator.randint(0, 3)
        if generator.random() < 0.06:
            names.append("Purchase")
        product = generator.choice(PRODUCTS)
        for index, name in enumerate(names):
            properties = dict(person, time=moment + 30 * index, **{"$insert_id": f"{day.isoformat()}-{number}-{index}"})
            if name != "App Open":
                properties["product_id"] = product if generator.random() < 0.7 else generator.choice(PRODUCTS)
            if name == "Purchase":
                properties["revenue"] = generator.choice([0.99, 2.99, 4.99, 9.99, 19.99])
            yield {"event": name, "properties": properties}


os.makedirs(CACHE, exist_ok=True)
days = window()
missing = [day for day in days if not os.path.exists(os.path.join(CACHE, f"{day.isoformat()}.jsonl"))]
print(f"cache covers {len(days) - len(missing)} of the {len(days)} days from {days[0]} to {days[-1]}; fetching {len(missing)}")
for day in missing:
    path = os.path.join(CACHE, f"{day.isoformat()}.jsonl")
    with open(path + ".tmp", "w") as handle:
        for event in events_of(day):
            handle.write(json.dumps(event, sort_keys=True) + "\n")
    os.replace(path + ".tmp", path)
print(f"downloaded {len(missing)} days")
