import Foundation

extension TestWorkspace {
    /// The repository's root folder, the one with Package.swift.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The repository's `examples/` workspace.
    public static let examplesDirectory = "\(repositoryRoot)/examples"

    /// A fresh workspace holding a copy of example pipeline `name` (its file and its scripts folder).
    public static func example(_ name: String) throws -> TestWorkspace {
        let workspace = try TestWorkspace()
        for item in ["\(name).yaml", name] {
            try FileManager.default.copyItem(atPath: "\(examplesDirectory)/pipelines/\(item)", toPath: workspace.path("pipelines/\(item)"))
        }
        return workspace
    }

    /// A run through the `sluice` binary, as `sluice run --json` reports it.
    public struct FinishedRun {
        public var exitCode: Int32
        public var id: String
        public var status: String
        /// Each step's final state.
        public var states: [String: String]
        public var stderr: String
        public var directory: String

        /// A file of the run's `outputs/` folder.
        public func output(_ relative: String) throws -> String {
            try String(contentsOfFile: "\(directory)/outputs/\(relative)", encoding: .utf8)
        }
    }

    /// Runs `sluice run PIPELINE ARGUMENTS --json` and reads what it printed.
    public func runThroughBinary(_ pipeline: String, _ arguments: String...) throws -> FinishedRun {
        try runThroughBinary(pipeline, arguments)
    }

    public func runThroughBinary(_ pipeline: String, _ arguments: [String]) throws -> FinishedRun {
        let result = try SluiceBinary.run(["run", pipeline, "--json"] + arguments, in: root)
        guard let report = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let run = report["run"] as? [String: Any], let steps = report["steps"] as? [[String: Any]]
        else {
            throw TestFailure("sluice run \(pipeline) exited \(result.status) without a JSON report:\n\(result.stdout)\n\(result.stderr)")
        }
        let states = Dictionary(uniqueKeysWithValues: steps.map { ($0["step"] as? String ?? "?", $0["state"] as? String ?? "?") })
        return FinishedRun(
            exitCode: result.status, id: run["id"] as? String ?? "", status: run["status"] as? String ?? "",
            states: states, stderr: result.stderr, directory: run["run_directory"] as? String ?? "")
    }

    /// A JSON file of the workspace (or an absolute path), parsed.
    public func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try read(relative).utf8))
    }

    /// The rows of a CSV file without quoted fields, header first (Python's csv module ends lines with CR LF).
    public func csvRows(_ relative: String) throws -> [[String]] {
        try read(relative).split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }
}
