import Foundation

/// Runs the included steps of a plan in dependency order, up to `jobs` at once.
///
/// Event-driven: each step keeps a count of its unfinished upstream steps and becomes ready when that count
/// reaches zero; the loop wakes only when a step finishes. No polling, no rescans.
struct Scheduler: Sendable {
    struct Options: Sendable {
        var jobs: Int
        var continueOnError: Bool
    }

    /// The final state of one step of the run.
    struct StepOutcome: Sendable {
        var state: StepState
        var allowed: Bool
    }

    let plan: Plan
    let context: RunContext
    let executor: any StepExecutor
    let options: Options
    let emit: @Sendable (RunEvent) -> Void

    /// Runs to the end (or until cancelled) and returns every included step's final state.
    func run() async -> [String: StepOutcome] {
        let graph = plan.graph
        let included = Set(plan.included.map(\.index))
        // Upstream steps outside the selection count as done: the user chose not to run them.
        var waiting = [Int](repeating: 0, count: graph.count)
        for index in included { waiting[index] = graph.upstream[index].count(where: included.contains) }
        var ready = ReadyQueue(plan.included.map(\.index).filter { waiting[$0] == 0 })
        var outcomes: [String: StepOutcome] = [:]
        var blockedBy: [Int: String] = [:]
        var stoppedBy: String?
        var running = 0
        let jobs = max(1, options.jobs)

        await withTaskGroup(of: (Int, StepOutcome).self) { group in
            func launchReady() {
                while running < jobs, stoppedBy == nil, !Task.isCancelled, let index = ready.pop() {
                    running += 1
                    let step = plan.pipeline.steps[index]
                    group.addTask { (index, await runStep(step)) }
                }
            }
            launchReady()
            while let (index, outcome) = await group.next() {
                running -= 1
                let name = graph.names[index]
                outcomes[name] = outcome
                if outcome.state == .succeeded || outcome.allowed {
                    for next in graph.downstream[index] where included.contains(next) {
                        waiting[next] -= 1
                        if waiting[next] == 0, blockedBy[next] == nil { ready.push(next) }
                    }
                } else if outcome.state == .cancelled || Task.isCancelled {
                    stoppedBy = stoppedBy ?? "the run was cancelled"
                } else if options.continueOnError {
                    for next in graph.descendants(of: [index]) where included.contains(next) && blockedBy[next] == nil {
                        blockedBy[next] = "upstream step '\(name)' \(outcome.state.rawValue.replacingOccurrences(of: "_", with: " "))"
                    }
                } else {
                    stoppedBy = stoppedBy ?? "the run stopped after step '\(name)' \(outcome.state.rawValue.replacingOccurrences(of: "_", with: " ")) (use --continue-on-error to run independent steps)"
                }
                launchReady()
            }
        }
        for entry in plan.included where outcomes[entry.step.name] == nil {
            let reason = blockedBy[entry.index] ?? stoppedBy ?? (Task.isCancelled ? "the run was cancelled" : "not started")
            emit(event(.stepSkipped(step: entry.step.name, reason: reason)))
            outcomes[entry.step.name] = StepOutcome(state: .skipped, allowed: false)
        }
        return outcomes
    }

    /// Every attempt of one step, with retries and their backoff.
    private func runStep(_ step: Step) async -> StepOutcome {
        let launch = context.launchSpec(for: step)
        var attempt = 0
        var result: AttemptResult
        repeat {
            attempt += 1
            if attempt > 1 {
                let delay = step.retry.delay(beforeAttempt: attempt)
                emit(event(.retryScheduled(step: step.name, attempt: attempt, delay: delay)))
                try? await Task.sleep(for: .seconds(delay))
            }
            if Task.isCancelled {
                result = .notStarted(at: Date(), error: "cancelled")
                result.state = .cancelled
                break
            }
            let number = attempt
            result = await executor.run(launch.forAttempt(number), timeout: step.timeout) { pid in
                emit(event(.attemptStarted(step: step.name, attempt: number, pid: pid)))
            }
            emit(event(.attemptFinished(step: step.name, attempt: attempt, result: result)))
        } while result.state != .succeeded && result.state != .cancelled && attempt <= step.retry.retries && !Task.isCancelled
        let allowed = step.allowFailure && result.state != .succeeded && result.state != .cancelled
        emit(event(.stepFinished(step: step.name, state: result.state, attempts: attempt, allowed: allowed, result: result)))
        return StepOutcome(state: result.state, allowed: allowed)
    }

    private func event(_ kind: RunEvent.Kind) -> RunEvent {
        RunEvent(runID: context.runID, pipeline: plan.pipeline.id, kind: kind)
    }
}

/// A first-in first-out queue of step indices with O(1) pops.
private struct ReadyQueue {
    private var items: [Int]
    private var head = 0

    init(_ items: [Int]) { self.items = items }

    mutating func push(_ item: Int) { items.append(item) }

    mutating func pop() -> Int? {
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }
}
