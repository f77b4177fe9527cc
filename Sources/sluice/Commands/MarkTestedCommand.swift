import ArgumentParser
import Foundation
import SluiceKit

struct MarkTestedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-tested", abstract: "Set a step's tested mark (shown by `list` and in the status file), or clear it.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Argument(help: "The step.", completion: Completions.steps)
    var step: String

    @Flag(help: "Clear the mark instead.")
    var unmark = false

    func run() async throws {
        let configuration = try workspace.configuration()
        let catalog = PipelineCatalog.scan(configuration.pipelinesDirectory)
        let pipeline = try workspace.pipeline(self.pipeline, in: catalog)
        _ = try workspace.step(step, of: pipeline)
        let store = try await workspace.store(configuration)
        try await TestedMark.set(!unmark, step: step, of: pipeline, store: store, pipelinesDirectory: configuration.pipelinesDirectory)
        print("\(pipeline.id)/\(step): \(unmark ? "no longer marked tested" : "marked tested")")
    }
}
