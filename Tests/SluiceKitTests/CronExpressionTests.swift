import Foundation
@testable import SluiceKit
import Testing

/// Cron expressions fire when crontab(5) says, in the schedule's time zone, across daylight-saving changes.
struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// `2026-03-29 01:30` read as UTC (`Z`) or with an offset.
    func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func firings(_ expression: String, after start: String, in zone: TimeZone, count: Int) throws -> [Date] {
        let cron = try CronExpression(expression)
        var times: [Date] = []
        var last = at(start)
        for _ in 0..<count {
            guard let next = cron.next(after: last, in: zone) else { break }
            times.append(next)
            last = next
        }
        return times
    }

    @Test func fieldsListsRangesStepsAndNames() throws {
        #expect(try firings("*/20 9-10 * * *", after: "2026-11-22T08:59:00Z", in: utc, count: 7)
            == ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40", "09:00"].enumerated().map { index, time in
                at("2026-11-\(index < 6 ? 22 : 23)T\(time):00Z")
            })
        #expect(try firings("30 6 * * mon-fri", after: "2026-11-20T07:00:00Z", in: utc, count: 2)
            == [at("2026-11-23T06:30:00Z"), at("2026-11-24T06:30:00Z")], "Friday after 06:30 is followed by Monday")
        #expect(try firings("0 0 1 jan,jul *", after: "2026-02-01T00:00:00Z", in: utc, count: 2)
            == [at("2026-07-01T00:00:00Z"), at("2027-01-01T00:00:00Z")])
        #expect(try firings("0 12 * * 7", after: "2026-11-22T12:00:00Z", in: utc, count: 1) == [at("2026-11-29T12:00:00Z")], "7 is Sunday")
        #expect(try firings("@hourly", after: "2026-11-22T08:00:00Z", in: utc, count: 1) == [at("2026-11-22T09:00:00Z")])
        #expect(try firings("0 0 29 2 *", after: "2026-01-01T00:00:00Z", in: utc, count: 1) == [at("2028-02-29T00:00:00Z")])
    }

    @Test func whenBothDayFieldsAreRestrictedEitherMatches() throws {
        // The 13th, or any Friday: Friday 2026-11-20, then Friday the 27th; December's 4th is a Friday, the 13th a Sunday.
        #expect(try firings("0 0 13 * fri", after: "2026-11-19T00:00:00Z", in: utc, count: 4)
            == [at("2026-11-20T00:00:00Z"), at("2026-11-27T00:00:00Z"), at("2026-12-04T00:00:00Z"), at("2026-12-11T00:00:00Z")])
        #expect(try firings("0 0 13 * *", after: "2026-11-19T00:00:00Z", in: utc, count: 1) == [at("2026-12-13T00:00:00Z")])
    }

    @Test func wallClockTimesFollowTheZoneAcrossDaylightSaving() throws {
        // Berlin springs forward at 02:00 on 2026-03-29 (to 03:00) and falls back at 03:00 on 2026-10-25 (to 02:00).
        #expect(try firings("0 6 * * *", after: "2026-03-27T12:00:00Z", in: berlin, count: 3)
            == [at("2026-03-28T05:00:00Z"), at("2026-03-29T04:00:00Z"), at("2026-03-30T04:00:00Z")], "06:00 local before and after")
        #expect(try firings("30 2 * * *", after: "2026-03-28T12:00:00Z", in: berlin, count: 2)
            == [at("2026-03-29T01:30:00Z"), at("2026-03-30T00:30:00Z")], "02:30 does not exist on the 29th: it runs an hour later, once")
        #expect(try firings("30 2 * * *", after: "2026-10-24T12:00:00Z", in: berlin, count: 2)
            == [at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")], "02:30 happens twice on 25 October: it runs once, the first time")
    }

    @Test func mistakesNameTheFieldAndTheProblem() {
        let cases: [(String, String)] = [
            ("0 6 * *", "has 4 fields"),
            ("61 * * * *", "minute field '61': 61 is out of range 0-59"),
            ("0 0 * foo *", "month field 'foo': 'foo' is not a number or a name like 'jan'"),
            ("0 0 10-5 * *", "range 10-5 runs backwards"),
            ("*/0 * * * *", "step '0' must be a positive number"),
            ("0 0 31 2 *", "never fires"),
            ("@reboot", "unknown shortcut '@reboot'"),
            ("0 0 1,,2 * *", "'' is not a value"),
        ]
        for (text, problem) in cases {
            #expect(throws: CronError.self, "\(text)") { try CronExpression(text) }
            do { _ = try CronExpression(text) } catch { #expect(error.description.contains(problem), "\(text): \(error)") }
        }
    }
}
