import Foundation

/// One step of a pipeline: a script or an inline command, run as its own process.
///
/// Its ``Fields`` live in one copy-on-write box: the plan, the scheduler and a fan-out's instances copy steps
/// freely, and a copy costs a reference rather than the few hundred bytes of a definition. `step.name` reads and
/// writes the field itself.
@dynamicMemberLookup
public struct Step: Sendable {
    @usableFromInline
    final class Storage: @unchecked Sendable {  // Mutated only while uniquely referenced.
        @usableFromInline var fields: Fields
        @usableFromInline init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var storage: Storage

    init(_ fields: Fields) { storage = Storage(fields) }

    @inlinable
    public subscript<Value>(dynamicMember field: WritableKeyPath<Fields, Value>) -> Value {
        get { storage.fields[keyPath: field] }
        // In place: `step.inputs.append(x)` must not copy the array each time.
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            yield &storage.fields[keyPath: field]
        }
    }
}

extension Step {
    /// What a step is, as written and as its run fills it in.
    public struct Fields: Sendable {
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
        /// Files the step reads: paths or globs relative to the workspace; a folder stands for every file beneath it.
        public var inputs: [String] = []
        /// Files the step writes, in the same form. Declaring them enables up-to-date skips and versioned outputs.
        public var outputs: [String] = []
        /// Those of `outputs` written `{path: P, temp: true}`: kept in no version, and removed once every step that reads
        /// them (by its `inputs`) has succeeded (see ``TemporaryOutputs``).
        public var temporaryOutputs: Set<String> = []
        /// What Sluice does when the step has failed for good (after its retries).
        @OutOfLine public var onFailure: FailureAction?
        /// When the step runs, given how its upstream steps ended.
        public var triggerRule: TriggerRule = .allSuccess
        /// Where it runs: `executor`, `runs_on` and `slurm` as written for the step (see ``Pipeline/placement(of:)``).
        public var placement = StepPlacement()
        /// `foreach:` or `matrix:`: the step as written runs once per item (see ``FanOutExpansion``).
        @OutOfLine public var fanOut: FanOut?
        /// `if:`: when false, the step is skipped (with the values it saw), and nothing fails.
        @OutOfLine public var condition: Condition?
        /// The parameters its result depends on, which its fingerprint hashes: those its templates and `if:` name, and
        /// those it lists under `params:`. Nil when it names and lists none: then every parameter, as the safe default.
        public var parameters: Set<String>?
        /// `pipeline:`: the pipeline this step runs as a child run; its action is then the command that runs it.
        @OutOfLine public var subPipeline: PipelineCall?
        /// `wait_for:`: what the step waits for; its action and retries are then the checks (see ``WaitFor``).
        @OutOfLine public var waitFor: WaitFor?
        /// `resources:`: the CPUs and memory it needs while it runs.
        public var resources = StepResources()
        /// `pool:`: the pool of `sluice.yaml` one of whose slots each attempt holds, shared by every run of the store.
        public var pool: String?
        /// `priority:`: among the steps ready to start, those with a higher one start first (0 unless it says).
        public var priority = 0
        /// Set on each instance of a fan-out once the run's items are known: which step it came from, with which item.
        @OutOfLine public var instance: StepInstance?
        public var location: SourceLocation
    }
}

/// A recovery Sluice performs for a step that failed.
public enum FailureAction: Sendable, Equatable {
    /// Put the step's declared outputs back to their last good version (`on_failure: rollback`).
    case rollback
    /// Run a healing script, resolved against the pipeline's scripts folder.
    case run(script: String)
}

/// When a step whose upstream steps have all ended runs (Airflow's trigger rules, plus `recovered`: go on after a recovery).
public enum TriggerRule: String, Sendable, CaseIterable {
    /// Every upstream step succeeded (or was up to date, or failed with `allow_failure`).
    case allSuccess = "all_success"
    /// Every upstream step ended, however.
    case allDone = "all_done"
    /// Every upstream step succeeded, or failed and its recovery succeeded.
    case recovered
    /// At least one upstream step failed: alert and clean-up steps.
    case oneFailed = "one_failed"
    /// No upstream step failed or was skipped because of a failure; skipped ones are fine (Airflow's rule).
    case noneFailed = "none_failed"
    /// As `none_failed`, and at least one upstream step succeeded: the join after a branch, whichever branch ran.
    case noneFailedMinOneSuccess = "none_failed_min_one_success"
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
