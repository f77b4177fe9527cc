import ArgumentParser
import Foundation
import SluiceKit

struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Say why a step would run or be skipped as up to date: which input, parameter or script changed.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.")
    var pipeline: String

    @Argument(help: "The step.")
    var step: String

    @Option(
        name: [.short, .customLong("param")], help: ArgumentHelp("A parameter value of the run to consider, repeatable.", valueName: "name=value"))
    var parameters: [String] = []

    @Flag(help: "Print the answer as JSON.")
    var json = false

    /// The answer as `--json` prints it.
    struct Answer: Encodable {
        var pipeline: String
        var step: String
        var upToDate: Bool
        /// One line per cause; for a step up to date, why it is.
        var reasons: [String]
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(self.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let step = try workspace.step(step, of: pipeline)
        let given = try RunOptions.parameterValues(parameters)
        let values: [String: String]
        switch ParameterBinding.bind(given, to: pipeline.parameters) {
        case let .success(bound): values = bound
        case let .failure(errors): throw fail("\(errors)", ExitStatus.invalidInput)
        }
        let explanation = try await ChangeExplanation.explain(
            step, in: pipeline, parameters: values, store: try await workspace.store(configuration),
            workspace: configuration.workspace,
            versionsDirectory: configuration.versionsDirectory)
        if json {
            return Console.printJSON(Answer(pipeline: pipeline.id, step: step.name, upToDate: explanation.upToDate, reasons: explanation.reasons))
        }
        print("\(pipeline.id)/\(step.name) " + (explanation.upToDate ? "would be skipped: up to date" : "would run:"))
        for reason in explanation.reasons { print("  - \(reason)") }
    }
}
