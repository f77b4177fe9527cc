import ArgumentParser
import Foundation
import SluiceKit

struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill", abstract: "Run a pipeline once per day, week or month of a date range.",
        discussion: """
            Each interval's run gets its dates through parameter templates: {{ schedule.date }} (the interval's first day),
            {{ schedule.end_date }} (its last) and {{ schedule.time }}, given with -p or taken from the pipeline's schedule.
            Intervals whose run succeeded, or is under way, are skipped: repeating a backfill fills only the gaps.
            Exits 0 when every interval has succeeded, 1 when a run did not, 65 for a bad range or parameters.
            """)

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Option(help: "First date (YYYY-MM-DD).")
    var from: String

    @Option(help: "Last date, included.")
    var to: String

    @Option(help: "Interval of one run: daily, weekly or monthly.")
    var step: String = "daily"

    @Option(help: "Runs at once.")
    var maxActive = 1

    @Option(
        name: [.short, .customLong("param")], help: ArgumentHelp("A parameter value or template, repeatable.", valueName: "name=value"),
        completion: Completions.parameters)
    var parameters: [String] = []

    @OptionGroup var parameterFiles: ParameterFileOptions

    @Flag(help: "List the intervals and their parameters; run nothing.")
    var dryRun = false

    func run() async throws {
        guard let step = Backfill.Step(rawValue: step) else { throw ValidationError("--step must be daily, weekly or monthly, not '\(step)'") }
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let given = try RunOptions.parameterValues(parameters)
        let values: [String: String]
        do {
            values = try configuration.parameters(for: pipeline, files: parameterFiles.paths, over: given)
        } catch { throw fail("\(error)\nnothing was run", ExitStatus.invalidInput) }
        let plan: Backfill
        do { plan = try Backfill(pipeline: pipeline, from: from, to: to, step: step, maxActive: maxActive, parameters: values) } catch {
            // The option at fault, as the command line names it.
            let options = ["from": "--from", "to": "--to", "maxActive": "--max-active"]
            let option = error.fields.keys.first.flatMap { options[$0] }
            throw fail((option.map { "\($0): " } ?? "") + error.message, ExitStatus.invalidInput)
        }
        if dryRun {
            for interval in plan.intervals {
                print(interval.key, interval.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            return
        }
        let store = try await workspace.store(configuration)
        let launcher = RunLauncher(runner: configuration.runner(store: store, executor: configuration.executor(for: store)))
        let trap = SignalTrap { _ in Task { await launcher.shutdown(because: "the backfill was interrupted") } }
        defer { trap.release() }
        let results = try await plan.start(configuration: configuration, store: store) { await launcher.run($0, as: $1, gate: $2) }
        var ended: [RunStatus] = []
        for result in results {
            switch result {
            case let .started(interval, run):
                await launcher.wait(for: run.id)
                let status = try await store.run(id: run.id)?.status ?? .failed
                ended.append(status)
                print("\(interval.key)  run \(run.id)  \(status.rawValue)")
            case let .skipped(interval, reason): print("\(interval.key)  skipped: \(reason)")
            case let .refused(interval, reason):
                ended.append(.failed)
                print("\(interval.key)  not started: \(reason)")
            }
        }
        let done = ended.count { $0 == .success }
        print("backfill \(plan.id): \(done) of \(ended.count) runs succeeded, \(results.count - ended.count) intervals skipped")
        if trap.received != nil { throw ExitStatus.cancelled }
        if done < ended.count { throw ExitStatus.failed }
    }
}
