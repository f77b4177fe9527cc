import Foundation

/// Which of a schedule's due times to run, under its catch-up policy.
struct DueTimes: Sendable, Equatable {
    /// The times to start a run for, oldest first.
    public var run: [Date]
    /// When no time is run: the latest due time, recorded as handled so it is not considered again. (A run's claim
    /// records the times before it as handled.)
    var skippedThrough: Date?
    /// Due times not run: missed under `none`, older than the latest under `latest`, past the bound under `all`.
    public var skipped: Int

    /// A time up to this late still counts as on time: the process was busy, not down.
    public static let grace: Double = 60

    /// The times `schedule` was due after `last` and up to `now`.
    public static func of(_ schedule: Schedule, after last: Date, now: Date) -> DueTimes {
        // Only the newest `catchUpLimit` missed times can be run, plus one on time; older ones are only counted.
        var newest: [Date] = []
        var count = 0
        var time = last
        while let next = schedule.cron.next(after: time, in: schedule.timeZone), next <= now {
            count += 1
            newest.append(next)
            if newest.count > schedule.catchUpLimit + 1 { newest.removeFirst() }
            time = next
        }
        guard let latest = newest.last else { return DueTimes(run: [], skippedThrough: nil, skipped: 0) }
        let onTime = now.timeIntervalSince(latest) < grace
        let run: [Date]
        switch schedule.catchUp {
        case .none: run = onTime ? [latest] : []
        case .latest: run = [latest]
        // `max_catch_up` bounds the missed runs: the one due now is not one of them.
        case .all: run = Array(newest.suffix(schedule.catchUpLimit + (onTime ? 1 : 0)))
        }
        return DueTimes(run: run, skippedThrough: run.isEmpty ? latest : nil, skipped: count - run.count)
    }
}
