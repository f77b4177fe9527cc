import ArgumentParser
import Foundation
import SluiceKit

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "A new run of a run's steps that did not succeed, with its parameters but those -p changes.",
        discussion: """
            The steps that succeeded are not run again and count as done for those that depend on them. The new run's \
            trigger is retry:ID. `sluice resume` instead continues the same run, in its own directory.
            """)

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run to retry.", completion: Completions.runs)
    var id: String

    @OptionGroup var options: RunOptions

    func run() async throws {
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let record = try await workspace.run(id, in: store)
        let pipeline = try workspace.pipeline(record.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let plan = try await RunRetry.plan(of: record, pipeline: pipeline, store: store)
        try await RunDriver.execute(
            workspace, pipelineName: record.pipeline, selection: plan.selection, options: options, trigger: plan.trigger,
            parameters: plan.parameters, upstream: .given(plan.upstream))
    }
}
