import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A store holding thousands of runs: pages come from indexes, and old runs can be removed with everything
/// recorded about them.
struct StoreScaleTests {
    @Test func thousandsOfRunsArePagedByIndexAndRemovedWithEverythingTheyRecorded() async throws {
        let workspace = try TestWorkspace()
        let store = try workspace.store()
        var ids: [String] = []
        for index in 0..<2000 {
            let pipeline = index.isMultiple(of: 2) ? "even" : "odd"
            let run = try await store.createRun(
                NewRun(pipeline: pipeline, trigger: "test", runsDirectory: workspace.runsDirectory, steps: ["a", "b"]))
            try await store.writeEvents([
                RunEvent(runID: run.id, pipeline: pipeline, kind: .runStarted(steps: ["a", "b"])),
                RunEvent(runID: run.id, pipeline: pipeline, kind: .stepSkipped(step: "a", reason: "test")),
                RunEvent(runID: run.id, pipeline: pipeline, kind: .runFinished(status: .success)),
            ])
            ids.append(run.id)
        }
        let page = try await store.runs(pipeline: "even", limit: 50, offset: 950)
        #expect(page.count == 50 && page.last?.id == ids[0], "the oldest even run ends the last page")

        // Each listing and detail query is answered by an index, not a scan of the table.
        for query in [
            "SELECT * FROM runs ORDER BY createdat DESC LIMIT 50 OFFSET 1000",
            "SELECT * FROM runs WHERE pipeline = 'even' ORDER BY createdat DESC LIMIT 50",
            "SELECT * FROM runs WHERE status = 'running'",
            "SELECT * FROM step_runs WHERE runid = 'x' ORDER BY position",
            "SELECT * FROM attempts WHERE runid = 'x'",
            "SELECT * FROM events WHERE runid = 'x' AND seq > 0 ORDER BY seq",
        ] {
            let plan = try Python.sqlite(workspace.storePath, "EXPLAIN QUERY PLAN " + query)
            #expect(plan.split(separator: "\n").allSatisfy { !$0.contains("SCAN") || $0.contains("INDEX") }, "\(query): \(plan)")
        }

        let running = try await store.createRun(NewRun(pipeline: "odd", trigger: "test", runsDirectory: workspace.runsDirectory, steps: ["a"]))
        let removed = try await store.removeRuns(before: nil, keep: 100, dryRun: false)
        #expect(removed.count == 1801, "100 newest finished runs kept per pipeline, besides the running one")
        #expect(try await store.runs(pipeline: nil, limit: 1000, offset: 0).count == 200)
        let left = try Python.sqlite(workspace.storePath, "SELECT (SELECT count(*) FROM step_runs) || ' ' || (SELECT count(*) FROM events)")
        #expect(left == "399 597", "the removed runs' steps and events went with them")
        #expect(try await store.removeRuns(before: .distantFuture, keep: nil, dryRun: false).count == 199)
        #expect(try await store.runs(pipeline: nil, limit: 1000, offset: 0).map(\.id) == [running.id], "a running run is never removed")
    }
}
