import Foundation

/// The directory of one run, laid out as docs/cli.md shows: `outputs/`, `working/`, `logs/<step>.log`,
/// `values/<step>.<attempt>`, `.env`, `run.log`, `summary.json`.
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

    /// Where attempt `attempt` of `step` writes its values (`$SLUICE_OUTPUT`): a file per attempt, so a retry starts
    /// from nothing and a resumed run's attempts find none of an earlier go's.
    func values(of step: String, attempt: Int) -> String { path("values/\(step).\(attempt)") }

    /// Creates the folders and writes `.env`, readable by its owner alone when it holds secrets.
    func create(variables: [(String, String)], holdingSecrets: Bool) throws {
        for folder in [outputs, working, logs, path("values")] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let lines = variables.map { "\($0.0)=\(ShellQuote.quote($0.1))" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: environmentFile, mode: holdingSecrets ? 0o600 : 0o644)
    }

    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }
}
