import Foundation

/// Everything a store holds: what `sluice db copy` reads from one store and writes into another.
public struct StoreContents: Sendable {
    public var runs: [RunRecord] = []
    public var stepRuns: [StepRunRecord] = []
    public var attempts: [AttemptRecord] = []
    public var events: [StoredEvent] = []
    public var recoveryActions: [(runID: String, record: RecoveryActionRecord)] = []
    public var stepStatuses: [StepStatusRecord] = []
    var fingerprints: [StepFingerprintRecord] = []
    /// The run cache: every stored successful fingerprint.
    var cache: [StepFingerprintRecord] = []
    public var hashes: [String: FileHash] = [:]
    public var triggers: [TriggerState] = []
    public var paused: [String: Date] = [:]

    /// Reads all of `store`. `pipelines` adds pipelines with no run whose tested marks should come along.
    public static func read(from store: any RunStore, pipelines: [String] = []) async throws -> StoreContents {
        var contents = StoreContents()
        var offset = 0
        while true {
            let page = try await store.runs(pipeline: nil, status: nil, limit: 1000, offset: offset)
            contents.runs += page
            offset += page.count
            if page.count < 1000 { break }
        }
        contents.runs.reverse()  // oldest first, as they were recorded
        for run in contents.runs {
            contents.stepRuns += try await store.stepRuns(runID: run.id)
            contents.attempts += try await store.attempts(runID: run.id)
            contents.events += try await store.events(runID: run.id, after: 0)
            contents.recoveryActions += try await store.recoveryActions(runID: run.id).map { (run.id, $0) }
        }
        contents.events.sort { $0.seq < $1.seq }
        for pipeline in Set(contents.runs.map(\.pipeline) + pipelines).sorted() {
            contents.stepStatuses += try await store.stepStatuses(pipeline: pipeline)
            let state = try await store.outputState(pipeline: pipeline)
            contents.fingerprints += state.fingerprints.values.sorted { $0.step < $1.step }
            contents.hashes = state.hashes
            contents.cache += try await store.runCache(pipeline: pipeline).values.joined().sorted { $0.recordedAt < $1.recordedAt }
        }
        contents.triggers = try await store.triggerStates(pipeline: nil)
        contents.paused = try await store.pausedPipelines()
        return contents
    }
}
