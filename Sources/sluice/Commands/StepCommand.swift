import ArgumentParser
import SluiceKit

struct StepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step", abstract: "Run one step of a pipeline on its own (or with its upstream steps).")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Argument(help: "The step (or several).", completion: Completions.steps)
    var steps: [String]

    @Flag(help: "Also run every step the chosen ones depend on.")
    var withDeps = false

    @Option(
        help: ArgumentHelp(
            "Take the upstream steps' values and outputs folder from this run (default: the newest run where each succeeded).",
            valueName: "run"))
    var fromRun: String?

    @OptionGroup var options: RunOptions

    func run() async throws {
        if let fromRun, fromRun.allSatisfy(\.isWhitespace) { throw ValidationError("--from-run takes a run id (see sluice runs)") }
        if withDeps, fromRun != nil { throw ValidationError("--from-run takes upstream values for steps run without them: drop it, or --with-deps") }
        try await RunDriver.execute(
            workspace, pipelineName: pipeline, selection: Selection(steps: steps, withDependencies: withDeps),
            options: options, trigger: "step", upstream: .newest(orRun: fromRun))
    }
}
