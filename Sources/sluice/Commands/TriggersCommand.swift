import ArgumentParser
import Foundation
import SluiceKit

struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers", abstract: "List schedules and watched folders with their next times; pause or resume a pipeline's.",
        subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every pipeline's schedules and watches, and the pipelines that do not load, whose triggers are off.")
        @OptionGroup var workspace: WorkspaceOptions

        @Flag(help: "Print one object per schedule, watch and pipeline that does not load, as JSON.")
        var json = false

        func run() async throws {
            let configuration = try workspace.configuration()
            let store = try await workspace.store(configuration)
            let listing = TriggerListing.of(
                PipelineCatalog.scan(configuration.pipelinesDirectory), states: try await store.triggerStates(pipeline: nil),
                paused: try await store.pausedPipelines(), now: Date())
            if json { return Console.printJSON(listing) }
            for item in listing { print(item.line) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a pipeline's schedules and watches (runs started by hand are not affected).")
        @OptionGroup var workspace: WorkspaceOptions
        @Argument(completion: Completions.pipelines) var pipeline: String

        func run() async throws { try await TriggersCommand.setPaused(workspace, pipeline, true) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a pipeline's schedules and watches; times missed while paused follow its catch_up policy.")
        @OptionGroup var workspace: WorkspaceOptions
        @Argument(completion: Completions.pipelines) var pipeline: String

        func run() async throws { try await TriggersCommand.setPaused(workspace, pipeline, false) }
    }

    static func setPaused(_ workspace: WorkspaceOptions, _ name: String, _ paused: Bool) async throws {
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(name, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        try await TriggerPause.set(paused, pipeline: pipeline, store: try await workspace.store(configuration))
        print("\(pipeline.id): schedules and watches \(paused ? "paused" : "resumed")")
    }
}
