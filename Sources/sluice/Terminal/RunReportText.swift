import Foundation
import SluiceKit

/// The few lines printed when a run ends: its status, counts, and for each failed step its error and log tail.
enum RunReportText {
    static func summary(_ outcome: RunOutcome, logLines: Int) -> String {
        let run = outcome.run
        let counts = Dictionary(FanOutSummary.shown(outcome.steps).map { ($0.state, 1) }, uniquingKeysWith: +)
        let countText = StepState.allCases.compactMap { state in
            counts[state].map { "\($0) \(state.rawValue.replacingOccurrences(of: "_", with: " "))" }
        }
        let color: Console.Color =
            switch run.status {
            case .success: .green
            case .partialSuccess: .yellow
            default: .red
            }
        var lines = [
            "run \(run.id) " + Console.paint(run.status.rawValue, color) + " in \(DurationFormat.short(run.duration ?? 0)): "
                + countText.joined(separator: ", ")
        ]
        let directory = RunDirectory(root: run.runDirectory)
        for step in outcome.steps where step.state != .succeeded && step.state != .skipped && (step.attempts > 0 || step.state == .failed) {
            lines.append("")
            lines.append(
                Console.paint("\(step.step)", .bold) + ": \(step.error ?? step.state.rawValue)"
                    + (step.allowedFailure ? " (allowed)" : ""))
            // A step that failed before any attempt (a fan-out whose items could not be read) has no log.
            guard step.attempts > 0 else { continue }
            let tail = LogTail.lines(of: directory.log(of: step.step), count: logLines)
            if !tail.isEmpty { lines += tail.map { "  | " + $0 } }
            lines.append("  full log: sluice logs \(run.id) \(ShellQuote.quote(step.step))")
        }
        lines += outcome.notifications.map { "notification: \($0)" }
        lines.append("run directory: \(run.runDirectory)")
        return lines.joined(separator: "\n")
    }
}
