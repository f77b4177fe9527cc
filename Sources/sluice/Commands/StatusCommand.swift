import ArgumentParser
import Foundation
import SluiceKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a run: every step's state, attempts, exit code, timing and resources.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run id.")
    var run: String

    @Flag(help: "Print the run, its steps and attempts as JSON.")
    var json = false

    struct Detail: Encodable {
        var run: RunRecord
        var steps: [StepRunRecord]
        var attempts: [AttemptRecord]
        var recoveryActions: [Recovery]
    }

    struct Recovery: Encodable {
        var step: String
        var action: RecoveryAction
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let record = try await workspace.run(run, in: store)
        let steps = try await store.stepRuns(runID: run)
        let actions = try await store.recoveryActions(runID: run)
        if json {
            return Console.printJSON(
                Detail(
                    run: record, steps: steps, attempts: try await store.attempts(runID: run),
                    recoveryActions: actions.map { Recovery(step: $0.step, action: $0.action) }))
        }
        print(
            "run \(Console.paint(record.id, .bold))  pipeline \(record.pipeline)  \(record.status.rawValue)  started \(Timestamp.iso(record.createdAt))"
                + (record.duration.map { "  took \(DurationFormat.short($0))" } ?? ""))
        if !record.parameters.isEmpty {
            print("parameters: " + record.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        print(
            Console.table(
                ["STEP", "STATE", "ATTEMPTS", "EXIT", "DURATION", "PEAK MEM", "CPU", "NOTE"],
                steps.map { step in
                    [
                        step.step, step.state.rawValue + (step.allowedFailure ? " (allowed)" : "") + (step.recovered ? " (recovered)" : ""),
                        String(step.attempts),
                        step.exitCode.map(String.init) ?? "-", step.duration.map(DurationFormat.short) ?? "-",
                        step.peakMemoryKB.map { "\($0 / 1024) MiB" } ?? "-", step.cpuSeconds.map { String(format: "%.2fs", $0) } ?? "-",
                        step.error ?? step.reason ?? "",
                    ]
                }))
        for recovery in actions {
            print("recovery of \(recovery.step): \(recovery.action.kind.rawValue) \(recovery.action.status.rawValue): \(recovery.action.message)")
        }
        print("run directory: \(record.runDirectory)")
    }
}
