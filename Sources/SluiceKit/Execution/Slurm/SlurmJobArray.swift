import Foundation

/// Attempts of one step submitted with one `sbatch --array`: task N runs the Nth attempt's order. Slurm keeps its own
/// copy of a batch script, so the script is removed once submitted; each task's order and result stay its own
/// (``SlurmJobFiles``), and Slurm's output for task N is the array's, numbered N.
struct SlurmJobArray {
    let folder: String
    let name: String
    let jobName: String

    /// An array of `identity`'s step (`map` for `map[A]`). Its files are named by a fresh id, not by an item: a
    /// backslash in an `--output` pattern would turn off `%a`.
    init(of identity: AttemptIdentity) {
        folder = SlurmJobFiles(identity).folder
        name = "array-" + UUID().uuidString.prefix(8).lowercased()
        jobName = "sluice-\(identity.runID)-\(FanOutSummary.fanOut(of: identity.step) ?? identity.step)"
    }

    var script: String { (folder as NSString).appendingPathComponent("\(name).sh") }

    /// Slurm's output of task `task`.
    func output(ofTask task: Int) -> String { (folder as NSString).appendingPathComponent("\(name).\(task).out") }

    /// `--array` and the options naming the array and its tasks' output.
    func options(tasks: Int) -> [String] {
        [
            "--array=0-\(tasks - 1)", "--job-name=\(jobName)",
            "--output=" + SlurmJobFiles.literal((folder as NSString).appendingPathComponent(name)) + ".%a.out",
        ]
    }

    /// The batch script: task N runs `tasks[N]`'s order.
    func write(_ tasks: [SlurmJobFiles], sluiceBinary: String) throws {
        var text = "#!/bin/sh\ncase \"$SLURM_ARRAY_TASK_ID\" in\n"
        for (number, task) in tasks.enumerated() { text += "\(number)) \(task.command(sluiceBinary)) ;;\n" }
        text += "esac\necho \"sluice: job array \(name) has no task $SLURM_ARRAY_TASK_ID\" >&2\nexit 1\n"
        try AtomicFile.write(Data(text.utf8), to: script)
    }

    func removeScript() { try? FileManager.default.removeItem(atPath: script) }
}
