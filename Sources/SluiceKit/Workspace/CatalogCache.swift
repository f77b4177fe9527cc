import Foundation
import Synchronization

/// The pipelines as the files are now, for long-lived processes (the server, the scheduler) that look often: new,
/// changed and deleted files are picked up, and unchanged ones are not loaded again.
public final class CatalogCache: Sendable {
    private let directory: String
    private let cache = Mutex<PipelineCatalog?>(nil)

    public init(directory: String) { self.directory = directory }

    public func current() async throws -> PipelineCatalog {
        try await offPool { [self] in
            cache.withLock { cache in
                let fresh = PipelineCatalog.scan(directory, reusing: cache)
                cache = fresh
                return fresh
            }
        }
    }
}
