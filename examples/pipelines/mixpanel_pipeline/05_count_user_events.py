"""Step 5: counts each user's events, fills fact_user_products with every product a user touched, and checks each
user-product lifecycle: valid when the product was opened before (or without) any purchase of it."""
from common import connect, update

COUNT = "(SELECT count(*) FROM fact_mixpanel_event e WHERE e.distinct_id = fact_mixpanel_user.distinct_id)"
FIRST = "(SELECT min(time) FROM fact_mixpanel_event e WHERE e.distinct_id = p.distinct_id AND e.product_id = p.product_id AND e.event = '{}')"
LIFECYCLE = f"(coalesce({FIRST.format('Product Open')} <= {FIRST.format('Purchase')}, {FIRST.format('Purchase')} IS NULL))"
connection = connect()
connection.execute("BEGIN IMMEDIATE")
update(connection, "event_count", f"UPDATE fact_mixpanel_user SET event_count = {COUNT} WHERE event_count IS NOT {COUNT}")
# NOT EXISTS rather than INSERT OR IGNORE: an ignored row would still use up an AUTOINCREMENT id.
added = connection.execute("""INSERT INTO fact_user_products (distinct_id, product_id)
    SELECT DISTINCT distinct_id, product_id FROM fact_mixpanel_event e WHERE product_id IS NOT NULL AND NOT EXISTS
        (SELECT 1 FROM fact_user_products p WHERE p.distinct_id = e.distinct_id AND p.product_id = e.product_id)
    ORDER BY distinct_id, product_id""").rowcount
print(f"fact_user_products: {added} user-product pairs added")
update(connection, "valid_lifecycle", f"UPDATE fact_user_products AS p SET valid_lifecycle = {LIFECYCLE} WHERE valid_lifecycle IS NOT {LIFECYCLE}")
connection.execute("COMMIT")
pairs, valid = connection.execute("SELECT count(*), sum(valid_lifecycle) FROM fact_user_products").fetchone()
busiest = connection.execute("SELECT distinct_id, event_count FROM fact_mixpanel_user ORDER BY event_count DESC, distinct_id LIMIT 1").fetchone()
print(f"{pairs} user-product pairs, {pairs - (valid or 0)} with a purchase before any product open; busiest user {busiest[0]} ({busiest[1]} events)")
