import Foundation
import SluiceTestSupport
import Testing

/// Seed 001's data pipeline: collector, loader, versions, and the two failure injections.
extension ExampleTests {
    @Test func dataPipelineRecoversFromACollectorFailureAndFailsWhenTheBackupIsDamaged() throws {
        let workspace = try TestWorkspace.example("data_pipeline")
        let products = "data/data_pipeline/database/dynamicDatabase/productRecords.csv"
        let orders = "data/data_pipeline/database/dynamicDatabase/purchaseOrders.csv"

        let first = try workspace.runThroughBinary("data_pipeline")
        #expect(first.exitCode == 0 && first.status == "success", "\(first.stderr)")
        let records = try workspace.csvRows(products)
        #expect(records[0] == ["report_date", "shift", "machine_code", "item_code", "resin_code", "good_qty", "defect_qty"])
        #expect(Set(records.dropFirst().map { $0.joined(separator: ",") }).count == records.count - 1, "no duplicates")
        #expect(records.dropFirst().allSatisfy { $0[4].wholeMatch(of: /RC-\d\d/) != nil && $0[0].wholeMatch(of: /2025-0[1-6]-\d\d/) != nil })
        #expect(records.dropFirst().allSatisfy { $0[1] != "unknown" || $0[0] < "2025-03-01" }, "only the first two months lack shifts")
        #expect(records.dropFirst().contains { $0[1] == "unknown" })
        #expect(records.count - 1 >= 6 * 400, "every month's records, the repeated days once")
        for database in ["productRecords", "purchaseOrders", "itemInfo", "machineInfo"] {
            #expect(workspace.exists("data/data_pipeline/shared_db/\(database).csv"))
        }
        let annotations = try workspace.json(".sluice/versions/data_pipeline/loader/annotations.json") as! [String: Any]
        #expect((annotations["versions"] as? [Any])?.count == 4, "one version of each database")
        let goodProducts = try Data(contentsOf: URL(fileURLWithPath: workspace.path(products)))
        let goodOrders = try Data(contentsOf: URL(fileURLWithPath: workspace.path(orders)))

        // A new month arrives and the collector dies half-way through writing: the rollback restores the exact bytes.
        let recovered = try workspace.runThroughBinary("data_pipeline", "-p", "months=7", "-p", "inject_failure=collector")
        #expect(recovered.exitCode == 2 && recovered.status == "partial_success")
        #expect(recovered.states["collector"] == "failed" && recovered.states["loader"] == "succeeded")
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.path(products))) == goodProducts)
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.path(orders))) == goodOrders)
        let notice = try notification(in: recovered.directory)
        #expect(notice.contains("MANUAL REVIEW NOTIFICATION") && notice.contains("Status       : PARTIAL_SUCCESS"))
        #expect(notice.contains("ROLLBACK_TO_BACKUP at outputs of step 'collector' → Status: SUCCESS"))
        #expect(try workspace.read("data/data_pipeline/manual_review.log").contains(recovered.id), "the pipeline's file handler")
        #expect(
            try workspace.read("\(recovered.directory)/report.html").contains("injected failure: the collector stopped half-way"),
            "the report shows the end of the failed step's log")

        // The backup is damaged as well: the rollback refuses it, the loader does not run, the run fails.
        let failed = try workspace.runThroughBinary("data_pipeline", "-p", "months=7", "-p", "inject_failure=collector_and_backup")
        #expect(failed.exitCode == 1 && failed.status == "failed")
        #expect(failed.states["loader"] == "skipped")
        let refusal = try notification(in: failed.directory)
        #expect(refusal.contains("ROLLBACK_TO_BACKUP at outputs of step 'collector' → Status: FAILED"))
        #expect(refusal.contains("does not match the recorded SHA-256"))

        // Without injection the seventh month goes through, and the loader's new versions are recorded.
        let healed = try workspace.runThroughBinary("data_pipeline", "-p", "months=7")
        #expect(healed.exitCode == 0)
        #expect(try workspace.csvRows(products).contains { $0[0].hasPrefix("2025-07") })
        let versions = try workspace.json(".sluice/versions/data_pipeline/loader/annotations.json") as! [String: Any]
        #expect((versions["versions"] as? [Any])?.count == 6, "new versions of the two dynamic tables, none of the static ones")
    }

    private func notification(in runDirectory: String) throws -> String {
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: runDirectory)
                .first { $0.hasPrefix("manual_review_") && $0.hasSuffix(".txt") })
        return try String(contentsOfFile: "\(runDirectory)/\(name)", encoding: .utf8)
    }
}
