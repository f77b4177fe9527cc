import Foundation

/// A cron expression: five fields (minute, hour, day of month, month, day of week) or a shortcut such as
/// `@daily`, and the times it fires in a time zone. Follows Vixie cron: names for months and weekdays, 7 is
/// also Sunday, and when both day fields are restricted a day matches either.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    private let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    private let daysRestricted: Bool, weekdaysRestricted: Bool

    static let shortcuts = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    private struct Field {
        let name: String, range: ClosedRange<Int>, names: [String]
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: []),
        Field(name: "hour", range: 0...23, names: []),
        Field(name: "day of month", range: 1...31, names: []),
        Field(name: "month", range: 1...12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        Field(name: "day of week", range: 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ]

    /// Parses `text`; the error names the field and what is wrong with it.
    public init(_ text: String) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        description = trimmed
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let fields = Self.shortcuts[trimmed.lowercased()] else {
                throw CronError("unknown shortcut '\(trimmed)'; use one of \(Self.shortcuts.keys.sorted().joined(separator: ", "))")
            }
            expanded = fields
        } else {
            expanded = trimmed
        }
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw CronError(
                "'\(trimmed)' has \(parts.count) fields; cron takes five: minute hour day-of-month month day-of-week (or @daily, @hourly, ...)")
        }
        let sets = try zip(parts, Self.fields).map { part, field throws(CronError) in try Self.parse(part, field) }
        minutes = sets[0]
        hours = sets[1]
        days = sets[2]
        months = sets[3]
        weekdays = Set(sets[4].map { $0 % 7 })
        daysRestricted = !parts[2].hasPrefix("*")
        weekdaysRestricted = !parts[4].hasPrefix("*")
        if let impossible = impossibleDates {
            throw CronError("'\(trimmed)' never fires: no date matches \(impossible)", code: .neverFires)
        }
    }

    /// The days of month and months, as "day 31 of February", when none of those days is in any of those months
    /// and no day of week can match instead. Decided from the fields, so no search can miss a date years away.
    private var impossibleDates: String? {
        // An unrestricted day field includes the 1st; a restricted day of week is an alternative that always comes.
        guard daysRestricted, !weekdaysRestricted else { return nil }
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard months.allSatisfy({ month in days.allSatisfy { $0 > longest[month - 1] } }) else { return nil }
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        func either(_ items: [String]) -> String {
            items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
        }
        return "day \(either(days.sorted().map(String.init))) of \(either(months.sorted().map { names[$0 - 1] }))"
    }

    /// The first time after `instant` this expression fires in `zone`; nil if it fires in none of the next ten years.
    public func next(after instant: Date, in zone: TimeZone) -> Date? {
        var time = WallClockTime(instant, in: zone)
        time.nextMinute()
        let lastYear = time.year + 10
        while time.year <= lastYear {
            if !months.contains(time.month) {
                time.nextMonth()
                continue
            }
            if !dayMatches(time) {
                time.nextDay()
                continue
            }
            if !hours.contains(time.hour) {
                time.nextHour()
                continue
            }
            if !minutes.contains(time.minute) {
                time.nextMinute()
                continue
            }
            // A time skipped when clocks go forward runs at the end of the gap, which is no later than any time after
            // it, so the first match on the wall clock is the earliest instant. An expression for every hour of the day
            // leaves the skipped time out instead (it runs again the next hour), as croniter does. A time repeated when
            // clocks go back maps to its first occurrence, which may be past.
            if let candidate = time.occurrence(in: zone) ?? (hours.count == 24 ? nil : time.gapEnd(in: zone)), candidate > instant {
                return candidate
            }
            time.nextMinute()
        }
        return nil
    }

    private func dayMatches(_ time: WallClockTime) -> Bool {
        let day = days.contains(time.day), weekday = weekdays.contains(time.weekday)
        if daysRestricted && weekdaysRestricted { return day || weekday }
        return day && weekday
    }

    private static func parse(_ text: String, _ field: Field) throws(CronError) -> Set<Int> {
        func fail(_ problem: String) -> CronError { CronError("\(field.name) field '\(text)': \(problem)") }
        func value(_ token: Substring) throws(CronError) -> Int {
            if let number = Int(token) {
                guard field.range.contains(number) else {
                    throw fail("\(number) is out of range \(field.range.lowerBound)-\(field.range.upperBound)")
                }
                return number
            }
            if let index = field.names.firstIndex(of: token.lowercased()) { return field.range.lowerBound == 0 ? index : index + 1 }
            throw fail("'\(token)' is not a number\(field.names.isEmpty ? "" : " or a name like '\(field.names[0])'")")
        }
        var result = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw fail("'\(item)' is not a value, range or step") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number > 0 else { throw fail("step '\(pieces[1])' must be a positive number") }
                step = number
            }
            var range: ClosedRange<Int>
            if pieces[0] == "*" {
                range = field.range
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw fail("'\(pieces[0])' is not a range like 1-5") }
                let low = try value(bounds[0])
                let high = bounds.count == 2 ? try value(bounds[1]) : (pieces.count == 2 ? field.range.upperBound : low)
                guard low <= high else { throw fail("range \(low)-\(high) runs backwards") }
                range = low...high
            }
            result.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return result
    }
}

/// Why a cron expression was refused.
public struct CronError: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the expression.
    public enum Code: Sendable {
        /// It is not a cron expression: a field, a range or a shortcut is wrong.
        case syntax
        /// It is well formed, but no date has the days of month it names (`0 0 31 2 *`).
        case neverFires
    }

    public let code: Code
    public let description: String
    init(_ description: String, code: Code = .syntax) {
        self.description = description
        self.code = code
    }
}
