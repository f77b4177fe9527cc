import SluiceKit

/// The plan as `--dry-run` prints it: every step in order, whether it would run, why, and how.
enum PlanText {
    static func render(_ prepared: PreparedRun, jobs: Int) -> String {
        let plan = prepared.plan
        var lines = ["Dry run of '\(plan.pipeline.id)': \(plan.included.count) of \(plan.entries.count) steps would run, \(jobs) at a time. Nothing was started."]
        if !prepared.parameters.isEmpty {
            lines.append("Parameters: " + prepared.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        var number = 0
        for entry in plan.entries {
            let step = entry.step
            let label: String
            if entry.included {
                number += 1
                label = String(number).padding(toLength: 4, withPad: " ", startingAt: 0) + Console.paint("run ", .green)
            } else {
                label = "-   " + Console.paint("skip", .yellow)
            }
            lines.append("  \(label)  \(step.name.padding(toLength: max(20, step.name.count), withPad: " ", startingAt: 0))  \(entry.reason)")
            guard entry.included else { continue }
            let command = StepCommandLine.arguments(for: step.action, scriptsDirectory: plan.pipeline.scriptsDirectory)
            var details = ["$ " + command.joined(separator: " ")]
            if !step.dependsOn.isEmpty { details.append("after: " + step.dependsOn.joined(separator: ", ")) }
            if let timeout = step.timeout { details.append("timeout: \(DurationFormat.short(timeout))") }
            if step.retry.retries > 0 { details.append("retries: \(step.retry.retries)") }
            if step.allowFailure { details.append("failure allowed") }
            lines.append("            " + Console.paint(details.joined(separator: " · "), .dim))
        }
        return lines.joined(separator: "\n")
    }
}
