import Foundation
import SluiceTestSupport
import Synchronization
import Testing

@testable import SluiceKit

/// What every store records and refuses, run against SQLite and PostgreSQL alike.
@Suite(.serialized)
struct RunStoreConformanceTests {
    static let runs = "/tmp/sluice-store-tests/runs"

    func result(_ state: StepState, at time: Date, exitCode: Int32 = 0) -> AttemptResult {
        AttemptResult(
            state: state, exitCode: exitCode, signal: nil, error: state == .failed ? "exit \(exitCode)" : nil,
            startedAt: time.addingTimeInterval(-1), finishedAt: time, peakMemoryKB: 1024, userCPU: 0.25, systemCPU: 0.5)
    }

    @Test(arguments: StoreBackend.allCases)
    func runsAreFilteredAndCountedByPipelineStatusAndTrigger(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        for (pipeline, trigger) in [("p", "cli"), ("p", "retry:abc"), ("q", "retry:def"), ("q", "re_ry:x"), ("q", "api")] {
            _ = try await store.createRun(NewRun(pipeline: pipeline, trigger: trigger, parameters: [:], runsDirectory: Self.runs, steps: ["a"]))
        }
        #expect(try await store.countRuns(RunFilter()) == 5)
        #expect(try await store.countRuns(RunFilter(pipeline: "q")) == 3)
        #expect(try await store.runs(RunFilter(trigger: "retry"), limit: 10, offset: 0).map(\.trigger).sorted() == ["retry:abc", "retry:def"])
        #expect(try await store.countRuns(RunFilter(pipeline: "q", trigger: "retry")) == 1)
        #expect(try await store.countRuns(RunFilter(trigger: "retry:abc")) == 1, "a qualified trigger matches itself")
        #expect(try await store.countRuns(RunFilter(trigger: "re%")) == 0, "LIKE's wildcards are literal")
        #expect(try await store.countRuns(RunFilter(trigger: "r_try")) == 0)
        #expect(try await store.countRuns(RunFilter(status: .running)) == 5)
        #expect(try await store.countRuns(RunFilter(status: .failed)) == 0)
        #expect(try await store.runs(RunFilter(pipeline: "q"), limit: 2, offset: 2).count == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func aRunIsRecordedWithItsStepsAndEveryEvent(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let run = try await store.createRun(
            NewRun(
                pipeline: "p", trigger: "cli", parameters: ["day": "2026-11-22"],
                runsDirectory: Self.runs, steps: ["a", "b"]))
        #expect(run.status == .running && run.id.count == 6)
        let read = try #require(try await store.run(id: run.id))
        #expect(read.id == run.id && read.parameters == run.parameters && read.selection == run.selection && read.ownerPID == run.ownerPID)
        #expect(abs(read.createdAt.timeIntervalSince(run.createdAt)) < 0.001, "times are kept to the microsecond")
        #expect(try await store.stepRuns(runID: run.id).map(\.state) == [.pending, .pending])
        let now = Date()
        try await store.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .runStarted(steps: ["a", "b"])),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .attemptStarted(step: "a", attempt: 1, pid: 42)),
            RunEvent(
                runID: run.id, pipeline: "p", time: now, kind: .attemptFinished(step: "a", attempt: 1, result: result(.failed, at: now, exitCode: 3))),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .retryScheduled(step: "a", attempt: 2, delay: 1)),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .attemptStarted(step: "a", attempt: 2, pid: 43)),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .attemptFinished(step: "a", attempt: 2, result: result(.succeeded, at: now))),
            RunEvent(
                runID: run.id, pipeline: "p", time: now,
                kind: .stepFinished(
                    step: "a", state: .succeeded, attempts: 2, allowed: false,
                    result: result(.succeeded, at: now))),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .stepSkipped(step: "b", reason: "not selected")),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .runFinished(status: .success)),
        ])
        let finished = try #require(try await store.run(id: run.id))
        #expect(finished.status == .success && finished.finishedAt != nil && finished.leaseExpiresAt == nil)
        let steps = try await store.stepRuns(runID: run.id)
        #expect(steps.map(\.state) == [.succeeded, .skipped])
        #expect(steps[0].attempts == 2 && steps[0].exitCode == 0 && steps[0].peakMemoryKB == 1024 && steps[0].cpuSeconds == 0.75)
        #expect(steps[1].reason == "not selected")
        #expect(try await store.stepRun(runID: run.id, step: "a") == steps[0])
        let attempts = try await store.attempts(runID: run.id)
        #expect(attempts.map(\.attempt) == [1, 2] && attempts.map(\.pid) == [42, 43] && attempts[0].exitCode == 3 && attempts[0].state == .failed)
        let events = try await store.events(runID: run.id, after: 0)
        #expect(
            events.map(\.kind) == [
                "run_started", "attempt_started", "attempt_finished", "retry_scheduled", "attempt_started",
                "attempt_finished", "step_finished", "step_skipped", "run_finished",
            ])
        #expect(events.map(\.seq) == events.map(\.seq).sorted() && Set(events.map(\.seq)).count == events.count)
        #expect(try await store.events(after: events[3].seq, runID: nil, limit: 2).map(\.kind) == ["attempt_started", "attempt_finished"])
        #expect(try await store.latestEventSeq() == events.last?.seq)
        let status = try await store.stepStatuses(pipeline: "p")
        #expect(status.first { $0.step == "a" }?.completed == true && status.first { $0.step == "a" }?.lastRunID == run.id)
        try await store.setTested(pipeline: "p", step: "a", tested: true)
        #expect(try await store.stepStatuses(pipeline: "p").first { $0.step == "a" }?.tested == true)
        let totals = try await store.totals()
        #expect(totals.runsByStatus["success"] == 1 && totals.stepsByState["skipped"] == 1 && totals.queuedSteps == 0)
    }

    @Test(arguments: StoreBackend.allCases)
    func runsAreListedNewestFirstByPipelineAndStatusAndRemovedByAgeOrCount(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        var ids: [String] = []
        for index in 0..<5 {
            let run = try await store.createRun(NewRun(pipeline: index < 3 ? "p" : "q", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
            if index != 4 { try await store.writeEvents([RunEvent(runID: run.id, pipeline: run.pipeline, kind: .runFinished(status: .failed))]) }
            ids.append(run.id)
        }
        #expect(try await store.runs(pipeline: nil, status: nil, limit: 10, offset: 0).map(\.id) == ids.reversed())
        #expect(try await store.runs(pipeline: "p", status: nil, limit: 2, offset: 1).map(\.id) == [ids[1], ids[0]])
        #expect(try await store.runs(pipeline: nil, status: .running, limit: 10, offset: 0).map(\.id) == [ids[4]])
        #expect(try await store.run(id: "nope00") == nil)
        #expect(try await store.removeRuns(before: nil, keep: 1, dryRun: true).map(\.id) == [ids[0], ids[1], ids[3]])
        #expect(try await store.removeRuns(before: nil, keep: 1, dryRun: false).map(\.id) == [ids[0], ids[1], ids[3]], "the running run stays")
        #expect(try await store.runs(pipeline: nil, status: nil, limit: 10, offset: 0).map(\.id) == [ids[4], ids[2]])
        #expect(try await store.stepRuns(runID: ids[0]).isEmpty, "with its steps")
    }

    @Test(arguments: StoreBackend.allCases)
    func concurrencyPoliciesQueueAndRefuseAcrossTheStore(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let first = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"], concurrency: .queue))
        let second = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"], concurrency: .queue))
        #expect(first.status == .running && second.status == .queued)
        let refused = await #expect(throws: SluiceError.self) {
            try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"], concurrency: .reject))
        }
        #expect(refused?.code == .conflict)
        #expect(try await !store.startIfFirstInQueue(runID: second.id))
        try await store.writeEvents([RunEvent(runID: first.id, pipeline: "p", kind: .runFinished(status: .success))])
        #expect(try await store.startIfFirstInQueue(runID: second.id))
        #expect(try await store.run(id: second.id)?.status == .running)
    }

    @Test(arguments: StoreBackend.allCases)
    func triggersAreClaimedOnceAndBackfillIntervalsSkippedWhenDone(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        let state = try await store.registerTrigger(pipeline: "p", name: "schedule", since: since, snapshot: nil)
        #expect(state.since == since && state.firedFor == nil)
        #expect(try await store.registerTrigger(pipeline: "p", name: "schedule", since: Date(), snapshot: nil).since == since, "kept")
        let due = since.addingTimeInterval(60)
        let run = try await store.createRun(
            NewRun(
                pipeline: "p", trigger: "schedule", runsDirectory: Self.runs, steps: ["a"],
                detail: TriggerDetail(name: "schedule", scheduledFor: "x"),
                claim: .scheduled(pipeline: "p", trigger: "schedule", at: due)))
        #expect(run.triggerDetail?.scheduledFor == "x")
        await #expect(throws: TriggerClaimed.self) {
            try await store.createRun(
                NewRun(
                    pipeline: "p", trigger: "schedule", runsDirectory: Self.runs, steps: ["a"],
                    claim: .scheduled(pipeline: "p", trigger: "schedule", at: due)))
        }
        #expect(try await store.runs(pipeline: "p", status: nil, limit: 10, offset: 0).count == 1, "the lost claim recorded nothing")
        #expect(try await store.advanceTrigger(.scheduled(pipeline: "p", trigger: "schedule", at: due.addingTimeInterval(60))))
        #expect(try await !store.advanceTrigger(.scheduled(pipeline: "p", trigger: "schedule", at: due)))
        let states = try await store.triggerStates(pipeline: "p")
        #expect(states.first?.firedFor == due.addingTimeInterval(60) && states.first?.lastRunID == run.id)

        let files = WatchSnapshot(files: ["a.csv": "1:2"])
        _ = try await store.registerTrigger(pipeline: "p", name: "watch", since: since, snapshot: WatchSnapshot(files: [:]))
        let old = WatchSnapshot(files: [:]).fingerprint
        #expect(try await store.advanceTrigger(.changed(pipeline: "p", trigger: "watch", from: old, to: files)))
        #expect(try await !store.advanceTrigger(.changed(pipeline: "p", trigger: "watch", from: old, to: files)), "seen by another first")
        #expect(try await store.triggerStates(pipeline: "p").first { $0.name == "watch" }?.snapshot == files)
        try await store.recordTriggerError(pipeline: "p", name: "watch", message: "bad day")
        #expect(try await store.triggerStates(pipeline: nil).first { $0.name == "watch" }?.lastError == "bad day")

        func interval(_ key: String) -> NewRun {
            NewRun(
                pipeline: "p", trigger: "backfill", runsDirectory: Self.runs, steps: ["a"],
                detail: TriggerDetail(backfill: "bf-1", interval: key, maxActive: 1), claim: .interval(pipeline: "p", interval: key))
        }
        let batch = try await store.createRuns([interval("2026-10-01"), interval("2026-10-02"), interval("2026-10-01")])
        #expect(batch.map { (try? $0.get()) != nil } == [true, true, false], "an interval already queued is skipped")
        let queued = try batch[0].get()
        #expect(queued.status == .queued)
        #expect(try await store.startIfFirstInQueue(runID: queued.id))
        #expect(try await !store.startIfFirstInQueue(runID: try batch[1].get().id), "maxActive 1")

        try await store.setPaused(pipeline: "p", paused: true)
        #expect(try await store.pausedPipelines().keys.sorted() == ["p"])
        try await store.setPaused(pipeline: "p", paused: false)
        #expect(try await store.pausedPipelines().isEmpty)
    }

    @Test(arguments: StoreBackend.allCases)
    func anAbandonedRunIsInterruptedOnceAndResumedInPlace(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a", "b"]))
        try store.renewLease(runID: run.id, until: Date().addingTimeInterval(99))
        #expect(try await store.run(id: run.id)?.leaseExpiresAt.map { $0 > Date().addingTimeInterval(90) } == true)
        try await store.writeEvents([RunEvent(runID: run.id, pipeline: "p", kind: .attemptStarted(step: "a", attempt: 1, pid: 7))])
        #expect(try await store.markInterrupted(run))
        #expect(try await !store.markInterrupted(run), "once")
        #expect(try await store.run(id: run.id)?.status == .interrupted)
        #expect(try await store.stepRuns(runID: run.id).map(\.state) == [.interrupted, .pending])
        #expect(try await store.attempts(runID: run.id).first?.state == .interrupted)
        let resumed = try #require(try await store.claimForResume(runID: run.id, steps: ["a"]))
        #expect(resumed.status == .running && resumed.ownerPID == getpid())
        #expect(try await store.stepRuns(runID: run.id).map(\.state) == [.pending, .pending])
        #expect(try await store.stepRun(runID: run.id, step: "a")?.startedAt == nil, "a resumed step's time starts with its new attempt")
        #expect(try await store.claimForResume(runID: run.id, steps: ["a"]) == nil, "running: nothing to take over")
        #expect(try await store.events(runID: run.id, after: 0).map(\.kind).suffix(2) == ["run_interrupted", "run_resumed"])
        // Its attempt started again under the same number: nothing of the earlier one's figures remains.
        try await store.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", kind: .attemptFinished(step: "a", attempt: 1, result: result(.failed, at: Date(), exitCode: 1))),
            RunEvent(runID: run.id, pipeline: "p", kind: .attemptStarted(step: "a", attempt: 1, pid: 8)),
        ])
        let restarted = try #require(try await store.attempts(runID: run.id).first)
        #expect(restarted.state == .running && restarted.pid == 8)
        #expect(restarted.peakMemoryKB == nil && restarted.userCPU == nil && restarted.exitCode == nil)
    }

    /// Steps of two runs, through two connections (as two processes), ask for a pool of 2 all at once: two get a slot.
    @Test(arguments: StoreBackend.allCases)
    func aPoolsSlotsAreCountedAcrossRunsAndConnections(_ backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(2)
        let steps = (0..<8).map { "step\($0)" }
        let runs = [
            try await stores[0].createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: steps)),
            try await stores[1].createRun(NewRun(pipeline: "q", trigger: "cli", runsDirectory: Self.runs, steps: steps)),
        ]
        let taken = try await offPool {
            let granted = Mutex<[String]>([])
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { number in
                let (run, step) = (runs[number % 2].id, steps[number / 2])
                do {
                    if try stores[number % 2].takePoolSlot("warehouse", size: 2, runID: run, step: step) {
                        granted.withLock { $0.append("\(run) \(step)") }
                    }
                } catch { failures.withLock { $0.append("\(error)") } }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            return granted.withLock { $0 }
        }
        #expect(taken.count == 2, "\(taken)")
        for holder in taken.map({ $0.split(separator: " ").map(String.init) }) { try stores[1].releasePoolSlot(runID: holder[0], step: holder[1]) }

        let (one, two) = (runs[0].id, runs[1].id)
        func take(_ store: Int, _ pool: String, _ size: Int, _ run: String, _ step: String) throws -> Bool {
            try stores[store].takePoolSlot(pool, size: size, runID: run, step: step)
        }
        #expect(try take(0, "warehouse", 2, one, "a") && take(0, "warehouse", 2, one, "a"), "a step may ask again for the slot it holds")
        #expect(try take(1, "warehouse", 2, two, "b") && !take(1, "warehouse", 2, two, "c"))
        #expect(try take(0, "other", 1, one, "x"), "each pool counts its own")
        try stores[1].releasePoolSlot(runID: one, step: "a")
        #expect(try take(1, "warehouse", 2, two, "c") && !take(0, "warehouse", 2, one, "d"), "a slot given back is free")
        // A run that ended holds no slot, whatever its steps did not give back; nor one whose owner's lease ran out.
        try await stores[0].writeEvents([RunEvent(runID: one, pipeline: "p", kind: .runFinished(status: .failed))])
        #expect(try take(1, "other", 1, two, "y"))
        _ = try #require(try await stores[0].claimForResume(runID: one, steps: steps))
        #expect(try take(0, "third", 1, one, "z") && !take(1, "third", 1, two, "z"))
        try stores[0].renewLease(runID: one, until: Date().addingTimeInterval(-1))
        #expect(try take(1, "third", 1, two, "z"))
    }

    @Test(arguments: StoreBackend.allCases)
    func aCancelRequestReachesTheRunsOwnerWithItsNextLeaseRenewal(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
        #expect(try !store.renewLease(runID: run.id, until: RunLease.expiry()), "nothing asked")
        #expect(try await store.requestCancel(runID: run.id))
        #expect(try store.renewLease(runID: run.id, until: RunLease.expiry()), "the renewal carries the request")
        #expect(try await store.run(id: run.id)?.status == .running, "the owner cancels the run; the store only passes the request on")
        try await store.writeEvents([RunEvent(runID: run.id, pipeline: "p", kind: .runFinished(status: .cancelled))])
        #expect(try await !store.requestCancel(runID: run.id), "a run that ended has nothing to cancel")
        _ = try #require(try await store.claimForResume(runID: run.id, steps: ["a"]))
        #expect(try !store.renewLease(runID: run.id, until: RunLease.expiry()), "a resumed run starts without the old request")
    }

    @Test(arguments: StoreBackend.allCases)
    func valuesAndStepsAddedAtRunTimeAreRecordedAlike(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["list", "map", "join"]))
        let values = ["files": "[\"a\",\"b\"]", "note": "two\nlines \u{1}"]
        try await store.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", kind: .valuesRecorded(step: "list", values: values)),
            RunEvent(runID: run.id, pipeline: "p", kind: .stepsAdded(step: "map", instances: ["map[a]", "map[b]"])),
            // A resumed run's instances have their rows: adding them again keeps them and the count.
            RunEvent(runID: run.id, pipeline: "p", kind: .stepsAdded(step: "map", instances: ["map[b]"])),
        ])
        let steps = try await store.stepRuns(runID: run.id)
        #expect(steps.map(\.step) == ["list", "map", "join", "map[a]", "map[b]"])
        #expect(steps.map(\.position) == [0, 1, 2, 3, 4])
        #expect(steps[0].outputValues == values && steps[1].outputValues == nil)
        #expect(steps[3].state == .pending)
        #expect(try await store.run(id: run.id)?.stepsTotal == 5)
        let said = try await store.events(runID: run.id, after: 0).map { "\($0.kind) \($0.step ?? "") \($0.message ?? "")" }
        #expect(
            said == [
                "values_recorded list files=[\\\"a\\\",\\\"b\\\"], note=two\\nlines \\u0001", "steps_added map 2 instances",
                "steps_added map 1 instances",
            ])
    }

    @Test(arguments: StoreBackend.allCases)
    func stepsAndAttemptsAreReadAPageAtATimeAndChangesSinceAnEvent(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let names = ["Ünïcode", "a_b", "a%b", "ab", "list", "map", "tail"]
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: names))
        let now = Date()
        var events: [RunEvent] = []
        for (index, name) in ["ab", "list", "tail"].enumerated() {
            events.append(RunEvent(runID: run.id, pipeline: "p", kind: .attemptStarted(step: name, attempt: 1, pid: 10)))
            let ended = result(index == 2 ? .failed : .succeeded, at: now, exitCode: index == 2 ? 3 : 0)
            events.append(RunEvent(runID: run.id, pipeline: "p", kind: .attemptFinished(step: name, attempt: 1, result: ended)))
            events.append(
                RunEvent(
                    runID: run.id, pipeline: "p", kind: .stepFinished(step: name, state: ended.state, attempts: 1, allowed: false, result: ended)))
        }
        try await store.writeEvents(events)
        let page = try await store.stepRuns(runID: run.id, StepQuery(limit: 3))
        #expect(page.steps.map(\.step) == ["Ünïcode", "a_b", "a%b"] && page.more && page.total == 7)
        let next = try await store.stepRuns(runID: run.id, StepQuery(afterPosition: page.steps.last?.position, limit: 4))
        #expect(next.steps.map(\.step) == ["ab", "list", "map", "tail"] && !next.more)
        #expect(try await store.stepRuns(runID: run.id, StepQuery(states: [.failed, .succeeded])).steps.map(\.step) == ["ab", "list", "tail"])
        #expect(try await store.stepRuns(runID: run.id, StepQuery(search: "A_")).steps.map(\.step) == ["a_b"], "_ is no wildcard")
        #expect(try await store.stepRuns(runID: run.id, StepQuery(search: "%")).steps.map(\.step) == ["a%b"], "nor is %")
        #expect(
            try await store.stepRuns(runID: run.id, StepQuery(search: "ünï")).steps.map(\.step) == ["Ünïcode"] || backend == .sqlite,
            "PostgreSQL lower-cases every letter (SQLite only ASCII ones)")

        // The events say how each ended; the attempts come in the order of their steps.
        let stored = try await store.events(runID: run.id, after: 0)
        let failed = try #require(stored.first { $0.kind == "step_finished" && $0.step == "tail" })
        #expect(failed.exitCode == 3 && failed.peakMemoryKB == 1024 && failed.duration != nil)
        #expect(stored.first { $0.kind == "attempt_finished" && $0.step == "ab" }.map { ($0.duration ?? 0) > 0.99 } == true)
        let attempts = try await store.attempts(runID: run.id, AttemptQuery(limit: 2))
        #expect(attempts.attempts.map(\.attempt.step) == ["ab", "list"] && attempts.more)
        let rest = try await store.attempts(runID: run.id, AttemptQuery(after: (attempts.attempts[1].position, 1), limit: 2))
        #expect(rest.attempts.map(\.attempt.step) == ["tail"] && !rest.more)
        #expect(try await store.attempts(runID: run.id, AttemptQuery(step: "list")).attempts.count == 1)

        // Since an event: the steps it changed and the instances a fan-out added; after a resume, every step.
        let mark = try await store.latestEventSeq()
        try await store.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", kind: .stepsAdded(step: "map", instances: ["map[x]", "map[y]"])),
            RunEvent(runID: run.id, pipeline: "p", kind: .stepSkipped(step: "a_b", reason: "no")),
        ])
        let changed = try await store.stepRuns(runID: run.id, StepQuery(changedAfter: mark))
        #expect(changed.steps.map(\.step) == ["a_b", "map", "map[x]", "map[y]"] && changed.total == 4)
        try await store.writeEvents([RunEvent(runID: run.id, pipeline: "p", kind: .runFinished(status: .failed))])
        let beforeResume = try await store.latestEventSeq()
        _ = try #require(try await store.claimForResume(runID: run.id, steps: ["tail"]))
        #expect(try await store.stepRuns(runID: run.id, StepQuery(changedAfter: beforeResume)).total == 9)
    }

    @Test(arguments: StoreBackend.allCases)
    func fingerprintsHashesAndRecoveryActionsAreKept(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
        let fingerprint = StepFingerprint(action: "s", parameters: ["x": "1"], environment: ["E": "2"], inputs: ["in.csv": "abc"])
        let record = StepFingerprintRecord(
            pipeline: "p", step: "a", runID: run.id, recordedAt: Date(timeIntervalSince1970: 1_800_000_000),
            fingerprint: fingerprint, outputs: ["out.csv": "def"], outputValues: ["rows": "3"])
        let action = RecoveryAction(
            kind: .rollback, target: "out.csv", status: .success, message: "restored",
            at: Date(timeIntervalSince1970: 1_800_000_001))
        try await store.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", kind: .outputsRecorded(step: "a", record: record, newVersions: [])),
            RunEvent(
                runID: run.id, pipeline: "p", kind: .filesHashed(["/w/in.csv": FileHash(size: 3, modifiedNS: 5, inode: UInt64.max, sha256: "abc")])),
            RunEvent(runID: run.id, pipeline: "p", kind: .recoveryFinished(step: "a", action: action)),
        ])
        let state = try await store.outputState(pipeline: "p")
        #expect(state.fingerprints["a"] == record)
        #expect(state.hashes["/w/in.csv"] == FileHash(size: 3, modifiedNS: 5, inode: UInt64.max, sha256: "abc"))
        #expect(try await store.recoveryActions(runID: run.id).map(\.action) == [action])
        #expect(try await store.stepRun(runID: run.id, step: "a")?.recovered == true)
    }

    /// The run cache keeps one entry per fingerprint of a step, the newest run's; removing the run removes it.
    @Test(arguments: StoreBackend.allCases)
    func theRunCacheKeepsEveryFingerprintUntilItsRunIsRemoved(_ backend: StoreBackend) async throws {
        let store = try await backend.make()
        var records: [StepFingerprintRecord] = []
        for (n, value) in ["1", "2", "1"].enumerated() {
            let run = try await store.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
            let record = StepFingerprintRecord(
                pipeline: "p", step: "a", runID: run.id, recordedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(n)),
                fingerprint: StepFingerprint(action: "s", parameters: ["n": value], environment: [:], inputs: [:]),
                outputs: ["out.txt": "hash\(value)"], outputValues: nil)
            try await store.writeEvents([
                RunEvent(runID: run.id, pipeline: "p", kind: .outputsRecorded(step: "a", record: record, newVersions: [])),
                RunEvent(runID: run.id, pipeline: "p", kind: .runFinished(status: .success)),
            ])
            records.append(record)
        }
        let cache = try await store.runCache(pipeline: "p")["a"] ?? []
        #expect(cache == [records[2], records[1]], "newest first, one per fingerprint")
        _ = try await store.removeRuns(before: nil, keep: 0, dryRun: false)
        #expect(try await store.runCache(pipeline: "p").isEmpty, "gc bounds the cache")
    }

    @Test(arguments: StoreBackend.allCases)
    func twoProcessesRacingForOneClaimRecordOneRun(_ backend: StoreBackend) async throws {
        let stores = try await backend.makeShared(2)
        _ = try await stores[0].registerTrigger(pipeline: "p", name: "schedule", since: Date(timeIntervalSince1970: 0), snapshot: nil)
        var recorded = 0
        for minute in 1...20 {
            let claim = TriggerClaim.scheduled(pipeline: "p", trigger: "schedule", at: Date(timeIntervalSince1970: Double(minute) * 60))
            func attempt(_ store: any RunStore) async -> Int {
                (try? await store.createRun(NewRun(pipeline: "p", trigger: "schedule", runsDirectory: Self.runs, steps: ["a"], claim: claim))) == nil
                    ? 0 : 1
            }
            async let a = attempt(stores[0])
            async let b = attempt(stores[1])
            recorded += await a + b
        }
        #expect(recorded == 20)
        #expect(try await stores[1].runs(pipeline: "p", status: nil, limit: 100, offset: 0).count == 20)
    }

    @Test func postgresTellsListenersOfEventsOtherProcessesStore() async throws {
        let stores = try await StoreBackend.postgres.makeShared(2)
        let (wakes, wake) = AsyncStream<Void>.makeStream()
        let listener = Task { await stores[0].followEventNotifications { wake.yield() } }
        defer { listener.cancel() }
        var iterator = wakes.makeAsyncIterator()
        await iterator.next()  // listening
        let run = try await stores[1].createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
        try await stores[1].writeEvents([RunEvent(runID: run.id, pipeline: "p", kind: .runStarted(steps: ["a"]))])
        await iterator.next()  // told, by the other connection's commit
        #expect(try await stores[0].events(after: 0, runID: nil, limit: 10).map(\.kind) == ["run_started"])
    }

    @Test(arguments: [(StoreBackend.sqlite, StoreBackend.postgres), (.postgres, .sqlite)])
    func aStoreCopiedIntoTheOtherKindKeepsEverything(_ from: StoreBackend, _ to: StoreBackend) async throws {
        let source = try await from.make()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let run = try await source.createRun(
            NewRun(
                pipeline: "p", trigger: "backfill", parameters: ["day": "2026-10-01"], runsDirectory: Self.runs,
                steps: ["a"], detail: TriggerDetail(backfill: "bf-1", interval: "2026-10-01", maxActive: 2)))
        let record = StepFingerprintRecord(
            pipeline: "p", step: "a", runID: run.id, recordedAt: now,
            fingerprint: StepFingerprint(action: "s", parameters: [:], environment: [:], inputs: [:]),
            outputs: ["out.csv": "def"])
        try await source.writeEvents([
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .attemptStarted(step: "a", attempt: 1, pid: 9)),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .attemptFinished(step: "a", attempt: 1, result: result(.succeeded, at: now))),
            RunEvent(
                runID: run.id, pipeline: "p", time: now,
                kind: .stepFinished(
                    step: "a", state: .succeeded, attempts: 1, allowed: false,
                    result: result(.succeeded, at: now))),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .outputsRecorded(step: "a", record: record, newVersions: [])),
            RunEvent(
                runID: run.id, pipeline: "p", time: now, kind: .filesHashed(["/w/out.csv": FileHash(size: 1, modifiedNS: 2, inode: 3, sha256: "def")])
            ),
            RunEvent(runID: run.id, pipeline: "p", time: now, kind: .runFinished(status: .success)),
        ])
        try await source.setTested(pipeline: "p", step: "a", tested: true)
        try await source.setTested(pipeline: "never_run", step: "x", tested: true)
        _ = try await source.registerTrigger(pipeline: "p", name: "watch", since: now, snapshot: WatchSnapshot(files: ["a.csv": "1:2"]))
        try await source.setPaused(pipeline: "p", paused: true)

        let target = try await to.make()
        // A status the target holds already (a tested mark set before the copy) gives way to the copied one.
        try await target.setTested(pipeline: "p", step: "a", tested: false)
        try await target.importContents(try await StoreContents.read(from: source, pipelines: ["never_run"]))
        #expect(try await target.stepStatuses(pipeline: "p") == source.stepStatuses(pipeline: "p"))
        let copied = try #require(try await target.run(id: run.id))
        #expect(copied.status == .success && copied.triggerDetail == run.triggerDetail && copied.parameters == run.parameters)
        #expect(try await target.stepRuns(runID: run.id) == source.stepRuns(runID: run.id))
        #expect(try await target.attempts(runID: run.id) == source.attempts(runID: run.id))
        #expect(try await target.events(runID: run.id, after: 0) == source.events(runID: run.id, after: 0), "with their numbers")
        #expect(try await target.stepStatuses(pipeline: "never_run").first?.tested == true)
        #expect(try await target.outputState(pipeline: "p").fingerprints == source.outputState(pipeline: "p").fingerprints)
        #expect(try await target.outputState(pipeline: "p").hashes == source.outputState(pipeline: "p").hashes)
        #expect(try await target.runCache(pipeline: "p") == source.runCache(pipeline: "p"))
        #expect(try await target.triggerStates(pipeline: nil) == source.triggerStates(pipeline: nil))
        #expect(try await target.pausedPipelines() == source.pausedPipelines())
        let refused = await #expect(throws: SluiceError.self, "only into an empty store") {
            try await target.importContents(try await StoreContents.read(from: source))
        }
        #expect(refused?.code == .store)
        // The copy goes on where the original left off: a new event is numbered after the copied ones.
        let next = try await target.createRun(NewRun(pipeline: "p", trigger: "cli", runsDirectory: Self.runs, steps: ["a"]))
        try await target.writeEvents([RunEvent(runID: next.id, pipeline: "p", kind: .runStarted(steps: ["a"]))])
        let seqs = try await target.events(after: 0, runID: nil, limit: 100).map(\.seq)
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
    }
}
