/// What a pipeline's `pipeline:` steps call, checked across the catalog: a pipeline that does not exist or does not
/// load, a pipeline that runs itself, directly or through others (which would start child runs without end), and
/// parameters the called pipeline does not declare or refuses.
enum SubPipelineCheck {
    /// `entries` with every pipeline whose `pipeline:` steps call wrongly turned into a failure saying why.
    /// `known` is every pipeline id of the folder, loaded or not.
    static func apply(to entries: [PipelineCatalog.Entry], known: Set<String>) -> [PipelineCatalog.Entry] {
        var calls: [String: [String]] = [:]
        for entry in entries { if let pipeline = entry.pipeline { calls[entry.id] = pipeline.steps.compactMap(\.subPipeline?.pipeline) } }
        guard calls.values.contains(where: { !$0.isEmpty }) else { return entries }
        // Cycles and missing pipelines first: a pipeline that calls one of those is then invalid in turn.
        var checked = entries.map { entry in
            failing(entry) { step, call in
                if !known.contains(call.pipeline) {
                    let hint = Suggestion.closest(to: call.pipeline, among: Array(known)).map { "did you mean '\($0)'?" }
                    return Diagnostic(
                        .unknownName, at: step.location, "step '\(step.name)' runs pipeline '\(call.pipeline)', which does not exist",
                        fix: hint ?? "known pipelines: \(known.sorted().joined(separator: ", "))")
                }
                guard let path = path(from: call.pipeline, to: entry.id, calls: calls) else { return nil }
                return Diagnostic(
                    .pipelineCycle, at: step.location,
                    "step '\(step.name)' runs pipeline '\(call.pipeline)', which runs '\(entry.id)' again: \(([entry.id] + path).joined(separator: " → "))",
                    fix: "a pipeline cannot run itself; move the shared steps into a pipeline that both run")
            }
        }
        let byID = Dictionary(checked.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        checked = checked.map { entry in
            failing(entry) { step, call in
                guard let callee = byID[call.pipeline] else { return nil }
                guard let child = callee.pipeline else {
                    return Diagnostic(
                        .badValue, at: step.location,
                        "step '\(step.name)' runs pipeline '\(call.pipeline)', which is invalid: \(callee.problem ?? "")",
                        fix: "fix \(callee.file) (sluice validate \(call.pipeline))")
                }
                return parameterProblem(step, call, child)
            }
        }
        return checked
    }

    /// `entry` failed with what `check` finds of its `pipeline:` steps, if it finds anything.
    private static func failing(_ entry: PipelineCatalog.Entry, _ check: (Step, PipelineCall) -> Diagnostic?) -> PipelineCatalog.Entry {
        guard let pipeline = entry.pipeline else { return entry }
        let diagnostics = pipeline.steps.compactMap { step in step.subPipeline.flatMap { check(step, $0) } }
        guard !diagnostics.isEmpty else { return entry }
        var failed = entry
        failed.result = .failure(DefinitionError(diagnostics: diagnostics))
        return failed
    }

    /// A parameter the child does not declare, or a value written out (no template) that it refuses. A missing
    /// required one is left to the run: the workspace's `params_file` may give it.
    private static func parameterProblem(_ step: Step, _ call: PipelineCall, _ child: Pipeline) -> Diagnostic? {
        let literal = call.parameters.filter { !Template.mayHoldReferences($0.value) }
        let names = Set(child.parameters.map(\.name))
        let problems: [ParameterProblem]
        if let unknown = call.parameters.keys.sorted().first(where: { !names.contains($0) }) {
            let hint = Suggestion.closest(to: unknown, among: Array(names)).map { "did you mean '\($0)'?" }
            problems = [ParameterProblem(parameter: unknown, message: "is not a parameter of '\(child.id)'" + (hint.map { "; \($0)" } ?? ""))]
        } else if case let .failure(errors) = ParameterBinding.bind(literal, to: child.parameters) {
            problems = errors.problems.filter { literal[$0.parameter] != nil }
        } else {
            problems = []
        }
        guard let problem = problems.first else { return nil }
        return Diagnostic(
            .badValue, at: step.location, "step '\(step.name)' runs pipeline '\(call.pipeline)' with \(problem)",
            fix: "its parameters: " + (child.parameters.map { "\($0.name) (\($0.type.rawValue))" }.joined(separator: ", ").nonEmpty ?? "none"))
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

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
