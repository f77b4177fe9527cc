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
        // Summed in one pass: the statuses of a fan-out's many instances are not kept once added up.
        var own: [String: Entry] = [:], instances: [String: Entry] = [:]
        let names = Set(pipeline.steps.lazy.map(\.name))
        for status in statuses {
            // A fan-out's instances, recorded as `map[A]`, add up to one entry for `map`.
            if let fanOut = FanOutSummary.fanOut(of: status.step) { instances[fanOut, default: Entry()].add(status) }
            if names.contains(status.step), own[status.step] == nil { own[status.step] = Entry(status) }
        }
        // Written a step at a time: the file of a pipeline of many thousand steps is never held whole.
        try AtomicFile.write(to: path) { emit in
            for (position, step) in pipeline.steps.enumerated() {
                // One whose items come at run time has a row of its own, which stands for it until it has instances.
                let entry = step.fanOut != nil ? instances[step.name] ?? (step.fanOut!.isDynamic ? own[step.name] : nil) : own[step.name]
                let fields = [
                    "\"completed\": \(entry?.completed ?? false)", "\"tested\": \(entry?.tested ?? false)",
                    "\"last_run\": \(json(entry?.lastRun.map(Timestamp.iso)))", "\"error\": \(json(entry?.error))",
                ]
                emit((position == 0 ? "{\n" : ",\n") + "  \(json(step.name)): {\n    \(fields.joined(separator: ",\n    "))\n  }")
            }
            emit(pipeline.steps.isEmpty ? "{}\n" : "\n}\n")
        }
    }

    /// What a step's entry says, of its own status or summed over its instances': completed and tested when every
    /// one is, the latest run, the first error.
    private struct Entry {
        var completed = true, tested = true
        var lastRun: Date?
        var error: String?

        init() {}

        init(_ status: StepStatusRecord) { add(status) }

        mutating func add(_ status: StepStatusRecord) {
            completed = completed && status.completed
            tested = tested && status.tested
            if let run = status.lastRun, lastRun.map({ run > $0 }) ?? true { lastRun = run }
            if error == nil { error = status.error }
        }
    }

    /// Step order matters to people reading the file, so it is written by hand rather than by a dictionary encoder.
    private static func json(_ value: String?) -> String { value.map(JSONText.string) ?? "null" }
}
