import Foundation

/// One run per interval of a date range, with the date parameters set: what `sluice backfill` and the API start.
/// Intervals whose run succeeded, or is under way, are skipped, so repeating a backfill only fills the gaps.
public struct Backfill: Sendable {
    /// How long each interval of a backfill is.
    public enum Step: String, Sendable, CaseIterable { case daily, weekly, monthly }

    /// One interval: its first and last date, and its parameters.
    public struct Interval: Sendable, Equatable {
        public var start: String
        public var end: String
        public var parameters: [String: String]
        /// `2026-10-01`, or `2026-10-01..2026-10-07` for longer intervals: what identifies it among the pipeline's runs.
        public var key: String { start == end ? start : "\(start)..\(end)" }
    }

    /// What happened to one interval.
    public enum Result: Sendable {
        case started(Interval, RunRecord)
        /// Its run succeeded or is under way (the message names it).
        case skipped(Interval, String)
        case refused(Interval, String)
    }

    /// Ten years of days; more is a typo in a year.
    public static let intervalLimit = 3660

    public let id: String
    public let pipeline: Pipeline
    public let intervals: [Interval]
    public let maxActive: Int

    /// Plans the backfill of `from`…`to` (inclusive dates). `parameters`, over the pipeline's first schedule's
    /// `params`, may use `{{ schedule.date }}` (the interval's first date), `{{ schedule.end_date }}` (its last) and
    /// `{{ schedule.time }}`; at least one must, or every run would be the same.
    public init(
        pipeline: Pipeline, from: String, to: String, step: Step, maxActive: Int,
        parameters: [String: String] = [:]
    ) throws(SluiceError) {
        guard let first = Self.day(from) else { throw SluiceError.backfill("from", "'\(from)' is not a date such as 2026-10-01") }
        guard let last = Self.day(to) else { throw SluiceError.backfill("to", "'\(to)' is not a date such as 2026-10-31") }
        guard first <= last else { throw SluiceError.backfill("from", "the first date, \(from), is after the last, \(to)") }
        guard (1...Self.intervalLimit).contains(maxActive) else {
            throw SluiceError.backfill("maxActive", "how many runs at once must be from 1 to \(Self.intervalLimit), not \(maxActive)")
        }
        let templates = parameters.mapValues(ParameterTemplate.init).merging(pipeline.schedules.first?.parameters ?? [:]) { given, _ in given }
        let placeholders = templates.values.flatMap(\.names)
        if let unknown = placeholders.first(where: { !TriggerVariables.schedule.contains($0) }) {
            throw SluiceError.backfill(
                nil, "unknown placeholder '{{ \(unknown) }}'; use {{ schedule.date }}, {{ schedule.end_date }} or {{ schedule.time }}")
        }
        guard !placeholders.isEmpty else {
            throw SluiceError.backfill(
                nil,
                "no parameter of '\(pipeline.id)' takes the interval's dates: give one, as in "
                    + "-p 'date_start={{ schedule.date }}' -p 'date_end={{ schedule.end_date }}', or set 'params' on its schedule")
        }
        let zone = pipeline.schedules.first?.timeZone ?? TimeZone(identifier: "UTC")!
        var intervals: [Interval] = []
        var start = first
        while start <= last {
            guard intervals.count < Self.intervalLimit else {
                throw SluiceError.backfill(
                    "to", "\(from)..\(to) has more than \(Self.intervalLimit) \(step.rawValue) intervals; backfill a shorter range")
            }
            let next = Self.start(of: intervals.count + 1, from: first, by: step)
            let end = min(Self.dayBefore(next), last)
            let values = TriggerService.scheduleValues(start.instant(in: zone), endDate: end.date, in: zone)
            intervals.append(Interval(start: start.date, end: end.date, parameters: templates.mapValues { $0.render(values) }))
            start = next
        }
        self.id = "bf-" + RunID.make()
        self.pipeline = pipeline
        self.intervals = intervals
        self.maxActive = maxActive
    }

    /// Records a run for each interval not done yet, all in one transaction, queued, and hands each to `launch` with
    /// the gate that lets `maxActive` of them run at once.
    public func start(
        configuration: Configuration, store: any RunStore,
        launch: @Sendable (PreparedRun, RunRecord, AsyncGate) async -> Void
    ) async throws -> [Result] {
        var results: [Result?] = Array(repeating: nil, count: intervals.count)
        var prepared: [(index: Int, run: PreparedRun)] = []
        for (index, interval) in intervals.enumerated() {
            do {
                var request = try configuration.request(pipeline, parameters: interval.parameters, trigger: "backfill")
                // A pipeline that runs one run at a time queues its backfill's runs behind the others, one at a time.
                request.triggerDetail = TriggerDetail(
                    backfill: id, interval: interval.key,
                    maxActive: pipeline.concurrency == .allow ? maxActive : nil)
                if pipeline.concurrency == .reject { request.pipeline.concurrency = .queue }
                request.claim = .interval(pipeline: pipeline.id, interval: interval.key)
                prepared.append((index, try PipelineRunner.prepare(request)))
            } catch {
                results[index] = .refused(interval, "\(error)")
            }
        }
        let recorded = try await store.createRuns(prepared.map { NewRun($0.run, runsDirectory: configuration.runsDirectory) })
        let gate = AsyncGate(capacity: pipeline.concurrency == .allow ? maxActive : 1)
        for ((index, run), outcome) in zip(prepared, recorded) {
            switch outcome {
            case let .success(record):
                await launch(run, record, gate)
                results[index] = .started(intervals[index], record)
            case let .failure(claimed): results[index] = .skipped(intervals[index], claimed.description)
            }
        }
        return results.compactMap { $0 }
    }

    private static func day(_ text: String) -> WallClockTime? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...WallClockTime.daysIn(year: year, month: month)).contains(day)
        else { return nil }
        return WallClockTime(year: year, month: month, day: day)
    }

    /// The first day of the `index`th interval (counted from 0) of a range starting on `first`. Monthly intervals
    /// keep the day of the month, or the month's last day when it is shorter.
    private static func start(of index: Int, from first: WallClockTime, by step: Step) -> WallClockTime {
        let days = WallClockTime.days(year: first.year, month: first.month, day: first.day)
        switch step {
        case .daily, .weekly:
            let (year, month, day) = WallClockTime.civil(fromDays: days + index * (step == .daily ? 1 : 7))
            return WallClockTime(year: year, month: month, day: day)
        case .monthly:
            let months = first.month - 1 + index
            let year = first.year + months / 12, month = months % 12 + 1
            return WallClockTime(year: year, month: month, day: min(first.day, WallClockTime.daysIn(year: year, month: month)))
        }
    }

    private static func dayBefore(_ time: WallClockTime) -> WallClockTime {
        let (year, month, day) = WallClockTime.civil(fromDays: WallClockTime.days(year: time.year, month: time.month, day: time.day) - 1)
        return WallClockTime(year: year, month: month, day: day)
    }
}

extension SluiceError {
    /// A backfill's value at fault: `from`, `to` or `maxActive` (a form shows the message beside it, the command line
    /// names its option).
    static func backfill(_ field: String?, _ message: String) -> SluiceError {
        SluiceError(.invalidInput, message, fields: field.map { [$0: message] } ?? [:])
    }
}
