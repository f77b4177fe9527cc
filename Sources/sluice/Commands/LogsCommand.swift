import ArgumentParser
import Foundation
import SluiceKit

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a step's output (stdout and stderr).")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run id.", completion: Completions.runs)
    var run: String

    @Argument(help: "The step.", completion: Completions.runSteps)
    var step: String

    @Flag(name: .shortAndLong, help: "Keep printing new output until the step has finished.")
    var follow = false

    @Flag(help: "Print the run, the step and its whole output as one JSON object; not with --follow.")
    var json = false

    /// A step's output as `--json` prints it.
    struct Log: Encodable {
        var run: String
        var step: String
        /// The bytes as UTF-8 text, each invalid sequence replaced by U+FFFD.
        var log: String
    }

    func validate() throws {
        // A JSON document is whole only once the step has ended, and --follow is for watching it before.
        if json && follow { throw ValidationError("--json does not combine with --follow: it prints the output as it is now") }
    }

    func run() async throws {
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let record = try await workspace.run(run, in: store)
        let steps = try await store.stepRuns(runID: run)
        let instances = steps.filter { FanOutSummary.fanOut(of: $0.step) == step }
        if let first = instances.first {
            // Its own row, if it has one, holds no output: its instances do.
            throw fail(
                "'\(step)' is a fan-out of \(instances.count) instances, each with its log: name one, as in sluice logs \(run) \(ShellQuote.quote(first.step))",
                ExitStatus.invalidInput)
        }
        guard steps.contains(where: { $0.step == step }) else {
            let names = steps.prefix(20).map(\.step).joined(separator: ", ") + (steps.count > 20 ? " and \(steps.count - 20) more" : "")
            throw fail("run \(run) has no step '\(step)'; its steps are: \(names)", ExitStatus.invalidInput)
        }
        let path = RunDirectory(root: record.runDirectory).log(of: step)
        if json {
            let bytes = FileManager.default.contents(atPath: path) ?? Data()
            return Console.printJSON(Log(run: record.id, step: step, log: String(decoding: bytes, as: UTF8.self)))
        }
        var offset: UInt64 = 0
        while true {
            offset = copy(path, from: offset)
            guard follow else { return }
            let state = try await store.stepRuns(runID: run).first { $0.step == step }?.state
            let runState = try await store.run(id: run)?.status
            if state?.isFinal == true || runState != .running {
                _ = copy(path, from: offset)
                return
            }
            // Following a file that another process appends to: a short poll is what tail -f falls back to.
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Writes the file's bytes from `offset` to stdout; returns the new offset.
    private func copy(_ path: String, from offset: UInt64) -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: path) else { return offset }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        var position = offset
        while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            Console.write(bytes: Array(chunk))
            position += UInt64(chunk.count)
        }
        return position
    }
}
