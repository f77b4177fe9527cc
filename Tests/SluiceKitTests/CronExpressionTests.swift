import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

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
        #expect(
            try firings("*/20 9-10 * * *", after: "2026-11-22T08:59:00Z", in: utc, count: 7)
                == ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40", "09:00"].enumerated().map { index, time in
                    at("2026-11-\(index < 6 ? 22 : 23)T\(time):00Z")
                })
        #expect(
            try firings("30 6 * * mon-fri", after: "2026-11-20T07:00:00Z", in: utc, count: 2)
                == [at("2026-11-23T06:30:00Z"), at("2026-11-24T06:30:00Z")], "Friday after 06:30 is followed by Monday")
        #expect(
            try firings("0 0 1 jan,jul *", after: "2026-02-01T00:00:00Z", in: utc, count: 2)
                == [at("2026-07-01T00:00:00Z"), at("2027-01-01T00:00:00Z")])
        #expect(try firings("0 12 * * 7", after: "2026-11-22T12:00:00Z", in: utc, count: 1) == [at("2026-11-29T12:00:00Z")], "7 is Sunday")
        #expect(try firings("@hourly", after: "2026-11-22T08:00:00Z", in: utc, count: 1) == [at("2026-11-22T09:00:00Z")])
        #expect(try firings("0 0 29 2 *", after: "2026-01-01T00:00:00Z", in: utc, count: 1) == [at("2028-02-29T00:00:00Z")])
    }

    @Test func whenBothDayFieldsAreRestrictedEitherMatches() throws {
        // The 13th, or any Friday: Friday 2026-11-20, then Friday the 27th; December's 4th is a Friday, the 13th a Sunday.
        #expect(
            try firings("0 0 13 * fri", after: "2026-11-19T00:00:00Z", in: utc, count: 4)
                == [at("2026-11-20T00:00:00Z"), at("2026-11-27T00:00:00Z"), at("2026-12-04T00:00:00Z"), at("2026-12-11T00:00:00Z")])
        #expect(try firings("0 0 13 * *", after: "2026-11-19T00:00:00Z", in: utc, count: 1) == [at("2026-12-13T00:00:00Z")])
        #expect(
            try firings("0 12 */10 * fri", after: "2027-05-05T00:00:00Z", in: utc, count: 2) == [
                at("2027-05-21T12:00:00Z"), at("2027-06-11T12:00:00Z"),
            ],
            "a day field starting with * is unrestricted: Fridays that are the 1st, 11th, 21st or 31st")
    }

    @Test func wallClockTimesFollowTheZoneAcrossDaylightSaving() throws {
        // Berlin springs forward at 02:00 on 2026-03-29 (to 03:00) and falls back at 03:00 on 2026-10-25 (to 02:00).
        #expect(
            try firings("0 6 * * *", after: "2026-03-27T12:00:00Z", in: berlin, count: 3)
                == [at("2026-03-28T05:00:00Z"), at("2026-03-29T04:00:00Z"), at("2026-03-30T04:00:00Z")], "06:00 local before and after")
        #expect(
            try firings("30 2 * * *", after: "2026-03-28T12:00:00Z", in: berlin, count: 2)
                == [at("2026-03-29T01:00:00Z"), at("2026-03-30T00:30:00Z")], "02:30 does not exist on the 29th: it runs at 03:00, once")
        #expect(
            try firings("30 2 * * *", after: "2026-10-24T12:00:00Z", in: berlin, count: 2)
                == [at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")], "02:30 happens twice on 25 October: it runs once, the first time")
    }

    @Test func aTimeThatExistsIsNeverSkippedForOneInTheGapBeforeIt() throws {
        // Lord Howe's clocks go from 02:00 to 02:30 on Sunday 3 October 2027: 02:15 runs at 02:30, and 02:40 still runs.
        #expect(
            try firings("15,40 2 3 10 *", after: "2027-10-01T00:00:00Z", in: TimeZone(identifier: "Australia/Lord_Howe")!, count: 3)
                == [at("2027-10-03T02:30:00+11:00"), at("2027-10-03T02:40:00+11:00"), at("2028-10-03T02:15:00+11:00")])
        // Chatham's go from 02:45 to 03:45 on Sunday 26 September 2027: 03:00 runs at 03:45, and 03:50 still runs.
        #expect(
            try firings("0,50 3 26 9 *", after: "2027-09-25T00:00:00Z", in: TimeZone(identifier: "Pacific/Chatham")!, count: 3)
                == [at("2027-09-26T03:45:00+13:45"), at("2027-09-26T03:50:00+13:45"), at("2028-09-26T03:00:00+13:45")])
        #expect(
            try firings("*/20 * * * *", after: "2027-10-03T01:30:00+10:30", in: TimeZone(identifier: "Australia/Lord_Howe")!, count: 2)
                == [at("2027-10-03T01:40:00+10:30"), at("2027-10-03T02:40:00+11:00")], "an hourly expression leaves the gap's times out")
    }

    /// Random expressions in zones with odd clock changes, from times near those changes and elsewhere, against croniter.
    /// croniter runs a time repeated when clocks go back in both of its hours; Sluice runs it once, so croniter's second
    /// occurrences are left out of what is compared.
    @Test func nextTimesAgreeWithCroniter() throws {
        let script = """
            import json, random
            from datetime import datetime, timedelta, timezone
            from zoneinfo import ZoneInfo
            from croniter import croniter
            rng = random.Random(20271003)
            zones = ["Australia/Lord_Howe", "Pacific/Chatham", "Europe/Berlin", "America/New_York", "America/Havana",
                     "America/St_Johns", "Australia/Sydney", "Pacific/Auckland", "Europe/London", "Asia/Kolkata", "UTC"]
            begin, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2029, 1, 1, tzinfo=timezone.utc)

            def changes(zone):
                found, t = [], begin
                while t < end:
                    if t.astimezone(zone).utcoffset() != (t + timedelta(hours=1)).astimezone(zone).utcoffset():
                        found.append(t + timedelta(hours=1))
                    t += timedelta(hours=1)
                return found

            # A day field starting with * is unrestricted in cron(8) and Sluice but not in croniter ('*/7 * 1'): days get none.
            def pick(low, high, hour_of=None, stars=True):
                kind = rng.random()
                near = hour_of is not None and rng.random() < 0.7
                if kind < 0.2 and not near and stars: return "*"
                if kind < 0.35 and not near and stars: return "*/%d" % rng.choice([2, 3, 4, 5, 7, 10, 15, 20, 30][:6 if high < 59 else 9])
                values = sorted({rng.randint(low, high) for _ in range(rng.randint(1, 3))} | ({hour_of % (high + 1)} if near else set()))
                if kind > 0.85 and values[-1] > values[0]: return "%d-%d" % (values[0], values[-1])
                return ",".join(map(str, values))

            cases = []
            for zone_name in zones:
                zone = ZoneInfo(zone_name)
                moments = changes(zone)
                for _ in range(40):
                    if moments and rng.random() < 0.75:
                        moment = rng.choice(moments)
                        start = moment - timedelta(seconds=rng.randint(0, 6 * 3600))
                        hour = (moment - timedelta(minutes=1)).astimezone(zone).hour
                    else:
                        start, hour = begin + timedelta(seconds=rng.randint(0, 3 * 365 * 86400)), None
                    plain = 0.9 if hour is not None else 0.7
                    day = "*" if rng.random() < plain else pick(1, 28, stars=False)
                    weekday = "*" if rng.random() < plain else rng.choice(["mon-fri", "0", "7", "sat,sun", "1-3", "5"])
                    month = "*" if rng.random() < plain else pick(1, 12)
                    expression = " ".join([pick(0, 59), pick(0, 23, hour), day, month, weekday])
                    times, it = [], croniter(expression, start.astimezone(zone))
                    while len(times) < 4:
                        fire = it.get_next(datetime)
                        first = fire.replace(fold=0)
                        if first.utcoffset() != fire.utcoffset() and first.timestamp() < fire.timestamp(): continue
                        times.append(fire.timestamp())
                    near = any(abs(t - m.timestamp()) < 7200 for t in times for m in moments)
                    cases.append({"expression": expression, "zone": zone_name, "start": start.timestamp(), "times": times, "near": near})
            print(json.dumps(cases))
            """
        struct Case: Decodable { var expression: String, zone: String, start: Double, times: [Double], near: Bool }
        let result = try Python.run(["-c", script], interpreter: Python.tools)
        try #require(result.status == 0, "croniter is installed in the tools venv (scripts/test.sh)")
        let cases = try JSONDecoder().decode([Case].self, from: Data(result.output.utf8))
        var mismatches: [String] = []
        for item in cases {
            let cron = try CronExpression(item.expression), zone = try #require(TimeZone(identifier: item.zone))
            var times: [Double] = [], last = Date(timeIntervalSince1970: item.start)
            while times.count < item.times.count, let next = cron.next(after: last, in: zone) {
                times.append(next.timeIntervalSince1970)
                last = next
            }
            if times != item.times {
                func show(_ list: [Double]) -> String { list.map { Timestamp.iso(Date(timeIntervalSince1970: $0)) }.joined(separator: " ") }
                mismatches.append("'\(item.expression)' in \(item.zone) after \(show([item.start])): \(show(times)), croniter \(show(item.times))")
            }
        }
        #expect(cases.count == 440 && cases.filter(\.near).count > 140, "\(cases.filter(\.near).count) of \(cases.count) near a clock change")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(10).joined(separator: "\n"))")
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
