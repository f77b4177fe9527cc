import Foundation
import SluiceKit

/// Where one run stands, kept current from its events: counts by state, its running and failed steps. What it
/// answers is the same size whatever the run's size (``RunStatusReport``), and an event costs the same at 10 steps
/// as at 10,000.
struct RunProgress: Sendable {
    /// How many running and failed steps a report names (it counts them all).
    static let listed = 20

    private(set) var run: RunRecord
    /// The newest event applied.
    private(set) var seq: Int64
    /// How long the pipeline's last successful runs took (their median), for the estimate.
    let typicalSeconds: Double?
    private var states: [String: StepState] = [:]
    private var counts: [StepState: Int] = [:]
    private var running: [String: RunStatusReport.RunningStep] = [:]
    /// Failed steps in the order they failed, and what each said.
    private var failedOrder: [String] = []
    private var failed: [String: RunStatusReport.FailedStep] = [:]
    /// Fan-outs over an upstream value that met their items: their own rows are not counted, their instances are
    /// (as the CLI and the report count them).
    private let fanOutRows: Set<String>

    init(run: RunRecord, steps: [StepRunRecord], seq: Int64, typicalSeconds: Double?) {
        self.run = run
        self.seq = seq
        self.typicalSeconds = typicalSeconds
        fanOutRows = Set(steps.lazy.compactMap { FanOutSummary.fanOut(of: $0.step) })
        for step in steps where !fanOutRows.contains(step.step) {
            states[step.step] = step.state
            counts[step.state, default: 0] += 1
            if step.state == .running, let startedAt = step.startedAt {
                running[step.step] = .init(step: step.step, attempt: step.attempts, startedAt: startedAt)
            }
            if Self.isFailure(step.state) {
                markFailed(step.step, state: step.state, exitCode: step.exitCode, error: step.error, at: step.finishedAt)
            }
        }
        failedOrder.sort { (failed[$0]?.finishedAt ?? .distantPast) < (failed[$1]?.finishedAt ?? .distantPast) }
    }

    /// What an event changes. False, and the event left unapplied, when it changed what events do not say (a run
    /// resumed or interrupted, a fan-out's instances added): the caller reads the run again.
    mutating func apply(_ event: StoredEvent) -> Bool {
        guard event.seq > seq else { return true }
        if let step = event.step, fanOutRows.contains(step) {
            seq = event.seq
            return true
        }
        switch event.kind {
        case "attempt_started":
            guard let step = event.step else { return true }
            set(step, to: .running)
            running[step] = .init(step: step, attempt: event.attempt ?? 1, startedAt: event.at)
        case "step_finished", "step_skipped", "step_up_to_date":
            guard let step = event.step, let state = event.state.flatMap(StepState.init(rawValue:)) else { return true }
            set(step, to: state)
            if Self.isFailure(state) { markFailed(step, state: state, exitCode: event.exitCode, error: event.message, at: event.at) }
        case "run_finished":
            run.status = event.state.flatMap(RunStatus.init(rawValue:)) ?? run.status
            run.finishedAt = event.at
        case "attempt_finished", "retry_scheduled", "values_recorded", "outputs_recorded", "recovery_finished", "reports_written":
            break
        default:
            return false
        }
        seq = event.seq
        return true
    }

    /// Running or waiting to: it has no end yet.
    var isActive: Bool { run.status == .running || run.status == .queued }

    func report(now: Date = Date()) -> RunStatusReport {
        let total = states.count
        let finished = total - (counts[.pending] ?? 0) - (counts[.running] ?? 0)
        let elapsed = (run.finishedAt ?? now).timeIntervalSince(run.createdAt)
        let active = isActive
        return RunStatusReport(
            id: run.id, pipeline: run.pipeline, status: run.status, createdAt: run.createdAt, finishedAt: run.finishedAt, steps: total,
            counts: Dictionary(uniqueKeysWithValues: StepState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }), finished: finished,
            percent: total == 0 ? (active ? 0 : 100) : (Double(finished) * 1000 / Double(total)).rounded(.down) / 10,
            elapsedSeconds: max(0, elapsed), estimatedSeconds: typicalSeconds,
            remainingSeconds: active ? typicalSeconds.map { max(0, $0 - elapsed) } : nil,
            running: running.values.sorted { ($0.startedAt, $0.step) < ($1.startedAt, $1.step) }.prefix(Self.listed).map { $0 },
            runningCount: running.count,
            failed: failedOrder.prefix(Self.listed).compactMap { failed[$0] }, failedCount: failedOrder.count, seq: seq)
    }

    private mutating func set(_ step: String, to state: StepState) {
        if let old = states[step] { counts[old, default: 0] -= 1 }
        states[step] = state
        counts[state, default: 0] += 1
        if state != .running { running[step] = nil }
        if !Self.isFailure(state), failed.removeValue(forKey: step) != nil { failedOrder.removeAll { $0 == step } }
    }

    private mutating func markFailed(_ step: String, state: StepState, exitCode: Int32?, error: String?, at: Date?) {
        if failed[step] == nil { failedOrder.append(step) }
        failed[step] = .init(step: step, state: state, exitCode: exitCode, error: error, finishedAt: at)
    }

    private static func isFailure(_ state: StepState) -> Bool { state == .failed || state == .timedOut || state == .interrupted }
}

/// `GET /api/runs/{run}/status`: a run's state, its steps counted by state, its progress and time, and the steps
/// to look at first. Its size does not grow with the run's.
struct RunStatusReport: Codable, Sendable {
    struct RunningStep: Codable, Sendable {
        var step: String
        var attempt: Int
        var startedAt: Date
    }

    struct FailedStep: Codable, Sendable {
        var step: String
        var state: StepState
        var exitCode: Int32?
        var error: String?
        var finishedAt: Date?
    }

    var id: String
    var pipeline: String
    var status: RunStatus
    var createdAt: Date
    var finishedAt: Date?
    /// How many steps the run has (a fan-out's instances each count).
    var steps: Int
    /// Steps by state, every state named.
    var counts: [String: Int]
    var finished: Int
    /// Finished steps in percent of all, to a tenth.
    var percent: Double
    var elapsedSeconds: Double
    /// How long the pipeline's last successful runs took (the median of up to five); nil before its first.
    var estimatedSeconds: Double?
    var remainingSeconds: Double?
    /// The first 20 running steps, the longest-running first, and how many run.
    var running: [RunningStep]
    var runningCount: Int
    /// The first 20 steps that failed, in the order they failed, and how many did.
    var failed: [FailedStep]
    var failedCount: Int
    /// The newest event this answer includes: `GET /api/runs/{run}/steps?since=` this for what changed after it.
    var seq: Int64
}
