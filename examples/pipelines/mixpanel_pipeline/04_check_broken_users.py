"""Step 4: marks users that must be left out of the analysis (valid_user = FALSE), and says why each was."""
from common import connect, update

REASONS = {
    "no platform": "platform IS NULL OR platform = ''",
    "no country": "country IS NULL OR country = ''",
    "device id instead of a user id": "distinct_id LIKE '$device:%'",
    "first seen after last seen": "first_seen > last_seen",
    "no events": "NOT EXISTS (SELECT 1 FROM fact_mixpanel_event e WHERE e.distinct_id = fact_mixpanel_user.distinct_id)",
}
VALID = "NOT (" + " OR ".join(f"({condition})" for condition in REASONS.values()) + ")"
connection = connect()
connection.execute("BEGIN IMMEDIATE")
update(connection, "valid_user", f"UPDATE fact_mixpanel_user SET valid_user = {VALID} WHERE valid_user IS NOT {VALID}")
connection.execute("COMMIT")
for reason, condition in REASONS.items():
    print(f"{reason}: {connection.execute(f'SELECT count(*) FROM fact_mixpanel_user WHERE {condition}').fetchone()[0]} users")
invalid, total = connection.execute("SELECT sum(NOT valid_user), count(*) FROM fact_mixpanel_user").fetchone()
print(f"{invalid} of {total} users are not valid")
