import Foundation
import Hummingbird
import SluiceKit

/// `/api/pipelines`: the pipelines of the workspace, their steps and status, and starting runs of them.
struct PipelinesController {
    let state: ServerState

    func register(on router: Router<APIContext>) {
        let group = router.group("api/pipelines")
        group.get { _, _ in try await list() }
        group.get(":pipeline") { _, context in try await detail(context.parameters.name("pipeline")) }
        group.get(":pipeline/history") { request, context in
            try await history(context.parameters.name("pipeline"), runs: try QueryParameter.historyRuns.integer(in: request, default: 20))
        }
        group.post(":pipeline/runs") { request, context in
            try await start(context.parameters.name("pipeline"), body: try await decode(request, context), steps: nil)
        }
        group.post(":pipeline/steps/:step/run") { request, context in
            try await start(
                context.parameters.name("pipeline"), body: try await decode(request, context),
                steps: [context.parameters.name("step")])
        }
        group.put(":pipeline/paused") { request, context in
            let body = try await decodeJSON(PausedBody.self, request, context)
            return try await setPaused(context.parameters.name("pipeline"), paused: body.paused)
        }
        group.post(":pipeline/backfill") { request, context in
            try await backfill(context.parameters.name("pipeline"), body: try await decodeJSON(BackfillBody.self, request, context))
        }
        group.put(":pipeline/steps/:step/tested") { request, context in
            let body = try await decodeJSON(TestedBody.self, request, context)
            return try await markTested(context.parameters.name("pipeline"), step: context.parameters.name("step"), tested: body.tested)
        }
    }

    private func list() async throws -> JSON<[PipelineSummary]> {
        var summaries: [PipelineSummary] = []
        let paused = try await state.store.pausedPipelines()
        for entry in try await state.catalog().entries { summaries.append(try await summary(entry, paused: paused)) }
        return JSON(summaries)
    }

    private func summary(_ entry: PipelineCatalog.Entry, paused: [String: Date]? = nil) async throws -> PipelineSummary {
        var pausedNow = paused
        if pausedNow == nil { pausedNow = try await state.store.pausedPipelines() }
        let isPaused = pausedNow?[entry.id] != nil
        var triggers: [TriggerInfo] = []
        if let pipeline = entry.pipeline, !pipeline.schedules.isEmpty || !pipeline.watches.isEmpty {
            triggers = TriggerInfo.of(
                pipeline, states: try await state.store.triggerStates(pipeline: entry.id), paused: isPaused,
                now: state.triggers.now)
        }
        return PipelineSummary(
            entry, statuses: try await state.store.stepStatuses(pipeline: entry.id),
            lastRun: try await state.store.runs(pipeline: entry.id, limit: 1, offset: 0).first,
            triggers: triggers, paused: isPaused)
    }

    private func detail(_ id: String) async throws -> JSON<PipelineDetail> {
        let entry = try await entry(id)
        let summary = try await summary(entry)
        guard let pipeline = entry.pipeline else {
            throw HTTPError(
                .unprocessableContent, message: "pipeline '\(id)' is invalid: " + entry.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return JSON(PipelineDetail(pipeline, summary: summary, statuses: try await state.store.stepStatuses(pipeline: id)))
    }

    /// The last runs by step (a fan-out one row), with each step's state and figures in each: the pipeline page's grid
    /// and charts. Big runs come fewer: as many of the last as hold 50,000 steps together (at least one).
    private func history(_ id: String, runs count: Int) async throws -> JSON<StepHistory> {
        let entry = try await entry(id)
        var steps = 0
        let runs = try await state.store.runs(RunFilter(pipeline: id), limit: count, offset: 0).prefix { run in
            defer { steps += run.stepsTotal }
            return steps == 0 || steps + run.stepsTotal <= 50_000
        }
        let records = try await state.store.stepRuns(of: runs.map(\.id))
        return JSON(StepHistory(runs: Array(runs), steps: records, order: entry.pipeline?.steps.map(\.name) ?? []))
    }

    private func start(_ id: String, body: StartRunBody, steps: [String]?) async throws -> Response {
        guard let pipeline = try await entry(id).pipeline else {
            throw HTTPError(.unprocessableContent, message: "pipeline '\(id)' is invalid; see GET /api/pipelines/\(id)")
        }
        // A step in the path is a resource: 404 when it does not exist (a selection in the body is a 422).
        if let missing = steps?.first(where: { pipeline.step(named: $0) == nil }) {
            throw HTTPError(.notFound, message: "pipeline '\(id)' has no step '\(missing)'")
        }
        let selection = Selection(
            steps: steps ?? [], withDependencies: body.withDeps ?? false, from: body.from ?? [], to: body.to ?? [],
            only: body.only ?? [], skip: body.skip ?? [], mode: body.mode)
        let workspace = state.configuration.workspace
        let files = try (body.paramsFiles ?? []).map { path in
            // Only a file of the workspace: a request names no other file of the host.
            guard let file = SafePath.resolve(path, inside: workspace) else {
                let message =
                    "'\(path.prefix(200))' is no file of the workspace (it is missing, or leads out of it); give the path of one, relative to it"
                throw SluiceError(.invalidInput, "paramsFiles: \(message)", fields: ["paramsFiles": message])
            }
            return file
        }
        return try await state.start(
            pipeline, selection: selection, parameters: (body.params ?? [:]).mapValues(\.text), parametersFiles: files, trigger: "api",
            continueOnError: body.continueOnError ?? false, force: body.force ?? false)
    }

    private func setPaused(_ id: String, paused: Bool) async throws -> JSON<PipelineSummary> {
        let entry = try await entry(id)
        if let pipeline = entry.pipeline {
            try await TriggerPause.set(paused, pipeline: pipeline, store: state.store)
        } else {
            // A pipeline that does not load has no schedules to bring up to date; its pause is kept all the same.
            try await state.store.setPaused(pipeline: id, paused: paused)
        }
        return JSON(try await summary(entry))
    }

    /// Queues one run per interval not done yet, `maxActive` running at once: 202 with the runs.
    private func backfill(_ id: String, body: BackfillBody) async throws -> Response {
        guard let pipeline = try await entry(id).pipeline else {
            throw HTTPError(.unprocessableContent, message: "pipeline '\(id)' is invalid; see GET /api/pipelines/\(id)")
        }
        guard let step = Backfill.Step(rawValue: body.step ?? "daily") else {
            throw HTTPError(.badRequest, message: "step must be daily, weekly or monthly, not '\(body.step ?? "")'")
        }
        // A broken workspace params_file refuses the whole backfill once, rather than each interval.
        do { _ = try state.configuration.parameters(for: pipeline, over: [:]) } catch { throw SluiceError(.invalidInput, "\(error)") }
        // Refused with the message beside its field (`fields`), as for a run's parameters.
        let plan = try Backfill(
            pipeline: pipeline, from: body.from, to: body.to, step: step, maxActive: body.maxActive ?? 1,
            parameters: (body.params ?? [:]).mapValues(\.text))
        let launcher = state.launcher
        var started = BackfillStarted(id: plan.id, runs: [], skipped: [], refused: [])
        for result in try await plan.start(
            configuration: state.configuration, store: state.store, launch: { await launcher.run($0, as: $1, gate: $2) })
        {
            switch result {
            case let .started(_, run): started.runs.append(run)
            case let .skipped(interval, reason): started.skipped.append(.init(interval: interval.key, reason: reason))
            case let .refused(interval, reason): started.refused.append(.init(interval: interval.key, reason: reason))
            }
        }
        return try JSONResponse.make(started, status: .accepted)
    }

    private func markTested(_ id: String, step: String, tested: Bool) async throws -> JSON<StepStatusRecord> {
        guard let pipeline = try await entry(id).pipeline else {
            throw HTTPError(.unprocessableContent, message: "pipeline '\(id)' is invalid: fix its file first (`sluice validate \(id)`)")
        }
        let pipelines = state.configuration.pipelinesDirectory
        return JSON(try await TestedMark.set(tested, step: step, of: pipeline, store: state.store, pipelinesDirectory: pipelines))
    }

    private func entry(_ id: String) async throws -> PipelineCatalog.Entry {
        guard let entry = try await state.catalog().entries.first(where: { $0.id == id }) else {
            throw HTTPError(.notFound, message: "no pipeline '\(id)'")
        }
        return entry
    }

    /// An empty body counts as `{}`.
    private func decode(_ request: Request, _ context: APIContext) async throws -> StartRunBody {
        try await decodeJSON(StartRunBody.self, request, context, emptyAs: "{}")
    }
}
