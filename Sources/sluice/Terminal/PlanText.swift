import SluiceKit

/// The plan as `--dry-run` prints it: every step in order, whether it would run, why, and how.
enum PlanText {
    /// What a dry run says of one included step, given change detection.
    private enum Verdict {
        case run(String), upToDate(String), upToDateUnless([String]), unmet(String)
    }

    static func render(_ prepared: PreparedRun, jobs: Int, changes: [String: ChangeExplanation] = [:]) -> String {
        let plan = prepared.plan
        // In plan order, so a step's upstream steps are decided before it: an up-to-date step still runs when one of
        // them runs and changes its inputs, which only the run can tell.
        var verdicts: [String: Verdict] = [:]
        var running = Set<String>()
        for entry in plan.included {
            let step = entry.step
            let upstreamRunning = step.dependsOn.filter(running.contains)
            // A condition on parameters or the item is known now; one on upstream steps is read when they have run.
            if let skip = Condition.skipBeforeRun(step, parameters: prepared.parameters, specs: plan.pipeline.parameters) {
                verdicts[step.name] = .unmet(skip)
                continue
            }
            switch changes[step.name] {
            case let change? where change.upToDate && upstreamRunning.isEmpty:
                verdicts[step.name] = .upToDate(change.reasons.joined(separator: "; "))
            case let change? where change.upToDate:
                verdicts[step.name] = .upToDateUnless(upstreamRunning)
                running.insert(step.name)
            case let change?:
                verdicts[step.name] = .run(change.reasons.joined(separator: "; "))
                running.insert(step.name)
            case nil:
                verdicts[step.name] = .run(entry.reason)
                running.insert(step.name)
            }
        }
        let unmet = verdicts.values.count { if case .unmet = $0 { true } else { false } }
        let upToDate = plan.included.count - running.count - unmet
        var lines = [
            "Dry run of '\(plan.pipeline.id)': \(running.count) of \(plan.entries.count) steps would run"
                + (upToDate > 0 ? ", \(upToDate) up to date" : "") + (unmet > 0 ? ", \(unmet) skipped by their if:" : "")
                + ", \(jobs) at a time. Nothing was started."
        ]
        if !prepared.parameters.isEmpty {
            lines.append("Parameters: " + prepared.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        // A fan-out of many instances shows its first few, then one line for the rest.
        var instanceCounts: [String: Int] = [:]
        var instanceOf: [String: String] = [:]
        for entry in plan.entries {
            guard let instance = entry.step.instance else { continue }
            instanceCounts[instance.of, default: 0] += 1
            instanceOf[entry.step.name] = instance.of
        }
        var listed: [String: (seen: Int, run: Int, skipped: Int)] = [:]
        var number = 0
        for entry in plan.entries {
            let step = entry.step
            if let of = step.instance?.of, let count = instanceCounts[of], count > FanOutSummary.collapseAfter {
                var tally = listed[of] ?? (0, 0, 0)
                tally.seen += 1
                defer { listed[of] = tally }
                if tally.seen > FanOutSummary.shownWhenCollapsed {
                    if entry.included && running.contains(step.name) {
                        number += 1
                        tally.run += 1
                    } else {
                        tally.skipped += 1
                    }
                    if tally.seen == count {
                        let hidden = count - FanOutSummary.shownWhenCollapsed
                        lines.append(
                            "  …     " + Console.paint("\(hidden) more instances of \(of): \(tally.run) would run, \(tally.skipped) skipped", .dim))
                    }
                    continue
                }
            }
            let label: String, reason: String
            switch entry.included ? verdicts[step.name] : nil {
            case let .run(why)?:
                number += 1
                (label, reason) = (String(number).padding(toLength: 4, withPad: " ", startingAt: 0) + Console.paint("run ", .green), why)
            case let .upToDateUnless(upstream)?:
                number += 1
                (label, reason) = (
                    String(number).padding(toLength: 4, withPad: " ", startingAt: 0) + Console.paint("run?", .green),
                    "up to date now; runs if \(upstream.joined(separator: ", ")) change\(upstream.count == 1 ? "s" : "") its inputs"
                )
            case let .upToDate(why)?:
                (label, reason) = ("-   " + Console.paint("skip", .yellow), "up to date: \(why)")
            case let .unmet(why)?:
                (label, reason) = ("-   " + Console.paint("skip", .yellow), why)
            case nil:
                (label, reason) = ("-   " + Console.paint("skip", .yellow), entry.reason)
            }
            lines.append("  \(label)  \(step.name.padding(toLength: max(20, step.name.count), withPad: " ", startingAt: 0))  \(reason)")
            guard running.contains(step.name) else { continue }
            let command = StepCommandLine.readable(StepCommandLine.arguments(for: step.action, scriptsDirectory: plan.pipeline.scriptsDirectory))
            var details = ["$ " + command.joined(separator: " ")]
            if !step.dependsOn.isEmpty { details.append("after: " + upstream(of: step, instanceOf: instanceOf, counts: instanceCounts)) }
            if let timeout = step.timeout { details.append("timeout: \(DurationFormat.short(timeout))") }
            if step.retry.retries > 0 { details.append("retries: \(step.retry.retries)") }
            if step.allowFailure { details.append("failure allowed") }
            if case let .upstream(source, key)? = step.fanOut?.source {
                details.append("one instance per item of {{ steps.\(source).outputs.\(key) }}, known once '\(source)' has run")
            }
            lines.append("            " + Console.paint(details.joined(separator: " · "), .dim))
        }
        return lines.joined(separator: "\n")
    }

    /// The steps `step` waits for, a fan-out's instances said once: `count (3 instances), merge`.
    private static func upstream(of step: Step, instanceOf: [String: String], counts: [String: Int]) -> String {
        var said = Set<String>()
        return step.dependsOn.compactMap { name in
            guard let of = instanceOf[name] else { return name }
            guard said.insert(of).inserted else { return nil }
            let count = counts[of] ?? 0
            return "\(of) (\(count) instance\(count == 1 ? "" : "s"))"
        }.joined(separator: ", ")
    }
}
