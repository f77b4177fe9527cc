import Dispatch
import Synchronization
import Testing

@testable import SluiceKit

/// `withTimeout`, which keeps a worker's turns going when the store is on the far side of a cut network.
struct TimeoutTests {
    @Test func anAnswerInTimeIsReturnedAndItsErrorsPassThrough() async throws {
        #expect(try await withTimeout(seconds: 30) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await withTimeout(seconds: 30) { () async throws -> Int in throw Refused() } }
    }

    @Test func aCallThatIgnoresCancellationIsAbandonedAtTheTimeout() async throws {
        // Like a query on a dead TCP connection: it answers in a minute, whatever cancellation says.
        final class Flag: Sendable { let raised = Mutex(false) }
        let answered = Flag()
        let deaf: @Sendable () async -> Int = {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
                    answered.raised.withLock { $0 = true }
                    continuation.resume(returning: 1)
                }
            }
        }
        await #expect(throws: TimedOut.self) { try await withTimeout(seconds: 0.2) { await deaf() } }
        #expect(!answered.raised.withLock { $0 }, "the caller went on without waiting for the deaf call")
    }
}
