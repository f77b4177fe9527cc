import Foundation
import Synchronization

/// Where secret values come from: the environment first, then the workspace's secrets file (`NAME=value` lines).
public enum SecretValues {
    /// The value of each of `names` that has one.
    public static func load(_ names: [String], file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String]
    {
        let fromFile = names.allSatisfy { environment[$0] != nil } ? [:] : read(file)
        var values: [String: String] = [:]
        for name in names { values[name] = environment[name] ?? fromFile[name] }
        return values
    }

    /// `NAME=value` lines; blank lines and `#` comments are passed over, and quotes around a value removed.
    static func read(_ file: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        warnIfReadableByOthers(file)
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

    /// As ssh does for a private key: the values are used all the same, but the owner is told how to protect them.
    /// Files warned about: once per file and process (a server loads the secrets at every run).
    private static let warned = Mutex<Set<String>>([])

    private static func warnIfReadableByOthers(_ file: String) {
        var status = stat()
        guard stat(file, &status) == 0, status.st_mode & 0o044 != 0, warned.withLock({ $0.insert(file).inserted }) else { return }
        let warning = "warning: \(file) is readable by others (mode \(String(format: "%04o", status.st_mode & 0o7777))); run chmod 600 \(file)\n"
        FileHandle.standardError.write(Data(warning.utf8))
    }
}
