import Foundation
import SluiceKit

/// The counters of `/metrics`, kept from the events the server sees rather than read from the store, so they only
/// grow for the life of the process: removing runs (`sluice gc`) lowers nothing. Each event costs the same, with no
/// store query: a step's duration comes from its first attempt's start, held while the step runs.
struct EventCounters: Sendable {
    /// Upper bounds of the step duration histogram's buckets, in seconds (beyond the last: `+Inf`).
    static let bounds: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]

    /// Attempts after a step's first.
    private(set) var retries = 0
    /// Recovery actions by result, lowercase as Prometheus labels are.
    private(set) var recoveries = ["success": 0, "failed": 0]
    /// Finished steps per bucket (not cumulative; the last is those over every bound), and their total duration.
    private(set) var durations = [Int](repeating: 0, count: bounds.count + 1)
    private(set) var totalDuration: Double = 0
    /// When each running step's first attempt started, by run and step; a run's entries go when the run ends.
    private var started: [String: [String: Date]] = [:]

    mutating func observe(_ event: StoredEvent) {
        switch event.kind {
        case "attempt_started":
            guard let step = event.step else { return }
            if (event.attempt ?? 1) > 1 { retries += 1 }
            started[event.runID, default: [:]][step] = started[event.runID]?[step] ?? event.at
        case "step_finished":
            // A step that started before the server did has no start here, and is not timed.
            guard let step = event.step, let start = started[event.runID]?.removeValue(forKey: step) else { return }
            let seconds = max(0, event.at.timeIntervalSince(start))
            durations[Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count] += 1
            totalDuration += seconds
        case "recovery_finished":
            if let status = event.state?.lowercased() { recoveries[status, default: 0] += 1 }
        case "run_finished", "run_interrupted":
            started[event.runID] = nil
        default:
            break
        }
    }
}
