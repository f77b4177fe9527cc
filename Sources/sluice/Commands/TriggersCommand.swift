import ArgumentParser
import Foundation
import SluiceKit

struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers", abstract: "List schedules and watched folders with their next times; pause or resume a pipeline's.",
        subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every pipeline's schedules and watches.")
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let configuration = try workspace.configuration()
            let store = try await workspace.store(configuration)
            let paused = try await store.pausedPipelines()
            let states = try await store.triggerStates(pipeline: nil)
            let now = Date()
            for pipeline in PipelineCatalog.scan(configuration.pipelinesDirectory).entries.compactMap(\.pipeline) {
                let state = { (name: String) in states.first { $0.pipeline == pipeline.id && $0.name == name } }
                for schedule in pipeline.schedules {
                    let next = paused[pipeline.id] != nil ? "paused"
                        : schedule.cron.next(after: now, in: schedule.timeZone).map {
                            "next " + (TriggerService.scheduleValues($0, endDate: nil, in: schedule.timeZone)["schedule.time"] ?? "")
                        } ?? "never"
                    print("\(pipeline.id)  \(schedule.name)  cron \"\(schedule.cron)\" \(schedule.timeZoneName)  catch_up \(schedule.catchUp.rawValue)  \(next)"
                          + (state(schedule.name)?.lastError.map { "  last error: \($0)" } ?? ""))
                }
                for watch in pipeline.watches {
                    print("\(pipeline.id)  \(watch.name)  watch \(watch.folder) \(watch.patterns.joined(separator: ","))  debounce \(DurationFormat.short(watch.debounce))"
                          + (paused[pipeline.id] != nil ? "  paused" : "") + (state(watch.name)?.lastError.map { "  last error: \($0)" } ?? ""))
                }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a pipeline's schedules and watches (runs started by hand are not affected).")
        @OptionGroup var workspace: WorkspaceOptions
        @Argument var pipeline: String

        func run() async throws { try await TriggersCommand.setPaused(workspace, pipeline, true) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume a pipeline's schedules and watches; times missed while paused follow its catch_up policy.")
        @OptionGroup var workspace: WorkspaceOptions
        @Argument var pipeline: String

        func run() async throws { try await TriggersCommand.setPaused(workspace, pipeline, false) }
    }

    static func setPaused(_ workspace: WorkspaceOptions, _ name: String, _ paused: Bool) async throws {
        let configuration = try workspace.configuration()
        let pipeline = try workspace.pipeline(name, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        try await workspace.store(configuration).setPaused(pipeline: pipeline.id, paused: paused)
        print("\(pipeline.id): schedules and watches \(paused ? "paused" : "resumed")")
    }
}
