import Foundation

/// One step of a pipeline: a script or an inline command, run as its own process.
public struct Step: Sendable {
    public var name: String
    public var description: String
    public var action: StepAction
    public var dependsOn: [String]
    /// Seconds before the step's process group is terminated; nil means no limit.
    public var timeout: Double?
    public var retry: RetryPolicy
    public var environment: [String: String]
    public var tags: [String]
    /// A failure of this step does not fail the run (it ends `partial_success`) and does not block its downstream.
    public var allowFailure: Bool
    public var workdir: String?
    public var location: SourceLocation
}

/// What a step runs.
public enum StepAction: Sendable, Equatable {
    /// A script file, resolved against the pipeline's scripts folder.
    case script(path: String)
    /// An inline shell command.
    case command(String)
}

/// How often and how patiently a failed step is tried again.
public struct RetryPolicy: Sendable, Equatable {
    /// Further attempts after the first one.
    public var retries: Int
    /// Seconds before the first retry.
    public var delay: Double
    /// Factor applied to the delay after each retry.
    public var backoff: Double
    /// Upper bound of the delay, in seconds.
    public var maxDelay: Double

    public static let none = RetryPolicy(retries: 0, delay: 0, backoff: 1, maxDelay: 0)

    public init(retries: Int, delay: Double, backoff: Double, maxDelay: Double) {
        self.retries = retries
        self.delay = delay
        self.backoff = backoff
        self.maxDelay = maxDelay
    }

    /// The pause before attempt number `attempt` (2 for the first retry).
    public func delay(beforeAttempt attempt: Int) -> Double {
        guard attempt > 1 else { return 0 }
        let raw = delay * pow(backoff, Double(attempt - 2))
        return maxDelay > 0 ? min(raw, maxDelay) : raw
    }
}
