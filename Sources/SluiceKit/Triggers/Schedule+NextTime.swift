import Foundation

extension Schedule {
    /// Why a schedule that loads has no next time: cron looks this far ahead, and a date can be further away only
    /// in rare combinations (the 29th of February on a given day of week).
    public static let noNextTime = "due at no time in the next ten years"

    /// The next time it is due after `instant`, as `{{ schedule.time }}` gives it (ISO 8601 in its zone); nil when
    /// none is near enough, see ``noNextTime``.
    public func nextTime(after instant: Date) -> String? {
        cron.next(after: instant, in: timeZone).flatMap { TriggerService.scheduleValues($0, endDate: nil, in: timeZone)["schedule.time"] }
    }
}
