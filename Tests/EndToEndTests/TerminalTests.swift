import Foundation
import SluiceTestSupport
import Testing

/// On a terminal (a real pseudo-terminal from util-linux's `script`), Sluice shows a live progress line.
/// Serialized: Foundation's `Process` creates pipes without close-on-exec, so a process started by one test
/// could hold another test's output pipe open.
@Suite(.serialized)
struct TerminalTests {
    /// Runs `sluice ARGUMENTS` on a pseudo-terminal and returns what the terminal received.
    func onTerminal(_ arguments: String, in workspace: TestWorkspace, color: Bool) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-q", "-e", "-c", "\(SluiceBinary.path) \(arguments)", "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: workspace.root)
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm"
        environment["NO_COLOR"] = color ? nil : "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test func aLiveLineShowsProgressAndAnEstimateFromEarlierRuns() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - {name: a, command: sleep 1.1}\n  - {name: b, command: sleep 0.2, depends_on: [a]}\n")
        #expect(try SluiceBinary.run(["run", "p"], in: workspace.root).status == 0)

        let screen = try onTerminal("run p", in: workspace, color: true)
        #expect(screen.contains("\r\u{1B}[2K"), "the line is redrawn in place")
        #expect(screen.contains("[0/2] "))
        #expect(screen.contains("running a"))
        #expect(screen.contains(" left"), "an estimate from the first run's durations")
        #expect(screen.contains("\u{1B}[32mok"), "colour on a terminal")

        let plain = try onTerminal("run p", in: workspace, color: false)
        #expect(plain.contains("[1/2] "))
        #expect(!plain.contains("\u{1B}[32m") && !plain.contains("\u{1B}[1m"), "no colour with NO_COLOR")
    }
}
