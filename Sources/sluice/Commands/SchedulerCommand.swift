import ArgumentParser
import Foundation
import ServiceLifecycle
import SluiceKit

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Start the runs of pipelines' schedules and watched folders, until stopped.",
        discussion: """
            What `sluice serve` also does, without the API. Several schedulers and servers may share a store: each due time
            and each change of watched files starts one run. SIGINT or SIGTERM stops it; its running runs are cancelled and recorded.
            """)

    @OptionGroup var workspace: WorkspaceOptions

    func run() async throws {
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let launcher = RunLauncher(runner: configuration.runner(store: store, executor: configuration.executor(for: store)))
        let directory = configuration.pipelinesDirectory
        let catalog = CatalogCache(directory: directory)
        let triggers = TriggerService(
            store: store, configuration: configuration,
            catalog: { try await catalog.current() },
            launch: { try await launcher.start($0) },
            log: { Console.write("\(Date()) \($0)\n") })
        Console.write("sluice scheduler watching \(directory)\n")
        try await ServiceGroup.sluice(
            [
                .init(service: ShutdownService { await launcher.shutdown(because: "the scheduler shut down") }),
                BackgroundService("recovery") {
                    await RunRecovery.keepRecovering(in: store, every: .seconds(30)) { Console.write("\(Date()) \($0)\n") }
                }
                .configuration,
                BackgroundService("triggers") { await triggers.run() }.configuration,
            ], label: "sluice.scheduler"
        ).run()
    }
}
