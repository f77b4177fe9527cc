import Foundation

/// The files of one attempt's Slurm job, in the run's `working/.sluice/slurm/`: the order `sluice attempt` runs
/// (it holds the step's secrets: readable by its owner only, removed when the job ends), the batch script, the
/// result it writes, and Slurm's own output (where a job that could not even start `sluice` says why).
struct SlurmJobFiles: Sendable {
    let folder: String
    let name: String
    let jobName: String

    init(_ identity: AttemptIdentity) {
        folder = (identity.runDirectory as NSString).appendingPathComponent("working/.sluice/slurm")
        name = identity.name
        jobName = "sluice-\(identity.runID)-\(identity.step)"
    }

    var orderFile: String { path("json") }
    var script: String { path("sh") }
    var resultFile: String { path("result.json") }
    var output: String { path("out") }
    private func path(_ suffix: String) -> String { (folder as NSString).appendingPathComponent("\(name).\(suffix)") }

    /// Options naming the job and its output.
    var options: [String] { ["--job-name=\(jobName)", "--output=\(output)"] }

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

    func prepare(_ order: AttemptOrder, sluiceBinary: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: resultFile)
        let data = try JSONEncoder.attempts.encode(order)
        guard FileManager.default.createFile(atPath: orderFile, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: orderFile])
        }
        let text = "#!/bin/sh\nexec \(Self.quoted(sluiceBinary)) attempt \(Self.quoted(orderFile)) \(Self.quoted(resultFile))\n"
        try AtomicFile.write(Data(text.utf8), to: script)
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

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
