import Foundation
import Synchronization

/// Where OpenLineage events go: `openlineage_url` (or `OPENLINEAGE_URL`), under a namespace.
public struct LineageTarget: Sendable, Equatable {
    public var url: String
    public var namespace: String
    /// Sent as `Authorization: Bearer`, from `OPENLINEAGE_API_KEY` (as the OpenLineage clients read it).
    public var apiKey: String?

    public init(url: String, namespace: String, apiKey: String? = nil) {
        self.url = url
        self.namespace = namespace
        self.apiKey = apiKey
    }

    /// `URL/api/v1/lineage`, the route Marquez and the OpenLineage proxy take events on.
    var endpoint: URL? {
        URL(string: url.hasSuffix("/") ? url + "api/v1/lineage" : url + "/api/v1/lineage")
    }
}

/// Turns one run's events into OpenLineage events and posts them in order, off the engine's threads: a slow or
/// absent backend delays no step and no run's end. What is still being delivered when `sluice` has done its work
/// gets at most ``drainLimit`` more (``drain()``). A failed delivery is reported once per run on standard error and
/// never fails the run.
public final class LineageEmitter: Sendable {
    static let drainLimit: Duration = .seconds(5)

    private let target: LineageTarget
    private let runID: String
    private let runUUID: String
    private let pipeline: String
    /// The run's steps by name as planned, their templates filled in: a fan-out's instances added while the run
    /// runs are not among them, and carry no datasets.
    private let steps: [String: Step]
    private let workspace: String
    /// A fan-out's instance is named after its item, which may hold a secret: names and errors are masked.
    private let mask: SecretMask
    private let started = Mutex<Set<String>>([])
    private let events: AsyncStream<LineageEvent>.Continuation

    init(target: LineageTarget, runID: String, pipeline: Pipeline, workspace: String, mask: SecretMask) {
        self.target = target
        self.runID = runID
        runUUID = LineageEvent.uuid(runID)
        self.pipeline = pipeline.id
        steps = Dictionary(pipeline.steps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.workspace = workspace
        self.mask = mask
        let (stream, continuation) = AsyncStream.makeStream(of: LineageEvent.self)
        events = continuation
        Self.deliveries.withLock { $0[runID] = Task { await Self.deliver(stream, to: target, runID: runID) } }
    }

    /// Called with each batch the run records, on the batcher's thread.
    func observe(_ batch: [RunEvent]) {
        for event in batch {
            for lineage in lineageEvents(of: event) { events.yield(lineage) }
        }
    }

    /// The run has ended: its last events are delivered in the background.
    func finish() { events.finish() }

    /// The deliveries under way, by run: a process waits for them before it exits.
    private static let deliveries = Mutex<[String: Task<Void, Never>]>([:])

    /// Waits for the deliveries under way, at most ``drainLimit``; those still waiting then are given up, and said so.
    public static func drain() async {
        let pending = deliveries.withLock { Array($0.values) }
        guard !pending.isEmpty else { return }
        let limit = Task {
            try await Task.sleep(for: drainLimit)
            for delivery in pending { delivery.cancel() }
        }
        for delivery in pending { await delivery.value }
        limit.cancel()
    }

    private func lineageEvents(of event: RunEvent) -> [LineageEvent] {
        let time = Timestamp.iso(event.time)
        switch event.kind {
        case let .runStarted(steps):
            let declared = steps.compactMap { self.steps[$0] }
            return [
                LineageEvent(
                    eventType: .START, eventTime: time, run: .init(runId: runUUID), job: runJob,
                    inputs: datasets(declared.flatMap(\.inputs)), outputs: datasets(declared.flatMap(\.outputs)))
            ]
        case let .attemptStarted(step, _, _):
            guard started.withLock({ $0.insert(step).inserted }) else { return [] }
            return [stepEvent(.START, step, at: time)]
        case let .stepFinished(step, stepState, _, _, result):
            // A step that never started (a fan-out's own row, a step skipped) has no run of its own to end.
            guard let type = LineageEvent.ending(stepState), started.withLock({ $0.contains(step) }) else { return [] }
            var lineage = stepEvent(type, step, at: time)
            if type == .FAIL {
                lineage.run.facets?.errorMessage = .init(message: mask.redact(result.error ?? "the step failed (\(stepState.rawValue))"))
            }
            return [lineage]
        case let .runFinished(status):
            guard let type = LineageEvent.ending(status) else { return [] }
            var facets: LineageEvent.Facets?
            if type == .FAIL { facets = .init(errorMessage: .init(message: "the run \(status.rawValue)")) }
            return [LineageEvent(eventType: type, eventTime: time, run: .init(runId: runUUID, facets: facets), job: runJob, inputs: [], outputs: [])]
        default:
            return []
        }
    }

    private var runJob: LineageEvent.Job { .init(namespace: target.namespace, name: pipeline) }

    private func stepEvent(_ type: LineageEvent.EventType, _ step: String, at time: String) -> LineageEvent {
        let declared = steps[step]
        let parent = LineageEvent.ParentFacet(run: .init(runId: runUUID), job: runJob)
        return LineageEvent(
            eventType: type, eventTime: time,
            run: .init(runId: LineageEvent.uuid(runID + "/" + step), facets: .init(parent: parent)),
            job: .init(namespace: target.namespace, name: pipeline + "." + mask.redact(step)),
            inputs: type == .START ? datasets(declared?.inputs ?? []) : [], outputs: datasets(declared?.outputs ?? []))
    }

    /// Declared files as OpenLineage names them on a local file system: namespace `file`, the absolute path. A path
    /// still holding a template (a fan-out's, before its items are known) names no file yet.
    private func datasets(_ paths: [String]) -> [LineageEvent.Dataset] {
        var seen = Set<String>()
        return paths.filter { !$0.contains("{{") }.map { workspace + "/" + mask.redact($0) }.filter { seen.insert($0).inserted }
            .map { .init(namespace: "file", name: $0) }
    }

    private static func deliver(_ stream: AsyncStream<LineageEvent>, to target: LineageTarget, runID: String) async {
        defer { _ = deliveries.withLock { $0.removeValue(forKey: runID) } }
        guard let endpoint = target.endpoint else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var problem: String?
        var undelivered = 0
        for await event in stream {
            guard !Task.isCancelled, let body = try? encoder.encode(event) else {
                undelivered += 1
                problem = problem ?? "the backend did not answer within \(drainLimit) of the run's end"
                continue
            }
            let headers = [("Content-Type", "application/json")] + (target.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [])
            do {
                let code = try await HTTPExchange.status(.POST, endpoint.absoluteString, body: body, headers: headers, timeout: 5)
                if !(200..<300).contains(code) {
                    undelivered += 1
                    problem = problem ?? "HTTP \(code)"
                }
            } catch {
                undelivered += 1
                problem = problem ?? HTTPExchange.reason(error)
            }
        }
        if let problem {
            FileHandle.standardError.write(
                Data(
                    "note: \(undelivered) OpenLineage events of run \(runID) were not delivered to \(PostgresRunStore.redacted(target.url)): \(problem)\n"
                        .utf8))
        }
    }
}
