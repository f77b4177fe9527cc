import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// A run owned by a Sluice process on another host is left alone while its lease holds, and recovered once it ran out.
struct RunLeaseTests {
    @Test func aRemoteOwnersRunIsRecoveredOnlyOnceItsLeaseHasExpired() async throws {
        let workspace = try TestWorkspace()
        let store = try workspace.store()
        let run = try await store.createRun(pipeline: "p", trigger: "test", parameters: [:], selection: Selection(),
                                            runsDirectory: workspace.runsDirectory, steps: ["a"])
        func owner(host: String, leaseEndsIn seconds: Double) throws {
            try sqlite(workspace.storePath, "UPDATE runs SET ownerHost = '\(host)', ownerPID = 1, leaseExpiresAt = \(Date().timeIntervalSince1970 + seconds)")
        }
        try owner(host: "elsewhere", leaseEndsIn: 20)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store).isEmpty, "a live lease on another host is respected")
        #expect(try await store.run(id: run.id)?.status == .running)
        try owner(host: "elsewhere", leaseEndsIn: -1)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store) == [run.id], "an expired lease means its owner is gone")
        #expect(try await store.run(id: run.id)?.status == .interrupted)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store).isEmpty, "recovered once")
    }

    private func sqlite(_ path: String, _ statement: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()", path, statement]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("sqlite: \(statement) failed") }
    }
}
