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

    /// Slurm's record of the run's jobs named `name`: each task's array job id and task number.
    private func tasks(named name: String) throws -> [(array: String, task: String)] {
        try Self.command(
            ["squeue", "--noheader", "--states=all", "--array", "--name=\(name)", "-O", "ArrayJobID:|,ArrayTaskID:|"], environment: slurm
        )
        .split(separator: "\n").map { line in
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return (fields.first ?? "", fields.count > 1 ? fields[1] : "")
        }
    }

    @Test func aFanOutsInstancesGoToSlurmAsOneJobArray() throws {
        try workspace.pipeline(
            "fan",
            """
            steps:
              - {name: list, command: 'echo "files=[\\"x\\", \\"y\\", \\"z\\"]" >> "$SLUICE_OUTPUT"'}
              - name: map
                foreach: [a, b, c, d, e, f]
                retries: {count: 1, delay: 0}
                command: |
                  echo item {{ item }} task "${SLURM_ARRAY_TASK_ID:-none}"
                  test {{ item }} != c || test -f "$SLUICE_WORKING_DIR/tried" || { touch "$SLUICE_WORKING_DIR/tried"; exit 4; }
              - {name: each, depends_on: [list], foreach: "{{ steps.list.outputs.files }}", command: 'echo file {{ item }} task "${SLURM_ARRAY_TASK_ID:-none}"'}
              - {name: join, command: 'echo joined', depends_on: [map, each]}
            """)
        // The default --jobs (this machine's cores) bounds local steps, not those Slurm queues.
        let run = try SluiceBinary.run(["run", "fan", "--json"], in: workspace.root, environment: slurm)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let runID = try #require((detail["run"] as? [String: Any])?["id"] as? String)
        let states = Dictionary(
            uniqueKeysWithValues: try #require(detail["steps"] as? [[String: Any]]).map {
                ($0["step"] as? String ?? "?", $0["state"] as? String ?? "?")
            })
        #expect(states.filter { $0.value != "succeeded" }.isEmpty && states["each[z]"] != nil && states["map[f]"] != nil, "\(states)")

        // One sbatch per fan-out: its instances are the tasks of one array, in item order.
        for (fanOut, items) in [("map", ["a", "b", "c", "d", "e", "f"]), ("each", ["x", "y", "z"])] {
            let tasks = try tasks(named: "sluice-\(runID)-\(fanOut)")
            #expect(Set(tasks.map(\.array)).count == 1 && tasks.map(\.task).sorted() == items.indices.map(String.init), "\(fanOut): \(tasks)")
            for (number, item) in items.enumerated() {
                let log = try workspace.read("runs/\(runID)/logs/\(fanOut)[\(item)].log")
                #expect(log.hasPrefix("\(fanOut == "map" ? "item" : "file") \(item) task \(number)\n"), "\(fanOut)[\(item)]: \(log)")
            }
        }
        // The instance that failed was retried on its own, as a job of its own.
        let retried = try Self.command(
            ["squeue", "--noheader", "--states=all", "--name=sluice-\(runID)-map[c]", "-O", "ArrayTaskID"], environment: slurm)
        #expect(retried.trimmingCharacters(in: .whitespacesAndNewlines) == "N/A", "\(retried)")
        #expect(try workspace.read("runs/\(runID)/logs/map[c].log").contains("attempt 2"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path("runs/\(runID)/working/.sluice/slurm")).isEmpty)
    }

    @Test func ctrlCCancelsAJobArraysRunningAndWaitingTasks() throws {
        // Four CPUs each on the test cluster's eight: two tasks run, two wait in Slurm's queue.
        try workspace.pipeline(
            "fan", "slurm: {cpus: 4}\nsteps:\n  - {name: map, foreach: [a, b, c, d], command: 'echo started; sleep 120'}\n")
        let run = try SluiceBinary.start(["run", "fan", "--json"], in: workspace.root, environment: slurm)
        defer { if run.process.isRunning { kill(run.process.processIdentifier, SIGKILL) } }
        #expect(
            waitUntil(timeout: 30) {
                runDirectories().contains { id in
                    ["a", "b", "c", "d"].count { (try? workspace.read("runs/\(id)/logs/map[\($0)].log"))?.contains("started") == true } == 2
                }
            }, "two instances started")
        kill(run.process.processIdentifier, SIGINT)
        let stdout = String(decoding: run.stdout.readDataToEndOfFile(), as: UTF8.self)
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 130)
        let outcome = try outcome(stdout)
        for item in ["a", "b", "c", "d"] { #expect(outcome["map[\(item)]"]?.hasPrefix("cancelled") == true, "\(outcome)") }
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

    /// `resources:` are the job's request unless `slurm:` says otherwise; they do not count against this machine's
    /// CPUs (the step waits in Slurm's queue, not for them).
    @Test func aStepsResourcesAreItsSlurmJobsRequest() throws {
        try workspace.pipeline(
            "sized",
            """
            steps:
              - {name: a, command: 'echo a', resources: {cpus: 2, memory: 150M}}
              - {name: b, command: 'echo b', resources: {cpus: 2, memory: 1G}, slurm: {cpus: 3, memory: 100M}}
            """)
        let run = try SluiceBinary.run(["run", "sized", "--json", "--cpus", "1", "--memory", "64M"], in: workspace.root, environment: slurm)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let runID = try #require(
            (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
                .flatMap { ($0["run"] as? [String: Any])?["id"] as? String })
        for (step, expected) in [("a", ["2", "150M"]), ("b", ["3", "100M"])] {
            let request = try Self.command(
                ["squeue", "--noheader", "--states=all", "--name=sluice-\(runID)-\(step)", "-O", "NumCPUs,MinMemory"], environment: slurm)
            #expect(request.split(whereSeparator: \.isWhitespace).map(String.init) == expected, "\(step): \(request)")
        }
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
