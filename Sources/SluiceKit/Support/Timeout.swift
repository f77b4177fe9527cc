/// `body`, abandoned after `seconds`: a store on the far side of a cut network answers neither yes nor no, and TCP
/// would wait minutes to say so.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "no answer within \(seconds)s" }
}
