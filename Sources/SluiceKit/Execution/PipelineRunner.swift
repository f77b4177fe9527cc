import Foundation
import Synchronization

/// What to run: a pipeline, which of its steps, with which parameters.
public struct RunRequest: Sendable {
    public var pipeline: Pipeline
    public var selection: Selection
    public var parameters: [String: String]
    public var trigger: String
    public var jobs: Int
    /// The CPUs, memory and pools its steps may use at once.
    public var capacity = RunCapacity()
    public var continueOnError: Bool
    /// Values of the pipeline's `secrets` (see ``SecretValues``).
    public var secrets: [String: String]
    /// Also write secrets to the run's `.env` (config `env_file_secrets`); they are always in the steps' environment.
    public var secretsInEnvironmentFile: Bool
    /// Run steps with declared outputs even when they are up to date.
    public var force: Bool
    /// For a run a trigger starts: what it records on the run, and the claim that makes it start once.
    public var triggerDetail: TriggerDetail?
    public var claim: TriggerClaim?
    /// Where `foreach: {glob: ...}` looks for files.
    public var workspace: String

    public init(
        pipeline: Pipeline, selection: Selection = Selection(), parameters: [String: String] = [:],
        trigger: String = "cli", jobs: Int, continueOnError: Bool = false, secrets: [String: String] = [:],
        secretsInEnvironmentFile: Bool = false, force: Bool = false,
        workspace: String = FileManager.default.currentDirectoryPath
    ) {
        self.workspace = workspace
        self.pipeline = pipeline
        self.selection = selection
        self.parameters = parameters
        self.trigger = trigger
        self.jobs = jobs
        self.continueOnError = continueOnError
        self.secrets = secrets
        self.secretsInEnvironmentFile = secretsInEnvironmentFile
        self.force = force
    }
}

/// A request that passed every check: its plan and its parameter values. Nothing has run yet.
public struct PreparedRun: Sendable {
    public let request: RunRequest
    public let plan: Plan
    public let parameters: [String: String]
}

/// How a run ended, as recorded.
public struct RunOutcome: Sendable {
    public var run: RunRecord
    public var steps: [StepRunRecord]
    /// How each notification handler fared; empty when the run notified nobody.
    public var notifications: [String] = []
}

/// Carries one run from start to end: records it, creates its directory, schedules its steps, and writes its
/// summary and the pipeline's status file.
public struct PipelineRunner: Sendable {
    public let store: any RunStore
    public let executor: any StepExecutor
    public let workspace: String
    public let runsDirectory: String
    public let pipelinesDirectory: String
    /// Where versions of declared outputs are kept (see ``OutputVersions``).
    public let versionsDirectory: String
    /// Workspace-wide notification handlers, besides each pipeline's own.
    public let notify: [NotificationTarget]
    /// Where each run's OpenLineage events go, if anywhere.
    public let lineage: LineageTarget?
    /// The OTLP/HTTP endpoint each run's trace goes to, if any.
    public let traceEndpoint: String?

    public init(
        store: any RunStore, executor: any StepExecutor, workspace: String, runsDirectory: String, pipelinesDirectory: String,
        versionsDirectory: String? = nil, notify: [NotificationTarget] = [], lineage: LineageTarget? = nil, traceEndpoint: String? = nil
    ) {
        self.store = store
        self.executor = executor
        self.workspace = workspace
        self.runsDirectory = runsDirectory
        self.pipelinesDirectory = pipelinesDirectory
        self.versionsDirectory = versionsDirectory ?? workspace + "/.sluice/versions"
        self.notify = notify
        self.lineage = lineage
        self.traceEndpoint = traceEndpoint
    }

    /// `pipeline` with its fan-outs expanded for these (bound) parameters, globs matched in `workspace`.
    public static func expand(_ pipeline: Pipeline, parameters: [String: String], workspace: String) throws(SluiceError) -> Pipeline {
        // Hidden files (Sluice's own `.sluice/` among them) are no items, as `*` matches none of them either.
        try FanOutExpansion.expand(pipeline, parameters: parameters) { glob in
            PathPatterns.files([glob], in: workspace).files.filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
        }
    }

    /// Checks parameters, selection and secrets, and expands fan-outs; throws (an invalid input, with the fields at
    /// fault) before anything is recorded or started.
    public static func prepare(_ request: RunRequest) throws(SluiceError) -> PreparedRun {
        let parameters: [String: String]
        switch ParameterBinding.bind(request.parameters, to: request.pipeline.parameters) {
        case let .success(values): parameters = values
        case let .failure(errors): throw errors.sluiceError
        }
        let pipeline = try expand(request.pipeline, parameters: parameters, workspace: request.workspace)
        let plan: Plan
        do { plan = try Planner.plan(pipeline, selection: request.selection) } catch { throw error.sluiceError }
        guard !plan.included.isEmpty else {
            let message = "the selection leaves no step of '\(request.pipeline.id)' to run"
            throw SluiceError(.invalidInput, message, fields: ["selection": message])
        }
        let missing = request.pipeline.secrets.filter { request.secrets[$0] == nil }
        guard missing.isEmpty else {
            throw SluiceError(
                .invalidInput,
                missing.map { "secret '\($0)' has no value: set \($0) in the environment or in the secrets file (setting secrets_file)" }
                    .joined(separator: "\n"),
                fields: Dictionary(uniqueKeysWithValues: missing.map { ("secrets.\($0)", "has no value") }))
        }
        if let problem = request.capacity.problems(with: plan.included.map(\.step)).first {
            throw SluiceError(.invalidInput, problem.description)
        }
        // Templates filled in, a fan-out's instances may say what its step as written could not.
        if let problem = TemporaryOutputs.problems(in: plan.pipeline).first {
            throw SluiceError(.invalidInput, "\(problem.message): \(problem.fix)", step: problem.step.name)
        }
        return PreparedRun(request: request, plan: plan, parameters: parameters)
    }

    /// Runs to the end. Cancelling the calling task stops the run: running steps are terminated and recorded.
    /// `observer` receives every event, in batches, on a thread of the engine's: it must not block for long.
    /// `upstream` gives steps run without their upstream steps what those passed on in an earlier run.
    public func run(
        _ prepared: consuming PreparedRun, upstream: UpstreamRun? = nil, observer: @escaping @Sendable ([RunEvent]) -> Void = { _ in }
    ) async throws -> RunOutcome {
        let record = try await record(prepared)
        return try await run(consume prepared, as: record, upstream: upstream, observer: observer)
    }

    /// Records a new run for `prepared`, so that its id is known before it starts (the server answers with it).
    public func record(_ prepared: PreparedRun) async throws -> RunRecord {
        try await store.createRun(NewRun(prepared, runsDirectory: runsDirectory))
    }

    /// Runs `prepared` as the run `record` (from ``record(_:)``, or ``RunStore/claimForResume(runID:steps:)`` with the
    /// attempts its steps made before). Handed over, `prepared` is freed once the steps have ended: a fan-out's
    /// instances are not kept while the end-of-run files are written.
    public func run(
        _ prepared: consuming PreparedRun, as record: RunRecord, attemptsBefore: [String: Int] = [:], upstream: UpstreamRun? = nil,
        observer: @escaping @Sendable ([RunEvent]) -> Void = { _ in }
    ) async throws -> RunOutcome {
        let request = prepared.request
        let pipeline = request.pipeline
        OwnedRuns.insert(record.id)
        defer { OwnedRuns.remove(record.id) }
        let tracker: OutputTracker?
        do { tracker = try await outputTracker(for: prepared) } catch {
            try? await recordEnd(.failed, of: record.id, pipeline: pipeline.id)
            throw error
        }
        let directory = RunDirectory(root: record.runDirectory)
        var context = RunContext(
            runID: record.id, pipeline: pipeline, workspace: workspace, directory: directory,
            parameters: prepared.parameters, secrets: request.secrets,
            secretsInEnvironmentFile: request.secretsInEnvironmentFile, trigger: record.triggerDetail)
        do {
            try directory.create(variables: context.environmentFileVariables, holdingSecrets: context.environmentFileHoldsSecrets)
            if let upstream { try await offPool { try upstream.copyOutputs(into: directory.outputs) } }
        } catch {
            // Nothing ran; the run must not stay "running" in the store.
            try? await recordEnd(.failed, of: record.id, pipeline: pipeline.id)
            throw SluiceError(.file, "cannot create the run directory: \(error)", file: directory.root)
        }
        if record.status == .queued {
            let heartbeat = LeaseHeartbeat(runID: record.id, store: store)
            defer { heartbeat.stop() }
            do { try await waitForTurn(record.id) } catch {
                // Cancelled while waiting: nothing ran.
                let skipped = prepared.plan.included.map {
                    RunEvent(
                        runID: record.id, pipeline: pipeline.id, kind: .stepSkipped(step: $0.step.name, reason: "the run was cancelled while queued"))
                }
                try await recordEnd(.cancelled, of: record.id, pipeline: pipeline.id, after: skipped)
                return try await Task { try await finish(record.id, pipeline: pipeline, directory: directory, mask: context.mask) }.value
            }
        }
        let runLog = RunLog(path: directory.runLog, mask: context.mask)
        let writeFailure = StoreWriteFailure()
        let store = store
        let lineage = self.lineage.map {
            LineageEmitter(target: $0, runID: record.id, pipeline: prepared.plan.pipeline, workspace: workspace, mask: context.mask)
        }
        if let traceEndpoint, await TraceExport.shared.start(endpoint: traceEndpoint) {
            // A run this command started continues the trace it was started in (a CI job's, a parent run's step);
            // a server's or scheduler's runs each begin their own.
            let commandLine = ["cli", "step"].contains(record.trigger) || record.trigger.hasPrefix("parent:")
            context.traces = RunTraces(
                runID: record.id, pipeline: pipeline.id, trigger: record.trigger, start: Date(), mask: context.mask,
                parent: commandLine ? ProcessInfo.processInfo.environment["TRACEPARENT"] : nil)
        }
        let traces = context.traces
        let versionsSync = tracker?.versionsSync
        let batcher = EventBatcher { batch in
            writeFailure.attempt {
                // Versions and annotations were renamed into place unsynced: one sync makes the batch's renames
                // durable before the store records them.
                if let versionsSync, batch.contains(where: \.kind.recordsOutputs) { try versionsSync.sync() }
                try store.write(batch)
            }
            runLog.write(batch)
            observer(batch)
            lineage?.observe(batch)
            traces?.observe(batch)
        }
        let emit: @Sendable (RunEvent) -> Void = batcher.append
        emit(RunEvent(runID: record.id, pipeline: pipeline.id, kind: .runStarted(steps: prepared.plan.included.map(\.step.name))))
        let status = await runSteps(
            of: consume prepared, as: record.id, context: context, tracker: consume tracker, attemptsBefore: attemptsBefore,
            upstream: upstream, emit: emit)
        emit(RunEvent(runID: record.id, pipeline: pipeline.id, kind: .runFinished(status: status)))
        await batcher.flush()
        runLog.close()
        lineage?.finish()
        if let error = writeFailure.error {
            throw SluiceError(
                .store,
                "recording run \(record.id) failed: \(StoreLocation.explain(error)); "
                    + "its state in the store is incomplete, its steps' logs and outputs are in \(directory.root)")
        }
        // A fresh task: a cancelled run must still read back and write its final record, and GRDB refuses
        // to work for a cancelled task.
        return try await Task { try await finish(record.id, pipeline: pipeline, directory: directory, mask: context.mask) }.value
    }

    /// Schedules the plan's steps until each has ended, and returns the run's status. Everything per step (the plan,
    /// the scheduler's state, the outcomes) lives in this call only.
    private func runSteps(
        of prepared: consuming PreparedRun, as runID: String, context: RunContext, tracker: consuming OutputTracker?,
        attemptsBefore: [String: Int], upstream: UpstreamRun?, emit: @escaping @Sendable (RunEvent) -> Void
    ) async -> RunStatus {
        let request = prepared.request
        let scheduler = Scheduler(
            plan: prepared.plan, context: context, executor: executor, tracker: tracker,
            options: .init(
                jobs: request.jobs, capacity: request.capacity, continueOnError: request.continueOnError,
                attemptsBefore: attemptsBefore, parameters: prepared.parameters, statesBefore: upstream?.states ?? [:],
                valuesBefore: upstream?.values ?? [:], instancesBefore: upstream?.instances ?? [:]), pools: store, emit: emit)
        // A cancel asked for through the store (from another host, see ``RunCancellation``) comes with a renewal.
        let heartbeat = LeaseHeartbeat(runID: runID, store: store) {
            scheduler.cancel(why: "asked for from another process, through the store")
        }
        let outcomes = await scheduler.run()
        heartbeat.stop()
        // Nothing a step started outlives its run, not even a daemon that detached from the step's process group; nor
        // does a pool slot a step could not give back.
        _ = try? await offPool { ProcessTable.endLeftovers(ofRun: runID) }
        if prepared.plan.pipeline.steps.contains(where: { $0.pool != nil }) { await scheduler.releaseEveryPoolSlot() }
        return Self.status(of: Array(outcomes.values), cancelled: Task.isCancelled || scheduler.isCancelled)
    }

    /// Records the end of a run that did not get to run its steps, without blocking a thread: a blocking PostgreSQL
    /// write needs the cooperative pool itself to finish.
    private func recordEnd(_ status: RunStatus, of runID: String, pipeline: String, after events: [RunEvent] = []) async throws {
        try await store.writeEvents(events + [RunEvent(runID: runID, pipeline: pipeline, kind: .runFinished(status: status))])
    }

    /// A queued run (`concurrency: queue`) waits here until the earlier runs of its pipeline have ended, whichever
    /// process runs them; throws if the task is cancelled meanwhile.
    private func waitForTurn(_ runID: String) async throws {
        while try await !store.startIfFirstInQueue(runID: runID) {
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Change detection and versioning, when a step to run declares outputs.
    private func outputTracker(for prepared: PreparedRun) async throws -> OutputTracker? {
        guard prepared.plan.included.contains(where: { !$0.step.outputs.isEmpty }) else { return nil }
        // The pipeline with its templates filled in, as the steps are checked: a temporary output's readers are too.
        let pipeline = prepared.plan.pipeline
        let known = try await store.outputState(pipeline: pipeline.id)
        return OutputTracker(
            pipeline: pipeline, workspace: workspace, versionsDirectory: versionsDirectory, parameters: prepared.parameters,
            force: prepared.request.force, previous: known.fingerprints, cache: try await store.runCache(pipeline: pipeline.id),
            knownHashes: known.hashes)
    }

    /// Reads back what was recorded, so the summary and status file say exactly what the store says.
    private func finish(_ runID: String, pipeline: Pipeline, directory: RunDirectory, mask: SecretMask) async throws -> RunOutcome {
        guard let finished = try await store.run(id: runID) else { throw SluiceError(.store, "run \(runID) vanished") }
        let steps = try await store.stepRuns(runID: runID)
        try RunSummary.write(run: finished, steps: steps, directory: directory, to: directory.summary)
        let actions = try await store.recoveryActions(runID: runID)
        let report = RunReport(
            run: finished, steps: steps, attempts: try await store.attempts(runID: runID), actions: actions,
            outputs: RunReport.files(in: directory.outputs))
        try report.write(to: directory.report, redact: mask.redact)
        try await StatusFile.refresh(pipeline, from: store, pipelinesDirectory: pipelinesDirectory)
        var outcome = RunOutcome(run: finished, steps: steps)
        let targets = pipeline.notify + notify
        if [.failed, .partialSuccess].contains(finished.status) || targets.contains(where: { $0.on.contains(finished.status) }) {
            let notification = ReviewNotification(
                run: finished, steps: steps, actions: actions,
                versions: { name in
                    OutputVersions(
                        versionsDirectory: versionsDirectory, pipeline: pipeline.id, step: name,
                        workspace: workspace)
                }, workspace: workspace)
            outcome.notifications = await NotificationDelivery(workspace: workspace, mask: mask)
                .deliver(notification, to: targets, directory: directory)
        }
        try await store.writeEvents([RunEvent(runID: runID, pipeline: pipeline.id, kind: .reportsWritten)])
        return outcome
    }

    /// A run's overall status: success; partial_success when failures were recovered (or tolerated by
    /// `allow_failure`) and the pipeline went on; failed when a failure was not recovered or stopped steps after it.
    static func status(of outcomes: [StepOutcome], cancelled: Bool) -> RunStatus {
        if cancelled || outcomes.contains(where: { $0.state == .cancelled }) { return .cancelled }
        if outcomes.contains(where: { $0.state.isFailure && !$0.allowed && !$0.recovered }) { return .failed }
        if outcomes.contains(where: \.skippedByFailure) { return .failed }
        if outcomes.contains(where: { $0.allowed || $0.recovered }) { return .partialSuccess }
        return .success
    }
}

extension NewRun {
    /// The run `prepared` is, to record.
    public init(_ prepared: PreparedRun, runsDirectory: String) {
        let request = prepared.request
        self.init(
            pipeline: request.pipeline.id, trigger: request.trigger, parameters: prepared.parameters, selection: request.selection,
            runsDirectory: runsDirectory, steps: prepared.plan.included.map(\.step.name), concurrency: request.pipeline.concurrency,
            detail: request.triggerDetail, claim: request.claim)
    }
}

/// Remembers the first failed store write; a failed batch is tried again a few times first (the disk may be
/// momentarily busy or full).
private final class StoreWriteFailure: Sendable {
    private let first = Mutex<(any Error)?>(nil)

    var error: (any Error)? { first.withLock { $0 } }

    /// Writes unless an earlier write failed for good: a later batch on top of a lost one would record a state that
    /// never was (a run that succeeded with a step that never ended). The run is then recorded failed as a whole.
    func attempt(_ write: () throws -> Void) {
        guard error == nil else { return }
        var failure: (any Error)?
        for delay in [0.0, 0.05, 0.2, 1.0] {
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            do { return try write() } catch { failure = error }
        }
        first.withLock { $0 = $0 ?? failure }
    }
}
