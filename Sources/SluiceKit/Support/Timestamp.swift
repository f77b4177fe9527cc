import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// ISO 8601 timestamps in UTC with milliseconds (`2026-11-22T10:30:00.123Z`).
public enum Timestamp {
    /// Formatted by hand: Foundation's format styles cost tens of microseconds, and every event has a time.
    public static func iso(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var millis = Int(((seconds - Double(whole)) * 1000).rounded())
        if millis == 1000 {
            whole += 1
            millis = 0
        }
        var parts = tm()
        gmtime_r(&whole, &parts)
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(millis, 3))Z"
    }

    /// Dates in JSON as ``iso(_:)`` writes them: Foundation's `.iso8601` drops the milliseconds, which a timeline of
    /// short steps needs.
    public static var jsonEncoding: JSONEncoder.DateEncodingStrategy {
        .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(iso(date))
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
