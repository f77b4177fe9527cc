import Foundation
import Hummingbird
import SluiceKit
import Synchronization

/// What every route shares: the workspace's configuration, its store, its pipelines and the runs started here.
final class ServerState: Sendable {
    let configuration: Configuration
    let store: any RunStore
    let launcher: RunLauncher
    /// Rung when runs of this process store events, so live views see them at once.
    let doorbell = Doorbell()
    private let catalogCache = Mutex<PipelineCatalog?>(nil)

    init(configuration: Configuration, store: any RunStore, executor: any StepExecutor) {
        self.configuration = configuration
        self.store = store
        launcher = RunLauncher(doorbell: doorbell, runner: PipelineRunner(
            store: store, executor: executor, workspace: configuration.workspace, runsDirectory: configuration.runsDirectory,
            pipelinesDirectory: configuration.pipelinesDirectory, versionsDirectory: configuration.versionsDirectory,
            notify: configuration.notify))
    }

    /// Checks and starts a run with the workspace's settings: 202 with the run and its `Location`, or 422 with one
    /// message per field.
    func start(_ pipeline: Pipeline, selection: Selection, parameters: [String: String], trigger: String,
               continueOnError: Bool = false, force: Bool = false) async throws -> Response {
        let request = RunRequest(pipeline: pipeline, selection: selection, parameters: parameters, trigger: trigger,
                                 jobs: configuration.jobs, continueOnError: continueOnError,
                                 secrets: SecretValues.load(pipeline.secrets, file: configuration.secretsFile),
                                 secretsInEnvironmentFile: configuration.secretsInEnvironmentFile, force: force)
        let prepared: PreparedRun
        do { prepared = try PipelineRunner.prepare(request) } catch { return try RequestProblem(error).response() }
        let record: RunRecord
        do { record = try await launcher.start(prepared) } catch let refused as RunRefused {
            throw HTTPError(.conflict, message: refused.description)
        }
        return try JSONResponse.make(record, status: .accepted, headers: [.location: "/api/runs/\(record.id)"])
    }

    /// The pipelines as the files are now: new, changed and deleted files are picked up without a restart, and
    /// unchanged ones are not loaded again. A file that no longer validates stays listed with its diagnostics.
    func catalog() async throws -> PipelineCatalog {
        try await offPool { [self] in
            catalogCache.withLock { cache in
                let fresh = PipelineCatalog.scan(configuration.pipelinesDirectory, reusing: cache)
                cache = fresh
                return fresh
            }
        }
    }
}
