import ArgumentParser
import Foundation
import SluiceKit

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List pipelines with their steps, last status and tested marks.")

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print the list as JSON.")
    var json = false

    struct PipelineJSON: Encodable {
        var id: String
        var name: String
        var description: String
        var file: String
        var valid: Bool
        var problems: [String]
        var lastRun: RunRecord?
        var steps: [StepJSON]
    }

    struct StepJSON: Encodable {
        var name: String
        var description: String
        var dependsOn: [String]
        var completed: Bool
        var tested: Bool
        var lastRun: Date?
        var lastState: StepState?
        var error: String?
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let catalog = PipelineCatalog.scan(configuration.pipelinesDirectory)
        let store = try await workspace.store(configuration)
        var items: [PipelineJSON] = []
        for entry in catalog.entries {
            let statuses = try await store.stepStatuses(pipeline: entry.id)
            let byStep = Dictionary(statuses.map { ($0.step, $0) }, uniquingKeysWith: { first, _ in first })
            let lastRun = try await store.runs(pipeline: entry.id, limit: 1, offset: 0).first
            let steps = (entry.pipeline?.steps ?? []).map { step in
                let status = byStep[step.name]
                return StepJSON(
                    name: step.name, description: step.description, dependsOn: step.dependsOn,
                    completed: status?.completed ?? false, tested: status?.tested ?? false,
                    lastRun: status?.lastRun, lastState: status?.lastState, error: status?.error)
            }
            items.append(
                PipelineJSON(
                    id: entry.id, name: entry.pipeline?.name ?? entry.id, description: entry.pipeline?.description ?? "",
                    file: entry.file, valid: entry.pipeline != nil, problems: entry.diagnostics.map(\.description),
                    lastRun: lastRun, steps: steps))
        }
        if json { return Console.printJSON(items) }
        if items.isEmpty { return print("no pipelines in \(catalog.directory)") }
        for item in items {
            let last = item.lastRun.map { "last run \($0.id) \($0.status.rawValue) \(Timestamp.iso($0.createdAt))" } ?? "never run"
            let head = Console.paint(item.id, .bold) + (item.name != item.id ? " (\(item.name))" : "")
            guard item.valid else {
                print("\(head)  " + Console.paint("invalid: \(item.problems.count) problem(s); run sluice validate \(item.id)", .red))
                continue
            }
            print("\(head)  \(item.steps.count) steps  \(last)")
            let rows = item.steps.map { step in
                [
                    "  " + step.name, step.completed ? "completed" : (step.lastState?.rawValue ?? "-"), step.tested ? "tested" : "-",
                    step.description,
                ]
            }
            print(Console.table(["  STEP", "STATE", "TESTED", "DESCRIPTION"], rows))
        }
    }
}
