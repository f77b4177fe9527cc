"""Step 3: flags users whose install carries complete ABI attribution (campaign, adset and ad)."""
from common import connect, update

ATTRIBUTED = "(coalesce(abi_campaign, '') <> '' AND coalesce(abi_adset, '') <> '' AND coalesce(abi_ad, '') <> '')"
connection = connect()
connection.execute("BEGIN IMMEDIATE")
update(connection, "has_abi_attribution", f"UPDATE fact_mixpanel_user SET has_abi_attribution = {ATTRIBUTED} "
       f"WHERE has_abi_attribution IS NOT {ATTRIBUTED}")
connection.execute("COMMIT")
attributed, partial, total = connection.execute(f"""SELECT sum({ATTRIBUTED}),
    sum(NOT {ATTRIBUTED} AND coalesce(abi_campaign, '') <> ''), count(*) FROM fact_mixpanel_user""").fetchone()
print(f"{attributed} of {total} users have ABI attribution; {partial} have a campaign but incomplete attribution")
