import Foundation
import SluiceKit

/// Whether a process still runs (a zombie counts as ended), as Sluice itself decides it.
public func processIsAlive(_ pid: Int32) -> Bool { ProcessTable.isAlive(pid) }

/// Waits until `condition` holds, checking every few milliseconds, up to `timeout` seconds.
/// For waiting on another process's effect (a file it writes), where no event can be awaited.
public func waitUntil(timeout: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(5_000)
    }
    return try condition()
}

/// Waits as the blocking ``waitUntil(timeout:_:)`` does, but without holding a thread of the cooperative pool, which
/// the other tests running meanwhile need: the one async tests get.
public func waitUntil(timeout: Double = 20, _ condition: () throws -> Bool) async rethrows -> Bool {
    try await eventually(timeout: timeout) { try condition() }
}

/// Waits until `condition` holds, checking every few milliseconds, up to `timeout` seconds, without blocking a thread
/// of the cooperative pool: for async tests waiting on work that runs in the background of this process.
public func eventually(timeout: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A long-running command (a worker, a run) whose output goes to a file, readable while it runs: a pipe nobody
/// reads would fill up and stall it.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    public let outputFile: String

    /// Starts `arguments` (the first is looked up in PATH) in `directory`, stdout and stderr to `outputFile`.
    public init(_ arguments: [String], in directory: String, environment: [String: String] = [:], outputFile: String) throws {
        self.outputFile = outputFile
        FileManager.default.createFile(atPath: outputFile, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        defer { try? output.close() }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"].merging(environment) { $1 }) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for it to end; returns its exit status.
    @discardableResult
    public func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for it to end on a thread of its own, not one of the cooperative pool; returns its exit status.
    @discardableResult
    public func wait() async -> Int32 {
        // offPool throws only what its work throws, and waiting throws nothing.
        (try? await offPool { self.wait() }) ?? -1
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
