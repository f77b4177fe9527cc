import Foundation

/// The directory of one run, laid out as docs/cli.md shows: `outputs/`, `working/`, `logs/<step>.log`, `.env`, `run.log`,
/// `summary.json`.
public struct RunDirectory: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var outputs: String { path("outputs") }
    public var working: String { path("working") }
    public var logs: String { path("logs") }
    public var environmentFile: String { path(".env") }
    var runLog: String { path("run.log") }
    public var summary: String { path("summary.json") }
    public var report: String { path("report.html") }

    public func log(of step: String) -> String { (logs as NSString).appendingPathComponent("\(step).log") }

    /// Creates the folders and writes `.env`, readable by its owner alone when it holds secrets.
    func create(variables: [(String, String)], holdingSecrets: Bool) throws {
        for folder in [outputs, working, logs] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let lines = variables.map { "\($0.0)=\(ShellQuote.quote($0.1))" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: environmentFile, mode: holdingSecrets ? 0o600 : 0o644)
    }

    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}

/// Values written so that `set -a; . .env` in bash gives them back unchanged, and so do dotenv readers (python-dotenv)
/// unless a value holds a line break, `${` (python-dotenv expands it within any quotes), or both a quote or backslash
/// and a `$` or backtick (no quoting means the same to both then). One line holds one variable: a line break in a value is written as bash's `$'…\n…'`, never as a line
/// that a line-based reader would take for a variable of its own.
enum ShellQuote {
    static func quote(_ value: String) -> String {
        let scalars = value.unicodeScalars
        func holds(_ characters: String) -> Bool { scalars.contains { characters.unicodeScalars.contains($0) } }
        if !scalars.isEmpty, scalars.allSatisfy(plain.contains) { return value }
        if holds("\n\r") { return "$'" + escaped(value, ["\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r"]) + "'" }
        // Single quotes keep everything as it is in the shell; dotenv readers take \\ and \' in them as escapes.
        if !holds("'\\") { return "'" + value + "'" }
        // In double quotes the shell and dotenv readers agree on \\ and \", but not on $ and `.
        if !holds("$`") { return "\"" + escaped(value, ["\\": "\\\\", "\"": "\\\""]) + "\"" }
        return "'" + escaped(value, ["'": "'\\''"]) + "'"
    }

    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:@%+,".unicodeScalars)

    /// `value` with each scalar that `replacements` names replaced; scalar by scalar, since "\r\n" is one Character.
    private static func escaped(_ value: String, _ replacements: [Unicode.Scalar: String]) -> String {
        value.unicodeScalars.reduce(into: "") { text, scalar in
            if let replacement = replacements[scalar] { text += replacement } else { text.unicodeScalars.append(scalar) }
        }
    }
}
