import Foundation

/// The state of one step in one run.
public enum StepState: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed, skipped, cancelled
    case timedOut = "timed_out"
    /// Not run: its declared outputs match its inputs, parameters and script (see ``StepFingerprint``).
    case upToDate = "up_to_date"
    /// The Sluice process that ran it died; set when a later start finds the run.
    case interrupted

    public var isFinal: Bool { self != .pending && self != .running }
    /// Ended as its downstream steps want: ran successfully or had nothing to do.
    var isSuccess: Bool { self == .succeeded || self == .upToDate }
    /// Ran and did not succeed.
    var isFailure: Bool { self == .failed || self == .timedOut }
}

/// The overall outcome of a run, or where it stands while it has none yet.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, success
    /// Waiting for an earlier run of its pipeline to end (`concurrency: queue`).
    case queued
    case partialSuccess = "partial_success"
    case failed, cancelled
    /// The Sluice process running it died (kill -9, a crash, a power cut); `sluice resume` continues it.
    case interrupted
}

/// How one attempt of a step ended, with what the kernel measured.
public struct AttemptResult: Sendable, Codable, Equatable {
    public var state: StepState
    public var exitCode: Int32?
    public var signal: Int32?
    /// What went wrong, in words a person can act on; nil on success.
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date
    /// The peak resident memory of the step's processes, or nil where nothing honest could be measured
    /// (``ProcessMemory``).
    public var peakMemoryKB: Int?
    var userCPU: Double
    var systemCPU: Double

    public var duration: Double { finishedAt.timeIntervalSince(startedAt) }

    /// What an executor reports when an attempt has ended.
    public init(
        state: StepState, exitCode: Int32? = nil, signal: Int32? = nil, error: String? = nil, startedAt: Date, finishedAt: Date,
        peakMemoryKB: Int? = nil, userCPU: Double = 0, systemCPU: Double = 0
    ) {
        self.state = state
        self.exitCode = exitCode
        self.signal = signal
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.peakMemoryKB = peakMemoryKB
        self.userCPU = userCPU
        self.systemCPU = systemCPU
    }
}

/// Something that happened in a run. The engine emits these; the store, logs and terminal consume them.
public struct RunEvent: Sendable {
    /// What happened, with what it concerns.
    public enum Kind: Sendable {
        case runStarted(steps: [String])
        /// A fan-out over an upstream step's value met its items: its instances join the run, pending.
        case stepsAdded(step: String, instances: [String])
        case attemptStarted(step: String, attempt: Int, pid: Int32)
        case attemptFinished(step: String, attempt: Int, result: AttemptResult)
        case retryScheduled(step: String, attempt: Int, delay: Double)
        /// The final state of a step that ran; `allowed` marks a failure that `allow_failure` tolerates.
        case stepFinished(step: String, state: StepState, attempts: Int, allowed: Bool, result: AttemptResult)
        /// What a step that succeeded passed on (`$SLUICE_OUTPUT`), secrets masked; or, for a step that was up to
        /// date, what it passed on when it last ran.
        case valuesRecorded(step: String, values: [String: String])
        case stepSkipped(step: String, reason: String)
        case stepUpToDate(step: String, reason: String)
        /// A successful attempt's fingerprint and outputs, and the versions it created.
        case outputsRecorded(step: String, record: StepFingerprintRecord, newVersions: [OutputAnnotation])
        /// A recovery (`on_failure`) of a failed step ended; `recovered` is true when it succeeded.
        case recoveryFinished(step: String, action: RecoveryAction)
        /// File hashes computed during the run, kept so that later runs need not read the files again.
        case filesHashed([String: FileHash])
        case runFinished(status: RunStatus)
        /// After the run's end was recorded: its summary, report and manual-review notification (if it has one) are
        /// in its directory, for live views to show.
        case reportsWritten

        /// Whether the event records a step's outputs, whose versions and annotations must be durable first.
        var recordsOutputs: Bool {
            if case .outputsRecorded = self { return true }
            return false
        }
    }

    public var runID: String
    public var pipeline: String
    public var time: Date
    public var kind: Kind

    public init(runID: String, pipeline: String, time: Date = Date(), kind: Kind) {
        self.runID = runID
        self.pipeline = pipeline
        self.time = time
        self.kind = kind
    }

    /// The step the event is about, if any.
    public var step: String? {
        switch kind {
        case let .attemptStarted(step, _, _), let .attemptFinished(step, _, _), let .retryScheduled(step, _, _),
            let .stepFinished(step, _, _, _, _), let .stepSkipped(step, _), let .stepUpToDate(step, _), let .valuesRecorded(step, _),
            let .stepsAdded(step, _),
            let .outputsRecorded(step, _, _), let .recoveryFinished(step, _):
            step
        case .runStarted, .runFinished, .filesHashed, .reportsWritten: nil
        }
    }
}
