import ArgumentParser
import Foundation
import ServiceLifecycle
import SluiceKit

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run steps queued in a shared PostgreSQL store, on this host, until stopped.",
        discussion: """
            Runs the attempts of steps whose executor is `workers` (in the pipeline file, or the workspace's `executor`
            setting), for runs started by any Sluice process sharing the store. A step with `runs_on: [gpu]` goes only to
            a worker started with `--labels gpu`. Steps' log files are written where the run's directory says, so the runs
            folder must be shared (NFS, CephFS…) at the same path on every host. SIGINT or SIGTERM stops the worker: its
            steps are stopped and recorded as cancelled.
            """)

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "The shared store, postgres://USER@HOST/DATABASE (default: the workspace's `store` setting).")
    var store: String?

    @Option(help: "Comma-separated labels this host offers (gpu,big-mem); steps' `runs_on` must be among them.")
    var labels = ""

    @Option(help: "Steps run at once (default: the number of CPUs).")
    var slots = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "CPUs its steps may use at once, by their resources.cpus (default: the number of CPUs).")
    var cpus = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Memory its steps may use at once, by their resources.memory (default: the host's).", valueName: "amount"))
    var memory: String?

    @Option(help: "How long a claimed step stays this worker's without a renewal: after that, it is retried elsewhere.")
    var lease = "30s"

    @Option(help: "This worker's name in the store and logs (default: HOST:PID).")
    var name: String?

    func run() async throws {
        let configuration = try workspace.configuration(overrides: store.map { ["store": $0] } ?? [:])
        guard let lease = DurationText.seconds(lease), lease >= 2 else {
            throw fail("--lease must be a duration of at least 2s, such as 30s, not '\(self.lease)'", ExitCode(64))
        }
        guard slots >= 1 else { throw fail("--slots must be at least 1", ExitCode(64)) }
        guard cpus >= 1 else { throw fail("--cpus must be at least 1", ExitCode(64)) }
        let memory = try memory.map { text in
            guard let bytes = ByteSize.memory(text) else {
                throw fail("--memory must be an amount of memory such as 16G or 512M, not '\(text)'", ExitCode(64))
            }
            return bytes
        }
        let labels = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let store = try await workspace.store(configuration)
        guard let queue = store as? any WorkQueue else {
            throw fail(
                "workers need a PostgreSQL store: pass --store postgres://USER@HOST/DATABASE, or set `store:` in sluice.yaml",
                ExitStatus.invalidInput)
        }
        let name = name ?? "\(RunLease.host):\(getpid())"
        let log: @Sendable (String) -> Void = { Console.write("\(Date()) \($0)\n") }
        let worker = Worker(
            queue: queue,
            settings: Worker.Settings(
                name: name, labels: labels, slots: slots, cpus: cpus,
                memory: memory ?? Int64(clamping: ProcessInfo.processInfo.physicalMemory), lease: lease), log: log)
        Console.write(
            "sluice worker \(name) on \(configuration.store): \(slots) slot(s)\(labels.isEmpty ? "" : ", labels \(labels.joined(separator: ","))")\n")
        // SIGINT or SIGTERM stops the worker (its steps are cancelled and recorded), then the recovery. Runs whose
        // process died are recorded interrupted meanwhile (as every Sluice command does when it starts), so that their
        // steps here are stopped, not left running for nobody.
        try await ServiceGroup.sluice(
            [
                BackgroundService("recovery") { await RunRecovery.keepRecovering(in: store, every: .seconds(lease), log: log) }.configuration,
                .init(service: BackgroundService("worker") { await worker.run() }, successTerminationBehavior: .gracefullyShutdownGroup),
            ], label: "sluice.worker"
        ).run()
    }
}
