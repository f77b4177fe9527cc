import Foundation
import Synchronization

/// A short command run to its end, with what it printed: `sbatch`, `squeue`, `scancel`.
/// It blocks: call it only from a thread of one's own, never from Swift's cooperative pool.
struct CommandOutput {
    var status: Int32
    var output: String
    var errors: String

    /// What went wrong, for a message: its error output, or its exit status.
    var problem: String {
        let text = errors.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "exit status \(status)" : text
    }

    static func run(_ arguments: [String]) -> CommandOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            return CommandOutput(status: 127, output: "", errors: "cannot start \(arguments[0]): \(error)")
        }
        // stderr is read on another thread, so that neither pipe fills up while the other is read.
        let errors = Mutex(Data())
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandOutput(
            status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
            errors: String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }
}
