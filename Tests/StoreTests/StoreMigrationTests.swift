import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// A store written by Sluice 0.1.0, before both stores shared their table names: `Fixtures/store-0.1.0.sqlite`,
/// made by running `Fixtures/store-0.1.0.yaml` with n=2 and n=5 (a step that passes a value on and declares an
/// output, a retried step allowed to fail, a fan-out, a failure whose rollback found no good version), marking `make` tested, and pausing the
/// pipeline in `sluice serve` (which registered its schedule).
@Suite struct StoreMigrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Each table's rows, as Python's sqlite3 counts them.
    static func counts(_ path: String, tables: [String]) throws -> String {
        try Python.sqlite(path, "SELECT " + tables.map { "(SELECT count(*) FROM \($0))" }.joined(separator: " || ' ' || "))
    }

    @Test func aStoreOfTheLastReleaseIsMigratedInPlaceAndKeepsEverything() async throws {
        let workspace = try TestWorkspace()
        try FileManager.default.createDirectory(atPath: workspace.path(".sluice"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("store-0.1.0.sqlite").path, toPath: workspace.storePath)
        let before = try Self.counts(
            workspace.storePath,
            tables: [
                "runs", "stepRuns", "attempts", "events", "stepStatus", "recoveryActions", "stepFingerprints", "fileHashes", "triggers",
                "pausedPipelines",
            ])
        #expect(before == "2 10 12 48 5 2 1 1 1 1", "the fixture has rows in every table")

        // `db status` looks without migrating, so an operator sees what is pending.
        let status = try await SluiceBinary.run(["db", "status"], in: workspace.root)
        #expect(status.stdout.contains("pending  v7") && status.stdout.contains("runs     2"), "\(status.stdout)\(status.stderr)")

        // A copy into it is refused, for its runs, before anything migrates it.
        let source = try TestWorkspace()
        let copy = try await SluiceBinary.run(["db", "copy", "--to", workspace.storePath], in: source.root)
        #expect(copy.status != 0 && copy.stderr.contains("already has runs"), "\(copy.stderr)")
        #expect(try Python.sqlite(workspace.storePath, "SELECT count(*) FROM sqlite_master WHERE name = 'stepRuns'") == "1", "left as it was")

        let store = try SQLiteRunStore(path: workspace.storePath)
        let versions = try await store.schemaVersions()
        #expect(versions.pending.isEmpty && versions.applied.suffix(3) == ["v8", "v9", "v10"])
        let after = try Self.counts(
            workspace.storePath,
            tables: [
                "runs", "step_runs", "attempts", "events", "step_status", "recovery_actions", "step_fingerprints", "file_hashes", "triggers",
                "paused_pipelines",
            ])
        #expect(after == before)
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA integrity_check") == "ok")
        #expect(try Python.sqlite(workspace.storePath, "PRAGMA foreign_key_check").isEmpty)
        let columns = try Python.sqlite(
            workspace.storePath, "SELECT group_concat(name, ' ') FROM pragma_table_info('runs') WHERE name <> lower(name)")
        #expect(columns == "None", "every column has PostgreSQL's lower-case name")

        // What the old store recorded reads back through today's statements.
        let runs = try await store.runs(pipeline: "fixture", limit: 10, offset: 0)
        #expect(runs.map(\.parameters) == [["n": "5"], ["n": "2"]], "newest first")
        #expect(runs.allSatisfy { $0.status == .failed && $0.stepsTotal == 5 && $0.finishedAt != nil })
        let first = try #require(runs.last)
        let steps = try await store.stepRuns(runID: first.id)
        #expect(steps.map(\.step) == ["make", "flaky", "fan[a]", "fan[b]", "broken"])
        #expect(steps[0].outputValues == ["count": "2"] && steps[0].state == .succeeded)
        #expect(steps[1].state == .failed && steps[1].allowedFailure && steps[1].attempts == 2)
        #expect(try await store.attempts(runID: first.id).count == 6)
        let rollback = try #require(try await store.recoveryActions(runID: first.id).first)
        #expect(rollback.step == "broken" && rollback.action.kind == .rollback && rollback.action.status == .failed && !steps[4].recovered)
        #expect(rollback.action.message.contains("no good version to roll back to"))
        #expect(try await store.stepStatuses(pipeline: "fixture").first { $0.step == "make" }?.tested == true)
        let outputs = try await store.outputState(pipeline: "fixture")
        #expect(outputs.fingerprints["make"]?.outputValues == ["count": "5"])
        #expect(outputs.hashes.keys.sorted().count == 1)
        #expect(try await store.triggerStates(pipeline: nil).map(\.name) == ["schedule"])
        #expect(try await store.pausedPipelines().keys.sorted() == ["fixture"])

        // And it goes on recording: a new run, its events numbered after the old ones.
        let lastSeq = try await store.latestEventSeq()
        try FileManager.default.createDirectory(atPath: workspace.pipelinesDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Self.fixtures.appendingPathComponent("store-0.1.0.yaml").path, toPath: workspace.path("pipelines/fixture.yaml"))
        let outcome = try await workspace.run("fixture", parameters: ["n": "3"])
        #expect(outcome.step("make")?.outputValues == ["count": "3"])
        #expect(try await store.events(runID: outcome.run.id, after: 0).allSatisfy { $0.seq > lastSeq })
        #expect(try await store.countRuns(RunFilter(pipeline: "fixture")) == 3)
    }

    @Test func aStoreANewerSluiceUpgradedIsRefusedAndLeftAlone() async throws {
        let workspace = try TestWorkspace()
        _ = try SQLiteRunStore(path: workspace.storePath)
        _ = try Python.sqlite(workspace.storePath, "INSERT INTO grdb_migrations VALUES ('v99')")
        #expect {
            try SQLiteRunStore(path: workspace.storePath)
        } throws: { "\($0)".contains("a newer Sluice has upgraded this store") }
        let run = try await SluiceBinary.run(["runs"], in: workspace.root)
        #expect(run.status != 0 && run.stderr.contains("newer Sluice"), "\(run.stderr)")
        #expect(try Python.sqlite(workspace.storePath, "SELECT identifier FROM grdb_migrations ORDER BY identifier DESC LIMIT 1") == "v99")
    }
}
