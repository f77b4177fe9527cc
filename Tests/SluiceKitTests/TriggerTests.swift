import Foundation
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

/// Schedules, watched folders and backfills start their runs on time, once, however many processes share the store.
/// Time is a ``ManualClock``: a schedule due every minute is tested without waiting for minutes.
@Suite(.serialized)
struct TriggerTests {
    /// One Sluice process's triggers: its own connection to the store, its own launcher of real runs.
    struct Process {
        /// Kept alive while the process is: its folder goes with it.
        let workspace: TestWorkspace
        let store: SQLiteRunStore
        let launcher: RunLauncher
        let service: TriggerService
        let log: Log

        init(_ workspace: TestWorkspace, clock: ManualClock) throws {
            self.workspace = workspace
            let log = Log()
            self.log = log
            let configuration = try workspace.configuration()
            store = try SQLiteRunStore(path: workspace.storePath)
            let launcher = RunLauncher(runner: configuration.runner(store: store, executor: LocalExecutor(gracePeriod: 2)))
            self.launcher = launcher
            let directory = configuration.pipelinesDirectory
            service = TriggerService(
                store: store, configuration: configuration, clock: clock,
                catalog: { PipelineCatalog.scan(directory) },
                launch: { try await launcher.start($0) }, log: { [log] in log.append($0) })
        }

        /// Waits until `runs` have ended; their final states.
        func outcomes(_ runs: [RunRecord]) async throws -> [RunStatus?] {
            var statuses: [RunStatus?] = []
            for run in runs {
                await launcher.wait(for: run.id)
                statuses.append(try await store.run(id: run.id)?.status)
            }
            return statuses
        }
    }

    /// What a service logged, in order.
    final class Log: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// A pipeline with `schedule`, first seen at 00:30 by a process on the returned clock.
    static func hourly(_ schedule: String) async throws -> (ManualClock, Process) {
        let workspace = try TestWorkspace()
        try workspace.pipeline("hourly", "schedule: \(schedule)\nsteps:\n  - {name: a, command: \"true\"}\n")
        let clock = ManualClock(at("2026-11-22T00:30:00Z"))
        let process = try Process(workspace, clock: clock)
        try await process.service.check()
        return (clock, process)
    }

    @Test func aScheduleDueEveryMinuteFiresOnTimeAndOnce() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "minutely",
            """
            params: {day: {type: date}}
            schedule: {cron: "* * * * *", params: {day: "{{ schedule.date }}"}}
            steps:
              - name: a
                command: echo "$DAY $SLUICE_SCHEDULED_FOR"
            """)
        let clock = ManualClock(Self.at("2026-11-22T09:59:30Z"))
        let process = try Process(workspace, clock: clock)
        #expect(try await process.service.check().isEmpty, "a schedule seen for the first time has missed nothing")
        clock.advance(to: Self.at("2026-11-22T10:00:00Z").addingTimeInterval(-0.001))
        #expect(try await process.service.check().isEmpty, "not before its time")
        clock.advance(to: Self.at("2026-11-22T10:00:00Z"))
        let fired = try await process.service.check()
        #expect(fired.map(\.trigger) == ["schedule"])
        #expect(fired.first?.triggerDetail == TriggerDetail(name: "schedule", scheduledFor: "2026-11-22T10:00:00Z"))
        #expect(fired.first?.parameters["day"] == "2026-11-22", "{{ schedule.date }} is the scheduled day")
        clock.advance(to: Self.at("2026-11-22T10:00:40Z"))
        #expect(try await process.service.check().isEmpty, "each due time runs once")
        #expect(try await process.outcomes(fired) == [.success])
        #expect(try workspace.read("runs/\(fired[0].id)/logs/a.log") == "2026-11-22 2026-11-22T10:00:00Z\n")

        // The loop sleeps until the next due time, and fires when the clock gets there.
        let loop = Task { await process.service.run() }
        #expect(await eventually { clock.sleeping == 1 })
        clock.advance(to: Self.at("2026-11-22T10:01:00Z"))
        #expect(try await eventually { try await process.store.runs(pipeline: "minutely", limit: 10, offset: 0).count == 2 })
        loop.cancel()
        let runs = try await process.store.runs(pipeline: "minutely", limit: 10, offset: 0)
        #expect(runs.map(\.triggerDetail?.scheduledFor) == ["2026-11-22T10:01:00Z", "2026-11-22T10:00:00Z"])
        _ = try await process.outcomes(runs)
    }

    @Test func twoProcessesSharingAStoreStartEachDueTimeOnce() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "minutely",
            """
            schedule: "* * * * *"
            steps:
              - name: a
                command: "true"
            """)
        let clock = ManualClock(Self.at("2026-11-22T10:00:30Z"))
        let first = try Process(workspace, clock: clock), second = try Process(workspace, clock: clock)
        try await first.service.check()
        var started: [RunRecord] = []
        for minute in 1...20 {
            clock.advance(to: Self.at("2026-11-22T10:00:00Z").addingTimeInterval(Double(minute) * 60))
            async let a = first.service.check()
            async let b = second.service.check()
            started += try await a + b
        }
        #expect(started.count == 20, "20 due times, 20 runs between the two processes")
        #expect(Set(started.compactMap(\.triggerDetail?.scheduledFor)).count == 20)
        #expect(try await eventually { try await first.store.runs(pipeline: "minutely", status: .success, limit: 100, offset: 0).count == 20 })
    }

    @Test(arguments: [("none", [String]()), ("latest", ["05:00"]), ("all", ["03:00", "04:00", "05:00"])])
    func missedTimesFollowTheCatchUpPolicy(policy: String, expected: [String]) async throws {
        let (clock, process) = try await Self.hourly("{cron: \"@hourly\", catch_up: \(policy), max_catch_up: 3}")
        // Down from 00:30 to 05:30: 01:00 to 05:00 were missed.
        clock.advance(to: Self.at("2026-11-22T05:30:00Z"))
        let caughtUp = try await process.service.check()
        #expect(caughtUp.map { $0.triggerDetail?.scheduledFor?.dropFirst(11).prefix(5) } == expected.map { Substring($0) })
        #expect(try await process.service.check().isEmpty, "missed times are handled once, run or not")
        clock.advance(to: Self.at("2026-11-22T06:00:00Z"))
        let onTime = try await process.service.check()
        #expect(onTime.map(\.triggerDetail?.scheduledFor) == ["2026-11-22T06:00:00Z"], "after catching up, on time again")
        _ = try await process.outcomes(caughtUp + onTime)
    }

    @Test func maxCatchUpBoundsTheMissedTimesNotTheOneDueNow() async throws {
        let (clock, process) = try await Self.hourly("{cron: \"@hourly\", catch_up: all, max_catch_up: 2}")
        // Back at 05:00:30: 01:00 to 04:00 were missed, 05:00 is on time.
        clock.advance(to: Self.at("2026-11-22T05:00:30Z"))
        let started = try await process.service.check()
        #expect(started.map { $0.triggerDetail?.scheduledFor?.dropFirst(11).prefix(5) } == ["03:00", "04:00", "05:00"])
        _ = try await process.outcomes(started)
    }

    @Test func aPausedPipelineStartsNothingUntilResumed() async throws {
        let (clock, process) = try await Self.hourly("{cron: \"@hourly\", catch_up: latest}")
        try await process.store.setPaused(pipeline: "hourly", paused: true)
        clock.advance(to: Self.at("2026-11-22T03:00:00Z"))
        #expect(try await process.service.check().isEmpty, "paused")
        try await process.store.setPaused(pipeline: "hourly", paused: false)
        let resumed = try await process.service.check()
        #expect(resumed.map(\.triggerDetail?.scheduledFor) == ["2026-11-22T03:00:00Z"], "resumed: catch_up latest runs the newest missed time")
        _ = try await process.outcomes(resumed)
    }

    @Test func aTimeDueWhilePausedDoesNotRunAfterAQuickResumeUnderCatchUpNone() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("minutely", "schedule: {cron: \"* * * * *\", catch_up: none}\nsteps:\n  - {name: a, command: \"true\"}\n")
        let clock = ManualClock(Self.at("2026-11-22T14:25:30Z"))
        let process = try Process(workspace, clock: clock)
        try await process.service.check()
        let pipeline = try #require(PipelineCatalog.scan(workspace.configuration().pipelinesDirectory).entries.first?.pipeline)

        // Paused at 14:25:44, resumed at 14:26:10: 14:26 came while paused, so it was missed, not on time.
        clock.advance(to: Self.at("2026-11-22T14:25:44Z"))
        try await TriggerPause.set(true, pipeline: pipeline, store: process.store, now: clock.now)
        clock.advance(to: Self.at("2026-11-22T14:26:10Z"))
        try await TriggerPause.set(false, pipeline: pipeline, store: process.store, now: clock.now)
        #expect(try await process.service.check().isEmpty, "14:26 passed while paused")

        clock.advance(to: Self.at("2026-11-22T14:27:00Z"))
        let next = try await process.service.check()
        #expect(next.map(\.triggerDetail?.scheduledFor) == ["2026-11-22T14:27:00Z"], "the next time after the resume runs")
        _ = try await process.outcomes(next)
    }

    @Test func aPipelineThatDoesNotLoadIsLoggedOnceNotAtEveryCheck() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("leap", "schedule: \"0 0 31 2 *\"\nsteps:\n  - {name: a, command: \"true\"}\n")
        let clock = ManualClock(Self.at("2026-11-22T00:30:00Z"))
        let process = try Process(workspace, clock: clock)
        try await process.service.check()
        clock.advance(to: Self.at("2026-11-22T01:30:00Z"))
        try await process.service.check()
        let file = workspace.path("pipelines/leap.yaml")
        #expect(
            process.log.all == [
                "leap: does not load, so its schedules and watches start no runs: \(file):1:11: "
                    + "invalid cron expression: '0 0 31 2 *' never fires: no date matches day 31 of February"
            ])

        try workspace.pipeline("leap", "schedule: \"0 0 29 2 *\"\nsteps:\n  - {name: a, command: \"true\"}\n")
        try await process.service.check()
        try workspace.pipeline("leap", "schedule: \"0 0 30 2 *\"\nsteps:\n  - {name: a, command: \"true\"}\n")
        try await process.service.check()
        #expect(process.log.all.count == 2, "broken again after a fix, it is logged again: \(process.log.all)")
    }

    @Test func aFileDroppedIntoAWatchedFolderStartsExactlyOneRun() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "reports",
            """
            watch: {path: incoming, pattern: "*.csv", debounce: 5s, params: {count: "{{ watch.count }}"}}
            params: {count: {type: int, default: 0}}
            steps:
              - name: a
                command: 'printf "%s|%s" "$COUNT" "$SLUICE_CHANGED_PATHS"'
            """)
        _ = try workspace.write("incoming/old.csv", "a\n")
        let start = Self.at("2026-11-22T10:00:00Z")
        let clock = ManualClock(start)
        let first = try Process(workspace, clock: clock), second = try Process(workspace, clock: clock)
        func checkBoth(at seconds: Double) async throws -> [RunRecord] {
            clock.advance(to: start.addingTimeInterval(seconds))
            async let a = first.service.check()
            async let b = second.service.check()
            return try await a + b
        }
        #expect(try await checkBoth(at: 0).isEmpty, "files already there when the watch is first seen start nothing")
        _ = try workspace.write("incoming/new.csv", "a,b\n")
        #expect(try await checkBoth(at: 1).isEmpty, "debounced")
        _ = try workspace.write("incoming/new.csv", "a,b\n1,2\n")
        #expect(try await checkBoth(at: 2).isEmpty, "still being written")
        #expect(try await checkBoth(at: 6).isEmpty, "quiet for 4 s of 5")
        let started = try await checkBoth(at: 7.5)
        #expect(started.count == 1, "two processes saw the change; one run")
        #expect(started.first?.triggerDetail?.paths == ["incoming/new.csv"])
        let run = try #require(started.first)
        #expect(try await eventually { try await first.store.run(id: run.id)?.status == .success })
        #expect(try workspace.read("runs/\(run.id)/logs/a.log") == "1|incoming/new.csv")
        #expect(try await checkBoth(at: 20).isEmpty, "handled once")

        _ = try workspace.write("incoming/notes.txt", "not matched")
        try FileManager.default.removeItem(atPath: workspace.path("incoming/old.csv"))
        #expect(try await checkBoth(at: 21).isEmpty)
        #expect(try await checkBoth(at: 30).isEmpty, "an unmatched file and a deletion start nothing")
        _ = try workspace.write("incoming/new.csv", "changed\n")
        _ = try workspace.write("incoming/more.csv", "x\n")
        #expect(try await checkBoth(at: 31).isEmpty)
        let again = try await checkBoth(at: 40)
        #expect(again.map(\.triggerDetail?.paths) == [["incoming/more.csv", "incoming/new.csv"]], "a changed file and a new one, one run")
        #expect(try await eventually { try await first.store.run(id: again[0].id)?.status == .success })
    }

    @Test func aBackfillOf30DaysCreates30RunsAFewAtATimeAndRepeatedFillsOnlyTheGaps() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "daily",
            """
            params: {day: {type: date, required: true}}
            steps:
              - name: a
                command: 'sleep 0.3; test "$DAY" != 2026-10-05 || test -e "$SLUICE_WORKSPACE/fixed"'
            """)
        let configuration = try workspace.configuration()
        let store = try workspace.store()
        let launcher = RunLauncher(runner: configuration.runner(store: store, executor: LocalExecutor(gracePeriod: 2)))
        func backfill() async throws -> (started: [RunRecord], skipped: Int) {
            let plan = try Backfill(
                pipeline: try workspace.load("daily"), from: "2026-10-01", to: "2026-10-30", step: .daily, maxActive: 3,
                parameters: ["day": "{{ schedule.date }}"])
            var started: [RunRecord] = [], skipped = 0
            for result in try await plan.start(configuration: configuration, store: store, launch: { await launcher.run($0, as: $1, gate: $2) }) {
                switch result {
                case let .started(_, run): started.append(run)
                case .skipped: skipped += 1
                case let .refused(interval, reason): Issue.record("\(interval.key) refused: \(reason)")
                }
            }
            for run in started { await launcher.wait(for: run.id) }
            return (started, skipped)
        }
        let first = try await backfill()
        #expect(first.started.count == 30 && first.skipped == 0)
        #expect(first.started.map(\.parameters["day"]) == (1...30).map { String(format: "2026-10-%02d", $0) })
        let runs = try await store.runs(pipeline: "daily", limit: 100, offset: 0)
        #expect(runs.count { $0.status == .success } == 29 && runs.count { $0.status == .failed } == 1)
        // At most 3 at a time: the most step processes alive at one moment.
        var overlap = 0
        let spans = try await runs.asyncMap { try await store.stepRuns(runID: $0.id)[0] }.compactMap { step in
            step.startedAt.flatMap { start in step.finishedAt.map { (start, $0) } }
        }
        for (start, _) in spans { overlap = max(overlap, spans.count { $0.0 <= start && start < $0.1 }) }
        #expect(overlap == 3, "--max-active 3")

        let repeated = try await backfill()
        #expect(repeated.started.count == 1 && repeated.skipped == 29, "only the failed day runs again")
        _ = try workspace.write("fixed", "")
        let fixed = try await backfill()
        #expect(fixed.started.map(\.parameters["day"]) == ["2026-10-05"])
        #expect(try await backfill().started.isEmpty, "everything succeeded: nothing left to run")
        #expect(try await store.runs(pipeline: "daily", status: .success, limit: 100, offset: 0).count == 30)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
