import Foundation

/// `summary.json`, written at the end of every run: the run, the count of steps per state, and every step.
struct RunSummary: Codable, Sendable {
    struct StepSummary: Codable, Sendable {
        var name: String
        var state: StepState
        var reason: String?
        var attempts: Int
        var exitCode: Int32?
        var durationSeconds: Double?
        var peakMemoryKb: Int?
        var cpuSeconds: Double?
        var error: String?
        var allowedFailure: Bool
        var recovered: Bool
        var log: String?

        enum CodingKeys: String, CodingKey {
            case name, state, reason, attempts, error, log, recovered
            case exitCode = "exit_code", durationSeconds = "duration_seconds", peakMemoryKb = "peak_memory_kb"
            case cpuSeconds = "cpu_seconds", allowedFailure = "allowed_failure"
        }
    }

    var runId: String
    var pipeline: String
    var status: RunStatus
    var trigger: String
    var startedAt: String
    var finishedAt: String?
    var durationSeconds: Double?
    var parameters: [String: String]
    var selection: Selection
    var counts: [String: Int]
    var steps: [StepSummary]

    enum CodingKeys: String, CodingKey {
        case pipeline, status, trigger, parameters, selection, counts, steps
        case runId = "run_id", startedAt = "started_at", finishedAt = "finished_at", durationSeconds = "duration_seconds"
    }

    init(run: RunRecord, steps: [StepRunRecord], directory: RunDirectory) {
        runId = run.id
        pipeline = run.pipeline
        status = run.status
        trigger = run.trigger
        startedAt = Timestamp.iso(run.createdAt)
        finishedAt = run.finishedAt.map(Timestamp.iso)
        durationSeconds = run.duration
        parameters = run.parameters
        selection = run.selection
        counts = Dictionary(steps.map { ($0.state.rawValue, 1) }, uniquingKeysWith: +)
        self.steps = steps.map { step in
            StepSummary(
                name: step.step, state: step.state, reason: step.reason, attempts: step.attempts, exitCode: step.exitCode,
                durationSeconds: step.duration, peakMemoryKb: step.peakMemoryKB, cpuSeconds: step.cpuSeconds,
                error: step.error, allowedFailure: step.allowedFailure, recovered: step.recovered,
                log: FileManager.default.fileExists(atPath: directory.log(of: step.step)) ? "logs/\(step.step).log" : nil)
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(self) + Data("\n".utf8), to: path)
    }
}
