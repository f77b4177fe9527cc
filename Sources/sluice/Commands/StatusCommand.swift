import ArgumentParser
import Foundation
import SluiceKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a run: every step's state, attempts, exit code, timing and resources.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run id.", completion: Completions.runs)
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
        print(Console.table(["STEP", "STATE", "ATTEMPTS", "EXIT", "DURATION", "PEAK MEM", "CPU", "NOTE"], rows(steps)))
        let passing = steps.filter { $0.outputValues?.isEmpty == false }
        for step in passing.prefix(Self.valuesShown) { print("values of \(step.step): \(OutputValues.listing(step.outputValues!))") }
        if passing.count > Self.valuesShown {
            print("values of \(passing.count - Self.valuesShown) more steps: sluice status \(ShellQuote.quote(run)) --json")
        }
        for recovery in actions {
            print("recovery of \(recovery.step): \(recovery.action.kind.rawValue) \(recovery.action.status.rawValue): \(recovery.action.message)")
        }
        if let parent = record.parent { print("started by step \(parent.step) of run \(parent.run)") }
        let children = try await store.childRuns(of: record.id)
        for child in children.prefix(Self.valuesShown) {
            print("child run \(child.id) of \(child.pipeline), for step \(child.parent?.step ?? "?"): \(child.status.rawValue)")
        }
        if children.count > Self.valuesShown {
            print("\(children.count - Self.valuesShown) more child runs: sluice runs --trigger parent:\(record.id)")
        }
        print("run directory: \(record.runDirectory)")
    }

    /// How many steps' values are listed below the table: a big fan-out's are in `--json`.
    static let valuesShown = 20

    /// A row per step; a fan-out's instances under a row that counts them, and of a big fan-out (past
    /// ``FanOutSummary/collapseAfter`` instances) only the first ``FanOutSummary/shownWhenCollapsed`` of those that did not succeed.
    /// A fan-out over an upstream step's value has a row of its own, where its instances then go (they were added
    /// after the run's steps).
    private func rows(_ steps: [StepRunRecord]) -> [[String]] {
        let summaries = Dictionary(
            uniqueKeysWithValues: FanOutSummary.of(steps.lazy.map { ($0.step, $0.state) }).map { ($0.step, $0) })
        let instances = Dictionary(grouping: steps.filter { FanOutSummary.fanOut(of: $0.step) != nil }) { FanOutSummary.fanOut(of: $0.step)! }
        var rows: [[String]] = []
        var listed = Set<String>()
        for step in steps {
            guard let fanOut = summaries[step.step] != nil ? step.step : FanOutSummary.fanOut(of: step.step), let summary = summaries[fanOut] else {
                rows.append(row(step))
                continue
            }
            guard listed.insert(fanOut).inserted else { continue }
            let collapsed = summary.total > FanOutSummary.collapseAfter
            let note = collapsed ? "\(summary.total) instances; at most \(FanOutSummary.shownWhenCollapsed) that did not succeed below" : ""
            rows.append([fanOut, summary.summary, "", "", "", "", "", note])
            let shown =
                collapsed
                ? instances[fanOut]!.filter { ![.succeeded, .upToDate].contains($0.state) }.prefix(FanOutSummary.shownWhenCollapsed)
                : instances[fanOut]![...]
            rows += shown.map(row)
        }
        return rows
    }

    private func row(_ step: StepRunRecord) -> [String] {
        [
            step.step, step.state.rawValue + (step.allowedFailure ? " (allowed)" : "") + (step.recovered ? " (recovered)" : ""),
            String(step.attempts),
            step.exitCode.map(String.init) ?? "-", step.duration.map(DurationFormat.short) ?? "-",
            step.peakMemoryKB.map { "\($0 / 1024) MiB" } ?? "-", step.cpuSeconds.map { String(format: "%.2fs", $0) } ?? "-",
            step.error ?? step.reason ?? "",
        ]
    }
}
