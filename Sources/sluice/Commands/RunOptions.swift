import ArgumentParser
import Foundation
import SluiceKit
import Synchronization

/// Options shared by `run` and `step`.
struct RunOptions: ParsableArguments {
    @Option(
        name: [.short, .customLong("param")], help: ArgumentHelp("A parameter value, repeatable.", valueName: "name=value"),
        completion: Completions.parameters)
    var parameters: [String] = []

    @OptionGroup var parameterFiles: ParameterFileOptions

    @Option(name: .shortAndLong, help: "Steps run at once (default: the number of cores, or `jobs` in sluice.yaml).")
    var jobs: Int?

    @Option(help: "CPUs the steps may use at once, by their resources.cpus (default: the number of cores, or `cpus` in sluice.yaml).")
    var cpus: Int?

    @Option(
        help: ArgumentHelp(
            "Memory the steps may use at once, by their resources.memory (default: the machine's, or `memory` in sluice.yaml).", valueName: "amount"))
    var memory: String?

    /// The settings these options override, by their keys in `sluice.yaml`.
    var overrides: [String: String] {
        var settings: [String: String] = [:]
        settings["jobs"] = jobs.map(String.init)
        settings["cpus"] = cpus.map(String.init)
        settings["memory"] = memory
        return settings
    }

    @Flag(help: "Run every step that does not depend on a failed one, instead of stopping at the first failure.")
    var continueOnError = false

    @Flag(help: "Run steps with declared outputs even when they are up to date.")
    var force = false

    @Flag(help: "Print the plan, in order, with why each step is in or out; run nothing.")
    var dryRun = false

    @Flag(help: "Print the finished run as JSON instead of a summary.")
    var json = false

    func parsedParameters() throws -> [String: String] { try Self.parameterValues(parameters) }

    /// `name=value` items as a dictionary.
    static func parameterValues(_ items: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("-p takes name=value, not '\(item)'")
            }
            values[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return values
    }
}

/// Validates, plans and runs one request; shared by `run` and `step`.
enum RunDriver {
    /// Where steps that run without their upstream steps take what those passed on.
    enum Upstream {
        /// From the newest run where each succeeded, or from this run (`sluice step`).
        case newest(orRun: String?)
        /// As a retry takes them from the run it retries.
        case given(UpstreamRun)
    }

    /// `parameters` are the run's before `-p` changes them (a retry's, the retried run's). `ended` sees the run
    /// as recorded before the command exits (see ``drive(_:store:configuration:json:succeeded:ended:start:)``).
    static func execute(
        _ workspace: WorkspaceOptions, pipelineName: String, selection: Selection, options: RunOptions,
        trigger: String, parameters: [String: String] = [:], upstream source: Upstream? = nil,
        succeeded: Set<RunStatus> = [.success], ended: (RunOutcome) throws -> Void = { _ in }
    ) async throws {
        if let jobs = options.jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let configuration = try workspace.configuration(overrides: options.overrides)
        let catalog = PipelineCatalog.scan(configuration.pipelinesDirectory, only: pipelineName)
        let pipeline = try workspace.pipeline(pipelineName, in: catalog)
        let values = parameters.merging(try options.parsedParameters()) { _, given in given }
        var request: RunRequest
        do {
            request = try configuration.request(
                pipeline, selection: selection, parameters: values, parametersFiles: options.parameterFiles.paths, trigger: trigger)
        } catch {
            throw fail("\(error)\nnothing was run", ExitStatus.invalidInput)
        }
        request.continueOnError = options.continueOnError
        request.force = options.force
        let prepared: PreparedRun
        do { prepared = try PipelineRunner.prepare(request) } catch {
            throw fail("\(error)\nnothing was run", ExitStatus.invalidInput)
        }
        if options.dryRun {
            // Change detection as the run would do it, against the store if there is one: a dry run creates none,
            // migrates nothing and recovers nothing.
            let store: (any RunStore)? =
                if case let .sqlite(path) = configuration.store, !FileManager.default.fileExists(atPath: path) {
                    nil
                } else {
                    try? await configuration.store.open(timeout: configuration.storeTimeout, migrate: false)
                }
            // A store of an older schema (or one that does not answer) has nothing to say: every step is shown to run.
            let changes =
                (try? await ChangeExplanation.explain(
                    prepared, store: store, workspace: configuration.workspace,
                    versionsDirectory: configuration.versionsDirectory)) ?? [:]
            print(PlanText.render(prepared, jobs: configuration.jobs, changes: changes))
            return
        }
        let store = try await workspace.store(configuration)
        var upstream: UpstreamRun?
        switch source {
        case let .newest(run):
            do { upstream = try await UpstreamRun.find(for: prepared, in: store, fromRun: run) } catch let error as SluiceError {
                throw fail("\(error)\nnothing was run", ExitStatus.of(error.code))
            }
            if let upstream, !options.json {
                let byRun = Dictionary(grouping: upstream.sources, by: \.runID)
                for (run, steps) in byRun.sorted(by: { $0.key < $1.key }) {
                    let names =
                        steps.prefix(5).map { "'\($0.step)'" }.joined(separator: ", ") + (steps.count > 5 ? " and \(steps.count - 5) more" : "")
                    Console.write("taking the values and outputs of \(names) from run \(run)\n")
                }
            }
        case let .given(given): upstream = given
        case nil: break
        }
        try await drive(consume prepared, store: store, configuration: configuration, json: options.json, succeeded: succeeded, ended: ended) {
            [upstream] runner, prepared, observer in
            try await runner.run(consume prepared, upstream: upstream, observer: observer)
        }
    }

    /// Runs a prepared run with live progress, Ctrl-C handling and the final summary, hands it to `ended`, then
    /// exits as the run ended: 0 when its status is one of `succeeded`. `start` is handed `prepared` to own, so that
    /// the run can free its plan before it writes the end-of-run files.
    static func drive(
        _ prepared: consuming PreparedRun, store: any RunStore, configuration: Configuration, json: Bool,
        succeeded: Set<RunStatus> = [.success], ended: (RunOutcome) throws -> Void = { _ in },
        start: @escaping @Sendable (PipelineRunner, consuming PreparedRun, @escaping @Sendable ([RunEvent]) -> Void) async throws -> RunOutcome
    )
        async throws
    {
        let pipeline = prepared.request.pipeline
        let executor = configuration.executor(for: store)
        let runner = configuration.runner(store: store, executor: executor)
        let estimates =
            (try? await store.stepStatuses(pipeline: pipeline.id))?.reduce(into: [String: Double]()) { $0[$1.step] = $1.lastDuration } ?? [:]
        let reporter = ProgressReporter(plan: prepared.plan, jobs: configuration.jobs, estimates: estimates, quiet: json)
        let handoff = Handoff(consume prepared)
        let task = Task { try await start(runner, handoff.take(), reporter.handle) }
        // The first Ctrl-C stops the steps gracefully; a second one kills them at once.
        let trap = SignalTrap { count in
            task.cancel()
            if count > 1 { executor.killAll() }
        }
        defer { trap.release() }
        let outcome: RunOutcome
        do { outcome = try await task.value } catch let error as SluiceError {
            reporter.finish()
            // A conflict is a refusal before anything ran (`concurrency: reject`).
            throw fail(error.code == .conflict ? "\(error)\nnothing was run" : "\(error)", ExitStatus.of(error.code))
        } catch {
            reporter.finish()
            throw fail("\(configuration.store): \(StoreLocation.explain(error))", ExitStatus.internalError)
        }
        reporter.finish()
        if json {
            Console.printJSON(RunDetail(run: outcome.run, steps: outcome.steps))
        } else {
            print(RunReportText.summary(outcome, logLines: configuration.logLines))
        }
        try ended(outcome)
        if !succeeded.contains(outcome.run.status) {
            throw outcome.run.status == .cancelled && trap.received == SIGTERM ? ExitCode(143) : ExitStatus.of(outcome.run.status)
        }
    }
}

/// A run and its steps, as `--json` prints them.
struct RunDetail: Encodable {
    var run: RunRecord
    var steps: [StepRunRecord]
}

/// Passes a value on once: the taker owns the only copy, which its holder would otherwise keep until it ends.
private final class Handoff<Value: Sendable>: Sendable {
    private let value: Mutex<Value?>

    init(_ value: consuming Value) { self.value = Mutex(value) }

    func take() -> Value { value.withLock { $0.take()! } }
}
