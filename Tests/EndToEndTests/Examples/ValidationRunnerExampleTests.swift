import Foundation
import SluiceTestSupport
import Testing

/// Seed 003's validation runner: two extracts, a chunked comparison, the parameter analysis, and skipping by selection.
extension ExampleTests {
    @Test func validationRunnerComparesChunkByChunkAndFindsTheDrivingParameter() throws {
        let workspace = try TestWorkspace.example("validation_runner")
        let sizes = ["-p", "rows=5000", "-p", "chunk_size=1000"]
        let full = try workspace.runThroughBinary("validation_runner", sizes)
        #expect(full.exitCode == 0, "\(full.stderr)")
        #expect(full.states["extract[old]"] == "succeeded" && full.states["extract[new]"] == "succeeded", "one step fanned out over both versions")
        let summary = try workspace.json("\(full.directory)/outputs/validation/validation_summary.json") as! [String: Any]
        let matched = try #require(summary["matched"] as? Int)
        #expect(summary["old"] as? Int == lines(try workspace.read("data/validation_runner/extracts/model_output_0.3615.csv")).count - 1)
        #expect(summary["chunks"] as? Int == (matched + 999) / 1000)
        #expect(try workspace.csvRows("\(full.directory)/outputs/validation/chunk_results.csv").count - 1 == (matched + 999) / 1000)
        let rules = summary["rules"] as! [[String: Any]]
        #expect(rules.first { $0["name"] as? String == "prediction within 0.01" }?["passed"] as? Bool == false)
        #expect(rules.first { $0["name"] as? String == "no new nulls" }?["passed"] as? Bool == true)
        let analysis = try workspace.json("\(full.directory)/outputs/analysis/analysis.json") as! [String: Any]
        #expect(analysis["driver"] as? String == "param_depth", "the generator moves only deep trees' predictions")
        #expect(try full.output("validation_report.csv").contains("driver,param_depth"))

        // Seed 003's --skip-extraction and --skip-analysis, as selections.
        let reused = try workspace.runThroughBinary("validation_runner", sizes + ["--skip", "extraction"])
        #expect(reused.exitCode == 0 && reused.states["extract[old]"] == nil && reused.states["validate"] == "succeeded")
        let unanalysed = try workspace.runThroughBinary("validation_runner", sizes + ["--mode", "skip-analysis"])
        #expect(unanalysed.states["analyse"] == nil)
        let report = try workspace.json("\(unanalysed.directory)/outputs/validation_report.json") as! [String: Any]
        #expect(report["analysis"] as? String == "skipped")

        let missing = try workspace.runThroughBinary("validation_runner", sizes + ["--skip", "extraction", "-p", "new_version=0.4000"])
        #expect(missing.exitCode == 1 && missing.states["validate"] == "failed")
        #expect(try SluiceBinary.run(["logs", missing.id, "validate"], in: workspace.root).stdout.contains("no extract of version 0.4000"))

        let strict = try workspace.runThroughBinary("validation_runner", sizes + ["-p", "fail_on_violation=true"])
        #expect(strict.exitCode == 1 && strict.states["validate"] == "failed")
    }
}
