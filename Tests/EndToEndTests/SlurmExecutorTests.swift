import Foundation
import SluiceTestSupport
import Testing

/// `executor: slurm` against the real single-node Slurm `scripts/test.sh` starts (`SLURM_CONF`): the same pipeline
/// file ends the same way on Slurm as locally, step by step.
@Suite(.serialized)
struct SlurmExecutorTests {
    let workspace: TestWorkspace
    let slurm: [String: String]

    init() throws {
        workspace = try TestWorkspace()
        guard let conf = ProcessInfo.processInfo.environment["SLURM_CONF"] else {
            throw TestFailure("SLURM_CONF is not set: scripts/test.sh starts Slurm (scripts/slurm.sh) and sets it")
        }
        slurm = ["SLURM_CONF": conf, "SLUICE_EXECUTOR": "slurm"]
    }

    /// What a user compares between two runs of one pipeline: each step's state, exit code, attempts and error.
    private func outcome(_ stdout: String) throws -> [String: String] {
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        let steps = try #require(detail["steps"] as? [[String: Any]])
        var outcome: [String: String] = [:]
        for step in steps {
            let name = step["step"] as? String ?? "?"
            outcome[name] = "\(step["state"] ?? "") exit \(step["exit_code"] ?? "-") attempts \(step["attempts"] ?? "") \(step["error"] ?? "")"
        }
        outcome["run"] = (detail["run"] as? [String: Any])?["status"] as? String
        return outcome
    }

    @Test func failingTimedOutRetriedAndSucceedingStepsEndOnSlurmAsTheyDoLocally() throws {
        try workspace.pipeline(
            "mixed",
            """
            slurm: {cpus: 1, memory: 200M}
            steps:
              - {name: ok, command: 'echo "job ${SLURM_JOB_ID:-none}"; python3 -c "x = bytes(range(256)) * (400 << 10)"'}
              - {name: bad, command: 'echo failing; exit 3', allow_failure: true}
              - {name: slow, command: 'sleep 60', timeout: 2s, allow_failure: true}
              - name: flaky
                command: 'test -f "$SLUICE_WORKING_DIR/tried" || { touch "$SLUICE_WORKING_DIR/tried"; exit 4; }'
                retries: {count: 1, delay: 0}
              - {name: after, command: 'echo after', depends_on: [ok, flaky]}
              - {name: never, command: 'echo never', depends_on: [bad]}
            """)
        let local = try SluiceBinary.run(["run", "mixed", "--json"], in: workspace.root)
        let onSlurm = try SluiceBinary.run(["run", "mixed", "--json"], in: workspace.root, environment: slurm)
        #expect(local.status == 2 && onSlurm.status == 2, "\(onSlurm.stderr)")
        let expected = try outcome(local.stdout)
        #expect(expected["run"] == "partial_success")
        #expect(expected["slow"]?.hasPrefix("timed_out") == true && expected["flaky"]?.contains("attempts 2") == true, "\(expected)")
        #expect(try outcome(onSlurm.stdout) == expected)

        // The steps ran as Slurm jobs: each saw its job id, and Slurm's records name the run's steps.
        let runID = try #require(
            (try JSONSerialization.jsonObject(with: Data(onSlurm.stdout.utf8)) as? [String: Any])
                .flatMap { ($0["run"] as? [String: Any])?["id"] as? String })
        // Resource figures come back from the node as they do locally.
        let steps = try #require((try JSONSerialization.jsonObject(with: Data(onSlurm.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
        let ok = try #require(steps.first { $0["step"] as? String == "ok" })
        #expect((ok["peak_memory_kb"] as? Int ?? 0) > 100 << 10 && ok["cpu_seconds"] is Double, "the step's own 100 MiB: \(ok)")
        let log = try workspace.read("runs/\(runID)/logs/ok.log")
        #expect(log.hasPrefix("job ") && Int(log.dropFirst(4).trimmingCharacters(in: .whitespacesAndNewlines)) != nil, "\(log)")
        let jobs = try Self.command(["squeue", "--noheader", "--states=all", "--name=sluice-\(runID)-ok", "-O", "JobID,State"], environment: slurm)
        #expect(jobs.contains("COMPLETED"), "\(jobs)")
        // Its files are gone once recorded (the order held the environment, secrets included).
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path("runs/\(runID)/working/.sluice/slurm")).isEmpty)
    }

    @Test func ctrlCCancelsTheSlurmJobAndRecordsTheStepCancelledAsLocally() throws {
        try workspace.pipeline("long", "steps:\n  - {name: wait, command: 'echo started; sleep 120'}\n")
        var outcomes: [[String: String]] = []
        for environment in [["SLURM_CONF": slurm["SLURM_CONF"]!], slurm] {
            let earlier = runDirectories()
            let run = try SluiceBinary.start(["run", "long", "--json"], in: workspace.root, environment: environment)
            defer { if run.process.isRunning { kill(run.process.processIdentifier, SIGKILL) } }
            #expect(
                waitUntil(timeout: 30) {
                    runDirectories().subtracting(earlier).contains { (try? workspace.read("runs/\($0)/logs/wait.log"))?.contains("started") == true }
                }, "the step started")
            kill(run.process.processIdentifier, SIGINT)
            let stdout = String(decoding: run.stdout.readDataToEndOfFile(), as: UTF8.self)
            run.process.waitUntilExit()
            #expect(run.process.terminationStatus == 130)
            outcomes.append(try outcome(stdout))
        }
        #expect(outcomes[0]["wait"]?.hasPrefix("cancelled") == true, "\(outcomes)")
        #expect(outcomes[1] == outcomes[0])
        let left = try Self.command(["squeue", "--noheader", "--states=PENDING,RUNNING", "-O", "Name"], environment: slurm)
        #expect(!left.contains("sluice-"), "no job of Sluice's is left queued or running: \(left)")
    }

    @Test func everyPollAsksSlurmAboutAllJobsAtOnce() throws {
        // A shim in front of squeue records each call's job list, then runs the real squeue.
        let calls = workspace.path("squeue-calls")
        let real = try Self.command(["sh", "-c", "command -v squeue"], environment: [:]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try workspace.write("shim/squeue", "#!/bin/sh\necho \"$*\" >> \(calls)\nexec \(real) \"$@\"\n", executable: true)
        try workspace.pipeline("wide", "steps:\n" + (1...4).map { "  - {name: s\($0), command: 'sleep 3'}\n" }.joined())
        var environment = slurm
        environment["PATH"] = workspace.path("shim") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try SluiceBinary.run(["run", "wide", "--jobs", "4"], in: workspace.root, environment: environment)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let lists = try workspace.read("squeue-calls").split(separator: "\n").compactMap { call in
            call.split(separator: " ").first { $0.hasPrefix("--jobs=") }.map { $0.dropFirst(7).split(separator: ",").count }
        }
        #expect(lists.contains(4), "one squeue call covered the four jobs: \(lists)")
        #expect(lists.count < 4 * 4, "not one call per job and poll: \(lists.count) calls")
    }

    @Test func aJobSlurmRefusesFailsTheStepWithSlurmsReason() throws {
        try workspace.pipeline("nowhere", "steps:\n  - {name: a, command: 'true', executor: slurm, slurm: {partition: gpu_nonexistent}}\n")
        let run = try SluiceBinary.run(["run", "nowhere"], in: workspace.root, environment: ["SLURM_CONF": slurm["SLURM_CONF"]!])
        #expect(run.status == 1)
        #expect(run.stdout.contains("sbatch refused the job") && run.stdout.contains("invalid partition"), "\(run.stdout)")
    }

    private func runDirectories() -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: workspace.path("runs"))) ?? [])
    }

    static func command(_ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
