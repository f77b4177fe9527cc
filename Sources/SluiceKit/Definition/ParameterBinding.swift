/// Checks the values given for a run against the pipeline's declared parameters, before anything runs.
public enum ParameterBinding {
    /// The value of every declared parameter that has one, in canonical form, or every problem found.
    public static func bind(_ given: [String: String], to specs: [ParameterSpec]) -> Result<[String: String], ParameterErrors> {
        var problems: [ParameterProblem] = []
        var values: [String: String] = [:]
        let names = specs.map(\.name)
        for name in given.keys.sorted() where !names.contains(name) {
            let message =
                specs.isEmpty
                ? "this pipeline declares no parameters"
                : "unknown parameter"
                    + (Suggestion.closest(to: name, among: names).map { "; did you mean '\($0)'?" }
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
        // Bounds of the values that are valid: every problem at once, not a round per kind.
        problems += boundProblems(values, specs)
        return problems.isEmpty ? .success(values) : .failure(ParameterErrors(problems: problems))
    }

    /// Defaults outside their own bounds: a run given no value would be refused, so the file is wrong.
    static func defaultProblems(_ specs: [ParameterSpec]) -> [ParameterProblem] {
        var defaults: [String: String] = [:]
        for spec in specs {
            if let raw = spec.defaultValue, case let .success(value) = spec.normalize(raw) { defaults[spec.name] = value }
        }
        return boundProblems(defaults, specs)
    }

    /// `min` and `max`, checked once every value is known, since a bound may name another parameter.
    private static func boundProblems(_ values: [String: String], _ specs: [ParameterSpec]) -> [ParameterProblem] {
        let declared = Set(specs.map(\.name))
        func resolve(_ bound: String?) -> (value: String, label: String)? {
            guard let bound else { return nil }
            guard declared.contains(bound) else { return (bound, bound) }
            return values[bound].map { ($0, "\(bound) (\($0))") }
        }
        return specs.compactMap { spec in
            guard let value = values[spec.name] else { return nil }
            if let low = resolve(spec.minimum), spec.orders(value, before: low.value) {
                return ParameterProblem(
                    parameter: spec.name, message: "'\(value)' is \(spec.type == .date ? "before" : "below") its minimum, \(low.label)")
            }
            if let high = resolve(spec.maximum), spec.orders(high.value, before: value) {
                return ParameterProblem(
                    parameter: spec.name, message: "'\(value)' is \(spec.type == .date ? "after" : "above") its maximum, \(high.label)")
            }
            return nil
        }
    }
}

/// Every problem with the parameters of one run.
public struct ParameterErrors: SluiceErrorConvertible, Sendable, CustomStringConvertible {
    public var problems: [ParameterProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
    /// Each parameter's problems as the field `params.NAME`.
    public var sluiceError: SluiceError {
        let fields = Dictionary(problems.map { ("params.\($0.parameter)", $0.message) }, uniquingKeysWith: { "\($0); \($1)" })
        return SluiceError(.invalidInput, description, fields: fields)
    }
}
