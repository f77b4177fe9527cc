/// What a pipeline's `pipeline:` steps name, checked across the catalog: a pipeline that does not exist, and a
/// pipeline that runs itself, directly or through others (which would start child runs without end).
enum SubPipelineCheck {
    /// `entries` with every pipeline that calls a missing pipeline, or itself, turned into a failure saying so.
    /// `known` is every pipeline id of the folder, loaded or not.
    static func apply(to entries: [PipelineCatalog.Entry], known: Set<String>) -> [PipelineCatalog.Entry] {
        var calls: [String: [String]] = [:]
        for entry in entries { if let pipeline = entry.pipeline { calls[entry.id] = pipeline.steps.compactMap(\.subPipeline) } }
        guard calls.values.contains(where: { !$0.isEmpty }) else { return entries }
        return entries.map { entry in
            guard let pipeline = entry.pipeline else { return entry }
            var diagnostics: [Diagnostic] = []
            for step in pipeline.steps {
                guard let callee = step.subPipeline else { continue }
                if !known.contains(callee) {
                    let hint = Suggestion.closest(to: callee, among: Array(known)).map { "did you mean '\($0)'?" }
                    diagnostics.append(
                        Diagnostic(
                            .unknownName, at: step.location, "step '\(step.name)' runs pipeline '\(callee)', which does not exist",
                            fix: hint ?? "known pipelines: \(known.sorted().joined(separator: ", "))"))
                } else if let path = path(from: callee, to: entry.id, calls: calls) {
                    let cycle = ([entry.id] + path).joined(separator: " → ")
                    diagnostics.append(
                        Diagnostic(
                            .pipelineCycle, at: step.location,
                            "step '\(step.name)' runs pipeline '\(callee)', which runs '\(entry.id)' again: \(cycle)",
                            fix: "a pipeline cannot run itself; move the shared steps into a pipeline that both run"))
                }
            }
            guard !diagnostics.isEmpty else { return entry }
            var failed = entry
            failed.result = .failure(DefinitionError(diagnostics: diagnostics))
            return failed
        }
    }

    /// The pipelines from `start` to `target` along `pipeline:` steps, both included; nil when `target` is not reached.
    private static func path(from start: String, to target: String, calls: [String: [String]]) -> [String]? {
        var cameFrom: [String: String] = [:]
        var queue = [start]
        var seen: Set<String> = [start]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            if current == target {
                var path = [current]
                while let previous = cameFrom[path[0]] { path.insert(previous, at: 0) }
                return path
            }
            for next in calls[current] ?? [] where seen.insert(next).inserted {
                cameFrom[next] = current
                queue.append(next)
            }
        }
        return nil
    }
}
