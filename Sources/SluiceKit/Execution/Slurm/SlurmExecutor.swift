import Foundation

/// Runs attempts as Slurm batch jobs.
///
/// Each attempt is submitted with `sbatch` as a job that runs `sluice attempt` on the compute node: that process runs
/// the step as the local executor does (its process group, log with secrets masked, timeout, peak memory and CPU
/// time) and writes the result beside the run. So the run directory must be on a file system the compute nodes share
/// at the same path, as with any Slurm cluster's home or project folders.
///
/// One `squeue` call per poll tracks every job this executor submitted, whatever the number of runs. Jobs are
/// submitted, polled and cancelled on one serial queue of the executor's own: `sbatch` and `squeue` block.
final class SlurmExecutor: StepExecutor, @unchecked Sendable {
    private let sluiceBinary: String
    private let gracePeriod: Double
    private let logLimit: Int64
    private let pollInterval: Double
    private let queue = DispatchQueue(label: "sluice.slurm")
    /// Submitted jobs that have not ended, by job id. Touched only on `queue`.
    private var jobs: [Int: SlurmJob] = [:]
    private var timer: DispatchSourceTimer?

    /// `sluiceBinary` is the `sluice` executable the jobs run (it must exist at that path on the compute nodes).
    public init(sluiceBinary: String, gracePeriod: Double, logLimit: Int64, pollInterval: Double = 1) {
        self.sluiceBinary = sluiceBinary
        self.gracePeriod = gracePeriod
        self.logLimit = logLimit
        self.pollInterval = pollInterval
    }

    public func start(
        _ launch: LaunchSpec, timeout: Double?, onStart: @escaping @Sendable (Int32) -> Void,
        completion: @escaping @Sendable (AttemptResult) -> Void
    ) -> any RunningAttempt {
        let job = SlurmJob(files: SlurmJobFiles(launch.identity), onStart: onStart, completion: completion)
        let order = AttemptOrder(launch: launch, timeout: timeout, gracePeriod: gracePeriod, logLimit: logLimit)
        queue.async { [self] in submit(job, order: order) }
        return SlurmAttempt(job: job, executor: self)
    }

    private func submit(_ job: SlurmJob, order: AttemptOrder) {
        let submittedAt = Date()
        do {
            try job.files.prepare(order, sluiceBinary: sluiceBinary)
        } catch {
            return job.end(.notStarted(at: submittedAt, error: "cannot write the Slurm job's files: \(error)"))
        }
        let submitted = CommandOutput.run(["sbatch", "--parsable"] + SlurmJobFiles.options(for: order) + job.files.options + [job.files.script])
        guard submitted.status == 0, let id = Int(submitted.output.prefix { $0.isNumber }) else {
            job.files.removeOrder()
            let reason =
                submitted.status == 127 ? "sbatch is not on PATH: run Sluice on a Slurm submit host" : "sbatch refused the job: \(submitted.problem)"
            return job.end(.notStarted(at: submittedAt, error: reason))
        }
        job.id = id
        jobs[id] = job
        if job.cancelRequested { scancel(id) }
        if timer == nil {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + pollInterval, repeating: pollInterval)
            timer.setEventHandler { [weak self] in self?.poll() }
            timer.resume()
            self.timer = timer
        }
    }

    /// One `squeue` for every job: those it no longer lists have ended long ago (Slurm forgets ended jobs after
    /// `MinJobAge`), and their result files say how.
    private func poll() {
        guard !jobs.isEmpty else { return }
        let ids = jobs.keys.sorted().map(String.init).joined(separator: ",")
        let answer = CommandOutput.run(["squeue", "--noheader", "--states=all", "--jobs=\(ids)", "-O", "JobID:|,State:|,exit_code:|"])
        // squeue refuses a list in which it knows no job at all; any other failure is retried at the next poll.
        guard answer.status == 0 || answer.errors.contains("Invalid job id") else { return }
        let states = SlurmJobState.parse(answer.output)
        for (id, job) in jobs {
            let state = states[id]
            if let state, state.isActive {
                if state.isRunning, !job.started {
                    job.started = true
                    job.onStart(Int32(clamping: id))
                }
                continue
            }
            jobs[id] = nil
            job.end(result(of: job, id: id, state: state))
        }
    }

    private func result(of job: SlurmJob, id: Int, state: SlurmJobState?) -> AttemptResult {
        let recorded = job.files.readResult()
        defer { job.files.removeAll() }
        var result = recorded ?? .notStarted(at: Date(), error: "")
        if let (verdictState, error) = state?.verdict(jobID: id, cancelledBySluice: job.cancelRequested) {
            result.state = verdictState
            result.error = error
        } else if recorded == nil {
            // The job ended without `sluice attempt` writing its result: it could not start, or was killed.
            let status = state?.waitStatus ?? 0
            result.exitCode = state == nil ? nil : status >> 8
            result.signal = status & 0x7f == 0 ? nil : status & 0x7f
            result.error =
                state == nil
                ? "Slurm no longer knows job \(id), and it left no result (see \(job.files.output))"
                : "Slurm job \(id) ended \(state!.name) without a result (see \(job.files.output))"
        }
        return result
    }

    fileprivate func cancel(_ job: SlurmJob) {
        queue.async { [self] in
            guard !job.cancelRequested else { return }
            job.cancelRequested = true
            if let id = job.id, jobs[id] != nil { scancel(id) }
        }
    }

    /// Slurm sends the job SIGTERM, then SIGKILL after its `KillWait`; the job then reports `CANCELLED`.
    private func scancel(_ id: Int) {
        let answer = CommandOutput.run(["scancel", String(id)])
        if answer.status != 0 { FileHandle.standardError.write(Data("sluice: scancel \(id): \(answer.problem)\n".utf8)) }
    }
}

/// One submitted attempt. Its fields are touched only on the executor's queue.
private final class SlurmJob: @unchecked Sendable {
    let files: SlurmJobFiles
    let onStart: @Sendable (Int32) -> Void
    private let completion: @Sendable (AttemptResult) -> Void
    var id: Int?
    var started = false
    var cancelRequested = false

    init(files: SlurmJobFiles, onStart: @escaping @Sendable (Int32) -> Void, completion: @escaping @Sendable (AttemptResult) -> Void) {
        self.files = files
        self.onStart = onStart
        self.completion = completion
    }

    func end(_ result: AttemptResult) { completion(result) }
}

private struct SlurmAttempt: RunningAttempt {
    let job: SlurmJob
    let executor: SlurmExecutor
    func cancel() { executor.cancel(job) }
}
