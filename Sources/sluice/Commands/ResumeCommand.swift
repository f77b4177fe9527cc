import ArgumentParser
import Foundation
import SluiceKit

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted or failed run: its steps that did not succeed run again, with the same id and directory.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run's id.", completion: Completions.runs)
    var id: String

    @Option(name: .shortAndLong, help: "Steps run at once (default: the number of cores, or `jobs` in sluice.yaml).")
    var jobs: Int?

    @Flag(help: "Run every step that does not depend on a failed one, instead of stopping at the first failure.")
    var continueOnError = false

    @Flag(help: "Print the finished run as JSON instead of a summary.")
    var json = false

    func run() async throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let configuration = try workspace.configuration(overrides: jobs.map { ["jobs": String($0)] } ?? [:])
        let store = try await workspace.store(configuration)  // a run whose process died is marked interrupted here
        let record = try await workspace.run(id, in: store)
        let pipeline = try workspace.pipeline(record.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let resumption = try await Resumption.claim(
            record, pipeline: pipeline, store: store, jobs: configuration.jobs, capacity: configuration.capacity, continueOnError: continueOnError,
            secrets: SecretValues.load(pipeline.secrets, file: configuration.secretsFile),
            secretsInEnvironmentFile: configuration.secretsInEnvironmentFile, workspace: configuration.workspace)
        try await RunDriver.drive(resumption.prepared, store: store, configuration: configuration, json: json) { runner, _, observer in
            try await runner.run(resumption, observer: observer)
        }
    }
}
