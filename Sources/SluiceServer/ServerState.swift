import Foundation
import Hummingbird
import SluiceKit

/// What every route shares: the workspace's configuration, its store, its pipelines and the runs started here.
final class ServerState: Sendable {
    let configuration: Configuration
    let store: any RunStore
    let launcher: RunLauncher
    /// Rung when runs of this process store events, so live views see them at once.
    let doorbell = Doorbell()
    /// What uploads under way may still bring (``UploadsController``).
    let uploadBytes = ByteBudget()
    /// Starts the runs of schedules and watched folders.
    let triggers: TriggerService
    /// Counts what `/metrics` reports as counters from the events stored while the server runs.
    let metrics: MetricsCollector
    /// Where the runs asked about stand, kept current from their events (`/api/runs/{run}/status`).
    let statusBoard: RunStatusBoard
    private let catalogCache: CatalogCache

    init(configuration: Configuration, store: any RunStore, executor: any StepExecutor, clock: any TriggerClock) {
        self.configuration = configuration
        self.store = store
        metrics = MetricsCollector(store: store)
        let doorbell = doorbell
        let launcher = RunLauncher(runner: configuration.runner(store: store, executor: executor)) { doorbell.ring() }
        let catalogCache = CatalogCache(directory: configuration.pipelinesDirectory)
        self.launcher = launcher
        statusBoard = RunStatusBoard(store: store, doorbell: doorbell, launcher: launcher)
        self.catalogCache = catalogCache
        triggers = TriggerService(
            store: store, configuration: configuration, clock: clock,
            catalog: { try await catalogCache.current() },
            launch: { try await launcher.start($0) },
            log: Self.log)
    }

    /// The server's log: standard error, a line each.
    static func log(_ line: String) { FileHandle.standardError.write(Data("\(Date()) \(line)\n".utf8)) }

    /// Checks and starts a run with the workspace's settings: 202 with the run and its `Location`, or 422 with one
    /// message per field.
    func start(
        _ pipeline: Pipeline, selection: Selection, parameters: [String: String], parametersFiles: [String] = [], trigger: String,
        continueOnError: Bool = false, force: Bool = false, upstream: UpstreamRun? = nil
    ) async throws -> Response {
        var request: RunRequest
        do {
            request = try configuration.request(
                pipeline, selection: selection, parameters: parameters, parametersFiles: parametersFiles, trigger: trigger)
        } catch {
            throw SluiceError(.invalidInput, "\(error)")
        }
        request.continueOnError = continueOnError
        request.force = force
        let record = try await launcher.start(try PipelineRunner.prepare(request), upstream: upstream)
        return try JSONResponse.make(record, status: .accepted, headers: [.location: "/api/runs/\(record.id)"])
    }

    /// The secrets of pipeline `id` as they are now, to mask what the API shows of its runs (none if it is gone).
    func secretMask(pipeline id: String) async throws -> SecretMask {
        guard let pipeline = try await catalog().entry(id)?.pipeline, !pipeline.secrets.isEmpty else { return SecretMask(values: []) }
        let file = configuration.secretsFile
        return SecretMask(values: Array(try await offPool { SecretValues.load(pipeline.secrets, file: file) }.values))
    }

    /// The pipelines as the files are now: new, changed and deleted files are picked up without a restart, and
    /// unchanged ones are not loaded again. A file that no longer validates stays listed with its diagnostics.
    func catalog() async throws -> PipelineCatalog { try await catalogCache.current() }
}
