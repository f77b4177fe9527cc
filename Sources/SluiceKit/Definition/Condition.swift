import Foundation

/// A step's `if:`: a small expression over the run's parameters and its upstream steps' states, such as
/// `params.mode == 'full' and steps.check.state != 'failed'`. Comparisons, `and`, `or`, `not`, `in`, literals and
/// parentheses; nothing else, so a condition can compute nothing but true or false.
public struct Condition: Sendable {
    /// The expression as written, for the reason a skipped step gives.
    public let text: String
    let root: Node

    indirect enum Node: Sendable {
        case literal(Value)
        case list([Value])
        case name([String], offset: Int)
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(Node, Operator, Node)
    }

    enum Operator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case `in`, notIn = "not in"
    }

    /// A value: text (parameters and states are text), a number, a boolean, or a list (a list parameter).
    enum Value: Sendable, Equatable {
        case text(String), number(Double), bool(Bool), list([Value])

        var truthy: Bool {
            switch self {
            case let .text(text): !text.isEmpty && text != "false"
            case let .number(number): number != 0
            case let .bool(bool): bool
            case let .list(list): !list.isEmpty
            }
        }

        /// A value a step passed on: a JSON list of plain values (`["a", "b"]`, `[1, 2]`) is a list, else text.
        static func reading(_ text: String) -> Value {
            guard text.hasPrefix("["), let data = text.data(using: .utf8),
                let list = try? JSONSerialization.jsonObject(with: data) as? [Any]
            else { return .text(text) }
            let items = list.compactMap { item -> Value? in
                switch item {
                case let text as String: .text(text)
                case let number as NSNumber: .text(number.stringValue)
                default: nil
                }
            }
            return items.count == list.count ? .list(items) : .text(text)
        }

        var written: String {
            switch self {
            // Quotes and backslashes escaped: a value that holds a quote must not read as more of the expression.
            case let .text(text): "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            case let .number(number): number.formatted
            case let .bool(bool): String(bool)
            case let .list(list): "[" + list.map(\.written).joined(separator: ", ") + "]"
            }
        }
    }

    /// Why a condition cannot be read, at `offset` characters into it.
    struct Problem: Error, Sendable {
        var message: String
        var offset: Int
    }

    init(parsing text: String) throws(Problem) {
        self.text = text
        var parser = ConditionParser(text)
        root = try parser.parse()
    }

    /// Every name the condition reads (`["params", "mode"]`), with its offset.
    var names: [(path: [String], offset: Int)] {
        var found: [(path: [String], offset: Int)] = []
        func walk(_ node: Node) {
            switch node {
            case .literal, .list: break
            case let .name(path, offset): found.append((path, offset))
            case let .not(inner): walk(inner)
            case let .and(left, right), let .or(left, right), let .compare(left, _, right):
                walk(left)
                walk(right)
            }
        }
        walk(root)
        return found
    }

    /// Whether the condition holds, given the value of each name; with the values it read, as `name = value`.
    func evaluate(_ lookup: ([String]) -> Value) -> (holds: Bool, seen: [String]) {
        var seen: [String] = []
        func value(_ node: Node) -> Value {
            switch node {
            case let .literal(value): return value
            case let .list(values): return .list(values)
            case let .name(path, _):
                let found = lookup(path)
                // A value an upstream step passed on may be long: the reason says how it starts.
                let written = found.written
                let line = "\(path.joined(separator: ".")) = \(written.count > 80 ? written.prefix(79) + "…" : written)"
                if !seen.contains(line) { seen.append(line) }
                return found
            case let .not(inner): return .bool(!value(inner).truthy)
            case let .and(left, right): return .bool(value(left).truthy && value(right).truthy)
            case let .or(left, right): return .bool(value(left).truthy || value(right).truthy)
            case let .compare(left, op, right): return .bool(Self.compare(value(left), op, value(right)))
            }
        }
        return (value(root).truthy, seen)
    }

    /// Why a false condition skips its step: the expression and the values it read.
    func reason(_ seen: [String]) -> String { "if: \(text) is false" + (seen.isEmpty ? "" : " (\(seen.joined(separator: ", ")))") }

    /// The run's parameters as conditions read them: a list parameter is a list.
    static func values(of parameters: [String: String], _ specs: [ParameterSpec]) -> [String: Value] {
        var values: [String: Value] = [:]
        for spec in specs {
            let value = parameters[spec.name] ?? ""
            values[spec.name] = spec.type == .list ? .list((ParameterSpec.listItems(value) ?? []).map { .text($0) }) : .text(value)
        }
        return values
    }

    /// `params.NAME`, `item` or `item.KEY`.
    static func value(of path: [String], parameters: [String: Value], item: FanOutItem?) -> Value {
        if path[0] == "params" { return parameters[path[1]] ?? .text("") }
        return .text(path.count > 1 ? item?.field(path[1]) ?? "" : item?.value ?? "")
    }

    /// Why `step` is skipped by its `if:`, as far as the run's parameters and the step's item tell before the run
    /// starts (a dry run); nil when it holds, or when it reads what upstream steps will do.
    public static func skipBeforeRun(_ step: Step, parameters: [String: String], specs: [ParameterSpec]) -> String? {
        guard let condition = step.condition, step.fanOut?.isDynamic != true, condition.names.allSatisfy({ $0.path[0] != "steps" }) else {
            return nil
        }
        let values = values(of: parameters, specs)
        let (holds, seen) = condition.evaluate { value(of: $0, parameters: values, item: step.instance?.item) }
        return holds ? nil : condition.reason(seen)
    }

    private static func compare(_ left: Value, _ op: Operator, _ right: Value) -> Bool {
        switch op {
        case .in, .notIn:
            let members: [Value] = if case let .list(list) = right { list } else { [] }
            let found = members.contains { equal(left, $0) }
            return op == .in ? found : !found
        case .equal: return equal(left, right)
        case .notEqual: return !equal(left, right)
        default:
            // Numbers by value when one side is a number, else text in its order (dates written YYYY-MM-DD sort so).
            let order: Bool? =
                switch numbers(left, right) {
                case let (a?, b?): a == b ? nil : a < b
                default: text(left) == text(right) ? nil : text(left) < text(right)
                }
            switch op {
            case .less: return order == true
            case .lessOrEqual: return order != false
            case .greater: return order == false
            default: return order != true
            }
        }
    }

    /// Parameters are text: `params.count == 3` holds for `3` and `3.0`, and `'true' == true` holds, as a person
    /// reading the file would expect; two texts compare as text (`'007' != '7'`).
    private static func equal(_ left: Value, _ right: Value) -> Bool {
        if case let .list(a) = left, case let .list(b) = right { return a.count == b.count && zip(a, b).allSatisfy(equal) }
        if case let (a?, b?) = numbers(left, right) { return a == b }
        return text(left) == text(right)
    }

    /// Both sides as numbers, when one is a number literal and the other a plain decimal number.
    private static func numbers(_ left: Value, _ right: Value) -> (Double?, Double?) {
        func decimal(_ value: Value) -> Double? {
            switch value {
            case let .number(number): return number
            case let .text(text):
                let digits = text.drop { $0 == "-" }
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
                return Double(text)
            default: return nil
            }
        }
        let literal = [left, right].contains { if case .number = $0 { true } else { false } }
        return literal ? (decimal(left), decimal(right)) : (nil, nil)
    }

    private static func text(_ value: Value) -> String {
        switch value {
        case let .text(text): text
        case let .number(number): number.formatted
        case let .bool(bool): String(bool)
        case .list: value.written
        }
    }
}
