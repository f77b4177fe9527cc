import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `sluice worker` processes on this host, sharing the test PostgreSQL with the run: the same pipeline file runs
/// locally and on workers, labels choose workers, and a killed worker's step is retried elsewhere.
@Suite(.serialized)
struct WorkerCommandTests {
    let workspace: TestWorkspace
    let url: String

    init() async throws {
        workspace = try TestWorkspace()
        url = try await TestPostgres.newDatabase()
        try workspace.write("sluice.yaml", "store: \(url)\n")
    }

    private func worker(_ name: String, _ options: [String] = []) throws -> BackgroundProcess {
        try BackgroundProcess(
            [SluiceBinary.path, "worker", "--name", name, "--lease", "2s"] + options, in: workspace.root,
            outputFile: workspace.path("\(name).out"))
    }

    private func run(_ pipeline: String, executor: String) throws -> SluiceBinary.Result {
        try SluiceBinary.run(["run", pipeline], in: workspace.root, environment: ["SLUICE_EXECUTOR": executor])
    }

    @Test func theSamePipelineFileRunsLocallyAndOnWorkersAndLabelsChooseTheWorker() throws {
        try workspace.pipeline(
            "report",
            """
            secrets: [API_TOKEN]
            steps:
              - {name: extract, command: 'echo "extract as $SLUICE_RUN_ID with $API_TOKEN"'}
              - {name: train, command: 'echo trained', depends_on: [extract], runs_on: [gpu]}
              - {name: publish, command: 'echo published', depends_on: [train]}
            """)
        try workspace.write(".sluice/secrets.env", "API_TOKEN=s3cr3t-value\n")
        let local = try run("report", executor: "local")
        #expect(local.status == 0, "\(local.stdout)\(local.stderr)")

        let plain = try worker("plain")
        let gpu = try worker("gpu-box", ["--labels", "gpu,big-mem"])
        let remote = try run("report", executor: "workers")
        #expect(remote.status == 0, "\(remote.stdout)\(remote.stderr)")
        let runID = try #require(remote.stdout.split(separator: " ").dropFirst().first.map(String.init))
        #expect(try workspace.read("runs/\(runID)/logs/extract.log") == "extract as \(runID) with ***\n", "the mask travels with the step")
        plain.signal(SIGTERM)
        gpu.signal(SIGTERM)
        #expect(plain.wait() == 0 && gpu.wait() == 0)
        #expect(gpu.output.contains("\(runID) train.1 succeeded"), "\(gpu.output)")
        #expect(!plain.output.contains("train"), "a worker without the label never takes the step: \(plain.output)")
        // Queued orders carried the secret; none is left in the store once the items ended.
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM work_items WHERE orderjson IS NOT NULL OR state <> 'done'") == "0")
    }

    /// A worker takes steps while their `resources:` fit its `--cpus` and `--memory`: with room for one big step at a
    /// time, two never run together on it; a step too big for it waits for another worker. The run's own --cpus do not
    /// bound steps on workers.
    @Test func aWorkerTakesStepsWhileTheirResourcesFitItsCapacity() throws {
        // Two steps holding the lock of one worker at once note it.
        let exclusive =
            #"mkdir "in-use-$SLUICE_WORKER_PID" 2>/dev/null || echo "$SLUICE_STEP" >> overlaps; sleep 0.3; rmdir "in-use-$SLUICE_WORKER_PID""#
        try workspace.pipeline(
            "sized",
            """
            steps:
              - {name: big1, resources: {cpus: 3}, runs_on: [narrow], command: '\(exclusive)'}
              - {name: big2, resources: {cpus: 3}, runs_on: [narrow], command: '\(exclusive)'}
              - {name: huge, resources: {cpus: 8, memory: 2G}, command: 'echo "on $SLUICE_WORKER_PID"'}
              - {name: small1, command: 'touch small1.on; for i in $(seq 500); do test -f small2.on && exit 0; sleep 0.01; done; exit 1'}
              - {name: small2, command: 'touch small2.on; for i in $(seq 500); do test -f small1.on && exit 0; sleep 0.01; done; exit 1'}
            """)
        let narrow = try worker("narrow", ["--slots", "4", "--cpus", "4", "--memory", "1G", "--labels", "narrow"])
        let wide = try worker("wide", ["--slots", "1", "--cpus", "8", "--memory", "4G", "--labels", "wide"])
        let run = try SluiceBinary.run(
            ["run", "sized", "--jobs", "5", "--cpus", "1"], in: workspace.root, environment: ["SLUICE_EXECUTOR": "workers"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        narrow.signal(SIGTERM)
        wide.signal(SIGTERM)
        #expect(narrow.wait() == 0 && wide.wait() == 0)
        #expect(!workspace.exists("overlaps"), "3 CPUs and 3 CPUs do not fit in 4")
        #expect(narrow.output.contains(" big1.1 succeeded") && narrow.output.contains(" big2.1 succeeded"), "\(narrow.output)")
        #expect(wide.output.contains(" huge.1 succeeded") && !narrow.output.contains("huge"), "\(narrow.output)\(wide.output)")

        let refused = try BackgroundProcess(
            [SluiceBinary.path, "worker", "--memory", "lots"], in: workspace.root, outputFile: workspace.path("refused.out"))
        #expect(refused.wait() == 64 && refused.output.contains("--memory must be an amount of memory such as 16G or 512M, not 'lots'"))
    }

    @Test func aFanOutsInstancesAreClaimedByWorkersLikeAnyAttempt() throws {
        try workspace.pipeline(
            "fan",
            """
            steps:
              - {name: list, command: 'echo "items=[\\"x\\", \\"y\\", \\"z\\"]" >> "$SLUICE_OUTPUT"'}
              - {name: map, foreach: [a, b, c, d], command: 'echo item {{ item }}'}
              - {name: each, depends_on: [list], foreach: "{{ steps.list.outputs.items }}", command: 'echo {{ item }}'}
            """)
        let first = try worker("w1", ["--slots", "2"])
        let second = try worker("w2", ["--slots", "2"])
        let run = try SluiceBinary.run(["run", "fan", "--jobs", "4"], in: workspace.root, environment: ["SLUICE_EXECUTOR": "workers"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let runID = try #require(run.stdout.split(separator: " ").dropFirst().first.map(String.init))
        first.signal(SIGTERM)
        second.signal(SIGTERM)
        #expect(first.wait() == 0 && second.wait() == 0)
        let claimed = first.output + second.output
        for instance in ["map[a]", "map[b]", "map[c]", "map[d]", "each[x]", "each[y]", "each[z]"] {
            #expect(claimed.components(separatedBy: "\(runID) \(instance).1 succeeded").count == 2, "\(instance) ran once: \(claimed)")
        }
        #expect(try workspace.read("runs/\(runID)/logs/map[c].log") == "item c\n")
    }

    @Test func aKilledWorkersStepIsRetriedOnAnotherAndRecordedOnce() async throws {
        try workspace.pipeline(
            "slow",
            """
            steps:
              - name: long
                command: 'if [ -e "$SLUICE_WORKSPACE/tried" ]; then echo retried; else touch "$SLUICE_WORKSPACE/tried"; sleep 60; fi'
                retries: {count: 2, delay: 0}
            """)
        // The first attempt outlives its killed worker until the rescuer ends it; the retry ends at once.
        let doomed = try worker("doomed")
        let run = try BackgroundProcess(
            [SluiceBinary.path, "run", "slow"], in: workspace.root, environment: ["SLUICE_EXECUTOR": "workers"],
            outputFile: workspace.path("run.out"))
        #expect(await waitUntil { FileManager.default.fileExists(atPath: workspace.path("tried")) }, "the first worker started the step")
        doomed.signal(SIGKILL)
        let rescuer = try worker("rescuer")
        #expect(await run.wait() == 0, "\(run.output)")
        rescuer.signal(SIGTERM)
        await rescuer.wait()
        #expect(run.output.contains("worker doomed stopped answering"), "\(run.output)")
        let log = rescuer.output
        #expect(log.contains("long.2 succeeded"), "\(log)")
        #expect(log.contains("left by a worker that died on this host"), "the killed worker's step was ended: \(log)")
        let store = try await PostgresRunStore(url: url)
        let runID = try #require(try await store.runs(pipeline: "slow", status: nil, limit: 1, offset: 0).first?.id)
        let attempts = try await store.attempts(runID: runID).map(\.state)
        #expect(attempts == [.failed, .succeeded], "the lost attempt failed, its retry succeeded, once")
    }

    /// A worker, and a run of a two-minute step that it takes.
    private func longStepOnAWorker() throws -> (busy: BackgroundProcess, run: BackgroundProcess) {
        try workspace.pipeline("long", "steps:\n  - {name: wait, command: 'echo started; sleep 120'}\n")
        let busy = try worker("busy")
        let run = try BackgroundProcess(
            [SluiceBinary.path, "run", "long"], in: workspace.root, environment: ["SLUICE_EXECUTOR": "workers"],
            outputFile: workspace.path("run.out"))
        return (busy, run)
    }

    @Test func ctrlCCancelsAStepRunningOnAWorker() throws {
        let (busy, run) = try longStepOnAWorker()
        #expect(waitUntil { run.output.contains("start    wait") }, "\(run.output)")
        run.signal(SIGINT)
        #expect(run.wait() == 130, "\(run.output)")
        #expect(run.output.contains("wait: cancelled"), "\(run.output)")
        #expect(waitUntil { busy.output.contains("wait.1 cancelled") }, "the worker stopped the step: \(busy.output)")
        busy.signal(SIGTERM)
        #expect(busy.wait() == 0)
    }

    @Test func aWorkerStopsTheStepsOfARunWhoseProcessDied() throws {
        let (busy, run) = try longStepOnAWorker()
        #expect(waitUntil { run.output.contains("start    wait") }, "\(run.output)")
        run.signal(SIGKILL)
        run.wait()
        // On this host the worker's recovery ends the run's processes itself; on another, the run's items turn
        // `cancelling` and the worker cancels them. Either way the step stops.
        #expect(waitUntil { busy.output.contains("was interrupted: the Sluice process running it ended") }, "\(busy.output)")
        #expect(waitUntil { busy.output.contains("wait.1 failed") || busy.output.contains("wait.1 cancelled") }, "\(busy.output)")
        let runID = try #require(busy.output.split(separator: " ").drop { $0 != "running" }.dropFirst().first.map(String.init))
        #expect(ProcessTable.processes(ofRun: runID).isEmpty, "no process of the dead run is left")
        busy.signal(SIGTERM)
        #expect(busy.wait() == 0)
    }

    @Test func workersNeedAPostgreSQLStoreAndSaySo() throws {
        try workspace.write("sluice.yaml", "executor: workers\n")
        try workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        let run = try SluiceBinary.run(["run", "p"], in: workspace.root)
        #expect(run.status == 1 && run.stdout.contains("workers need a PostgreSQL store"), "\(run.stdout)")
        let worker = try SluiceBinary.run(["worker"], in: workspace.root)
        #expect(worker.status == 65 && worker.stderr.contains("workers need a PostgreSQL store"), "\(worker.stderr)")
    }
}
