import Foundation

/// A run as the store keeps it.
public struct RunRecord: Sendable, Codable, Equatable {
    public var id: String
    public var pipeline: String
    public var status: RunStatus
    /// What started it: `cli`, `step`, `api`, `retry:ID`, `schedule`, `watch` or `backfill`.
    public var trigger: String
    public var parameters: [String: String]
    public var selection: Selection
    public var runDirectory: String
    /// The Sluice process that runs it (or ran it last), and its host.
    public var ownerPID: Int32
    public var ownerHost: String?
    /// While it runs, its owner renews this lease; a run whose lease ran out has lost its owner (``RunLease``).
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var finishedAt: Date?
    public var stepsTotal: Int
    /// For a run a schedule, a watch or a backfill started: which, and for what.
    public var triggerDetail: TriggerDetail?

    public var duration: Double? { finishedAt.map { $0.timeIntervalSince(createdAt) } }
}

/// The current state of one step in one run.
public struct StepRunRecord: Sendable, Codable, Equatable {
    public var runID: String
    public var step: String
    public var position: Int
    public var state: StepState
    public var reason: String?
    public var attempts: Int
    public var exitCode: Int32?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var duration: Double?
    public var error: String?
    public var peakMemoryKB: Int?
    public var cpuSeconds: Double?
    public var allowedFailure: Bool
    /// It failed and its `on_failure` recovery succeeded.
    public var recovered: Bool
    /// What it passed on to its downstream steps (`$SLUICE_OUTPUT`), secrets masked; nil when it passed nothing.
    public var outputValues: [String: String]?
}

/// A recovery action performed for a step of a run.
public struct RecoveryActionRecord: Sendable, Equatable {
    public var step: String
    public var action: RecoveryAction
}

/// One attempt of one step: a process that was started.
public struct AttemptRecord: Sendable, Codable, Equatable {
    public var runID: String
    public var step: String
    public var attempt: Int
    public var state: StepState
    public var pid: Int32
    public var startedAt: Date
    public var finishedAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var error: String?
    public var peakMemoryKB: Int?
    var userCPU: Double?
    var systemCPU: Double?
}

/// The latest known state of a step across runs, with its tested mark: what the status file shows.
public struct StepStatusRecord: Sendable, Codable, Equatable {
    public var pipeline: String
    public var step: String
    public var completed: Bool
    public var tested: Bool
    public var lastRun: Date?
    public var lastRunID: String?
    public var lastState: StepState?
    public var lastDuration: Double?
    public var error: String?
}

/// An event as stored, numbered in the order it was written.
public struct StoredEvent: Sendable, Codable, Equatable {
    public var seq: Int64
    public var runID: String
    public var at: Date
    public var kind: String
    public var step: String?
    public var attempt: Int?
    public var state: String?
    public var message: String?
    /// How the attempt or step ended (`attempt_finished`, `step_finished`): enough for a live view to show it
    /// without asking for the step.
    public var exitCode: Int32?
    /// Seconds: the attempt's, or for `step_finished` the step's across its attempts and retry waits.
    public var duration: Double?
    public var peakMemoryKB: Int?
}
