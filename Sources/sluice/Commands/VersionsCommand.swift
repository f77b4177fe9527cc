import ArgumentParser
import Foundation
import SluiceKit

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List the versions of the declared outputs of a pipeline's steps (newest, history, last good).")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The pipeline.", completion: Completions.pipelines)
    var pipeline: String

    @Argument(help: "Only this step.", completion: Completions.steps)
    var step: String?

    @Flag(help: "Print the annotations as JSON.")
    var json = false

    func run() async throws {
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(self.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let steps = try step.map { [try workspace.step($0, of: pipeline)] } ?? pipeline.steps.filter { !$0.outputs.isEmpty }
        var all: [OutputAnnotations] = []
        for step in steps {
            let versions = OutputVersions(
                versionsDirectory: configuration.versionsDirectory, pipeline: pipeline.id, step: step.name,
                workspace: configuration.workspace)
            do { all.append(try versions.annotations()) } catch { throw fail("\(error)", ExitStatus.internalError) }
        }
        if json { return Console.printJSON(all) }
        for annotations in all {
            print(
                Console.paint("\(annotations.pipeline)/\(annotations.step)", .bold)
                    + (annotations.versions.isEmpty ? ": no versions yet" : ""))
            for entry in annotations.versions.reversed() {
                var marks: [String] = []
                if annotations.newest(entry.path)?.version == entry.version { marks.append("newest") }
                if annotations.lastGood[entry.path] == entry.version { marks.append("last good") }
                print(
                    "  v\(entry.version)  \(entry.path)  \(entry.size) bytes  sha256:\(entry.sha256.prefix(12))  run \(entry.runID)  "
                        + entry.recordedAt + (marks.isEmpty ? "" : "  (\(marks.joined(separator: ", ")))"))
            }
        }
    }
}
