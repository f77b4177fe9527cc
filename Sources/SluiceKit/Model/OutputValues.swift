import Foundation

/// How the values a step passed on (`$SLUICE_OUTPUT`) are shown, stored and combined.
public enum OutputValues {
    /// Values as the store holds them, a JSON object; nil for none.
    static func decode(_ json: String?) throws -> [String: String]? {
        try json.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
    }

    /// `KEY=VALUE, ...` in key order, each value on one line and cut at 80 characters: for events, tables and logs.
    public static func listing(_ values: [String: String]) -> String {
        values.sorted { $0.key < $1.key }.map { "\($0.key)=\(oneLine($0.value))" }.joined(separator: ", ")
    }

    /// `value` on one line (line breaks and control characters escaped), at most 80 characters.
    public static func oneLine(_ value: String) -> String {
        let escaped = JSONText.string(value).dropFirst().dropLast()
        return escaped.count > 80 ? escaped.prefix(79) + "…" : String(escaped)
    }

    /// What `{{ steps.MAP.outputs.KEY }}` of a fan-out is: its instances' values in item order, a JSON list.
    static func list(_ values: [String]) -> String { JSONText.array(values) }
}
