import Foundation
import Hummingbird
import SluiceKit

/// `GET /api/openapi.json`: the API described as OpenAPI 3.0. A test checks that it lists exactly the routes
/// the server registers.
enum OpenAPIDocument {
    /// What a request or response carries. (Unchecked: a metatype holds no state.)
    enum Body: @unchecked Sendable {
        /// JSON of a Codable type, whose schema is reflected from it (``SchemaReflection``).
        case json(any Decodable.Type)
        /// A JSON array of a Codable type.
        case list(any Decodable.Type)
        /// The error body, `{"error": {"message": ...}}`.
        case problem
        case html, javascript, css, text, file, export, document, webSocket, multipart

        var mediaType: String {
            switch self {
            case .html: "text/html"
            case .javascript: "text/javascript"
            case .css: "text/css"
            case .text: "text/plain"
            case .file: "application/octet-stream"
            default: "application/json"
            }
        }
    }

    struct Operation: Sendable {
        var method: String
        var path: String
        var summary: String
        var query: [QueryParameter] = []
        /// The request body, and whether it may be left out.
        var body: Body?
        var bodyOptional = false
        /// The answers of this route itself (its success, 409, 422); those every route of its kind gives (400, 401,
        /// 403, 404, 413, 415, 426, 503) are added (``commonResponses``).
        var responses: [Int: Body]
        /// Headers of the success response, with what each says.
        var headers: [String: String] = [:]

        var pathParameters: [String] { path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) } }
    }

    static let operations: [Operation] = [
        Operation(
            method: "get", path: "/api/health", summary: "Liveness and store check",
            responses: [200: .json(SystemController.Health.self)]),
        Operation(
            method: "get", path: "/api/config", summary: "Effective settings and their sources",
            responses: [200: .json(SystemController.Settings.self)]),
        Operation(method: "get", path: "/api/openapi.json", summary: "This document", responses: [200: .document]),
        Operation(method: "get", path: "/", summary: "The web UI", responses: [200: .html]),
        Operation(method: "get", path: "/app.js", summary: "The web UI's script", responses: [200: .javascript]),
        Operation(method: "get", path: "/run.js", summary: "The web UI's run page", responses: [200: .javascript]),
        Operation(method: "get", path: "/charts.js", summary: "The web UI's charts", responses: [200: .javascript]),
        Operation(method: "get", path: "/style.css", summary: "The web UI's stylesheet", responses: [200: .css]),
        Operation(
            method: "get", path: "/metrics", summary: "Prometheus metrics: runs, steps, durations, retries, recoveries, queue",
            responses: [200: .text]),
        Operation(
            method: "get", path: "/api/pipelines", summary: "Pipelines, with validity, step counts and the last run",
            responses: [200: .list(PipelineSummary.self)]),
        Operation(
            method: "get", path: "/api/pipelines/{pipeline}", summary: "A pipeline: steps with status, parameters, modes, graph edges",
            responses: [200: .json(PipelineDetail.self), 422: .problem]),
        Operation(
            method: "get", path: "/api/pipelines/{pipeline}/history",
            summary: "The last runs by step (a fan-out one row): each step's state, duration, peak memory and CPU in each run",
            query: [.historyRuns], responses: [200: .json(StepHistory.self)]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/runs", summary: "Start a run (202, Location: the run)", body: .json(StartRunBody.self),
            bodyOptional: true,
            responses: [
                202: .json(RunRecord.self), 422: .problem,
            ]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/steps/{step}/run", summary: "Start a run of one step (withDeps for its upstream)",
            body: .json(StartRunBody.self), bodyOptional: true,
            responses: [
                202: .json(RunRecord.self), 422: .problem,
            ]),
        Operation(
            method: "put", path: "/api/pipelines/{pipeline}/paused", summary: "Pause or resume the pipeline's schedules and watches",
            body: .json(PausedBody.self),
            responses: [200: .json(PipelineSummary.self)]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/backfill",
            summary: "One run per interval of a date range (from, to, step daily|weekly|monthly, maxActive, params), skipping intervals done",
            body: .json(BackfillBody.self),
            responses: [
                202: .json(BackfillStarted.self), 422: .problem,
            ]),
        Operation(
            method: "put", path: "/api/pipelines/{pipeline}/steps/{step}/tested", summary: "Set or clear a step's tested mark",
            body: .json(TestedBody.self),
            responses: [200: .json(StepStatusRecord.self)]),
        Operation(
            method: "post", path: "/api/uploads", summary: "Upload input files (multipart/form-data) into the workspace's uploads/ folder",
            query: [.overwrite],
            body: .multipart,
            responses: [
                201: .list(UploadsController.Stored.self), 409: .problem,
            ]),
        Operation(
            method: "get", path: "/api/runs", summary: "Runs, newest first; X-Total-Count has how many match",
            query: [.pipeline, .status, .trigger, .runsLimit, .runsOffset],
            responses: [200: .list(RunRecord.self)],
            headers: ["X-Total-Count": "how many runs the filters let through, on every page"]),
        Operation(
            method: "get", path: "/api/runs/{run}", summary: "A run with every step, attempt and recovery action (steps=false: without them)",
            query: [.withSteps], responses: [200: .json(RunDetail.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/status",
            summary: "Where a run stands, the same size however big it is: counts by state, progress, time, running and failed steps",
            responses: [200: .json(RunStatusReport.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/steps",
            summary: "A page of a run's steps in file order, by state, name, or change since an event (since: a status's seq)",
            query: [.stepStates, .stepSearch, .since, .stepsAfter, .pageLimit],
            responses: [200: .json(StepPage.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/resources",
            summary: "The steps' peak memory, CPU time and duration (a fan-out's least, median and most), the largest 40",
            responses: [200: .json(ResourceFigures.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/attempts", summary: "A page of a run's attempts in the order of their steps",
            query: [.attemptStep, .stepStates, .attemptsAfter, .pageLimit],
            responses: [200: .json(AttemptPage.self)]),
        Operation(
            method: "post", path: "/api/runs/{run}/cancel", summary: "Cancel a running run",
            responses: [202: .json(Cancelling.self), 409: .problem]),
        Operation(
            method: "post", path: "/api/runs/{run}/retry",
            summary: "A new run of the steps that did not succeed, with the same parameters but those in params",
            body: .json(RetryBody.self), bodyOptional: true,
            responses: [
                202: .json(RunRecord.self), 409: .problem, 422: .problem,
            ]),
        Operation(
            method: "post", path: "/api/runs/{run}/resume", summary: "Continue an interrupted or failed run in place (same id)",
            responses: [
                202: .json(RunRecord.self), 409: .problem, 422: .problem,
            ]),
        Operation(
            method: "get", path: "/api/runs/{run}/export", summary: "The run as json, csv or xlsx",
            query: [.format],
            responses: [200: .export]),
        Operation(
            method: "get", path: "/api/runs/{run}/steps/{step}/log", summary: "A byte range of a step's log; X-Log-Size has its size",
            query: [.logOffset, .logLimit, .follow],
            responses: [200: .text]),
        Operation(
            method: "get", path: "/api/runs/{run}/report", summary: "The run's self-contained report.html",
            responses: [200: .html, 409: .problem]),
        Operation(
            method: "get", path: "/api/runs/{run}/notifications", summary: "The manual-review notifications the run wrote (file, text)",
            responses: [200: .list(ReviewNote.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/outputs", summary: "Files in the run's outputs folder",
            responses: [200: .list(OutputFile.self)]),
        Operation(
            method: "get", path: "/api/runs/{run}/outputs/{path}",
            summary: "Download an output file (no path outside the folder); ?view=true shows it, sandboxed",
            responses: [200: .file]),
        Operation(
            method: "get", path: "/api/events", summary: "WebSocket: stored events as JSON messages, in order",
            query: [.run, .after],
            responses: [101: .webSocket]),
    ]

    /// The document for a server with or without a token: with one, every route but the UI's files needs it.
    static func json(requiresToken: Bool) throws -> Data {
        let reflection = SchemaReflection()
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            let pathParameters = operation.pathParameters.map { name -> [String: Any] in
                ["name": name, "in": "path", "required": true, "schema": ["type": "string"]]
            }
            let queryParameters = operation.query.map { query -> [String: Any] in
                ["name": query.name, "in": "query", "required": false, "description": query.summary, "schema": query.schema]
            }
            let secured = requiresToken && !AccessPolicy.publicPaths.contains(operation.path)
            var responses: [String: Any] = [:]
            for (code, body) in operation.responses.merging(commonResponses(of: operation, secured: secured), uniquingKeysWith: { own, _ in own }) {
                var response: [String: Any] = ["description": describe(code, of: operation)]
                if let content = try content(of: body, reflection) { response["content"] = content }
                if case let .json(type) = body, type == RunRecord.self, (200..<300).contains(code) { response["links"] = runLinks }
                if (200..<300).contains(code), !operation.headers.isEmpty {
                    response["headers"] = operation.headers.mapValues { ["description": $0, "schema": ["type": "integer"]] }
                }
                responses[String(code)] = response
            }
            var entry: [String: Any] = [
                "summary": operation.summary,
                "operationId": operationID(operation),
                "parameters": pathParameters + queryParameters,
                "responses": responses,
            ]
            if let body = operation.body {
                entry["requestBody"] = ["required": !operation.bodyOptional, "content": try content(of: body, reflection) ?? [:]]
            }
            if requiresToken, !secured { entry["security"] = [[String: Any]]() }
            paths[operation.path, default: [:]][operation.method] = entry
        }
        var components: [String: Any] = ["schemas": reflection.components]
        var document: [String: Any] = [
            "openapi": "3.0.3",
            "info": [
                "title": "Sluice", "version": SluiceVersion.current,
                "description": """
                The Sluice orchestrator's REST API. A server with a token needs 'Authorization: Bearer TOKEN' on every \
                request. A method a path does not take gets 405 with Allow; a path no route has, 404; headers too large, 431.
                """,
            ],
            "paths": paths,
        ]
        if requiresToken {
            components["securitySchemes"] = ["bearer": ["type": "http", "scheme": "bearer"]]
            document["security"] = [["bearer": []]]
        }
        document["components"] = components
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    /// The answers a route gives for what it shares with others of its kind: its parameters, its body, the token,
    /// the store. Each is the error body, `{"error": {"message": ...}}`.
    static func commonResponses(of operation: Operation, secured: Bool) -> [Int: Body] {
        var codes: Set<Int> = [403]
        if secured { codes.insert(401) }
        if !operation.pathParameters.isEmpty { codes.formUnion([400, 404]) }
        if !operation.query.isEmpty { codes.insert(400) }
        if operation.body != nil { codes.formUnion([400, 413, 415]) }
        if case .webSocket = operation.responses[101] { codes.insert(426) }
        if operation.path.hasPrefix("/api/"), operation.path != "/api/openapi.json" { codes.insert(503) }
        return Dictionary(uniqueKeysWithValues: codes.map { ($0, Body.problem) })
    }

    private static func describe(_ code: Int, of operation: Operation) -> String {
        switch code {
        case 101: "switching to the WebSocket protocol"
        case 200..<300: operation.summary
        case 400: "a parameter or the body is not valid: the message says which and why"
        case 401: "no token or a wrong one: send 'Authorization: Bearer TOKEN'"
        case 403: "a request another site could have forged: a foreign Origin, Host or Sec-Fetch-Site"
        case 404: "no such resource: the message names it"
        case 409: "the resource is not in a state that allows it: the message says which"
        case 413: "the body is larger than the server takes"
        case 415: "the body is not sent as application/json"
        case 422: "the values are refused: 'fields' names each with its problem"
        case 426: "a WebSocket upgrade is needed"
        case 503: "the store does not answer"
        default: HTTPResponse.Status(code: code).reasonPhrase
        }
    }

    /// A started run leads to every route of that run (OpenAPI links, which API testers such as schemathesis follow).
    private static var runLinks: [String: Any] {
        Dictionary(
            uniqueKeysWithValues: operations.filter { $0.path.hasPrefix("/api/runs/{run}") }
                .map { ($0.method + $0.path.filter { $0.isLetter }, ["operationId": operationID($0), "parameters": ["run": "$response.body#/id"]]) })
    }

    static func operationID(_ operation: Operation) -> String {
        operation.method + operation.path.replacingOccurrences(of: "/", with: "_").filter { $0.isLetter || $0 == "_" }
    }

    /// The media types a body comes in, each with its schema; none for a WebSocket's switch.
    private static func content(of body: Body, _ reflection: SchemaReflection) throws -> [String: Any]? {
        let schema: [String: Any]
        switch body {
        case let .json(type): schema = try reflection.schema(of: type)
        case .problem: schema = try reflection.schema(of: RequestProblem.self)
        case let .list(type): schema = ["type": "array", "items": try reflection.schema(of: type)]
        case .export:
            return [
                "application/json": ["schema": try reflection.schema(of: RunExport.Document.self)], "text/csv": ["schema": ["type": "string"]],
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["schema": ["type": "string", "format": "binary"]],
            ]
        case .multipart:
            return [
                "multipart/form-data": [
                    "schema": [
                        "type": "object", "required": ["file"], "description": "one or more file parts",
                        "properties": ["file": ["type": "string", "format": "binary"]],
                    ]
                ]
            ]
        case .webSocket: return nil
        case .document: schema = ["type": "object", "description": "an OpenAPI 3.0 document"]
        case .file: schema = ["type": "string", "format": "binary"]
        case .html, .javascript, .css, .text: schema = ["type": "string"]
        }
        return [body.mediaType: ["schema": schema]]
    }

    static func register(on router: Router<APIContext>, requiresToken: Bool) {
        let document = Result { try json(requiresToken: requiresToken) }
        router.get("api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: try document.get())))
        }
    }
}
