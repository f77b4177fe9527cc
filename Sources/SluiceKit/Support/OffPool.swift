import Foundation

/// Runs blocking work (file reads, hashing) on a dispatch thread and awaits it: Swift's cooperative pool has one
/// thread per core and must never block.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
