import ArgumentParser
import Foundation
import SluiceKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a pipeline, or the part of it that the selection flags choose.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline (its file name without .yaml).", completion: Completions.pipelines)
    var pipeline: String

    @Option(help: "A mode declared under `modes:` (a named subset of steps).")
    var mode: String?

    @Option(parsing: .upToNextOption, help: "Start at these steps: they and everything downstream.")
    var from: [String] = []

    @Option(parsing: .upToNextOption, help: "Stop at these steps: they and everything upstream.")
    var to: [String] = []

    @Option(parsing: .upToNextOption, help: "Run exactly these steps (comma-separated or repeated).")
    var only: [String] = []

    @Option(parsing: .upToNextOption, help: "Leave these steps out (comma-separated or repeated).")
    var skip: [String] = []

    @OptionGroup var options: RunOptions

    @Flag(
        help: """
            Run it as the child of the step running this command ($SLUICE_RUN_ID, $SLUICE_STEP), as a `pipeline:` step \
            does: run again for that step, it is not rerun once it succeeded and is resumed otherwise, and its values \
            become the step's.
            """)
    var asChild = false

    func run() async throws {
        let selection = Selection(from: split(from), to: split(to), only: split(only), skip: split(skip), mode: mode)
        if asChild { return try await ChildRun.execute(workspace, pipelineName: pipeline, selection: selection, options: options) }
        try await RunDriver.execute(workspace, pipelineName: pipeline, selection: selection, options: options, trigger: "cli")
    }

    private func split(_ values: [String]) -> [String] {
        values.flatMap { StepList.split($0) }
    }
}
