import Foundation

/// The files of one attempt's Slurm job, in the run's `working/.sluice/slurm/`: the order `sluice attempt` runs
/// (it holds the step's secrets: readable by its owner only, removed when the job ends), the batch script, the
/// result it writes, and Slurm's own output (where a job that could not even start `sluice` says why).
struct SlurmJobFiles: Sendable {
    let folder: String
    let name: String
    let jobName: String
    /// Slurm's output for the job; a task of a job array has the array's, numbered.
    var output: String

    init(_ identity: AttemptIdentity) {
        folder = (identity.runDirectory as NSString).appendingPathComponent("working/.sluice/slurm")
        name = identity.name
        jobName = "sluice-\(identity.runID)-\(identity.step)"
        output = (folder as NSString).appendingPathComponent("\(name).out")
    }

    var orderFile: String { path("json") }
    var script: String { path("sh") }
    var resultFile: String { path("result.json") }
    private func path(_ suffix: String) -> String { (folder as NSString).appendingPathComponent("\(name).\(suffix)") }

    /// Options naming the job and its output.
    var options: [String] { ["--job-name=\(jobName)", "--output=" + Self.literal(output)] }

    /// `path` as an `sbatch --output` pattern that means just it: `%` starts a replacement there, unless the
    /// pattern holds a backslash, which turns replacements off.
    static func literal(_ path: String) -> String { path.contains("\\") ? path : path.replacingOccurrences(of: "%", with: "%%") }

    /// What the step asks of Slurm. The time limit leaves room for Sluice's own timeout and grace period to end
    /// the step first, so a timed-out step looks the same as locally.
    static func options(for order: AttemptOrder) -> [String] {
        let request = order.launch.placement.slurm
        var options = ["--chdir=\(order.launch.workingDirectory)"]
        if let partition = request.partition { options.append("--partition=\(partition)") }
        if let cpus = request.cpus { options.append("--cpus-per-task=\(cpus)") }
        if let memory = request.memory { options.append("--mem=\(memory)") }
        if let seconds = request.time ?? order.timeout.map({ $0 + order.gracePeriod + 60 }) {
            options.append("--time=\(max(1, Int((seconds / 60).rounded(.up))))")
        }
        return options + request.flags
    }

    /// Writes the order and a batch script that runs it.
    func prepare(_ order: AttemptOrder, sluiceBinary: String) throws {
        try writeOrder(order)
        try AtomicFile.write(Data("#!/bin/sh\n\(command(sluiceBinary))\n".utf8), to: script)
    }

    /// Writes the order alone, for a task of a job array (whose script runs it).
    func writeOrder(_ order: AttemptOrder) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: resultFile)
        let data = try JSONEncoder.attempts.encode(order)
        guard FileManager.default.createFile(atPath: orderFile, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: orderFile])
        }
    }

    /// The shell command that runs the order on the compute node.
    func command(_ sluiceBinary: String) -> String {
        "exec \(Self.quoted(sluiceBinary)) attempt \(Self.quoted(orderFile)) \(Self.quoted(resultFile))"
    }

    func readResult() -> AttemptResult? {
        FileManager.default.contents(atPath: resultFile).flatMap { try? JSONDecoder.attempts.decode(AttemptResult.self, from: $0) }
    }

    func removeOrder() { try? FileManager.default.removeItem(atPath: orderFile) }

    /// Removes the job's files once its result is recorded; Slurm's output stays when it has something to say.
    func removeAll() {
        for file in [orderFile, script, resultFile] { try? FileManager.default.removeItem(atPath: file) }
        if (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) == 0 { try? FileManager.default.removeItem(atPath: output) }
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
