import Foundation
import SluiceKit

/// Shows a run as it happens: on a terminal, finished steps scroll above a live progress line (done/total,
/// running steps, elapsed, estimate); piped, one plain line per event.
final class ProgressReporter: @unchecked Sendable {
    /// Guards every field below; events arrive from several threads.
    private let queue = DispatchQueue(label: "sluice.progress")
    private var total: Int
    private let jobs: Int
    private let estimates: [String: Double]
    private let quiet: Bool
    private let live = Console.isTerminal
    private let startedAt = Date()
    private var done = 0
    private var running: [String: Date] = [:]
    private var finishedSteps = Set<String>()
    private var runID = ""
    private var ticker: DispatchSourceTimer?
    /// `wait_for:` steps, by name: their checks that find nothing are no failures to show.
    private let waits: [String: WaitFor]

    init(plan: Plan, jobs: Int, estimates: [String: Double], quiet: Bool) {
        total = plan.included.count
        waits = Dictionary(plan.included.compactMap { item in item.step.waitFor.map { (item.step.name, $0) } }, uniquingKeysWith: { $1 })
        self.jobs = jobs
        self.estimates = estimates
        self.quiet = quiet
        if live && !quiet {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + 1, repeating: 1)
            timer.setEventHandler { [weak self] in self?.redraw() }
            timer.resume()
            ticker = timer
        }
    }

    func handle(_ events: [RunEvent]) {
        guard !quiet else { return }
        queue.async {
            for event in events { self.apply(event) }
            self.redraw()
        }
    }

    /// Clears the live line; call once the run is over.
    func finish() {
        queue.sync {
            ticker?.cancel()
            if live && !quiet { write("\r\u{1B}[2K") }
        }
    }

    private func apply(_ event: RunEvent) {
        runID = event.runID
        switch event.kind {
        case let .runStarted(steps):
            emit("run \(Console.paint(event.runID, .bold)) of \(event.pipeline): \(steps.count) step\(steps.count == 1 ? "" : "s")")
        case let .stepsAdded(step, instances):
            // The fan-out itself ends once they have: each counts as a step.
            total += instances.count
            emit("fan-out  \(step): \(instances.count) instance\(instances.count == 1 ? "" : "s") from its upstream step's value")
        case let .attemptStarted(step, attempt, _):
            running[step] = event.time
            if let wait = waits[step] {
                if attempt == 1 {
                    emit("waiting  \(step): checking every \(DurationFormat.short(wait.interval)), for up to \(DurationFormat.short(wait.timeout))")
                }
            } else if !live {
                emit("start    \(step)" + (attempt > 1 ? " (attempt \(attempt))" : ""))
            }
        case let .attemptFinished(step, attempt, result):
            running[step] = nil
            if result.state != .succeeded, waits[step] == nil {
                emit(Console.paint(result.state == .timedOut ? "timeout" : "failed ", .red) + "  \(step) attempt \(attempt): \(result.error ?? "")")
            }
        case let .retryScheduled(step, attempt, delay):
            guard waits[step] == nil else { break }
            emit(Console.paint("retry  ", .yellow) + "  \(step): attempt \(attempt) in \(DurationFormat.short(delay))")
        case let .stepFinished(step, state, attempts, allowed, result):
            done += 1
            finishedSteps.insert(step)
            if state == .succeeded {
                emit(Console.paint("ok     ", .green) + "  \(step) " + Console.paint(DurationFormat.short(result.duration), .dim))
            } else if allowed {
                emit(Console.paint("allowed", .yellow) + "  \(step) failed, allowed by allow_failure")
            } else if waits[step] != nil, state != .cancelled {
                emit(
                    Console.paint(state == .skipped ? "skipped" : "failed ", state == .skipped ? .yellow : .red) + "  \(step): \(result.error ?? "")")
            } else if attempts == 0, state == .failed {
                // It failed without an attempt of its own to report it: a fan-out whose items could not be read.
                emit(Console.paint("failed ", .red) + "  \(step): \(result.error ?? "")")
            }
        case let .stepSkipped(step, reason):
            done += 1
            finishedSteps.insert(step)
            emit(Console.paint("skipped", .yellow) + "  \(step): \(reason)")
        case let .stepUpToDate(step, _):
            done += 1
            finishedSteps.insert(step)
            emit(Console.paint("current", .dim) + "  \(step) is up to date")
        case let .valuesRecorded(step, values):
            emit(Console.paint("values ", .dim) + "  \(step): \(OutputValues.listing(values))")
        case let .recoveryFinished(step, action):
            emit(
                Console.paint(action.succeeded ? "recover" : "unrecov", action.succeeded ? .yellow : .red)
                    + "  \(step): \(action.kind.rawValue) \(action.status.rawValue): \(action.message)")
        case .runFinished, .outputsRecorded, .filesHashed, .reportsWritten:
            break
        }
    }

    /// A permanent line (above the live line on a terminal).
    private func emit(_ line: String) {
        write(live ? "\r\u{1B}[2K\(line)\n" : "\(line)\n")
    }

    private func redraw() {
        guard live else { return }
        let elapsed = Date().timeIntervalSince(startedAt)
        var line = "[\(done)/\(total)] \(DurationFormat.short(elapsed))"
        if done < total, let remaining = estimate() { line += " · ~\(DurationFormat.short(remaining)) left" }
        if !running.isEmpty {
            let names = running.keys.sorted()
            line += " · running " + names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " +\(names.count - 3)" : "")
        }
        write("\r\u{1B}[2K" + Console.paint(line, .dim))
    }

    /// Time left, from the durations of earlier runs' successful steps; nil when there is nothing to go on.
    private func estimate() -> Double? {
        guard !estimates.isEmpty else { return nil }
        let known = estimates.values
        let typical = known.reduce(0, +) / Double(known.count)
        let now = Date()
        var work = 0.0
        for (step, expected) in estimates where !finishedSteps.contains(step) {
            work += max(0, expected - (running[step].map { now.timeIntervalSince($0) } ?? 0))
        }
        let unknown = max(0, total - done - estimates.keys.count { !finishedSteps.contains($0) })
        work += Double(unknown) * typical
        return work / Double(max(1, min(jobs, total - done)))
    }

    private func write(_ text: String) { Console.write(text) }
}
