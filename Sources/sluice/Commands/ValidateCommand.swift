import ArgumentParser
import Foundation
import SluiceKit

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check pipeline files and report every problem with file:line:column.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "Pipelines to check (default: all).", completion: Completions.pipelines)
    var pipelines: [String] = []

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Report: Encodable {
        var pipeline: String
        var file: String
        var valid: Bool
        var diagnostics: [DiagnosticJSON]
    }

    struct DiagnosticJSON: Encodable {
        var code: String
        var severity: String
        var file: String
        var line: Int
        var column: Int
        var message: String
        var fix: String?
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let catalog = PipelineCatalog.scan(configuration.pipelinesDirectory)
        var entries = catalog.entries
        if !pipelines.isEmpty {
            for name in pipelines where catalog.entry(name) == nil {
                throw fail("no pipeline '\(name)' in \(catalog.directory)", ExitStatus.invalidInput)
            }
            // Every file of an id: two files that share one are both reported.
            entries = pipelines.flatMap { name in
                let files = catalog.entries.filter { $0.id == name }
                return files.isEmpty ? [catalog.entry(name)].compactMap { $0 } : files
            }
        }
        // A valid pipeline's warnings: its own, and the settings its steps' executor ignores in this workspace.
        func warnings(_ entry: PipelineCatalog.Entry) -> [Diagnostic] {
            entry.pipeline.map { $0.warnings + $0.ignoredPlacements(defaultExecutor: configuration.executor) } ?? []
        }
        // And what this workspace cannot give it (an undefined pool).
        func errors(_ entry: PipelineCatalog.Entry) -> [Diagnostic] { entry.diagnostics + (entry.pipeline.map(configuration.problems) ?? []) }
        let reports = entries.map { entry in
            Report(
                pipeline: entry.id, file: entry.file, valid: errors(entry).isEmpty,
                diagnostics: (errors(entry) + warnings(entry)).map {
                    DiagnosticJSON(
                        code: $0.code.rawValue, severity: $0.severity.rawValue, file: $0.location.file, line: $0.location.line,
                        column: $0.location.column, message: $0.message, fix: $0.fix)
                })
        }
        if json {
            Console.printJSON(reports)
        } else {
            for entry in entries {
                if let pipeline = entry.pipeline, errors(entry).isEmpty {
                    print(Console.paint("ok", .green) + "       \(entry.id) (\(pipeline.steps.count) step\(pipeline.steps.count == 1 ? "" : "s"))")
                    for warning in warnings(entry) { print(warning.description) }
                } else {
                    print(Console.paint("invalid", .red) + "  \(entry.id)")
                    for diagnostic in errors(entry) { print(diagnostic.description) }
                }
            }
            if entries.isEmpty { print("no pipelines in \(catalog.directory)") }
        }
        if reports.contains(where: { !$0.valid }) { throw ExitStatus.invalidInput }
    }
}
