import SluiceKit

/// The plan as `--dry-run` prints it: every step in order, whether it would run, why, and how.
enum PlanText {
    /// What a dry run says of one included step, given change detection.
    private enum Verdict {
        case run(String), upToDate(String), upToDateUnless([String]), unmet(String)
    }

    static func render(_ prepared: PreparedRun, jobs: Int, changes: [String: ChangeExplanation] = [:]) -> String {
        let plan = prepared.plan
        let steps = plan.pipeline.steps
        // By step index rather than name: a fan-out of 100,000 instances hashes no name here.
        var verdicts = [Verdict?](repeating: nil, count: steps.count)
        var running = [Bool](repeating: false, count: steps.count)
        var runningCount = 0, unmet = 0
        // In plan order, so a step's upstream steps are decided before it: an up-to-date step still runs when one of
        // them runs and changes its inputs, which only the run can tell.
        for entry in plan.included {
            let step = entry.step
            // A condition on parameters or the item is known now; one on upstream steps is read when they have run.
            if let skip = Condition.skipBeforeRun(step, parameters: prepared.parameters, specs: plan.pipeline.parameters) {
                verdicts[entry.index] = .unmet(skip)
                unmet += 1
                continue
            }
            let verdict: Verdict
            switch changes.isEmpty ? nil : changes[step.name] {
            case let change? where change.upToDate:
                let upstreamRunning = plan.graph.upstream[entry.index].filter { running[$0] }.map { steps[$0].name }
                verdict = upstreamRunning.isEmpty ? .upToDate(change.reasons.joined(separator: "; ")) : .upToDateUnless(upstreamRunning)
            case let change?: verdict = .run(change.reasons.joined(separator: "; "))
            case nil: verdict = .run(entry.reason)
            }
            verdicts[entry.index] = verdict
            if case .upToDate = verdict { continue }
            running[entry.index] = true
            runningCount += 1
        }
        let upToDate = plan.included.count - runningCount - unmet
        var lines = [
            "Dry run of '\(plan.pipeline.id)': \(runningCount) of \(plan.entries.count) steps would run"
                + (upToDate > 0 ? ", \(upToDate) up to date" : "") + (unmet > 0 ? ", \(unmet) skipped by their if:" : "")
                + ", \(jobs) at a time. Nothing was started."
        ]
        if !prepared.parameters.isEmpty {
            lines.append("Parameters: " + prepared.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        // A fan-out of many instances shows its first few, then one line for the rest.
        var instanceCounts: [String: Int] = [:]
        for step in steps { if let instance = step.instance { instanceCounts[instance.of, default: 0] += 1 } }
        var listed: [String: (seen: Int, run: Int, skipped: Int)] = [:]
        var number = 0
        for entry in plan.entries {
            let step = entry.step
            if let of = step.instance?.of, let count = instanceCounts[of], count > FanOutSummary.collapseAfter {
                var tally = listed[of] ?? (0, 0, 0)
                tally.seen += 1
                defer { listed[of] = tally }
                if tally.seen > FanOutSummary.shownWhenCollapsed {
                    if entry.included && running[entry.index] {
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
            switch entry.included ? verdicts[entry.index] : nil {
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
            guard running[entry.index] else { continue }
            let command = StepCommandLine.readable(StepCommandLine.arguments(for: step.action, scriptsDirectory: plan.pipeline.scriptsDirectory))
            var details = ["$ " + command.joined(separator: " ")]
            if !step.dependsOn.isEmpty { details.append("after: " + upstream(of: entry.index, in: plan, counts: instanceCounts)) }
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

    /// The steps the step at `index` waits for, a fan-out's instances said once: `count (3 instances), merge`.
    private static func upstream(of index: Int, in plan: Plan, counts: [String: Int]) -> String {
        var said = Set<String>()
        return plan.graph.upstream[index].compactMap { upstream in
            let step = plan.pipeline.steps[upstream]
            guard let of = step.instance?.of else { return step.name }
            guard said.insert(of).inserted else { return nil }
            let count = counts[of] ?? 0
            return "\(of) (\(count) instance\(count == 1 ? "" : "s"))"
        }.joined(separator: ", ")
    }
}
