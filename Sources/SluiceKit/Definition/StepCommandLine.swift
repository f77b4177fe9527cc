import Foundation

/// The argument vector that runs a step: scripts by their interpreter, commands directly or through bash.
public enum StepCommandLine {
    /// Interpreters chosen by file extension; anything else runs by its shebang or as an executable.
    static let interpreters: [String: String] = [
        "py": "python3", "sh": "bash", "bash": "bash", "r": "Rscript", "rb": "ruby", "pl": "perl", "js": "node",
    ]
    /// Characters that need a shell; a command without them is executed directly, as GNU make does.
    static let shellCharacters = Set("\"'\\$&|;<>()*?[]{}~#`=%!\n")
    /// Words that are shell builtins or keywords, not programs: a command starting with one needs the shell too.
    static let shellWords: Set<String> = [
        ".", ":", "alias", "break", "case", "cd", "continue", "eval", "exec", "exit", "export", "for", "function", "if",
        "read", "readonly", "return", "set", "shift", "source", "trap", "ulimit", "umask", "unset", "until", "wait", "while",
    ]

    /// Why a step's script cannot be run as it is, and what to do.
    public struct Problem: Sendable {
        public var message: String
        public var fix: String
    }

    /// The argv for `action`; `argv[0]` is looked up in PATH when it has no slash.
    public static func arguments(for action: StepAction, scriptsDirectory: String) -> [String] {
        switch action {
        case let .command(text):
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if text.contains(where: shellCharacters.contains) || shellWords.contains(words.first ?? "") {
                return ["/bin/bash", "-c", text]
            }
            return words.isEmpty ? ["/bin/true"] : words
        case let .script(path):
            let full = resolve(path, in: scriptsDirectory)
            let ext = (path as NSString).pathExtension.lowercased()
            if let interpreter = interpreters[ext] { return [interpreter, full] }
            if FileManager.default.isExecutableFile(atPath: full) { return [full] }
            if let shebang = shebang(of: full) { return shebang + [full] }
            return [full]
        }
    }

    /// `arguments` as a person reads them before the run starts: `{{ run.id }}` where the run's id will be, and
    /// `{{ steps.NAME.outputs.KEY }}` where an upstream step's value will be.
    public static func readable(_ arguments: [String]) -> [String] {
        arguments.map { Template.fillMarkers($0) { "{{ \($0) }}" } }
    }

    /// Why the script cannot be run, or nil when it can.
    public static func problem(script path: String, in scriptsDirectory: String) -> Problem? {
        let full = resolve(path, in: scriptsDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else {
            return Problem(
                message: "script '\(path)' not found at \(full)",
                fix: "create it, or correct the 'script' path (it is relative to \(scriptsDirectory))")
        }
        if isDirectory.boolValue {
            return Problem(message: "script '\(path)' is a directory", fix: "name a file")
        }
        let ext = (path as NSString).pathExtension.lowercased()
        if interpreters[ext] == nil, !FileManager.default.isExecutableFile(atPath: full), shebang(of: full) == nil {
            return Problem(
                message: "script '\(path)' has no known extension, no shebang and is not executable",
                fix: "add a '#!' line, or run: chmod +x \(full)")
        }
        return nil
    }

    /// `..` is folded before the file system sees the path: `../shared/x.py` of `pipelines/etl.yaml` is
    /// `pipelines/shared/x.py` even when the pipeline has no folder `pipelines/etl/` of its own to step out of.
    static func resolve(_ path: String, in directory: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var parts: [Substring] = []
        for part in "\(directory)/\(path)".split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return (directory.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// `#!/usr/bin/env python3` → `["/usr/bin/env", "python3"]`.
    static func shebang(of file: String) -> [String]? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 256)) ?? Data()
        guard head.starts(with: Array("#!".utf8)) else { return nil }
        let line = head.dropFirst(2).prefix { $0 != UInt8(ascii: "\n") }
        guard let text = String(data: Data(line), encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        // Linux passes everything after the interpreter as one argument.
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return [trimmed] }
        let argument = trimmed[space...].trimmingCharacters(in: .whitespaces)
        return [String(trimmed[..<space]), argument]
    }
}
