import Foundation
import SluiceKit

/// The `sluice` executable built beside the test bundle (or named by `SLUICE_BINARY`), run as a user would.
public enum SluiceBinary {
    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["SLUICE_BINARY"] { return explicit }
        let testExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return ((testExecutable as NSString).deletingLastPathComponent as NSString).appendingPathComponent("sluice")
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `sluice ARGUMENTS` in `directory` and waits for it.
    public static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Result {
        let process = try start(arguments, in: directory, environment: environment)
        let stdout = process.stdout.readDataToEndOfFile()
        let stderr = process.stderr.readDataToEndOfFile()
        process.process.waitUntilExit()
        return Result(
            status: process.process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `sluice ARGUMENTS` as ``run(_:in:environment:)`` does, waiting for it on a thread of its own rather than
    /// one of the cooperative pool.
    public static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> Result {
        try await offPool { try run(arguments, in: directory, environment: environment) }
    }

    public struct Running {
        public let process: Process
        public let stdout: FileHandle
        public let stderr: FileHandle
    }

    /// Starts `sluice ARGUMENTS` in `directory` without waiting.
    public static func start(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var base = ProcessInfo.processInfo.environment
        base["NO_COLOR"] = "1"
        process.environment = base.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, stdout: out.fileHandleForReading, stderr: err.fileHandleForReading)
    }
}
