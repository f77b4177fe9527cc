import Foundation

/// The status file, `.NAME.status.json`: per step whether it completed, whether it is marked tested, its last run and
/// error. Rewritten atomically from the store, never edited in place.
enum StatusFile {
    public static func path(pipelinesDirectory: String, pipeline: String) -> String {
        (pipelinesDirectory as NSString).appendingPathComponent(".\(pipeline).status.json")
    }

    /// Rewrites the pipeline's status file from the store.
    public static func refresh(_ pipeline: Pipeline, from store: any RunStore, pipelinesDirectory: String) async throws {
        let statuses = try await store.stepStatuses(pipeline: pipeline.id)
        try write(pipeline, statuses: statuses, to: path(pipelinesDirectory: pipelinesDirectory, pipeline: pipeline.id))
    }

    static func write(_ pipeline: Pipeline, statuses: [StepStatusRecord], to path: String) throws {
        let byStep = Dictionary(statuses.map { ($0.step, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        for step in pipeline.steps {
            let status = byStep[step.name]
            let fields = [
                "\"completed\": \(status?.completed ?? false)",
                "\"tested\": \(status?.tested ?? false)",
                "\"last_run\": \(json(status?.lastRun.map(Timestamp.iso)))",
                "\"error\": \(json(status?.error))",
            ]
            lines.append("  \(json(step.name)): {\n    \(fields.joined(separator: ",\n    "))\n  }")
        }
        let text = lines.isEmpty ? "{}\n" : "{\n\(lines.joined(separator: ",\n"))\n}\n"
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// Step order matters to people reading the file, so it is written by hand rather than by a dictionary encoder.
    private static func json(_ value: String?) -> String {
        guard let value else { return "null" }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20: quoted += String(format: "\\u%04x", scalar.value)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
