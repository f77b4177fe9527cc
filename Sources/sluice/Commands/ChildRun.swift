import ArgumentParser
import Foundation
import SluiceKit

/// `sluice run --as-child`: the run that a `pipeline:` step starts (the step's command is this one), recorded as
/// started by that step of that run: its trigger is `parent:RUN:STEP`.
///
/// Started again for the same step (the parent resumed, or the step retried), it does not start over: a child run
/// that succeeded is not run again, and one that did not is resumed in place. Its steps' values become the step's
/// values (`$SLUICE_OUTPUT`): a key written by several steps takes the value of the last in the pipeline's order.
enum ChildRun {
    static func execute(_ workspace: WorkspaceOptions, pipelineName: String, selection: Selection, options: RunOptions) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let parentRun = environment["SLUICE_RUN_ID"], let parentStep = environment["SLUICE_STEP"], !parentRun.isEmpty,
            !parentStep.isEmpty
        else {
            throw fail("--as-child runs a pipeline as a step of a run: SLUICE_RUN_ID and SLUICE_STEP are not set", ExitStatus.invalidInput)
        }
        // Read now: the child's own steps do not see the parent's.
        let valuesFile = environment["SLUICE_OUTPUT"]
        let trigger = RunRecord.childTrigger(run: parentRun, step: parentStep)
        let succeeded: Set<RunStatus> = [.success, .partialSuccess]
        let passOn: (RunRecord, [StepRunRecord]) throws -> Void = { run, steps in
            guard let valuesFile, succeeded.contains(run.status) else { return }
            try write(values(of: steps), to: valuesFile)
        }
        let configuration = try workspace.configuration(overrides: options.overrides)
        let store = try await workspace.store(configuration)
        guard let parent = try await store.run(id: parentRun), parent.status == .running else {
            throw fail("--as-child runs a pipeline as a step of a running run, and run '\(parentRun)' is not running", ExitStatus.invalidInput)
        }
        ParentWatch.start()
        // The child this step started before, if the step runs the same pipeline with the same values (the parent
        // was resumed, or the step retried): a step named like another's prefix (`a` and `a:b`) shares the
        // trigger's qualified forms, and a pipeline file edited since may call another pipeline or give other values.
        let given = try options.parsedParameters()
        let earlier = try await store.runs(RunFilter(trigger: trigger), limit: 100, offset: 0).first { run in
            run.trigger == trigger && run.pipeline == pipelineName && given.allSatisfy { run.parameters[$0.key] == $0.value }
        }
        guard let earlier else {
            return try await RunDriver.execute(
                workspace, pipelineName: pipelineName, selection: selection, options: options, trigger: trigger,
                succeeded: succeeded, ended: { try passOn($0.run, $0.steps) })
        }
        if succeeded.contains(earlier.status) {
            print(
                "run \(earlier.id) of '\(earlier.pipeline)' already ran for this step and \(earlier.status.rawValue == "success" ? "succeeded" : "ended partial_success"); it is not run again"
            )
            return try passOn(earlier, try await store.stepRuns(runID: earlier.id))
        }
        print("resuming run \(earlier.id) of '\(earlier.pipeline)', started for this step before and ended \(earlier.status.rawValue)")
        let pipeline = try workspace.pipeline(earlier.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory, only: earlier.pipeline))
        let resumption: Resumption
        do {
            resumption = try await Resumption.claim(
                earlier, pipeline: pipeline, store: store, jobs: configuration.jobs, capacity: configuration.capacity,
                continueOnError: options.continueOnError,
                secrets: SecretValues.load(pipeline.secrets, file: configuration.secretsFile),
                secretsInEnvironmentFile: configuration.secretsInEnvironmentFile, workspace: configuration.workspace)
        } catch let error as SluiceError {
            throw fail("\(error)", ExitStatus.of(error.code))
        }
        try await RunDriver.drive(
            resumption.prepared, store: store, configuration: configuration, json: options.json, succeeded: succeeded,
            ended: { try passOn($0.run, $0.steps) }
        ) { runner, _, observer in
            try await runner.run(resumption, observer: observer)
        }
    }

    /// What the child's steps passed on, a later step's value winning over an earlier one's.
    private static func values(of steps: [StepRunRecord]) -> [String: String] {
        steps.sorted { $0.position < $1.position }.reduce(into: [:]) { values, step in
            values.merge(step.outputValues ?? [:]) { _, later in later }
        }
    }

    private static func write(_ values: [String: String], to path: String) throws {
        guard !values.isEmpty else { return }
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil)
        else {
            throw fail("cannot write the child run's values to \(path)", ExitStatus.internalError)
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(OutputValuesFile.render(values).utf8))
    }
}

/// Ends the child run when its parent's Sluice process dies (killed, say): the child's Sluice process then has a new
/// parent process, and cancels its run as SIGTERM does, instead of running on with nobody to take its result.
private enum ParentWatch {
    nonisolated(unsafe) private static var timer: DispatchSourceTimer?

    static func start() {
        let parent = getppid()
        let source = DispatchSource.makeTimerSource(queue: .global())
        source.schedule(deadline: .now() + 1, repeating: 1)
        source.setEventHandler { if getppid() != parent { kill(getpid(), SIGTERM) } }
        source.resume()
        timer = source
    }
}
