import Foundation

/// An attempt handed to another process to run (a Slurm job, a worker): the launch and the limits that go with it.
/// It carries the step's secrets, so it is kept only as long as the attempt runs.
public struct AttemptOrder: Sendable, Codable {
    public var launch: LaunchSpec
    public var timeout: Double?
    public var gracePeriod: Double
    public var logLimit: Int64

    public init(launch: LaunchSpec, timeout: Double?, gracePeriod: Double, logLimit: Int64) {
        self.launch = launch
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.logLimit = logLimit
    }

    /// Runs the attempt here, as the local executor runs any step, and returns how it ended.
    /// `onStart` receives the process id; the returned attempt stops it.
    public func run(
        onStart: @escaping @Sendable (Int32) -> Void = { _ in },
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        LocalExecutor(gracePeriod: gracePeriod, logLimit: logLimit).start(launch, timeout: timeout, onStart: onStart, completion: completion)
    }
}

extension JSONEncoder {
    /// The encoder of what Sluice processes send one another: attempt orders and results.
    public static let attempts: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }()
}

extension JSONDecoder {
    public static let attempts: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}
