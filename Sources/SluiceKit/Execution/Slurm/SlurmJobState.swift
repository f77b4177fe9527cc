/// A job's state as `squeue` reports it, and what it means for the attempt.
struct SlurmJobState: Equatable {
    /// Slurm's own number for the job (each task of a job array has one).
    var jobID: Int
    var name: String
    /// The job's wait status (`exit_code`: the exit code times 256, plus the signal).
    var waitStatus: Int32?

    /// Still waiting or running: Sluice keeps polling it.
    var isActive: Bool {
        [
            "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
            "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD",
        ].contains(name)
    }

    var isRunning: Bool { ["RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT"].contains(name) }

    /// How an ended job ended in Sluice's terms, when Slurm itself ended it; nil when its own exit says it all
    /// (`COMPLETED`, `FAILED`: the attempt's result file has the details).
    func verdict(jobID: String, cancelledBySluice: Bool) -> (state: StepState, error: String)? {
        switch name {
        case "CANCELLED":
            cancelledBySluice ? (.cancelled, "cancelled") : (.failed, "Slurm job \(jobID) was cancelled outside Sluice (scancel)")
        case "TIMEOUT", "DEADLINE": (.timedOut, "Slurm ended job \(jobID) at its time limit")
        case "OUT_OF_MEMORY": (.failed, "Slurm job \(jobID) ran out of memory (raise 'slurm: memory')")
        case "NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "REVOKED", "SPECIAL_EXIT":
            (.failed, "Slurm job \(jobID) ended \(name)")
        default: nil
        }
    }

    /// Parses `squeue --noheader --array -O JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,exit_code:|` lines into
    /// states by job id: `JOB`, or `ARRAY_TASK` for a task of a job array.
    static func parse(_ output: String) -> [String: SlurmJobState] {
        var states: [String: SlurmJobState] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 5, let jobID = Int(fields[0]) else { continue }
            let id = Int(fields[2]) == nil ? fields[0] : "\(fields[1])_\(fields[2])"
            states[id] = SlurmJobState(
                jobID: jobID, name: fields[3].split(separator: " ").first.map(String.init) ?? fields[3], waitStatus: Int32(fields[4]))
        }
        return states
    }
}
