import Foundation

/// `summary.json`, written at the end of every run: the run, the count of steps per state, and every step, with
/// keys in alphabetical order and absent values left out.
///
/// Written by hand, a step at a time: a run of many thousand steps would otherwise hold its whole encoded tree.
enum RunSummary {
    static func write(run: RunRecord, steps: [StepRunRecord], directory: RunDirectory, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let selection = String(decoding: try encoder.encode(run.selection), as: UTF8.self)
        let counts = Dictionary(steps.lazy.map { ($0.state.rawValue, 1) }, uniquingKeysWith: +)
        try AtomicFile.write(to: path) { emit in
            emit("{\n  \"counts\": \(object(counts.mapValues(String.init))),\n")
            emit(field("duration_seconds", run.duration.map(number)))
            emit(field("finished_at", run.finishedAt.map { JSONText.string(Timestamp.iso($0)) }))
            emit("  \"parameters\": \(object(run.parameters.mapValues(JSONText.string))),\n")
            emit("  \"pipeline\": \(JSONText.string(run.pipeline)),\n")
            emit("  \"run_id\": \(JSONText.string(run.id)),\n")
            emit("  \"selection\": \(selection),\n")
            emit("  \"started_at\": \(JSONText.string(Timestamp.iso(run.createdAt))),\n")
            emit("  \"status\": \(JSONText.string(run.status.rawValue)),\n")
            emit("  \"steps\": [")
            for (position, step) in steps.enumerated() {
                let log = FileManager.default.fileExists(atPath: directory.log(of: step.step)) ? "logs/\(step.step).log" : nil
                let fields: [(String, String?)] = [
                    ("allowed_failure", "\(step.allowedFailure)"), ("attempts", "\(step.attempts)"),
                    ("cpu_seconds", step.cpuSeconds.map(number)), ("duration_seconds", step.duration.map(number)),
                    ("error", step.error.map(JSONText.string)), ("exit_code", step.exitCode.map { "\($0)" }),
                    ("log", log.map(JSONText.string)), ("name", JSONText.string(step.step)),
                    ("peak_memory_kb", step.peakMemoryKB.map { "\($0)" }), ("reason", step.reason.map(JSONText.string)),
                    ("recovered", "\(step.recovered)"), ("state", JSONText.string(step.state.rawValue)),
                ]
                let present = fields.compactMap { key, value in value.map { "      \"\(key)\": \($0)" } }
                emit((position == 0 ? "\n" : ",\n") + "    {\n" + present.joined(separator: ",\n") + "\n    }")
            }
            emit(steps.isEmpty ? "],\n" : "\n  ],\n")
            emit("  \"trigger\": \(JSONText.string(run.trigger))\n}\n")
        }
    }

    /// `"key": value,` on a line of its own, or nothing when there is no value.
    private static func field(_ key: String, _ value: String?) -> String { value.map { "  \"\(key)\": \($0),\n" } ?? "" }

    /// A JSON object of already encoded values, by key.
    private static func object(_ values: [String: String]) -> String {
        "{" + values.sorted { $0.key < $1.key }.map { "\(JSONText.string($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// JSON has no infinities or NaN.
    private static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
