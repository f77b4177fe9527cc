import Foundation

/// bash, as a user's script would run: to read back what Sluice wrote (`. .env`), or to encode text with the
/// standard tools (`base64`, `xxd`).
public enum Shell {
    /// Runs `bash -c SCRIPT _ ARGUMENTS…` in `directory` and waits; returns its exit status and standard output.
    public static func run(_ script: String, _ arguments: String..., in directory: String? = nil) throws -> (status: Int32, output: String) {
        try run(script, arguments: arguments, in: directory)
    }

    public static func run(_ script: String, arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "-c", script, "_"] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
