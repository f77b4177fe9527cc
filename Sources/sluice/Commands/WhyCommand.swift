import ArgumentParser
import Foundation
import SluiceKit

struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Say why a step would run or be skipped as up to date: which input, parameter or script changed.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Argument(
        help: "The step, an instance of a fan-out (map[A]), or a fan-out for each of its instances.", completion: Completions.steps)
    var step: String

    @Option(
        name: [.short, .customLong("param")], help: ArgumentHelp("A parameter value of the run to consider, repeatable.", valueName: "name=value"),
        completion: Completions.parameters)
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
        _ = try workspace.step(step, of: pipeline)
        let given: [String: String]
        do { given = try configuration.parameters(for: pipeline, over: RunOptions.parameterValues(parameters)) } catch let error as DefinitionError {
            throw fail("\(error)", ExitStatus.invalidInput)
        }
        let values: [String: String]
        switch ParameterBinding.bind(given, to: pipeline.parameters) {
        case let .success(bound): values = bound
        case let .failure(errors): throw fail("\(errors)", ExitStatus.invalidInput)
        }
        // The instances as a run with these parameters would have them.
        let expanded: Pipeline
        do { expanded = try PipelineRunner.expand(pipeline, parameters: values, workspace: configuration.workspace) } catch {
            throw fail("\(error)", ExitStatus.invalidInput)
        }
        let steps = expanded.step(named: step).map { [$0] } ?? expanded.steps.filter { $0.instance?.of == step }
        guard !steps.isEmpty else {
            throw fail("'\(step)' is no step of '\(pipeline.id)' with these parameters (its fan-out has no such item)", ExitStatus.invalidInput)
        }
        let store = try await workspace.store(configuration)
        var answers: [Answer] = []
        for step in steps {
            let explanation = try await ChangeExplanation.explain(
                step, in: expanded, parameters: values, store: store, workspace: configuration.workspace,
                versionsDirectory: configuration.versionsDirectory)
            answers.append(Answer(pipeline: pipeline.id, step: step.name, upToDate: explanation.upToDate, reasons: explanation.reasons))
        }
        if json { return answers.count == 1 && expanded.step(named: step) != nil ? Console.printJSON(answers[0]) : Console.printJSON(answers) }
        for answer in answers {
            print("\(answer.pipeline)/\(answer.step) " + (answer.upToDate ? "would be skipped: up to date" : "would run:"))
            for reason in answer.reasons { print("  - \(reason)") }
        }
    }
}
