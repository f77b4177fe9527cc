/// JSON text of Sluice's own values (items, list parameters), written without Foundation's encoder.
public enum JSONText {
    public static func string(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    public static func array(_ values: [String]) -> String { "[" + values.map(string).joined(separator: ",") + "]" }

    public static func object(_ fields: [(key: String, value: String)]) -> String {
        "{" + fields.map { string($0.key) + ":" + string($0.value) }.joined(separator: ",") + "}"
    }
}
