import ArgumentParser
import Foundation
import SluiceKit

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recent runs, newest first.")

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "Only runs of this pipeline.", completion: Completions.pipelines)
    var pipeline: String?

    @Option(help: "Only runs started so: cli, api, schedule, watch, backfill, retry, or parent:RUN for a run's child runs.")
    var trigger: String?

    @Option(help: "How many runs to show.")
    var limit = 20

    @Option(help: "How many of the newest runs to pass over (paging).")
    var offset = 0

    @Flag(help: "Print the runs as JSON.")
    var json = false

    func run() async throws {
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let runs = try await store.runs(RunFilter(pipeline: pipeline, trigger: trigger), limit: max(1, limit), offset: max(0, offset))
        if json { return Console.printJSON(runs) }
        if runs.isEmpty { return print("no runs yet") }
        print(
            Console.table(
                ["RUN", "PIPELINE", "STATUS", "STARTED", "DURATION", "STEPS", "TRIGGER"],
                runs.map { run in
                    [
                        run.id, run.pipeline, run.status.rawValue, Timestamp.iso(run.createdAt), run.duration.map(DurationFormat.short) ?? "-",
                        String(run.stepsTotal), run.trigger,
                    ]
                }))
    }
}
