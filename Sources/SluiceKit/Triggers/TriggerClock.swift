import Foundation

/// The time triggers go by: the system's, or in tests one that moves only when told to.
public protocol TriggerClock: Sendable {
    var now: Date { get }
    /// Returns at `deadline`; throws when the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The wall clock, for the trigger loop of a real server or scheduler.
public struct SystemClock: TriggerClock {
    public init() {}
    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
        try Task.checkCancellation()
    }
}
