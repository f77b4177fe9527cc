import Foundation

/// Python 3 as a second, independent program: to read a store the way another tool would, to measure a child's
/// resources, or to run an example's own client.
public enum Python {
    /// The Python of the test tools `scripts/test.sh` installs (schemathesis, Werkzeug), or `SLUICE_TOOLS_PYTHON`.
    public static let tools =
        ProcessInfo.processInfo.environment["SLUICE_TOOLS_PYTHON"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/tools/venv/bin/python3").path

    /// Runs `python3 ARGUMENTS` (or `interpreter`) and waits; standard error goes with standard output when `mergingErrors`.
    public static func run(
        _ arguments: [String], in directory: String? = nil, mergingErrors: Bool = false,
        interpreter: String = "python3"
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [interpreter] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        if mergingErrors { process.standardError = output }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `statement` on the SQLite file at `path` (committed) and returns its rows, one per line, values
    /// separated by spaces.
    public static func sqlite(_ path: String, _ statement: String) throws -> String {
        let result = try run([
            "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            rows = db.execute(sys.argv[2]).fetchall()
            db.commit()
            print("\\n".join(" ".join(map(str, row)) for row in rows))
            """, path, statement,
        ])
        guard result.status == 0 else { throw TestFailure("sqlite: \(statement) failed") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
