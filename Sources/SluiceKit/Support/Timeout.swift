import Synchronization

/// `body`'s result, or ``TimedOut`` after `seconds`: a store on the far side of a cut network answers neither yes
/// nor no, and TCP would wait minutes to say so. A task group would not do: it waits for every child, and a query on a
/// dead connection ignores cancellation. So `body` is left to finish (or fail) on its own.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let answered = Mutex(false)
    return try await withCheckedThrowingContinuation { continuation in
        let answer: @Sendable (Result<T, any Error>) -> Void = { result in
            let first = answered.withLock { answered in
                defer { answered = true }
                return !answered
            }
            if first { continuation.resume(with: result) }
        }
        let work = Task { try await body() }
        let timer = Task {
            try await Task.sleep(for: .seconds(seconds))
            answer(.failure(TimedOut(seconds: seconds)))
            work.cancel()
        }
        // The timer stops with the answer: a worker's turns come many a second, each would leave one sleeping.
        Task {
            let result = await work.result
            timer.cancel()
            answer(result)
        }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "no answer within \(seconds)s" }
}
