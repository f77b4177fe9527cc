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
        // A fan-out's instances, recorded as `map[A]`, add up to one entry for `map`.
        let instances = Dictionary(grouping: statuses.filter { $0.step.hasSuffix("]") }) { String($0.step.prefix { $0 != "[" }) }
        for step in pipeline.steps {
            // One whose items come at run time has a row of its own, which stands for it until it has instances.
            let own = byStep[step.name].map { [$0] } ?? []
            let members = step.fanOut != nil ? instances[step.name] ?? (step.fanOut!.isDynamic ? own : []) : own
            let fields = [
                "\"completed\": \(!members.isEmpty && members.allSatisfy(\.completed))",
                "\"tested\": \(!members.isEmpty && members.allSatisfy(\.tested))",
                "\"last_run\": \(json(members.compactMap(\.lastRun).max().map(Timestamp.iso)))",
                "\"error\": \(json(members.compactMap(\.error).first))",
            ]
            lines.append("  \(json(step.name)): {\n    \(fields.joined(separator: ",\n    "))\n  }")
        }
        let text = lines.isEmpty ? "{}\n" : "{\n\(lines.joined(separator: ",\n"))\n}\n"
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// Step order matters to people reading the file, so it is written by hand rather than by a dictionary encoder.
    private static func json(_ value: String?) -> String { value.map(JSONText.string) ?? "null" }
}
