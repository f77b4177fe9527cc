import Foundation
import SluiceKit

/// One item of `sluice triggers`: a schedule, a watch, or a pipeline that does not load (so none of its triggers
/// starts a run), as `--json` prints it and as one line of text says it.
struct TriggerListing: Encodable {
    var pipeline: String
    /// Nil for a pipeline that does not load.
    var name: String?
    /// `schedule`, `watch` or `invalid`.
    var kind: String
    var cron: String?
    var timezone: String?
    var catchUp: String?
    var path: String?
    var patterns: [String]?
    /// Seconds.
    var debounce: Double?
    /// When the schedule is next due, ISO 8601 in its zone; nil while paused, for a watch, or when it is never due.
    var next: String?
    var paused: Bool
    /// Why the last run it called for could not start.
    var lastError: String?
    /// Why it is never due: the schedule has no next time, or the pipeline does not load.
    var error: String?
    /// The line of plain text, without the last error.
    var text: String

    /// The line `sluice triggers` prints.
    var line: String { text + (lastError.map { "  last error: \($0)" } ?? "") }

    static func of(_ catalog: PipelineCatalog, states: [TriggerState], paused: [String: Date], now: Date) -> [TriggerListing] {
        catalog.entries.flatMap { entry -> [TriggerListing] in
            let isPaused = paused[entry.id] != nil
            guard let pipeline = entry.pipeline else {
                return entry.problem.map {
                    [
                        TriggerListing(
                            pipeline: entry.id, kind: "invalid", paused: isPaused, error: $0, text: "\(entry.id)  (invalid)  next never: \($0)")
                    ]
                } ?? []
            }
            let lastError = { (name: String) in states.first { $0.pipeline == entry.id && $0.name == name }?.lastError }
            let schedules = pipeline.schedules.map { schedule in
                let next = isPaused ? nil : schedule.nextTime(after: now)
                let error = isPaused || next != nil ? nil : Schedule.noNextTime
                return TriggerListing(
                    pipeline: entry.id, name: schedule.name, kind: "schedule", cron: schedule.cron.description, timezone: schedule.timeZoneName,
                    catchUp: schedule.catchUp.rawValue, next: next, paused: isPaused, lastError: lastError(schedule.name), error: error,
                    text: "\(entry.id)  \(schedule.name)  cron \"\(schedule.cron)\" \(schedule.timeZoneName)  catch_up \(schedule.catchUp.rawValue)  "
                        + (isPaused ? "paused" : next.map { "next \($0)" } ?? "next never: \(Schedule.noNextTime)"))
            }
            let watches = pipeline.watches.map { watch in
                TriggerListing(
                    pipeline: entry.id, name: watch.name, kind: "watch", path: watch.folder, patterns: watch.patterns, debounce: watch.debounce,
                    paused: isPaused, lastError: lastError(watch.name),
                    text:
                        "\(entry.id)  \(watch.name)  watch \(watch.folder) \(watch.patterns.joined(separator: ","))  debounce \(DurationFormat.short(watch.debounce))"
                        + (isPaused ? "  paused" : ""))
            }
            return schedules + watches
        }
    }

    private enum CodingKeys: String, CodingKey {
        case pipeline, name, kind, cron, timezone, catchUp, path, patterns, debounce, next, paused, lastError, error
    }

    /// Every key, null where it does not apply: one shape for scripts to read, whatever the kind.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pipeline, forKey: .pipeline)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(cron, forKey: .cron)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(catchUp, forKey: .catchUp)
        try container.encode(path, forKey: .path)
        try container.encode(patterns, forKey: .patterns)
        try container.encode(debounce, forKey: .debounce)
        try container.encode(next, forKey: .next)
        try container.encode(paused, forKey: .paused)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(error, forKey: .error)
    }
}
