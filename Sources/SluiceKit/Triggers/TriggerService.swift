import Foundation

/// Starts the runs that pipelines' schedules and watched folders call for. Every Sluice process serving a store may
/// run one: each run is claimed in the store in the same transaction that records it, so a due time or a change of
/// files starts one run however many processes see it.
public actor TriggerService {
    /// How often watched folders are looked at.
    static let pollInterval: Double = 1

    private let store: any RunStore
    private let configuration: Configuration
    private let clock: any TriggerClock
    private let catalog: @Sendable () async throws -> PipelineCatalog
    private let launch: @Sendable (PreparedRun) async throws -> RunRecord
    private let log: @Sendable (String) -> Void
    /// Per watch: the files as last seen and since when they have looked so, for the debounce.
    private var settling: [String: (fingerprint: String, since: Date)] = [:]
    /// What the last check found wrong (a pipeline that does not load, a schedule with no next time), by pipeline
    /// file or trigger: each is logged when first found, not at every check.
    private var reported: [String: String] = [:]

    /// `catalog` gives the pipelines as their files are now; `launch` records and starts a prepared run.
    public init(
        store: any RunStore, configuration: Configuration, clock: any TriggerClock = SystemClock(),
        catalog: @escaping @Sendable () async throws -> PipelineCatalog,
        launch: @escaping @Sendable (PreparedRun) async throws -> RunRecord,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.catalog = catalog
        self.launch = launch
        self.log = log
    }

    /// The time of the clock triggers go by.
    public nonisolated var now: Date { clock.now }

    /// Checks every trigger until the task is cancelled: at each schedule's next due time, and every
    /// ``pollInterval`` while a folder is watched. A failed check is logged and tried again.
    public func run() async {
        while !Task.isCancelled {
            var wake = clock.now.addingTimeInterval(Self.pollInterval)
            do { wake = try await checkAll().wake } catch { log("triggers: \(error)") }
            do { try await clock.sleep(until: wake) } catch { return }
        }
    }

    /// Checks every trigger once, now; returns the runs it started.
    @discardableResult
    public func check() async throws -> [RunRecord] { try await checkAll().started }

    /// Checks every trigger; returns the runs it started and when the next check is due: the earliest next time of a
    /// schedule, or the next look at a watched folder.
    private func checkAll() async throws -> (started: [RunRecord], wake: Date) {
        let now = clock.now
        let entries = try await catalog().entries
        // A pipeline that does not load has no triggers to check: the log says so rather than nothing.
        var problems = Dictionary(
            entries.compactMap { entry in
                entry.problem.map { (entry.file, "\(entry.id): does not load, so its schedules and watches start no runs: \($0)") }
            }, uniquingKeysWith: { first, _ in first })
        let pipelines = entries.compactMap(\.pipeline).filter { !$0.schedules.isEmpty || !$0.watches.isEmpty }
        // At least every 30 s: a schedule added to a pipeline file is noticed soon after.
        var wake = now.addingTimeInterval(30)
        guard !pipelines.isEmpty else {
            report(problems)
            return ([], wake)
        }
        var states: [String: TriggerState] = [:]
        for state in try await store.triggerStates(pipeline: nil) { states[Self.key(state.pipeline, state.name)] = state }
        let paused = try await store.pausedPipelines()
        var started: [RunRecord] = []
        for pipeline in pipelines {
            for schedule in pipeline.schedules {
                if let next = schedule.cron.next(after: now, in: schedule.timeZone) {
                    wake = min(wake, next)
                } else {
                    problems[Self.key(pipeline.id, schedule.name)] = "\(pipeline.id)/\(schedule.name): \(Schedule.noNextTime)"
                }
                let state = try await state(states, pipeline, schedule.name, now: now, snapshot: nil)
                guard paused[pipeline.id] == nil else { continue }
                started += try await fire(schedule, of: pipeline, state: state, now: now)
            }
            for watch in pipeline.watches {
                wake = min(wake, now.addingTimeInterval(Self.pollInterval))
                let folder = absolute(watch.folder)
                let files = WatchSnapshot(files: try await offPool { FolderSnapshot.take(folder, patterns: watch.patterns) })
                let state = try await state(states, pipeline, watch.name, now: now, snapshot: files)
                if let run = try await fire(watch, of: pipeline, state: state, files: files, paused: paused[pipeline.id] != nil, now: now) {
                    started.append(run)
                }
            }
        }
        report(problems)
        return (started, wake)
    }

    /// Logs each problem a check found that the one before did not: a problem fixed and back is logged again.
    private func report(_ problems: [String: String]) {
        for (key, message) in problems.sorted(by: { $0.key < $1.key }) where reported[key] != message { log(message) }
        reported = problems
    }

    private func state(
        _ states: [String: TriggerState], _ pipeline: Pipeline, _ name: String, now: Date,
        snapshot: WatchSnapshot?
    ) async throws -> TriggerState {
        if let state = states[Self.key(pipeline.id, name)] { return state }
        // First seen: a schedule starts from now (nothing before counts as missed), a watch from the files already there.
        return try await store.registerTrigger(pipeline: pipeline.id, name: name, since: now, snapshot: snapshot)
    }

    private func fire(_ schedule: Schedule, of pipeline: Pipeline, state: TriggerState, now: Date) async throws -> [RunRecord] {
        let due = DueTimes.of(schedule, after: state.firedFor ?? state.since, now: now)
        if due.skipped > 0 {
            log("\(pipeline.id)/\(schedule.name): \(due.skipped) missed time(s) not run (catch_up: \(schedule.catchUp.rawValue))")
        }
        if let through = due.skippedThrough {
            _ = try await store.advanceTrigger(.scheduled(pipeline: pipeline.id, trigger: schedule.name, at: through))
        }
        var started: [RunRecord] = []
        for time in due.run {
            let values = Self.scheduleValues(time, endDate: nil, in: schedule.timeZone)
            let detail = TriggerDetail(name: schedule.name, scheduledFor: values["schedule.time"])
            let claim = TriggerClaim.scheduled(pipeline: pipeline.id, trigger: schedule.name, at: time)
            switch try await start(
                pipeline, trigger: "schedule", name: schedule.name, templates: schedule.parameters,
                values: values, detail: detail, claim: claim)
            {
            case let .started(run): started.append(run)
            case .claimedElsewhere: return started
            case .refused: continue
            }
        }
        return started
    }

    private func fire(
        _ watch: FileWatch, of pipeline: Pipeline, state: TriggerState, files: WatchSnapshot, paused: Bool,
        now: Date
    ) async throws -> RunRecord? {
        let key = Self.key(pipeline.id, watch.name)
        let previous = state.snapshot ?? WatchSnapshot(files: [:])
        guard files != previous else {
            settling[key] = nil
            return nil
        }
        // Debounce: act once the files have looked the same for `debounce`.
        guard let settled = settling[key], settled.fingerprint == files.fingerprint else {
            settling[key] = (files.fingerprint, now)
            return nil
        }
        guard now.timeIntervalSince(settled.since) >= watch.debounce else { return nil }
        settling[key] = nil
        let claim = TriggerClaim.changed(pipeline: pipeline.id, trigger: watch.name, from: state.snapshot?.fingerprint, to: files)
        let changed = files.files.filter { previous.files[$0.key] != $0.value }.keys.sorted().map { workspaceRelative(watch.folder, $0) }
        // Deletions alone, and changes while paused, are taken note of without a run.
        guard !changed.isEmpty, !paused else {
            _ = try await store.advanceTrigger(claim)
            return nil
        }
        let values = ["watch.paths": changed.joined(separator: "\n"), "watch.count": String(changed.count)]
        let detail = TriggerDetail(name: watch.name, paths: changed)
        if case let .started(run) = try await start(
            pipeline, trigger: "watch", name: watch.name, templates: watch.parameters,
            values: values, detail: detail, claim: claim)
        {
            return run
        }
        return nil
    }

    private enum StartResult { case started(RunRecord), claimedElsewhere, refused }

    /// Prepares and launches one triggered run. A run refused (invalid parameters from a template, `concurrency:
    /// reject`) still consumes its claim, so it is not tried again at every check; the reason is kept on the trigger.
    private func start(
        _ pipeline: Pipeline, trigger: String, name: String, templates: [String: ParameterTemplate],
        values: [String: String], detail: TriggerDetail, claim: TriggerClaim
    ) async throws -> StartResult {
        do {
            var request = try configuration.request(pipeline, parameters: templates.mapValues { $0.render(values) }, trigger: trigger)
            request.triggerDetail = detail
            request.claim = claim
            let run = try await launch(try PipelineRunner.prepare(request))
            log("\(pipeline.id)/\(name): started run \(run.id)")
            return .started(run)
        } catch is TriggerClaimed {
            return .claimedElsewhere
        } catch let error as SluiceError where error.code == .invalidInput || error.code == .conflict {
            return try await refuse(claim, pipeline.id, name, "\(error)")
        } catch let error as DefinitionError {
            // A parameter file being written, or broken: the due time is kept, and tried again at the next check.
            try await store.recordTriggerError(pipeline: pipeline.id, name: name, message: "\(error)")
            log("\(pipeline.id)/\(name): no run started yet: \(error)")
            return .refused
        }
    }

    private func refuse(_ claim: TriggerClaim, _ pipeline: String, _ name: String, _ reason: String) async throws -> StartResult {
        guard try await store.advanceTrigger(claim) else { return .claimedElsewhere }
        try await store.recordTriggerError(pipeline: pipeline, name: name, message: reason)
        log("\(pipeline)/\(name): no run started: \(reason)")
        return .refused
    }

    private func absolute(_ folder: String) -> String {
        folder.hasPrefix("/") ? folder : (configuration.workspace as NSString).appendingPathComponent(folder)
    }

    private func workspaceRelative(_ folder: String, _ file: String) -> String {
        folder.hasPrefix("/")
            ? (folder as NSString).appendingPathComponent(file)
            : ((folder as NSString).appendingPathComponent(file) as NSString).standardizingPath
    }

    private static func key(_ pipeline: String, _ name: String) -> String { pipeline + "\u{0}" + name }

    /// The values of `{{ schedule.time }}`, `{{ schedule.date }}` and `{{ schedule.end_date }}` for a run due at `time`.
    static func scheduleValues(_ time: Date, endDate: String?, in zone: TimeZone) -> [String: String] {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        let date = WallClockTime(time, in: zone).date
        return ["schedule.time": formatter.string(from: time), "schedule.date": date, "schedule.end_date": endDate ?? date]
    }
}
