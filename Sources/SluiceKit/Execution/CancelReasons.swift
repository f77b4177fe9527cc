import Synchronization

/// Why this process cancels a run, said before its task is cancelled (task cancellation carries no reason), so that
/// the steps it stops and skips say it: "the server shut down", "cancelled from the API".
enum CancelReasons {
    private static let reasons = Mutex<[String: String]>([:])

    static func set(_ reason: String, for id: String) { reasons.withLock { $0[id] = $0[id] ?? reason } }
    /// The reason given for `id`, if one was, forgetting it.
    static func take(_ id: String) -> String? { reasons.withLock { $0.removeValue(forKey: id) } }
}
