import ArgumentParser
import Foundation
import SluiceKit

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put versions of a step's outputs back in the workspace (by default its last good state).",
        discussion: "Each file is copied atomically and checked against its recorded SHA-256. See `sluice versions` for numbers.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Argument(help: "The step.", completion: Completions.steps)
    var step: String

    @Argument(help: "Version numbers to restore; none means the last good state of every output.")
    var versions: [Int] = []

    func run() async throws {
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(self.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let step = try workspace.step(step, of: pipeline)
        let store = OutputVersions(
            versionsDirectory: configuration.versionsDirectory, pipeline: pipeline.id, step: step.name,
            workspace: configuration.workspace)
        do {
            let annotations = try store.annotations()
            let wanted = versions.isEmpty ? annotations.lastGood.map { $0.value } : versions
            guard !wanted.isEmpty else { throw fail("step '\(step.name)' has no recorded versions yet", ExitStatus.invalidInput) }
            let chosen = try wanted.sorted().map { number in
                guard let entry = annotations.versions.first(where: { $0.version == number }) else {
                    throw fail(
                        "step '\(step.name)' has no version \(number) (see sluice versions \(pipeline.id) \(step.name))",
                        ExitStatus.invalidInput)
                }
                return entry
            }
            try store.restore(chosen, from: annotations)
            for entry in chosen { print("restored \(entry.path) to v\(entry.version) (run \(entry.runID), sha256:\(entry.sha256.prefix(12)))") }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail("\(error)", ExitStatus.internalError)
        }
    }
}
