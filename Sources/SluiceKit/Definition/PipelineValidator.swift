import Foundation

/// Checks that need the whole pipeline: unique names, known dependencies, no cycles, runnable scripts, valid modes.
enum PipelineValidator {
    static func validate(_ pipeline: Pipeline, reader: DefinitionReader) {
        // Lines, not steps: a dictionary of a big pipeline's steps would copy each.
        var firstSeen: [String: Int] = [:]
        for step in pipeline.steps where !step.name.isEmpty {
            if let line = firstSeen[step.name] {
                reader.report(
                    Diagnostic(
                        .duplicateStep, at: step.location, "step name '\(step.name)' is used twice (first at line \(line))",
                        fix: "give each step a unique name"))
            } else {
                firstSeen[step.name] = step.location.line
            }
        }
        for problem in TemporaryOutputs.problems(in: pipeline) {
            reader.report(Diagnostic(.badValue, at: problem.step.location, problem.message, fix: problem.fix))
        }
        let names = pipeline.steps.map(\.name)
        for step in pipeline.steps {
            for dependency in step.dependsOn where firstSeen[dependency] == nil {
                let hint =
                    Suggestion.closest(to: dependency, among: names).map { "did you mean '\($0)'? (names are case-sensitive)" }
                    ?? "depend on one of: \(names.joined(separator: ", "))"
                reader.report(
                    Diagnostic(
                        .unknownDependency, at: step.location,
                        "step '\(step.name)' depends on '\(dependency)', which is not a step of this pipeline", fix: hint))
            }
            if case let .script(path) = step.action {
                if let problem = StepCommandLine.problem(script: path, in: pipeline.scriptsDirectory) {
                    reader.report(Diagnostic(.missingScript, at: step.location, "step '\(step.name)': \(problem.message)", fix: problem.fix))
                }
            }
            if !step.inputs.isEmpty, step.outputs.isEmpty {
                reader.warn(
                    .ignoredSetting, at: step.location,
                    "step '\(step.name)' declares inputs but no outputs, so it runs every time "
                        + "and its inputs are not checked", fix: "list the files it writes under 'outputs:', or remove 'inputs:'")
            }
            switch step.onFailure {
            case .rollback? where step.outputs.isEmpty:
                reader.report(
                    Diagnostic(
                        .badValue, at: step.location, "step '\(step.name)' rolls back on failure but declares no outputs",
                        fix: "list the files it writes under 'outputs:'"))
            case let .run(script)?:
                if let problem = StepCommandLine.problem(script: script, in: pipeline.scriptsDirectory) {
                    reader.report(
                        Diagnostic(
                            .missingScript, at: step.location, "on_failure of step '\(step.name)': \(problem.message)",
                            fix: problem.fix))
                }
            default: break
            }
        }
        if let cycle = DependencyGraph(steps: pipeline.steps).findCycle(),
            let step = pipeline.steps.first(where: { $0.name == cycle[0] })
        {
            reader.report(
                Diagnostic(
                    .dependencyCycle, at: step.location, "dependency cycle: \(cycle.joined(separator: " -> "))",
                    fix: "remove one of these depends_on entries"))
        }
        for spec in pipeline.parameters where pipeline.environment[spec.environmentName] != nil {
            reader.warn(
                .ignoredSetting, at: spec.location,
                "parameter '\(spec.name)' sets \(spec.environmentName), which 'env' sets too; the parameter's value wins",
                fix: "rename the parameter or the variable")
        }
        validateTriggers(pipeline, reader: reader)
        let tags = Set(pipeline.steps.flatMap(\.tags))
        for mode in pipeline.modes {
            for member in mode.members where firstSeen[member] == nil && !tags.contains(member) {
                reader.report(
                    Diagnostic(
                        .badValue, at: mode.location,
                        "mode '\(mode.name)' names '\(member)', which is neither a step nor a tag",
                        fix: Suggestion.closest(to: member, among: names + tags.sorted()).map { "did you mean '\($0)'?" }))
            }
        }
    }

    /// Trigger names are unique (the store keeps each one's state by name) and set only declared parameters.
    private static func validateTriggers(_ pipeline: Pipeline, reader: DefinitionReader) {
        let triggers =
            pipeline.schedules.map { ($0.name, $0.location, $0.parameters) } + pipeline.watches.map { ($0.name, $0.location, $0.parameters) }
        var seen = Set<String>()
        let declared = pipeline.parameters.map(\.name)
        for (name, location, parameters) in triggers {
            if !seen.insert(name).inserted {
                reader.report(
                    Diagnostic(.badValue, at: location, "two triggers are named '\(name)'", fix: "give each schedule and watch its own 'name'"))
            }
            for parameter in parameters.keys.sorted() where !declared.contains(parameter) {
                reader.report(
                    Diagnostic(
                        .badValue, at: location, "trigger '\(name)' sets '\(parameter)', which is not a parameter of this pipeline",
                        fix: Suggestion.closest(to: parameter, among: declared).map { "did you mean '\($0)'?" }
                            ?? "declare it under 'params:'"))
            }
        }
    }
}
