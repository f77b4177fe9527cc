import Foundation
import SluiceTestSupport
import Testing

/// Seed 002's Mixpanel pipeline: the cache, the migrations, the flags and tiers, and a second run that changes nothing.
extension ExampleTests {
    @Test func mixpanelPipelineBuildsTheSeedsSchemaAndASecondRunChangesNothing() throws {
        let workspace = try TestWorkspace.example("mixpanel_pipeline")
        let first = try workspace.runThroughBinary("mixpanel_pipeline", "-p", "as_of=2025-11-30", "-p", "users=600")
        #expect(first.exitCode == 0, "\(first.stderr)")
        let cache = try FileManager.default.contentsOfDirectory(atPath: workspace.path("data/mixpanel_pipeline/data_cache/mixpanel"))
        #expect(cache.count == 90 && cache.contains("2025-09-02.jsonl") && cache.contains("2025-11-30.jsonl"))

        let facts = try query(
            workspace,
            """
            {"user_columns": [r[1] for r in db.execute("PRAGMA table_info(fact_mixpanel_user)")],
             "products_sql": db.execute("SELECT sql FROM sqlite_master WHERE name = 'fact_user_products'").fetchone()[0],
             "events": db.execute("SELECT count(*) FROM fact_mixpanel_event").fetchone()[0],
             "cached_events": sum(len(open(f).read().splitlines()) for f in glob.glob(cache + '/*.jsonl')),
             "invalid": db.execute("SELECT count(*) FROM fact_mixpanel_user WHERE NOT valid_user").fetchone()[0],
             "invalid_with_tier": db.execute("SELECT count(*) FROM fact_mixpanel_user WHERE NOT valid_user AND economic_tier IS NOT NULL").fetchone()[0],
             "device_ids_valid": db.execute("SELECT count(*) FROM fact_mixpanel_user WHERE distinct_id LIKE '$device:%' AND valid_user").fetchone()[0],
             "tiers": sorted(r[0] for r in db.execute("SELECT DISTINCT economic_tier FROM fact_mixpanel_user WHERE valid_user")),
             "attributed_incomplete": db.execute("SELECT count(*) FROM fact_mixpanel_user WHERE has_abi_attribution AND abi_ad IS NULL").fetchone()[0],
             "attributed": db.execute("SELECT count(*) FROM fact_mixpanel_user WHERE has_abi_attribution").fetchone()[0],
             "pairs": db.execute("SELECT count(*) FROM fact_user_products").fetchone()[0],
             "product_pairs": db.execute("SELECT count(*) FROM (SELECT DISTINCT distinct_id, product_id FROM fact_mixpanel_event WHERE product_id IS NOT NULL)").fetchone()[0]}
            """)
        let columns = facts["user_columns"] as! [String]
        #expect(columns.contains("valid_user") && columns.contains("economic_tier") && columns.contains("has_abi_attribution"))
        #expect(
            facts["products_sql"] as? String == """
                CREATE TABLE fact_user_products (
                    user_product_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    distinct_id TEXT NOT NULL REFERENCES fact_mixpanel_user(distinct_id),
                    product_id TEXT NOT NULL,
                    valid_lifecycle BOOLEAN DEFAULT FALSE,
                    UNIQUE (distinct_id, product_id)
                )
                """, "exactly as seed 002 defines it")
        #expect(facts["events"] as? Int == facts["cached_events"] as? Int, "every cached event once")
        #expect((facts["invalid"] as? Int ?? 0) > 0 && facts["invalid_with_tier"] as? Int == 0 && facts["device_ids_valid"] as? Int == 0)
        #expect(Set(facts["tiers"] as! [String]).isSubset(of: ["premium", "standard", "basic", "free"]) && (facts["tiers"] as! [String]).count >= 3)
        #expect((facts["attributed"] as? Int ?? 0) > 0 && facts["attributed_incomplete"] as? Int == 0)
        #expect(facts["pairs"] as? Int == facts["product_pairs"] as? Int)

        let before = try query(workspace, #"{"dump": hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()}"#)
        let second = try workspace.runThroughBinary("mixpanel_pipeline", "-p", "as_of=2025-11-30", "-p", "users=600")
        #expect(second.exitCode == 0)
        let after = try query(workspace, #"{"dump": hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()}"#)
        #expect(after["dump"] as? String == before["dump"] as? String, "a second run changes nothing")
        let download = try SluiceBinary.run(["logs", second.id, "download_update_data"], in: workspace.root).stdout
        #expect(download.contains("cache covers 90 of the 90 days") && download.contains("downloaded 0 days"))
    }

    /// Evaluates a Python expression over the example's database (`db`) and cache folder (`cache`), as JSON.
    private func query(_ workspace: TestWorkspace, _ expression: String) throws -> [String: Any] {
        let script = """
            import glob, hashlib, json, sqlite3
            db = sqlite3.connect("data/mixpanel_pipeline/database/mixpanel_data.db")
            cache = "data/mixpanel_pipeline/data_cache/mixpanel"
            print(json.dumps(\(expression)))
            """
        let output = try Python.run(["-c", script], in: workspace.root).output
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
    }
}
