import Foundation

/// The declared type of a pipeline parameter.
public enum ParameterType: String, Sendable, CaseIterable {
    case string, int, number, bool, date, choice
    /// Text items, given as `A,B,C` or as a JSON list; held as the JSON list (what a step's variable holds).
    case list

    /// The form a value must take, for error messages.
    var expectedForm: String {
        switch self {
        case .string: "any text"
        case .int: "a whole number such as 42"
        case .number: "a number such as 0.95"
        case .bool: "true or false"
        case .date: "a date written YYYY-MM-DD"
        case .choice: "one of the listed choices"
        case .list: #"a list such as A,B,C or ["A","B,C"]"#
        }
    }
}

/// A typed parameter declared under `params:`.
public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    public var defaultValue: String?
    public var required: Bool
    public var choices: [String]
    /// Inclusive bounds for `int`, `number` and `date`: a value, or the name of another parameter of the same type
    /// (`date_end: {type: date, min: date_start}`).
    public var minimum: String?
    public var maximum: String?
    public var description: String
    public var location: SourceLocation

    /// The longest value of a parameter that is not a list, in bytes.
    static let maximumLength = 64 << 10

    /// Whether values of this type are ordered, so that `min` and `max` apply.
    var isOrdered: Bool { type == .int || type == .number || type == .date }

    /// The variable a step reads the value from: the name in upper case (`app_filter` → `APP_FILTER`).
    public var environmentName: String {
        name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.reduce(into: "") { $0.append($1) }
    }

    /// The value in its canonical form, or a sentence saying what is wrong with it.
    public func normalize(_ raw: String) -> Result<String, ParameterProblem> {
        guard !raw.utf8.contains(0) else { return .failure(ParameterProblem(parameter: name, message: "a value cannot hold a NUL character")) }
        // The kernel starts no process with a variable past 128 KiB; a list that long stays out of the environment.
        guard type == .list || raw.utf8.count <= Self.maximumLength else {
            return .failure(ParameterProblem(parameter: name, message: "the value is longer than \(Self.maximumLength >> 10) KiB"))
        }
        let value = raw.trimmingCharacters(in: .whitespaces)
        switch type {
        case .string:
            return choices.isEmpty || choices.contains(raw) ? .success(raw) : .failure(notAChoice(raw))
        case .choice:
            return choices.contains(value) ? .success(value) : .failure(notAChoice(raw))
        case .int:
            guard let number = Int(value) else { return .failure(wrongForm(raw)) }
            return .success(String(number))
        case .number:
            guard let number = Double(value), number.isFinite else { return .failure(wrongForm(raw)) }
            return .success(value)
        case .bool:
            switch value.lowercased() {
            case "true", "yes", "on", "1": return .success("true")
            case "false", "no", "off", "0": return .success("false")
            default: return .failure(wrongForm(raw))
            }
        case .date:
            return CalendarDate.isValid(value) ? .success(value) : .failure(wrongForm(raw))
        case .list:
            guard let items = Self.listItems(value) else { return .failure(wrongForm(raw)) }
            if items.contains(where: { $0.utf8.contains(0) }) {
                return .failure(ParameterProblem(parameter: name, message: "an item cannot hold a NUL character"))
            }
            if !choices.isEmpty, let item = items.first(where: { !choices.contains($0) }) { return .failure(notAChoice(item)) }
            return .success(JSONText.array(items))
        }
    }

    /// The items of a list value: a JSON list of texts, or else comma-separated (blanks around items dropped, as are
    /// empty items); nil for JSON that is not a list of texts.
    public static func listItems(_ text: String) -> [String]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("[") else {
            return trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard let data = trimmed.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return nil }
        let items = list.compactMap { $0 as? String }
        return items.count == list.count ? items : nil
    }

    /// Whether `value` comes before `other` (both canonical values of this type).
    func orders(_ value: String, before other: String) -> Bool {
        switch type {
        case .int, .number: (Double(value) ?? 0) < (Double(other) ?? 0)
        default: value < other  // YYYY-MM-DD sorts as text
        }
    }

    private func wrongForm(_ raw: String) -> ParameterProblem {
        ParameterProblem(parameter: name, message: "'\(raw)' is not \(type.expectedForm)")
    }

    private func notAChoice(_ raw: String) -> ParameterProblem {
        ParameterProblem(parameter: name, message: "'\(raw)' is not one of: \(choices.joined(separator: ", "))")
    }
}

/// Why a parameter value was refused.
public struct ParameterProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    public var description: String { "parameter '\(parameter)': \(message)" }
}

/// Strict `YYYY-MM-DD` dates that exist in the calendar.
enum CalendarDate {
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}
