import Foundation

/// Where secret values come from: the environment first, then the workspace's secrets file (`NAME=value` lines).
public enum SecretValues {
    /// The value of each of `names` that has one.
    public static func load(_ names: [String], file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        let fromFile = names.allSatisfy { environment[$0] != nil } ? [:] : read(file)
        var values: [String: String] = [:]
        for name in names { values[name] = environment[name] ?? fromFile[name] }
        return values
    }

    /// `NAME=value` lines; blank lines and `#` comments are passed over, and quotes around a value removed.
    static func read(_ file: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            values[name] = value
        }
        return values
    }
}
