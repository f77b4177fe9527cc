import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A parent pipeline that runs another pipeline per item (Kestra's ForEachItem, Airflow's TriggerDagRunOperator):
/// each region's daily_sales report is a child run, and their values meet in one comparison.
extension ExampleTests {
    @Test func regionalSalesRunsDailySalesOncePerRegionAndComparesWhatTheyPassedOn() async throws {
        let workspace = try TestWorkspace.example("regional_sales")
        for item in ["daily_sales.yaml", "daily_sales"] {
            try FileManager.default.copyItem(
                atPath: "\(TestWorkspace.examplesDirectory)/pipelines/\(item)", toPath: workspace.path("pipelines/\(item)"))
        }
        let run = try workspace.runThroughBinary("regional_sales", "-p", "regions=north,west")
        #expect(run.exitCode == 0, "\(run.stderr)")
        let children = try await workspace.store().childRuns(of: run.id)
        #expect(
            children.map { "\($0.parent?.step ?? "") \($0.pipeline) \($0.status.rawValue)" } == [
                "region[north] daily_sales success", "region[west] daily_sales success",
            ])
        #expect(children.map { $0.parameters["region"] } == ["north", "west"])
        // Each child wrote its own report, in its own run directory.
        let north = try String(contentsOfFile: "\(children[0].runDirectory)/outputs/report.md", encoding: .utf8)
        #expect(north.hasPrefix("# Daily sales 2025-09-01 to 2025-09-07 (region: north)"))
        let revenue = try #require(
            try await workspace.store().stepRuns(runID: children[0].id).first { $0.step == "report" }?.outputValues?["revenue"])
        let comparison = try run.output("comparison.md")
        #expect(comparison.contains("| north |") && comparison.contains("| west |") && !comparison.contains("| south |"), "\(comparison)")
        let formatted = try #require(Double(revenue)).formatted(
            .number.precision(.fractionLength(2)).grouping(.automatic).locale(Locale(identifier: "en_US")))
        #expect(comparison.contains(formatted), "north's revenue as its child run passed it on: \(formatted)")
    }
}
