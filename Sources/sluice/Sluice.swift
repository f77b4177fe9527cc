import ArgumentParser
import Foundation
import SluiceKit
import SluiceServer

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A file-first data-pipeline orchestrator.",
        discussion: """
            Pipelines are YAML files in the pipelines folder, with their step scripts beside them.
            Exit codes: 0 success, 1 run failed, 2 run partially succeeded, 64 usage error,
            65 invalid pipeline, parameters or configuration, 70 store or internal error, 75 busy (another
            process owns the run, or the pipeline runs one run at a time), 130 cancelled (Ctrl-C), 143 terminated.
            """,
        version: SluiceVersion.current,
        subcommands: [
            InitCommand.self, ValidateCommand.self, ListCommand.self, RunCommand.self, StepCommand.self, RunsCommand.self,
            StatusCommand.self, LogsCommand.self, MarkTestedCommand.self, WhyCommand.self, VersionsCommand.self,
            RestoreCommand.self, ResumeCommand.self, RetryCommand.self, GCCommand.self, BackfillCommand.self, TriggersCommand.self,
            SchedulerCommand.self,
            DBCommand.self, ServeCommand.self, ExportCommand.self, ConfigCommand.self, WorkerCommand.self, AttemptCommand.self,
            ProbeCommand.self, SchemaCommand.self,
        ])

    static func main() async {
        // A closed stdout (`sluice runs | head`) must not kill a run that is recording state.
        signal(SIGPIPE, SIG_IGN)
        MallocArenas.useOne()
        var failure: (any Error)?
        do {
            // The async parse: completions of run ids read the store.
            var command = try await asyncParseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            failure = error
        }
        // The lineage events and spans of the runs still under way are delivered before the process ends.
        await LineageEmitter.drain()
        await TraceExport.shared.shutdown()
        switch failure {
        case nil: return
        case let error as SluiceError: fail(error)
        case let error as any SluiceErrorConvertible: fail(error.sluiceError)
        case let error?: exit(withError: error)
        }
    }

    /// Says what went wrong (on stdout when it is only that there was nothing to do) and exits as its code means.
    private static func fail(_ error: SluiceError) -> Never {
        if error.code == .nothingToDo { print(error.description) } else { Console.error(error.description) }
        exit(withError: ExitStatus.of(error.code))
    }
}
