import ArgumentParser
import Foundation
import SluiceKit

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted or failed run: its steps that did not succeed run again, with the same id and directory.")

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The run's id.")
    var id: String

    @Option(name: .shortAndLong, help: "Steps run at once (default: the number of cores, or `jobs` in sluice.yaml).")
    var jobs: Int?

    @Flag(help: "Run every step that does not depend on a failed one, instead of stopping at the first failure.")
    var continueOnError = false

    @Flag(help: "Print the finished run as JSON instead of a summary.")
    var json = false

    func run() async throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        let configuration = try workspace.configuration(overrides: jobs.map { ["jobs": String($0)] } ?? [:])
        let store = try await workspace.store(configuration)  // a run whose process died is marked interrupted here
        let record = try await workspace.run(id, in: store)
        if record.status == .running {
            throw fail("run \(id) is running, owned by Sluice process \(record.ownerPID) on \(record.ownerHost ?? RunLease.host); "
                       + "resume it after it has ended", ExitStatus.busy)
        }
        let unfinished = try await store.stepRuns(runID: id).filter { !$0.state.isSuccess }.map(\.step)
        guard !unfinished.isEmpty else {
            print("run \(id) has nothing to resume: every step succeeded")
            return
        }
        let pipeline = try workspace.pipeline(record.pipeline, in: PipelineCatalog.scan(configuration.pipelinesDirectory))
        let request = RunRequest(pipeline: pipeline, selection: Selection(only: unfinished), parameters: record.parameters,
                                 trigger: record.trigger, jobs: configuration.jobs, continueOnError: continueOnError,
                                 secrets: SecretValues.load(pipeline.secrets, file: configuration.secretsFile),
                                 secretsInEnvironmentFile: configuration.secretsInEnvironmentFile)
        let prepared: PreparedRun
        do { prepared = try PipelineRunner.prepare(request) } catch {
            throw fail("cannot resume run \(id) with pipeline '\(pipeline.id)' as it is now: \(error)\nnothing was run", ExitStatus.invalidInput)
        }
        // The claim is one conditional update: of two `sluice resume` at once, exactly one gets the run.
        guard let claimed = try await store.claimForResume(runID: id, steps: unfinished) else {
            throw fail("run \(id) was taken over by another Sluice process", ExitStatus.busy)
        }
        let attempts = Dictionary(try await store.attempts(runID: id).map { ($0.step, $0.attempt) }, uniquingKeysWith: max)
        try await RunDriver.drive(prepared, store: store, configuration: configuration, json: json) { runner, observer in
            try await runner.run(prepared, as: claimed, attemptsBefore: attempts, observer: observer)
        }
    }
}
