import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceKit

/// `/api/runs`: runs with their steps and attempts, step logs, outputs, and cancelling.
struct RunsController {
    let state: ServerState

    func register(on router: Router<APIContext>) {
        let group = router.group("api/runs")
        group.get { request, _ in try await list(request) }
        group.get(":run") { request, context in
            try await detail(context.parameters.name("run"), steps: try QueryParameter.withSteps.value(in: request) != "false")
        }
        group.get(":run/status") { _, context in try await status(context.parameters.name("run")) }
        group.get(":run/steps") { request, context in try await steps(context.parameters.name("run"), request: request) }
        group.get(":run/resources") { _, context in try await resources(context.parameters.name("run")) }
        group.get(":run/attempts") { request, context in try await attempts(context.parameters.name("run"), request: request) }
        group.post(":run/cancel") { _, context in try await cancel(context.parameters.name("run")) }
        group.post(":run/retry") { request, context in
            try await retry(context.parameters.name("run"), body: try await decodeJSON(RetryBody.self, request, context, emptyAs: "{}"))
        }
        group.post(":run/resume") { _, context in try await resume(context.parameters.name("run")) }
        group.get(":run/export") { request, context in try await export(context.parameters.name("run"), request: request) }
        group.get(":run/steps/:step/log") { request, context in
            try await log(context.parameters.name("run"), step: context.parameters.name("step"), request: request)
        }
        group.get(":run/outputs") { _, context in try await outputs(context.parameters.name("run")) }
        group.get(":run/notifications") { _, context in try await notifications(context.parameters.name("run")) }
        group.get(":run/report") { _, context in try await report(context.parameters.name("run")) }
        group.get(":run/outputs/**") { request, context in
            // Links encode names (`sp%20ace.txt`); a decoded `..` or `/` is then refused by ``SafePath``.
            let segments = context.parameters.getCatchAll().map { $0.removingPercentEncoding }
            guard !segments.contains(nil) else { throw HTTPError(.notFound, message: "no such output: the path is not valid percent-encoding") }
            return try await download(
                context.parameters.name("run"), path: segments.compactMap { $0 }.joined(separator: "/"),
                view: request.uri.queryParameters.get("view") == "true", context: context)
        }
    }

    /// A page of runs; `X-Total-Count` says how many the filter lets through in all.
    private func list(_ request: Request) async throws -> Response {
        let limit = try QueryParameter.runsLimit.integer(in: request, default: 50)
        let offset = try QueryParameter.runsOffset.integer(in: request, default: 0)
        let filter = RunFilter(
            pipeline: try QueryParameter.pipeline.value(in: request), status: try QueryParameter.status.value(in: request).flatMap(RunStatus.init),
            trigger: try QueryParameter.trigger.value(in: request))
        let runs = try await state.store.runs(filter, limit: limit, offset: offset)
        let total = runs.count < limit && (offset == 0 || !runs.isEmpty) ? offset + runs.count : try await state.store.countRuns(filter)
        return try JSONResponse.make(runs, status: .ok, headers: [HTTPField.Name("X-Total-Count")!: String(total)])
    }

    private func run(_ id: String) async throws -> RunRecord {
        // The store would read a NUL as the end of the id.
        guard !QueryParameter.hasControlCharacter(id) else { throw HTTPError(.notFound, message: "no run \(id.debugDescription)") }
        guard let record = try await state.store.run(id: id) else { throw HTTPError(.notFound, message: "no run '\(id)'") }
        return record
    }

    /// The run with every step and attempt; without them (`steps=false`), for a big run whose steps are read a page
    /// at a time.
    private func detail(_ id: String, steps withSteps: Bool) async throws -> JSON<RunDetail> {
        let record = try await run(id)
        let steps = withSteps ? try await state.store.stepRuns(runID: id) : []
        return JSON(
            RunDetail(
                run: record, steps: steps, attempts: withSteps ? try await state.store.attempts(runID: id) : [],
                recoveryActions: try await state.store.recoveryActions(runID: id).map { .init(step: $0.step, action: $0.action) },
                ownedByServer: await state.launcher.owns(id), fanOuts: FanOutSummary.of(steps.lazy.map { ($0.step, $0.state) }),
                parent: record.parent.map { .init(run: $0.run, step: $0.step) },
                children: try await state.store.childRuns(of: id).map {
                    .init(id: $0.id, pipeline: $0.pipeline, step: $0.parent?.step ?? "", status: $0.status)
                }))
    }

    /// Where the run stands, in the same few hundred bytes at 10 steps or 10,000 (``RunStatusBoard``).
    private func status(_ id: String) async throws -> JSON<RunStatusReport> {
        guard !QueryParameter.hasControlCharacter(id), let report = try await state.statusBoard.report(id) else {
            throw HTTPError(.notFound, message: "no run '\(id)'")
        }
        return JSON(report)
    }

    /// A page of the run's steps in file order, filtered by state, name or change since an event.
    private func steps(_ id: String, request: Request) async throws -> JSON<StepPage> {
        let query = StepQuery(
            states: try QueryParameter.stepStates.list(in: request).compactMap(StepState.init(rawValue:)),
            search: try QueryParameter.stepSearch.value(in: request),
            changedAfter: try QueryParameter.since.value(in: request).flatMap { Int64($0) },
            afterPosition: try QueryParameter.stepsAfter.value(in: request).flatMap { Int($0) },
            limit: try QueryParameter.pageLimit.integer(in: request, default: 100))
        // Read before the steps: a change after it is then in this page or in the next `since`.
        let seq = try await state.store.latestEventSeq()
        _ = try await run(id)
        let page = try await state.store.stepRuns(runID: id, query)
        return JSON(
            StepPage(
                steps: page.steps, total: page.total, next: page.more ? page.steps.last.map { String($0.position) } : nil,
                seq: seq))
    }

    /// The steps' peak memory, CPU time and duration, a fan-out's instances taken together.
    private func resources(_ id: String) async throws -> JSON<ResourceFigures> {
        _ = try await run(id)
        return JSON(ResourceFigures(try await state.store.stepRuns(runID: id)))
    }

    /// A page of the run's attempts, in the order of their steps.
    private func attempts(_ id: String, request: Request) async throws -> JSON<AttemptPage> {
        var after: (position: Int, attempt: Int)?
        if let text = try QueryParameter.attemptsAfter.value(in: request) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let position = Int(parts[0]), let attempt = Int(parts[1]), position >= 0, attempt >= 0 else {
                throw HTTPError(.badRequest, message: "after must be the next of a page of attempts, POSITION.ATTEMPT (such as 12.1)")
            }
            after = (position, attempt)
        }
        let query = AttemptQuery(
            step: try QueryParameter.attemptStep.value(in: request),
            states: try QueryParameter.stepStates.list(in: request).compactMap(StepState.init(rawValue:)), after: after,
            limit: try QueryParameter.pageLimit.integer(in: request, default: 100))
        _ = try await run(id)
        let page = try await state.store.attempts(runID: id, query)
        return JSON(
            AttemptPage(
                attempts: page.attempts.map(\.attempt),
                next: page.more ? page.attempts.last.map { "\($0.position).\($0.attempt.attempt)" } : nil))
    }

    /// Cancels a run wherever its Sluice process is (``RunCancellation``): this server's directly, another process's on
    /// this host by SIGTERM, another host's through the store.
    private func cancel(_ id: String) async throws -> Response {
        _ = try await RunCancellation.cancel(
            try await run(id), store: state.store, launcher: state.launcher, because: "asked for through the API or the web UI")
        return try JSONResponse.make(Cancelling(cancelling: id), status: .accepted)
    }

    /// A new run of the steps that did not succeed, with the parameters the body changes (``RunRetry``).
    private func retry(_ id: String, body: RetryBody) async throws -> Response {
        let record = try await run(id)
        guard let pipeline = try await state.catalog().entry(record.pipeline)?.pipeline else {
            throw HTTPError(.unprocessableContent, message: "pipeline '\(record.pipeline)' is missing or invalid now")
        }
        let plan = try await RunRetry.plan(
            of: record, pipeline: pipeline, store: state.store, changing: (body.params ?? [:]).mapValues(\.text))
        return try await state.start(
            pipeline, selection: plan.selection, parameters: plan.parameters, trigger: plan.trigger, upstream: plan.upstream)
    }

    /// Continues an interrupted or failed run in place (`sluice resume`): same id and directory, only the steps
    /// that did not succeed.
    private func resume(_ id: String) async throws -> Response {
        let record = try await run(id)
        guard let pipeline = try await state.catalog().entry(record.pipeline)?.pipeline else {
            throw HTTPError(.unprocessableContent, message: "pipeline '\(record.pipeline)' is missing or invalid now")
        }
        let configuration = state.configuration
        let resumption = try await Resumption.claim(
            record, pipeline: pipeline, store: state.store, jobs: configuration.jobs, capacity: configuration.capacity,
            secrets: SecretValues.load(pipeline.secrets, file: configuration.secretsFile),
            secretsInEnvironmentFile: configuration.secretsInEnvironmentFile, workspace: configuration.workspace)
        await state.launcher.resume(resumption)
        return try JSONResponse.make(resumption.record, status: .accepted, headers: [.location: "/api/runs/\(id)"])
    }

    /// The run, its steps and attempts as JSON, CSV or an XLSX workbook (`?format=`).
    private func export(_ id: String, request: Request) async throws -> Response {
        let format = try QueryParameter.format.value(in: request).flatMap(RunExport.Format.init) ?? .json
        let export = RunExport(
            run: try await run(id), steps: try await state.store.stepRuns(runID: id),
            attempts: try await state.store.attempts(runID: id))
        let data = try export.data(format)
        return Response(
            status: .ok,
            headers: [.contentType: format.mediaType, .contentDisposition: ContentDisposition.attachment("run-\(id).\(format.rawValue)")],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A byte range of a step's log (`offset`, `limit`); `X-Log-Size` gives the whole size. With `follow=true` the
    /// response streams the log from `offset` as it grows and ends once the step has finished.
    private func log(_ id: String, step: String, request: Request) async throws -> Response {
        let record = try await run(id)
        guard try await state.store.stepRun(runID: id, step: step) != nil else {
            throw HTTPError(.notFound, message: "run \(id) has no step '\(step)'")
        }
        let offset = try QueryParameter.logOffset.integer(in: request, default: 0)
        let limit = try QueryParameter.logLimit.integer(in: request, default: 1 << 20)
        let path = RunDirectory(root: record.runDirectory).log(of: step)
        if try QueryParameter.follow.boolean(in: request) {
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody { [state] writer in
                    var position = offset
                    while true {
                        // Read the state first: bytes written before the step ended are then sure to be read below.
                        let ended = try await state.store.stepRun(runID: id, step: step)?.state.isFinal ?? true
                        let (data, _) = try await Self.read(path, from: position, limit: 1 << 20)
                        if !data.isEmpty {
                            try await writer.write(ByteBuffer(bytes: data))
                            position += data.count
                            continue
                        }
                        if ended { break }
                        await state.doorbell.wait(timeout: .milliseconds(250))
                    }
                    try await writer.finish(nil)
                })
        }
        let (data, size) = try await Self.read(path, from: offset, limit: limit)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8", HTTPField.Name("X-Log-Size")!: String(size)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Up to `limit` bytes of a log from `offset`, and the log's size (0 for a log not created yet).
    private static func read(_ path: String, from offset: Int, limit: Int) async throws -> (Data, Int) {
        try await offPool {
            guard let handle = FileHandle(forReadingAtPath: path) else { return (Data(), 0) }
            defer { try? handle.close() }
            let size = Int(try handle.seekToEnd())
            try handle.seek(toOffset: UInt64(min(offset, size)))
            return (try handle.read(upToCount: limit) ?? Data(), size)
        }
    }

    /// The files of the outputs folder, with secrets in their names masked as the report masks them.
    private func outputs(_ id: String) async throws -> JSON<[OutputFile]> {
        let record = try await run(id)
        let folder = RunDirectory(root: record.runDirectory).outputs
        let mask = try await state.secretMask(pipeline: record.pipeline)
        return JSON(try await offPool { OutputFile.list(in: folder).map { OutputFile(path: mask.redact($0.path), size: $0.size) } })
    }

    /// The manual-review notifications the run wrote (`manual_review_*.txt` in its directory), oldest first.
    private func notifications(_ id: String) async throws -> JSON<[ReviewNote]> {
        let root = try await run(id).runDirectory
        return JSON(try await offPool { ReviewNote.list(in: root) })
    }

    /// The run's `report.html`; its output links are relative, so they resolve to the download route.
    private func report(_ id: String) async throws -> Response {
        let record = try await run(id)
        guard record.status != .running else { throw HTTPError(.conflict, message: "run \(id) is still running; its report is written at the end") }
        let path = RunDirectory(root: record.runDirectory).report
        guard let data = try? await offPool({ try Data(contentsOf: URL(fileURLWithPath: path)) }) else {
            throw HTTPError(
                .notFound, message: "run \(id) has no report: it is written a moment after the run ends, unless the run was stopped before")
        }
        var headers = SecurityHeaders.page(policy: RunReport.contentSecurityPolicy)
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An output as a download, or with `view`, shown in the browser: a step's HTML dashboard, a chart, a table.
    /// A viewed file is sandboxed (no scripts, an origin of its own), since steps write it, not Sluice.
    /// Streamed from disk in chunks: an output of gigabytes costs the server no more memory than a small one.
    private func download(_ id: String, path: String, view: Bool, context: APIContext) async throws -> Response {
        let folder = RunDirectory(root: try await run(id).runDirectory).outputs
        guard let file = SafePath.resolve(path, inside: folder), let size = try await offPool({ Self.regularFileSize(file) }) else {
            throw HTTPError(.notFound, message: "no output '\(path)' in run \(id)")
        }
        let name = (file as NSString).lastPathComponent
        var headers: HTTPFields =
            view
            ? [
                .contentType: Self.viewedType[(name as NSString).pathExtension.lowercased()] ?? "text/plain; charset=utf-8",
                .contentDisposition: "inline", .contentSecurityPolicy: "sandbox", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ]
            : [
                .contentType: "application/octet-stream", .contentDisposition: ContentDisposition.attachment(name),
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ]
        headers[.contentLength] = String(size)
        return Response(status: .ok, headers: headers, body: try await FileIO().loadFile(path: file, context: context))
    }

    /// The size of `path` if it is a regular file (not a folder, a socket or a device).
    private static func regularFileSize(_ path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular
        else { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }

    /// Media types of outputs shown with `view`; anything else is shown as text.
    static let viewedType = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "svg": "image/svg+xml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "json": "application/json",
        "pdf": "application/pdf",
    ]
}

/// A manual-review notification as the run directory has it (masked when written).
struct ReviewNote: Codable, Sendable {
    var file: String
    var text: String

    static func list(in root: String) -> [ReviewNote] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.hasPrefix("manual_review_") && $0.hasSuffix(".txt") }.sorted().compactMap { name in
            (try? String(contentsOfFile: root + "/" + name, encoding: .utf8)).map { ReviewNote(file: name, text: $0) }
        }
    }
}

/// A file in a run's `outputs/` folder.
struct OutputFile: Codable, Sendable {
    var path: String
    var size: Int64

    static func list(in folder: String) -> [OutputFile] { RunReport.files(in: folder).map { OutputFile(path: $0.path, size: $0.size) } }
}
