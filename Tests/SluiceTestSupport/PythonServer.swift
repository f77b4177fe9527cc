import Foundation

/// A Python script that serves HTTP on 127.0.0.1, run with the test tools' Python: a receiver for what Sluice sends
/// (lineage events, spans). The script prints its port on its first line; the server is killed with this object.
public final class PythonServer {
    public let address: String
    private let process = Process()

    public init(script: String, arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: Python.tools)
        process.arguments = [script] + arguments
        let port = Pipe()
        process.standardOutput = port
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: port.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Int(line) != nil else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("\(script) printed no port: '\(line)'")
        }
        address = "http://127.0.0.1:\(line)"
    }

    // SIGKILL: the test process ignores SIGTERM, and its children inherit that.
    deinit { kill(process.processIdentifier, SIGKILL) }
}
