import Foundation

/// Runs attempts as Slurm batch jobs.
///
/// Each attempt is submitted with `sbatch` as a job that runs `sluice attempt` on the compute node: that process runs
/// the step as the local executor does (its process group, log with secrets masked, timeout, peak memory and CPU
/// time) and writes the result beside the run. So the run directory must be on a file system the compute nodes share
/// at the same path, as with any Slurm cluster's home or project folders. Attempts of one step that start together (a
/// fan-out's instances) are submitted as one job array, so a step of 10,000 instances is a handful of `sbatch` calls,
/// not 10,000.
///
/// One `squeue` call per poll tracks every job this executor submitted, whatever the number of runs. Jobs are
/// submitted, polled and cancelled on one serial queue of the executor's own: `sbatch` and `squeue` block.
final class SlurmExecutor: StepExecutor, @unchecked Sendable {
    private let sluiceBinary: String
    private let gracePeriod: Double
    private let logLimit: Int64
    private let pollInterval: Double
    private let queue = DispatchQueue(label: "sluice.slurm")
    /// Submitted jobs that have not ended, by Slurm's id (`JOB`, or `ARRAY_TASK` for a task of a job array).
    /// Touched only on `queue`, as are the fields below.
    private var jobs: [String: SlurmJob] = [:]
    private var timer: DispatchSourceTimer?
    /// Jobs to cancel with the next `scancel`, which takes them all.
    private var cancelling: [String] = []
    /// The most tasks one job array may have (the cluster's `MaxArraySize`), read once.
    private var arrayLimit: Int?

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
        start([AttemptStart(launch, timeout: timeout, onStart: onStart, completion: completion)])[0]
    }

    public func start(_ attempts: [AttemptStart]) -> [any RunningAttempt] {
        let batch = attempts.map { attempt in
            // Slurm holds the job to its --mem itself: the node's `sluice attempt` makes no cgroup of its own.
            var launch = attempt.launch
            launch.resources?.memory = nil
            return (
                SlurmJob(files: SlurmJobFiles(attempt.launch.identity), onStart: attempt.onStart, completion: attempt.completion),
                AttemptOrder(launch: launch, timeout: attempt.timeout, gracePeriod: gracePeriod, logLimit: logLimit)
            )
        }
        queue.async { [self] in submit(batch) }
        return batch.map { SlurmAttempt(job: $0.0, executor: self) }
    }

    /// Slurm's own scheduler queues the jobs: they wait there, not for one of the run's job slots.
    public func queuesItself(_ placement: StepPlacement) -> Bool { true }

    /// Submits a step's attempts that came together, asking the same of Slurm, as job arrays; the others one by one.
    private func submit(_ batch: [(SlurmJob, AttemptOrder)]) {
        var groups: [[(SlurmJob, AttemptOrder)]] = []
        var groupOf: [[String]: Int] = [:]
        for entry in batch {
            let step = entry.1.launch.identity.step
            let key = [FanOutSummary.fanOut(of: step) ?? step] + SlurmJobFiles.options(for: entry.1)
            if let group = groupOf[key] {
                groups[group].append(entry)
            } else {
                groupOf[key] = groups.count
                groups.append([entry])
            }
        }
        for group in groups {
            let size = group.count > 1 ? maxArraySize() : 1
            guard size > 1 else {
                for (job, order) in group { submit(job, order: order) }
                continue
            }
            for first in stride(from: 0, to: group.count, by: size) { submitArray(Array(group[first..<min(first + size, group.count)])) }
        }
        startPolling()
    }

    private func submit(_ job: SlurmJob, order: AttemptOrder) {
        let submittedAt = Date()
        do {
            try job.files.prepare(order, sluiceBinary: sluiceBinary)
        } catch {
            return job.end(.notStarted(at: submittedAt, error: "cannot write the Slurm job's files: \(error)"))
        }
        let submitted = CommandOutput.run(["sbatch", "--parsable"] + SlurmJobFiles.options(for: order) + job.files.options + [job.files.script])
        guard let id = Self.jobID(submitted) else { return end([job], at: submittedAt, Self.refusal(submitted)) }
        track(job, as: String(id))
    }

    /// One `sbatch --array` for attempts that ask the same of Slurm: task N runs the Nth.
    private func submitArray(_ tasks: [(SlurmJob, AttemptOrder)]) {
        let submittedAt = Date()
        let array = SlurmJobArray(of: tasks[0].1.launch.identity)
        let jobs = tasks.map(\.0)
        do {
            for (job, order) in tasks { try job.files.writeOrder(order) }
            for (task, job) in jobs.enumerated() { job.files.output = array.output(ofTask: task) }
            try array.write(jobs.map(\.files), sluiceBinary: sluiceBinary)
        } catch {
            return end(jobs, at: submittedAt, "cannot write the Slurm job array's files: \(error)")
        }
        let submitted = CommandOutput.run(
            ["sbatch", "--parsable"] + SlurmJobFiles.options(for: tasks[0].1) + array.options(tasks: jobs.count) + [array.script])
        // Slurm keeps the script it was given.
        array.removeScript()
        guard let id = Self.jobID(submitted) else { return end(jobs, at: submittedAt, Self.refusal(submitted)) }
        for (task, job) in jobs.enumerated() { track(job, as: "\(id)_\(task)") }
    }

    /// Jobs that never reached Slurm: their orders go, and their attempts end with `error`.
    private func end(_ jobs: [SlurmJob], at submittedAt: Date, _ error: String) {
        for job in jobs {
            job.files.removeOrder()
            job.end(.notStarted(at: submittedAt, error: error))
        }
    }

    private func track(_ job: SlurmJob, as id: String) {
        job.id = id
        jobs[id] = job
        if job.cancelRequested { scancel(id) }
    }

    private func startPolling() {
        guard timer == nil, !jobs.isEmpty else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + pollInterval, repeating: pollInterval)
        timer.setEventHandler { [weak self] in self?.poll() }
        timer.resume()
        self.timer = timer
    }

    /// The job id `sbatch --parsable` printed (`ID` or `ID;CLUSTER`), when it accepted the job.
    private static func jobID(_ submitted: CommandOutput) -> Int? {
        submitted.status == 0 ? Int(submitted.output.prefix { $0.isNumber }) : nil
    }

    private static func refusal(_ submitted: CommandOutput) -> String {
        submitted.status == 127 ? "sbatch is not on PATH: run Sluice on a Slurm submit host" : "sbatch refused the job: \(submitted.problem)"
    }

    /// The cluster's `MaxArraySize` (Slurm's default is 1001), read once: an array has at most that many tasks.
    private func maxArraySize() -> Int {
        if let arrayLimit { return arrayLimit }
        let config = CommandOutput.run(["scontrol", "show", "config"])
        let line = config.output.split(separator: "\n").first { $0.hasPrefix("MaxArraySize") }
        let limit = line.flatMap { Int($0.split(separator: "=").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 1001
        arrayLimit = limit
        return limit
    }

    /// One `squeue` for every job: those it no longer lists have ended long ago (Slurm forgets ended jobs after
    /// `MinJobAge`), and their result files say how.
    private func poll() {
        guard !jobs.isEmpty else { return }
        // A job array's id lists its tasks; `--array` shows each task on a line of its own, pending ones too.
        let ids = Set(jobs.keys.map { $0.prefix { $0 != "_" } }).sorted().joined(separator: ",")
        let answer = CommandOutput.run([
            "squeue", "--noheader", "--states=all", "--array", "--jobs=\(ids)", "-O", "JobID:|,ArrayJobID:|,ArrayTaskID:|,State:|,exit_code:|",
        ])
        // squeue refuses a list in which it knows no job at all; any other failure is retried at the next poll.
        guard answer.status == 0 || answer.errors.contains("Invalid job id") else { return }
        let states = SlurmJobState.parse(answer.output)
        for (id, job) in jobs {
            let state = states[id]
            if let state, state.isActive {
                if state.isRunning, !job.started {
                    job.started = true
                    job.onStart(Int32(clamping: state.jobID))
                }
                continue
            }
            jobs[id] = nil
            job.end(result(of: job, id: id, state: state))
        }
    }

    private func result(of job: SlurmJob, id: String, state: SlurmJobState?) -> AttemptResult {
        let recorded = job.files.readResult()
        defer { job.files.removeAll() }
        var result = recorded ?? .notStarted(at: Date(), error: "")
        if let (verdictState, error) = state?.verdict(jobID: id, cancelledBySluice: job.cancelRequested) {
            result.state = verdictState
            result.error = error
        } else if recorded == nil, state == nil, job.cancelRequested {
            // Slurm forgot a job Sluice cancelled: at once for a task of a job array cancelled before it started.
            result.state = .cancelled
            result.error = "cancelled"
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

    /// Slurm sends the job SIGTERM, then SIGKILL after its `KillWait`; the job then reports `CANCELLED`. The jobs a
    /// run's cancel reaches at once go out in one `scancel`.
    private func scancel(_ id: String) {
        cancelling.append(id)
        guard cancelling.count == 1 else { return }
        queue.async { [self] in
            let ids = cancelling
            cancelling = []
            let answer = CommandOutput.run(["scancel"] + ids)
            if answer.status != 0 { FileHandle.standardError.write(Data("sluice: scancel \(ids.joined(separator: " ")): \(answer.problem)\n".utf8)) }
        }
    }
}

/// One submitted attempt. Its fields are touched only on the executor's queue.
private final class SlurmJob: @unchecked Sendable {
    var files: SlurmJobFiles
    let onStart: @Sendable (Int32) -> Void
    private let completion: @Sendable (AttemptResult) -> Void
    var id: String?
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
