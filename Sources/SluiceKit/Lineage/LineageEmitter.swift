import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
/// absent backend delays no step. ``finish()`` waits for the last to be delivered, at most a few seconds, so that a
/// `sluice run` does not exit before its COMPLETE is sent. A failed delivery is reported once on standard error and
/// never fails the run.
final class LineageEmitter: Sendable {
    private struct State {
        var started: Set<String> = []
    }

    private let target: LineageTarget
    private let runID: String
    private let pipeline: String
    /// The run's steps by name (instances included), their templates filled in.
    private let steps: [String: Step]
    private let workspace: String
    private let state = Mutex(State())
    private let events: AsyncStream<LineageEvent>.Continuation
    private let delivery: Task<Void, Never>

    init(target: LineageTarget, runID: String, pipeline: Pipeline, workspace: String) {
        self.target = target
        self.runID = runID
        self.pipeline = pipeline.id
        steps = Dictionary(pipeline.steps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.workspace = workspace
        let (stream, continuation) = AsyncStream.makeStream(of: LineageEvent.self)
        events = continuation
        delivery = Task { await Self.deliver(stream, to: target) }
    }

    /// Called with each batch the run records, on the batcher's thread.
    func observe(_ batch: [RunEvent]) {
        for event in batch {
            for lineage in lineageEvents(of: event) { events.yield(lineage) }
        }
    }

    func finish() async {
        events.finish()
        let delivery = delivery
        // A backend that does not answer keeps a run's end waiting this long, not longer.
        let waited = Task {
            try await Task.sleep(for: .seconds(10))
            delivery.cancel()
        }
        await delivery.value
        waited.cancel()
    }

    private func lineageEvents(of event: RunEvent) -> [LineageEvent] {
        let time = Timestamp.iso(event.time)
        switch event.kind {
        case let .runStarted(steps):
            let declared = steps.compactMap { self.steps[$0] }
            return [
                LineageEvent(
                    eventType: .START, eventTime: time, run: .init(runId: LineageEvent.uuid(runID)), job: runJob,
                    inputs: datasets(declared.flatMap(\.inputs)), outputs: datasets(declared.flatMap(\.outputs)))
            ]
        case let .attemptStarted(step, _, _):
            guard state.withLock({ $0.started.insert(step).inserted }) else { return [] }
            return [stepEvent(.START, step, at: time)]
        case let .stepFinished(step, stepState, _, _, result):
            guard let type = LineageEvent.ending(stepState) else { return [] }
            var lineage = stepEvent(type, step, at: time)
            if type == .FAIL { lineage.run.facets?.errorMessage = .init(message: result.error ?? "the step failed (\(stepState.rawValue))") }
            return [lineage]
        case let .runFinished(status):
            guard let type = LineageEvent.ending(status) else { return [] }
            var facets: LineageEvent.Facets?
            if type == .FAIL { facets = .init(errorMessage: .init(message: "the run \(status.rawValue)")) }
            return [
                LineageEvent(
                    eventType: type, eventTime: time, run: .init(runId: LineageEvent.uuid(runID), facets: facets), job: runJob,
                    inputs: [], outputs: [])
            ]
        default:
            return []
        }
    }

    private var runJob: LineageEvent.Job { .init(namespace: target.namespace, name: pipeline) }

    private func stepEvent(_ type: LineageEvent.EventType, _ step: String, at time: String) -> LineageEvent {
        let declared = steps[step]
        let parent = LineageEvent.ParentFacet(run: .init(runId: LineageEvent.uuid(runID)), job: runJob)
        return LineageEvent(
            eventType: type, eventTime: time,
            run: .init(runId: LineageEvent.uuid(runID + "/" + step), facets: .init(parent: parent)),
            job: .init(namespace: target.namespace, name: pipeline + "." + step),
            inputs: type == .START ? datasets(declared?.inputs ?? []) : [], outputs: datasets(declared?.outputs ?? []))
    }

    /// Declared files as OpenLineage names them on a local file system: namespace `file`, the absolute path.
    private func datasets(_ paths: [String]) -> [LineageEvent.Dataset] {
        var seen = Set<String>()
        return paths.map { workspace + "/" + $0 }.filter { seen.insert($0).inserted }.map { .init(namespace: "file", name: $0) }
    }

    private static func deliver(_ stream: AsyncStream<LineageEvent>, to target: LineageTarget) async {
        guard let endpoint = target.endpoint else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var reported = false
        for await event in stream {
            guard !Task.isCancelled, let body = try? encoder.encode(event) else { continue }
            var request = URLRequest(url: endpoint, timeoutInterval: 5)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            if let key = target.apiKey { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
            request.httpBody = body
            var problem: String?
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                let code = (response as? HTTPURLResponse)?.statusCode ?? 0
                if !(200..<300).contains(code) { problem = "HTTP \(code)" }
            } catch {
                problem = error.localizedDescription
            }
            if let problem, !reported {
                reported = true
                FileHandle.standardError.write(Data("note: OpenLineage events to \(target.url) were not all delivered: \(problem)\n".utf8))
            }
        }
    }
}
