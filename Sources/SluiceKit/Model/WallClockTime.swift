import Foundation

/// A minute on a wall clock (a date and a time of day, no zone), with the calendar arithmetic cron needs. Works on
/// plain numbers: matching a cron expression visits many candidate minutes, and Foundation's Calendar is slow.
struct WallClockTime: Sendable, Equatable, Comparable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int

    /// The wall-clock minute of `instant` in `zone`, seconds dropped.
    init(_ instant: Date, in zone: TimeZone) {
        let local = Int((instant.timeIntervalSince1970).rounded(.down)) + zone.secondsFromGMT(for: instant)
        let days = Self.floorDivide(local, 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        let seconds = local - days * 86_400
        hour = seconds / 3600
        minute = seconds % 3600 / 60
    }

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    /// 0 is Sunday, as in cron.
    var weekday: Int { (Self.days(year: year, month: month, day: day) % 7 + 11) % 7 }
    var daysInMonth: Int { Self.daysIn(year: year, month: month) }
    var date: String { String(format: "%04d-%02d-%02d", year, month, day) }

    /// The first instant this wall-clock time names in `zone` (a time repeated when clocks go back names two); nil
    /// for a time that does not occur, skipped when clocks go forward.
    func occurrence(in zone: TimeZone) -> Date? {
        let wall = wallSeconds, (before, after) = offsets(around: wall, in: zone)
        return [before, after].map { Date(timeIntervalSince1970: wall - Double($0)) }.filter { WallClockTime($0, in: zone) == self }.min()
    }

    /// The instant this wall-clock time names in `zone`: its first occurrence, or for a time skipped when clocks go
    /// forward, the end of the gap (when the clocks show a time again), as cron(8) runs what was due in the gap.
    func instant(in zone: TimeZone) -> Date { occurrence(in: zone) ?? gapEnd(in: zone) }

    /// The moment the clocks jumped past this time: the first second whose wall-clock time is later than it. Before
    /// the jump the zone's offset is the earlier one, after it the later one, so the jump lies between these bounds.
    func gapEnd(in zone: TimeZone) -> Date {
        let wall = wallSeconds, (before, after) = offsets(around: wall, in: zone)
        var low = wall - Double(after), high = wall - Double(before)
        while high - low > 1 {
            let middle = ((low + high) / 2).rounded(.down)
            if middle + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: middle))) > wall { high = middle } else { low = middle }
        }
        return Date(timeIntervalSince1970: high)
    }

    /// This wall-clock time as seconds since 1970 on a clock without a zone.
    private var wallSeconds: Double { Double(Self.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60) }

    /// The zone's offsets a day either side of `wall`: any change of offset near it lies between the two.
    private func offsets(around wall: Double, in zone: TimeZone) -> (before: Int, after: Int) {
        (zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 86_400)), zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 86_400)))
    }

    mutating func nextMinute() {
        minute += 1
        if minute == 60 { nextHour() }
    }

    mutating func nextHour() {
        minute = 0
        hour += 1
        if hour == 24 { nextDay() }
    }

    mutating func nextDay() {
        (hour, minute) = (0, 0)
        day += 1
        if day > daysInMonth { nextMonth() }
    }

    mutating func nextMonth() {
        (day, hour, minute) = (1, 0, 0)
        month += 1
        if month == 13 { (month, year) = (1, year + 1) }
    }

    static func < (a: Self, b: Self) -> Bool {
        (a.year, a.month, a.day, a.hour, a.minute) < (b.year, b.month, b.day, b.hour, b.minute)
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
