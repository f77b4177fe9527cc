import Foundation
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

/// A run owned by a Sluice process on another host is left alone while its lease holds, and recovered once it ran out;
/// a run recorded under this process's own pid is alive only if this process runs it.
struct RunLeaseTests {
    @Test func aRemoteOwnersRunIsRecoveredOnlyOnceItsLeaseHasExpired() async throws {
        let workspace = try TestWorkspace()
        let store = try workspace.store()
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "test", runsDirectory: workspace.runsDirectory, steps: ["a"]))
        func owner(host: String, leaseEndsIn seconds: Double) throws {
            _ = try Python.sqlite(
                workspace.storePath, "UPDATE runs SET ownerhost = '\(host)', ownerpid = 1, leaseexpiresat = \(Date().timeIntervalSince1970 + seconds)"
            )
        }
        try owner(host: "elsewhere", leaseEndsIn: 20)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store).isEmpty, "a live lease on another host is respected")
        #expect(try await store.run(id: run.id)?.status == .running)
        try owner(host: "elsewhere", leaseEndsIn: -1)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store) == [run.id], "an expired lease means its owner is gone")
        #expect(try await store.run(id: run.id)?.status == .interrupted)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store).isEmpty, "recovered once")
    }

    /// What a server restarted in a container finds: the one before it was pid 1 too.
    @Test func aRunRecordedUnderOurOwnPidIsRecoveredUnlessThisProcessRunsIt() async throws {
        let workspace = try TestWorkspace()
        let store = try workspace.store()
        let earlier = try await store.createRun(NewRun(pipeline: "p", trigger: "test", runsDirectory: workspace.runsDirectory, steps: ["a"]))
        #expect(earlier.ownerPID == getpid() && earlier.ownerHost == RunLease.host)
        #expect(try await RunRecovery.recoverAbandonedRuns(in: store).isEmpty, "while its lease runs, it may be another live process's")
        try store.renewLease(runID: earlier.id, until: Date().addingTimeInterval(-1))
        try workspace.pipeline("hold", "steps:\n  - {name: wait, command: 'touch started; until test -f release; do sleep 0.01; done'}\n")
        let running = Task { try await workspace.run("hold") }
        #expect(await eventually { workspace.exists("started") })

        #expect(try await RunRecovery.recoverAbandonedRuns(in: store) == [earlier.id])
        #expect(try await store.run(id: earlier.id)?.status == .interrupted)
        try workspace.write("release", "")
        #expect(try await running.value.run.status == .success, "the run this process runs was left alone")
    }

    @Test func aLongLivedProcessRecoversRunsAbandonedWhileItLives() async throws {
        let workspace = try TestWorkspace()
        let store = try workspace.store()
        let logged = Mutex<[String]>([])
        let recovery = Task { await RunRecovery.keepRecovering(in: store, every: .milliseconds(20)) { line in logged.withLock { $0.append(line) } } }
        defer { recovery.cancel() }
        // Recorded after the loop began, as a run whose own process stops recording it would be: found on a later turn.
        let abandoned = try await store.createRun(NewRun(pipeline: "p", trigger: "test", runsDirectory: workspace.runsDirectory, steps: ["a"]))
        try store.renewLease(runID: abandoned.id, until: Date().addingTimeInterval(-1))
        #expect(try await eventually { try await store.run(id: abandoned.id)?.status == .interrupted })
        #expect(logged.withLock { $0 }.contains { $0.contains(abandoned.id) })
    }
}
