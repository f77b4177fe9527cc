"""Step 6: assigns each valid user an economic tier from revenue, engagement and product usage; invalid users get
none. Writes the tier distribution to the run's outputs."""
import json
import os

from common import connect, update

REVENUE = "(SELECT coalesce(sum(revenue), 0) FROM fact_mixpanel_event e WHERE e.distinct_id = u.distinct_id)"
PRODUCTS = "(SELECT count(*) FROM fact_user_products p WHERE p.distinct_id = u.distinct_id)"
TIER = f"""(CASE WHEN NOT u.valid_user THEN NULL
    WHEN {REVENUE} >= 20 THEN 'premium'
    WHEN {REVENUE} >= 5 OR ({PRODUCTS} >= 4 AND u.event_count >= 40) THEN 'standard'
    WHEN {REVENUE} > 0 OR u.event_count >= 20 THEN 'basic'
    ELSE 'free' END)"""
connection = connect()
connection.execute("BEGIN IMMEDIATE")
update(connection, "economic_tier", f"UPDATE fact_mixpanel_user AS u SET economic_tier = {TIER} WHERE economic_tier IS NOT {TIER}")
connection.execute("COMMIT")
distribution = dict(connection.execute("SELECT coalesce(economic_tier, 'none (invalid user)'), count(*) FROM fact_mixpanel_user GROUP BY 1 ORDER BY 1"))
for tier, users in distribution.items():
    print(f"{tier:22} {users:6} users")
if os.environ.get("SLUICE_OUTPUTS_DIR"):
    with open(os.path.join(os.environ["SLUICE_OUTPUTS_DIR"], "economic_tiers.json"), "w") as handle:
        json.dump(distribution, handle, indent=2, sort_keys=True)
