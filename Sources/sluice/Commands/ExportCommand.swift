import ArgumentParser
import Foundation
import SluiceKit

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a run, its steps and attempts as JSON, CSV (steps) or an XLSX workbook.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run id.", completion: Completions.runs)
    var run: String

    @Option(help: "json, csv or xlsx.")
    var format: String = "json"

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output (needed for xlsx).")
    var output: String?

    func run() async throws {
        guard let format = RunExport.Format(rawValue: format) else {
            throw fail("--format must be one of: \(RunExport.Format.allCases.map(\.rawValue).joined(separator: ", "))", ExitCode(64))
        }
        if format == .xlsx && output == nil { throw fail("an XLSX workbook is binary: give a file with --output", ExitCode(64)) }
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let record = try await workspace.run(run, in: store)
        let data = try RunExport(run: record, steps: try await store.stepRuns(runID: run), attempts: try await store.attempts(runID: run))
            .data(format)
        if let output {
            let path = output.hasPrefix("/") ? output : FileManager.default.currentDirectoryPath + "/" + output
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try AtomicFile.write(data, to: path)
            } catch {
                throw fail("cannot write \(output): \(error)", ExitStatus.internalError)
            }
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}
