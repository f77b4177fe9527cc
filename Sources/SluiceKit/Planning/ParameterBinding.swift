/// Checks the values given for a run against the pipeline's declared parameters, before anything runs.
public enum ParameterBinding {
    /// The value of every declared parameter that has one, in canonical form, or every problem found.
    public static func bind(_ given: [String: String], to specs: [ParameterSpec]) -> Result<[String: String], ParameterErrors> {
        var problems: [ParameterProblem] = []
        var values: [String: String] = [:]
        let names = specs.map(\.name)
        for name in given.keys.sorted() where !names.contains(name) {
            let message = specs.isEmpty ? "this pipeline declares no parameters"
                : "unknown parameter" + (Suggestion.closest(to: name, among: names).map { "; did you mean '\($0)'?" }
                    ?? "; declared: \(names.joined(separator: ", "))")
            problems.append(ParameterProblem(parameter: name, message: message))
        }
        for spec in specs {
            guard let raw = given[spec.name] ?? spec.defaultValue else {
                if spec.required {
                    problems.append(ParameterProblem(parameter: spec.name, message: "is required: pass -p \(spec.name)=<\(spec.type.expectedForm)>"))
                }
                continue
            }
            switch spec.normalize(raw) {
            case let .success(value): values[spec.name] = value
            case let .failure(problem): problems.append(problem)
            }
        }
        return problems.isEmpty ? .success(values) : .failure(ParameterErrors(problems: problems))
    }
}

/// Every problem with the parameters of one run.
public struct ParameterErrors: Error, Sendable, CustomStringConvertible {
    public var problems: [ParameterProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
