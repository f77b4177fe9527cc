import Synchronization

/// The runs this process runs now: ``PipelineRunner`` adds each for as long as it runs it. A run recorded under this
/// process's own pid on this host is alive only if it is one of them (``RunLease/isAbandoned(_:now:)``).
enum OwnedRuns {
    private static let ids = Mutex<Set<String>>([])

    static func insert(_ id: String) { ids.withLock { _ = $0.insert(id) } }
    static func remove(_ id: String) { ids.withLock { _ = $0.remove(id) } }
    static func contains(_ id: String) -> Bool { ids.withLock { $0.contains(id) } }
}
