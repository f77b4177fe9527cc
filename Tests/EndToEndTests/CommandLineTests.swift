import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// The `sluice` binary, run as a user would run it.
/// Serialized: Foundation's `Process` creates pipes without close-on-exec, so a process started by one test
/// could hold another test's output pipe open.
@Suite(.serialized)
struct CommandLineTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String..., environment: [String: String] = [:]) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root, environment: environment)
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func seedPipelinesRunAsWritten() throws {
        try workspace.pipeline("my_pipeline", Seed002.myPipelineYAML)
        try workspace.script("my_pipeline", "setup.py", Seed002.setupScript)
        try workspace.script("my_pipeline", "process.py", "print('processing')\n")
        try workspace.script("my_pipeline", "report.py", "print('report')\n")
        try workspace.write(
            "pipelines/example_pipeline/pipeline.yaml",
            """
            name: "Example Pipeline"
            description: "Basic 3-step data processing pipeline"
            steps:
              - name: "fetch_data"
                script: "fetch.py"
                description: "Download data"
              - name: "clean_data"
                script: "clean.py"
                description: "Clean the data"
                depends_on: ["fetch_data"]
            """)
        try workspace.write("pipelines/example_pipeline/fetch.py", "print('fetched')\n")
        try workspace.write("pipelines/example_pipeline/clean.py", "print('cleaned')\n")

        let validation = try sluice("validate")
        #expect(validation.status == 0)
        #expect(validation.stdout == "ok       example_pipeline (2 steps)\nok       my_pipeline (3 steps)\n")

        let run = try sluice("run", "my_pipeline")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("success"))
        #expect(workspace.exists("output"), "setup.py's os.makedirs(\"output\") runs in the workspace")
        let status = try json(try workspace.read("pipelines/.my_pipeline.status.json")) as! [String: [String: Any]]
        #expect(status.keys.sorted() == ["generate_report", "process_data", "setup"])
        #expect(status.values.allSatisfy { $0["completed"] as? Bool == true && $0["tested"] as? Bool == false })

        #expect(try sluice("run", "example_pipeline").status == 0)
        #expect(workspace.exists("pipelines/.example_pipeline.status.json"))

        let single = try sluice("step", "my_pipeline", "process_data")
        #expect(single.status == 0)
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(runs.count == 3)
        #expect(runs[0]["trigger"] as? String == "step")
        #expect(runs[0]["steps_total"] as? Int == 1)
    }

    @Test func aRetryRunsWhatFailedWithAParameterChangedAndKeepsTheRest() throws {
        try workspace.pipeline(
            "m",
            """
            params: {mood: {type: choice, choices: [bad, good], default: bad}, size: {type: int, default: "2"}}
            steps:
              - {name: a, command: 'echo a >> ran.txt'}
              - {name: b, command: 'echo "b $MOOD $SIZE" >> ran.txt; test "$MOOD" = good', depends_on: [a]}
            """)
        #expect(try sluice("run", "m", "-p", "size=5").status == 1)
        let failed = try #require((try json(try sluice("runs", "--json").stdout) as? [[String: Any]])?.first?["id"] as? String)
        let retry = try sluice("retry", failed, "-p", "mood=good", "--json")
        #expect(retry.status == 0, "\(retry.stderr)")
        let run = try #require((try json(retry.stdout) as? [String: Any])?["run"] as? [String: Any])
        #expect(run["trigger"] as? String == "retry:\(failed)")
        #expect(run["parameters"] as? [String: String] == ["mood": "good", "size": "5"], "changed one, kept the run's other")
        #expect(try workspace.read("ran.txt") == "a\nb bad 5\nb good 5\n", "a succeeded and is not run again")
        let nothing = try sluice("retry", try #require(run["id"] as? String))
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing to retry"))
        #expect(try sluice("retry", "nosuch").status != 0)
    }

    @Test func validateReportsEveryProblemWithPositionsAndFixes() throws {
        try workspace.pipeline(
            "broken",
            """
            steps:
              - name: a
                command: 'true'
              - name: b
                command: 'true'
                depend_on: [a]
              - name: c
                script: missing.py
                depends_on: [d]
            """)
        let result = try sluice("validate")
        #expect(result.status == 65)
        let file = workspace.path("pipelines/broken.yaml")
        #expect(result.stdout.contains("\(file):6:5: error: unknown key 'depend_on' in a step\n    fix: did you mean 'depends_on'?"))
        #expect(result.stdout.contains("\(file):7:5: error: step 'c': script 'missing.py' not found"))
        #expect(result.stdout.contains("\(file):7:5: error: step 'c' depends on 'd', which is not a step of this pipeline"))

        let report = try json(try sluice("validate", "--json").stdout) as! [[String: Any]]
        let diagnostics = report[0]["diagnostics"] as! [[String: Any]]
        #expect(diagnostics.map { $0["code"] as! String } == ["unknown-key", "unknown-dependency", "missing-script"])
    }

    @Test func anInvalidPipelineNeverStartsAProcess() throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: marker, command: touch started-anyway}
              - {name: x, command: 'true', depends_on: [y]}
              - {name: y, command: 'true', depends_on: [x]}
            """)
        let result = try sluice("run", "p")
        #expect(result.status == 65)
        #expect(result.stderr.contains("dependency cycle: x -> y -> x"))
        #expect(result.stderr.contains("nothing was run"))
        #expect(!workspace.exists("started-anyway"))
        #expect(try sluice("runs", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]")
    }

    @Test func badParametersAreRefusedBeforeAnythingRuns() throws {
        try workspace.pipeline(
            "p",
            """
            params:
              date_start: {type: date, required: true}
              focus: {type: choice, choices: [revenue, growth]}
            steps:
              - {name: marker, command: touch ran}
            """)
        let result = try sluice("run", "p", "-p", "date_start=2025-13-01", "-p", "focus=money", "-p", "app=x")
        #expect(result.status == 65)
        #expect(result.stderr.contains("parameter 'app': unknown parameter; declared: date_start, focus"))
        #expect(result.stderr.contains("parameter 'date_start': '2025-13-01' is not a date written YYYY-MM-DD"))
        #expect(result.stderr.contains("parameter 'focus': 'money' is not one of: revenue, growth"))
        #expect(!workspace.exists("ran"))
    }

    @Test func dryRunSaysWhichStepsAreUpToDateAndWhy() throws {
        try workspace.write("in.txt", "1\n")
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: copy, command: 'cp in.txt mid.txt', inputs: [in.txt], outputs: [mid.txt]}
              - {name: count, command: 'wc -l < mid.txt > n.txt', depends_on: [copy], inputs: [mid.txt], outputs: [n.txt]}
              - {name: other, command: 'echo > o.txt', inputs: [other.txt], outputs: [o.txt]}
              - {name: always, command: 'true', depends_on: [count]}
            """)
        try workspace.write("other.txt", "x\n")
        let first = try sluice("run", "p", "--dry-run")
        #expect(first.stdout.contains("4 of 4 steps would run"), "nothing is recorded yet: \(first.stdout)")
        #expect(!workspace.exists(".sluice"), "a dry run creates no store")
        #expect(try sluice("run", "p").status == 0)

        let unchanged = try sluice("run", "p", "--dry-run")
        #expect(unchanged.stdout.contains("1 of 4 steps would run, 3 up to date"), "\(unchanged.stdout)")
        #expect(unchanged.stdout.contains("-   skip  copy                  up to date:"))
        #expect(unchanged.stdout.contains("1   run   always"))

        try workspace.write("in.txt", "1\n2\n")
        let changed = try sluice("run", "p", "--dry-run")
        #expect(changed.stdout.contains("run   copy                  input 'in.txt' changed"), "\(changed.stdout)")
        #expect(changed.stdout.contains("run?  count                 up to date now; runs if copy changes its inputs"))
        #expect(changed.stdout.contains("-   skip  other                 up to date:"))
        #expect(try sluice("run", "p", "--dry-run", "--force").stdout.contains("4 of 4 steps would run"))
    }

    @Test func dryRunPrintsThePlanWithReasonsAndRunsNothing() throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: extract, command: touch ran}
              - {name: transform, command: 'true', depends_on: [extract], timeout: 5m, retries: 2}
              - {name: load, command: 'true', depends_on: [transform]}
            """)
        let result = try sluice("run", "p", "--dry-run", "--skip", "load", "--jobs", "3")
        #expect(result.status == 0)
        #expect(result.stdout.contains("Dry run of 'p': 2 of 3 steps would run, 3 at a time. Nothing was started."))
        #expect(result.stdout.contains("1   run   extract"))
        #expect(result.stdout.contains("2   run   transform"))
        #expect(result.stdout.contains("$ true · after: extract · timeout: 5m00s · retries: 2"))
        #expect(result.stdout.contains("-   skip  load                  skipped by --skip"))
        #expect(!workspace.exists("ran"))
        #expect(!workspace.exists("runs"))
    }

    @Test func exitCodesTellFailureFromPartialSuccess() throws {
        try workspace.pipeline("failing", "steps:\n  - {name: a, command: 'echo first line; echo the reason >&2; exit 5'}\n")
        try workspace.pipeline("partial", "steps:\n  - {name: a, command: 'exit 1', allow_failure: true}\n")
        let failed = try sluice("run", "failing")
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("a: exited with status 5\n  | first line\n  | the reason\n  full log: sluice logs "))
        #expect(try sluice("run", "partial").status == 2)
    }

    @Test func pipedOutputIsPlainLinesWithoutColour() throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n  - {name: b, command: 'true', depends_on: [a]}\n")
        let result = try sluice("run", "p", environment: ["NO_COLOR": ""])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(!result.stdout.contains("\u{1B}["))
        #expect(lines.contains("start    a") && lines.contains("start    b"))
        #expect(lines.contains { $0.hasPrefix("ok       a ") })
    }

    @Test func queryCommandsSpeakJSON() throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: echo hello}\n  - {name: b, command: 'true', depends_on: [a]}\n")
        #expect(try sluice("run", "p").status == 0)
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        let id = try #require(runs.first?["id"] as? String)
        let detail = try json(try sluice("status", id, "--json").stdout) as! [String: Any]
        #expect((detail["run"] as! [String: Any])["status"] as? String == "success")
        #expect((detail["steps"] as! [[String: Any]]).map { $0["state"] as? String } == ["succeeded", "succeeded"])
        #expect((detail["attempts"] as! [[String: Any]]).count == 2)

        #expect(try sluice("logs", id, "a").stdout == "hello\n")
        #expect(try sluice("mark-tested", "p", "a").status == 0)
        let list = try json(try sluice("list", "--json").stdout) as! [[String: Any]]
        let steps = list[0]["steps"] as! [[String: Any]]
        #expect(steps.map { $0["tested"] as? Bool } == [true, false])
        #expect(steps.map { $0["completed"] as? Bool } == [true, true])
        let status = try json(try workspace.read("pipelines/.p.status.json")) as! [String: [String: Any]]
        #expect(status["a"]?["tested"] as? Bool == true)

        let unknown = try sluice("status", "nope00")
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("no run 'nope00'"))
    }

    @Test func configurationComesFromFileThenEnvironmentThenDefaults() throws {
        func setting(_ key: String, _ environment: [String: String] = [:]) throws -> [String: String] {
            let settings = try json(try sluice("config", "--json", environment: environment).stdout) as! [[String: String]]
            return try #require(settings.first { $0["key"] == key })
        }
        #expect(try setting("jobs")["source"] == "default")
        #expect(try setting("jobs", ["SLUICE_JOBS": "5"])["value"] == "5")
        #expect(try setting("jobs", ["SLUICE_JOBS": "5"])["source"] == "environment SLUICE_JOBS")
        try workspace.write("sluice.yaml", "jobs: 3\nruns_dir: run_logs\n")
        #expect(try setting("jobs", ["SLUICE_JOBS": "5"])["value"] == "3")
        #expect(try setting("runs_dir")["value"] == "run_logs")

        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try sluice("run", "p").status == 0)
        #expect(workspace.exists("run_logs"), "runs_dir from sluice.yaml is used")

        try workspace.write("sluice.yaml", "jobs: many\njbos: 2\n")
        let bad = try sluice("config")
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("sluice.yaml:2:1: error: unknown key 'jbos' in the config file"))
    }

    @Test func sigtermCancelsTheRunAndItsSteps() throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: long, command: 'echo $$ > step.pid; exec sleep 300'}
              - {name: never, command: 'true', depends_on: [long]}
            """)
        let running = try SluiceBinary.start(["run", "p"], in: workspace.root, environment: ["SLUICE_GRACE_PERIOD": "1s"])
        #expect(waitUntil { workspace.exists("step.pid") && !((try? workspace.read("step.pid")) ?? "").isEmpty })
        let pid = try #require(Int32(try workspace.read("step.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        running.process.terminate()
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 143)
        #expect(!processIsAlive(pid))
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(runs.first?["status"] as? String == "cancelled")
        let detail = try json(try sluice("status", runs[0]["id"] as! String, "--json").stdout) as! [String: Any]
        #expect((detail["steps"] as! [[String: Any]]).map { $0["state"] as? String } == ["cancelled", "skipped"])
    }

    @Test func twoProcessesShareOneStore() throws {
        try workspace.pipeline("p", "steps:\n" + (0..<20).map { "  - {name: s\($0), command: sleep 0.05}" }.joined(separator: "\n") + "\n")
        // Three runs and a query start at once on a store that does not exist yet.
        let processes = try [["run", "p", "--jobs", "2"], ["run", "p", "--jobs", "2"], ["run", "p"], ["runs"]].map {
            try SluiceBinary.start($0, in: workspace.root)
        }
        for process in processes {
            _ = process.stdout.readDataToEndOfFile()
            let errors = String(decoding: process.stderr.readDataToEndOfFile(), as: UTF8.self)
            process.process.waitUntilExit()
            #expect(process.process.terminationStatus == 0, "\(errors)")
        }
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(runs.count == 3)
        #expect(runs.allSatisfy { $0["status"] as? String == "success" })
        for run in runs {
            let detail = try json(try sluice("status", run["id"] as! String, "--json").stdout) as! [String: Any]
            #expect((detail["steps"] as! [[String: Any]]).count == 20)
        }
    }

    @Test func logsFollowStreamsUntilTheStepEnds() throws {
        try workspace.pipeline(
            "p",
            """
            steps:
              - {name: talk, command: 'for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done'}
            """)
        let running = try SluiceBinary.start(["run", "p"], in: workspace.root)
        var id: String?
        #expect(
            waitUntil {
                id = (try? json(try sluice("runs", "--json").stdout) as? [[String: Any]])?.first?["id"] as? String
                return id != nil
            })
        let follow = try sluice("logs", try #require(id), "talk", "--follow")
        #expect(follow.stdout == "line 1\nline 2\nline 3\nline 4\nline 5\n")
        running.process.waitUntilExit()
    }
}

extension CommandLineTests {
    @Test func aClosedOutputPipeEndsTheDisplayNotTheRun() throws {
        try workspace.pipeline("p", "steps:\n" + (0..<5).map { "  - {name: s\($0), command: sleep 0.05}" }.joined(separator: "\n") + "\n")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", "'\(SluiceBinary.path)' run p --jobs 1 | head -1; exit ${PIPESTATUS[0]}"]
        shell.currentDirectoryURL = URL(fileURLWithPath: workspace.root)
        shell.standardOutput = FileHandle.nullDevice
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(runs.first?["status"] as? String == "success")
    }

    @Test func logsAreCopiedByteForByte() throws {
        try workspace.pipeline("p", "steps:\n  - {name: noise, command: printf 'ok\\377\\376\\000end'}\n")
        #expect(try sluice("run", "p").status == 0)
        let id = try #require((try json(try sluice("runs", "--json").stdout) as! [[String: Any]]).first?["id"] as? String)
        let running = try SluiceBinary.start(["logs", id, "noise"], in: workspace.root)
        let bytes = running.stdout.readDataToEndOfFile()
        running.process.waitUntilExit()
        #expect(Array(bytes) == Array("ok".utf8) + [0xFF, 0xFE, 0x00] + Array("end".utf8))
    }
}

extension CommandLineTests {
    @Test func aSecondSignalKillsStepsWithoutWaitingForTheGracePeriod() throws {
        try workspace.pipeline(
            "p", "steps:\n  - {name: stubborn, command: 'trap \"echo > got-term\" TERM; echo $$ > step.pid; while true; do sleep 0.1; done'}\n")
        let running = try SluiceBinary.start(["run", "p"], in: workspace.root, environment: ["SLUICE_GRACE_PERIOD": "1h"])
        #expect(waitUntil { !((try? workspace.read("step.pid")) ?? "").isEmpty })
        let pid = try #require(Int32(try workspace.read("step.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        running.process.interrupt()
        // The step notes the SIGTERM the first Ctrl-C sent, and goes on. (Signals sent back to back would merge.)
        #expect(waitUntil { workspace.exists("got-term") })
        running.process.interrupt()
        // With an hour of grace, only the second signal's SIGKILL can end the step this soon.
        let ended = waitUntil(timeout: 60) { !running.process.isRunning }
        if !ended { running.process.terminate() }
        #expect(ended)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 130)
        #expect(!processIsAlive(pid))
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(runs.first?["status"] as? String == "cancelled")
    }
}

extension CommandLineTests {
    @Test func secretsComeFromTheSecretsFileAndStayOutOfTheEnvFile() throws {
        try workspace.pipeline("p", "secrets: [TOKEN]\nsteps:\n  - {name: show, command: printenv TOKEN}\n")
        let missing = try sluice("run", "p")
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("secret 'TOKEN' has no value"))

        try workspace.write(".sluice/secrets.env", "TOKEN=abc-123-secret\n")
        #expect(try sluice("run", "p").status == 0)
        let id = try #require((try json(try sluice("runs", "--json").stdout) as! [[String: Any]]).first?["id"] as? String)
        #expect(try sluice("logs", id, "show").stdout == "***\n")
        #expect(!(try workspace.read("runs/\(id)/.env")).contains("abc-123-secret"))

        #expect(try sluice("run", "p", environment: ["SLUICE_ENV_FILE_SECRETS": "true"]).status == 0)
        let second = try #require((try json(try sluice("runs", "--json").stdout) as! [[String: Any]]).first?["id"] as? String)
        #expect(try workspace.read("runs/\(second)/.env").contains("TOKEN=abc-123-secret\n"), "opted in")
    }
}

extension CommandLineTests {
    @Test func aStepStartedFromInsideAnotherStepSeesItsOwnNameAndAttempt() throws {
        // printenv reads the environment as C's getenv does: the first of two entries of a name wins.
        try workspace.pipeline("p", "steps:\n  - {name: show, command: 'printenv SLUICE_STEP SLUICE_ATTEMPT'}\n")
        // As a step of an enclosing run that runs `sluice run`, on that step's third attempt.
        #expect(try sluice("run", "p", environment: ["SLUICE_STEP": "outer", "SLUICE_ATTEMPT": "3"]).status == 0)
        let id = try #require((try json(try sluice("runs", "--json").stdout) as! [[String: Any]]).first?["id"] as? String)
        #expect(try sluice("logs", id, "show").stdout == "show\n1\n")
    }

    @Test func gcRemovesOldRunsAndTheirDirectoriesButNeverARunningOne() throws {
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'echo hi'}\n")
        for _ in 0..<3 { #expect(try sluice("run", "p").status == 0) }
        let runs = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        let dryRun = try sluice("gc", "--keep", "1", "--dry-run")
        #expect(dryRun.stdout.hasPrefix("would remove 2 runs"))
        #expect(try sluice("gc", "--keep", "1").stdout.hasPrefix("removed 2 runs"))
        let left = try json(try sluice("runs", "--json").stdout) as! [[String: Any]]
        #expect(left.map { $0["id"] as? String } == [runs[0]["id"] as? String], "the newest run stays")
        for run in runs.dropFirst() { #expect(!workspace.exists("runs/\(run["id"] as! String)")) }
        #expect(try sluice("gc", "--older-than", "soon").status == 64)
        #expect(try sluice("gc").status == 64)
    }
}
