import Foundation

/// A `schedule:` entry: a pipeline starts by itself when its cron expression fires.
public struct Schedule: Sendable {
    /// `schedule` for a pipeline's only schedule, `schedule-2`… in a list, or the entry's own `name`.
    public var name: String
    public var cron: CronExpression
    public var timeZone: TimeZone
    /// The zone as the file names it (Foundation calls `UTC` `GMT`).
    public var timeZoneName: String
    /// What happens to the times missed while no Sluice process was watching the schedule (or it was paused).
    public var catchUp: CatchUpPolicy
    /// Under `catch_up: all`, at most this many missed runs start; older missed times are skipped.
    public var catchUpLimit: Int
    /// Parameters of the runs it starts; values may use `{{ schedule.date }}` and the other ``TriggerVariables``.
    public var parameters: [String: ParameterTemplate]
    public var location: SourceLocation
}

/// `catch_up:` of a schedule: start no missed run, only the latest, or all of them (bounded).
public enum CatchUpPolicy: String, Sendable, CaseIterable {
    case none, latest, all
}

/// A `watch:` entry: a pipeline starts by itself when files matching a pattern appear or change in a folder.
public struct FileWatch: Sendable {
    /// `watch` for a pipeline's only watch, `watch-2`… in a list, or the entry's own `name`.
    public var name: String
    /// The watched folder as written: relative to the workspace, or absolute.
    public var folder: String
    /// Glob patterns matched against paths relative to the folder (`*.csv`, `2026-*/*.xlsx`).
    public var patterns: [String]
    /// A change starts a run once the folder has been quiet for this long, so a file still being copied is not
    /// processed half-written, and a batch of files starts one run.
    public var debounce: Double
    public var parameters: [String: ParameterTemplate]
    public var location: SourceLocation
}

/// The values a trigger fills in: `{{ schedule.date }}` and the like in its parameters.
enum TriggerVariables {
    /// For schedules and backfills: the scheduled time, its date, and the last date of the interval it covers.
    public static let schedule = ["schedule.time", "schedule.date", "schedule.end_date"]
    /// For watches: the changed paths, one a line, and how many there are.
    public static let watch = ["watch.paths", "watch.count"]
}

/// A parameter value with `{{ name }}` placeholders, checked when the pipeline is loaded.
public struct ParameterTemplate: Sendable, Equatable {
    public let text: String

    /// The names of its placeholders.
    public var names: [String] { Self.placeholders(in: text).map(\.name) }

    /// The first placeholder of `text` not in `known`.
    static func check(_ text: String, known: [String]) -> String? {
        ParameterTemplate(text: text).names.first { !known.contains($0) }
    }

    public func render(_ values: [String: String]) -> String {
        var result = text
        for placeholder in Self.placeholders(in: text).reversed() {
            result.replaceSubrange(placeholder.range, with: values[placeholder.name] ?? "")
        }
        return result
    }

    private static func placeholders(in text: String) -> [(name: String, range: Range<String.Index>)] {
        var found: [(String, Range<String.Index>)] = []
        var rest = text.startIndex..<text.endIndex
        while let open = text.range(of: "{{", range: rest), let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) {
            found.append((text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces), open.lowerBound..<close.upperBound))
            rest = close.upperBound..<text.endIndex
        }
        return found
    }
}
