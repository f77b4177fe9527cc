import Foundation
import Hummingbird
import SluiceKit

/// `GET /api/openapi.json`: the API described as OpenAPI 3.0. A test checks that it lists exactly the routes
/// the server registers.
enum OpenAPIDocument {
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var query: [QueryParameter] = []
        var body: String?
        var responses: [Int: String]
        /// Headers of the success response, with what each says.
        var headers: [String: String] = [:]
    }

    /// The media type of each kind of response body.
    static func mediaType(of body: String) -> String {
        switch body {
        case "HTML": "text/html"
        case "JavaScript": "text/javascript"
        case "CSS": "text/css"
        case "Text": "text/plain"
        case "File": "application/octet-stream"
        default: "application/json"
        }
    }

    static let operations: [Operation] = [
        Operation(method: "get", path: "/api/health", summary: "Liveness and store check", responses: [200: "Health", 401: "Error"]),
        Operation(method: "get", path: "/api/config", summary: "Effective settings and their sources", responses: [200: "Settings", 401: "Error"]),
        Operation(method: "get", path: "/api/openapi.json", summary: "This document", responses: [200: "Document"]),
        Operation(method: "get", path: "/", summary: "The web UI", responses: [200: "HTML"]),
        Operation(method: "get", path: "/app.js", summary: "The web UI's script", responses: [200: "JavaScript"]),
        Operation(method: "get", path: "/run.js", summary: "The web UI's run page", responses: [200: "JavaScript"]),
        Operation(method: "get", path: "/charts.js", summary: "The web UI's charts", responses: [200: "JavaScript"]),
        Operation(method: "get", path: "/style.css", summary: "The web UI's stylesheet", responses: [200: "CSS"]),
        Operation(
            method: "get", path: "/metrics", summary: "Prometheus metrics: runs, steps, durations, retries, recoveries, queue",
            responses: [200: "Text"]),
        Operation(
            method: "get", path: "/api/pipelines", summary: "Pipelines, with validity, step counts and the last run",
            responses: [200: "PipelineSummary[]", 401: "Error"]),
        Operation(
            method: "get", path: "/api/pipelines/{pipeline}", summary: "A pipeline: steps with status, parameters, modes, graph edges",
            responses: [200: "PipelineDetail", 404: "Error", 422: "Error"]),
        Operation(
            method: "get", path: "/api/pipelines/{pipeline}/history",
            summary: "The last runs by step (a fan-out one row): each step's state, duration, peak memory and CPU in each run",
            query: [.historyRuns], responses: [200: "StepHistory", 400: "Error", 404: "Error"]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/runs", summary: "Start a run (202, Location: the run)", body: "StartRun",
            responses: [202: "Run", 400: "Error", 404: "Error", 422: "RequestProblem"]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/steps/{step}/run", summary: "Start a run of one step (withDeps for its upstream)",
            body: "StartRun", responses: [202: "Run", 400: "Error", 404: "Error", 422: "RequestProblem"]),
        Operation(
            method: "put", path: "/api/pipelines/{pipeline}/paused", summary: "Pause or resume the pipeline's schedules and watches",
            body: "Paused", responses: [200: "PipelineSummary", 400: "Error", 404: "Error"]),
        Operation(
            method: "post", path: "/api/pipelines/{pipeline}/backfill",
            summary: "One run per interval of a date range (from, to, step daily|weekly|monthly, maxActive, params), skipping intervals done",
            body: "Backfill", responses: [202: "BackfillStarted", 400: "Error", 404: "Error", 422: "RequestProblem"]),
        Operation(
            method: "put", path: "/api/pipelines/{pipeline}/steps/{step}/tested", summary: "Set or clear a step's tested mark",
            body: "Tested", responses: [200: "StepStatus", 400: "Error", 404: "Error"]),
        Operation(
            method: "post", path: "/api/uploads", summary: "Upload input files (multipart/form-data) into the workspace's uploads/ folder",
            query: [.overwrite],
            body: "multipart/form-data", responses: [201: "Stored[]", 400: "Error", 409: "Error", 413: "Error", 503: "Error"]),
        Operation(
            method: "get", path: "/api/runs", summary: "Runs, newest first; X-Total-Count has how many match",
            query: [.pipeline, .status, .trigger, .runsLimit, .runsOffset],
            responses: [200: "Run[]", 400: "Error"], headers: ["X-Total-Count": "how many runs the filters let through, on every page"]),
        Operation(
            method: "get", path: "/api/runs/{run}", summary: "A run with every step, attempt and recovery action (steps=false: without them)",
            query: [.withSteps], responses: [200: "RunDetail", 400: "Error", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/status",
            summary: "Where a run stands, the same size however big it is: counts by state, progress, time, running and failed steps",
            responses: [200: "RunStatus", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/steps",
            summary: "A page of a run's steps in file order, by state, name, or change since an event (since: a status's seq)",
            query: [.stepStates, .stepSearch, .since, .stepsAfter, .pageLimit], responses: [200: "StepPage", 400: "Error", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/resources",
            summary: "The steps' peak memory, CPU time and duration (a fan-out's least, median and most), the largest 40",
            responses: [200: "ResourceFigures", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/attempts", summary: "A page of a run's attempts in the order of their steps",
            query: [.attemptStep, .stepStates, .attemptsAfter, .pageLimit], responses: [200: "AttemptPage", 400: "Error", 404: "Error"]),
        Operation(
            method: "post", path: "/api/runs/{run}/cancel", summary: "Cancel a running run",
            responses: [202: "Cancelling", 404: "Error", 409: "Error"]),
        Operation(
            method: "post", path: "/api/runs/{run}/retry",
            summary: "A new run of the steps that did not succeed, with the same parameters but those in params",
            body: "Retry", responses: [202: "Run", 404: "Error", 409: "Error", 422: "RequestProblem"]),
        Operation(
            method: "post", path: "/api/runs/{run}/resume", summary: "Continue an interrupted or failed run in place (same id)",
            responses: [202: "Run", 404: "Error", 409: "Error", 422: "RequestProblem"]),
        Operation(
            method: "get", path: "/api/runs/{run}/export", summary: "The run as json, csv or xlsx",
            query: [.format],
            responses: [200: "Export", 400: "Error", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/steps/{step}/log", summary: "A byte range of a step's log; X-Log-Size has its size",
            query: [.logOffset, .logLimit, .follow],
            responses: [200: "Text", 400: "Error", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/report", summary: "The run's self-contained report.html",
            responses: [200: "HTML", 404: "Error", 409: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/notifications", summary: "The manual-review notifications the run wrote (file, text)",
            responses: [200: "ReviewNote[]", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/outputs", summary: "Files in the run's outputs folder",
            responses: [200: "OutputFile[]", 404: "Error"]),
        Operation(
            method: "get", path: "/api/runs/{run}/outputs/{path}",
            summary: "Download an output file (no path outside the folder); ?view=true shows it, sandboxed",
            responses: [200: "File", 404: "Error"]),
        Operation(
            method: "get", path: "/api/events", summary: "WebSocket: stored events as JSON messages, in order",
            query: [.run, .after],
            responses: [101: "Switching to WebSocket", 401: "Error"]),
    ]

    /// The document for a server with or without a token: with one, every route but the UI's files needs it.
    static func json(requiresToken: Bool) -> Data {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            let pathParameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment -> [String: Any] in
                ["name": String(segment.dropFirst().dropLast()), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            let queryParameters = operation.query.map { query -> [String: Any] in
                ["name": query.name, "in": "query", "required": false, "description": query.summary, "schema": query.schema]
            }
            var responses: [String: Any] = Dictionary(
                uniqueKeysWithValues: operation.responses.map { code, name in
                    var response: [String: Any] = ["description": name, "content": content(of: name)]
                    if name == "Run" { response["links"] = runLinks }
                    if (200..<300).contains(code), !operation.headers.isEmpty {
                        response["headers"] = operation.headers.mapValues { ["description": $0, "schema": ["type": "integer"]] }
                    }
                    return (String(code), response)
                })
            // Any route may also answer with an error as JSON: a bad request, a missing token, a body too large.
            responses["default"] = ["description": "An error: {\"error\": message}", "content": ["application/json": ["schema": ["type": "object"]]]]
            var entry: [String: Any] = [
                "summary": operation.summary,
                "operationId": operationID(operation),
                "parameters": pathParameters + queryParameters,
                "responses": responses,
            ]
            if let body = operation.body {
                entry["requestBody"] = requestBody(body)
            }
            if requiresToken, AccessPolicy.publicPaths.contains(operation.path) { entry["security"] = [[String: Any]]() }
            paths[operation.path, default: [:]][operation.method] = entry
        }
        var document: [String: Any] = [
            "openapi": "3.0.3",
            "info": [
                "title": "Sluice", "version": SluiceVersion.current,
                "description": "The Sluice orchestrator's REST API. A server with a token needs 'Authorization: Bearer TOKEN' on every request.",
            ],
            "paths": paths,
        ]
        if requiresToken {
            document["components"] = ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]]
            document["security"] = [["bearer": []]]
        }
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
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

    /// What a body must hold; a body outside it gets 400 (or 422 for values the pipeline refuses).
    private static func requestBody(_ body: String) -> [String: Any] {
        switch body {
        case "multipart/form-data":
            [
                "required": true, "description": "one or more file parts",
                "content": [
                    body: ["schema": ["type": "object", "required": ["file"], "properties": ["file": ["type": "string", "format": "binary"]]]]
                ],
            ]
        case "Tested", "Paused":
            [
                "required": true, "description": body,
                "content": [
                    "application/json": [
                        "schema": [
                            "type": "object", "required": [body.lowercased()], "properties": [body.lowercased(): ["type": "boolean"]],
                        ]
                    ]
                ],
            ]
        case "Backfill":
            [
                "required": true, "description": "the dates are checked too: from not after to, at most 3660 intervals",
                "content": [
                    "application/json": [
                        "schema": [
                            "type": "object", "required": ["from", "to"],
                            "properties": [
                                "from": ["type": "string", "format": "date"], "to": ["type": "string", "format": "date"],
                                "step": ["type": "string", "enum": Backfill.Step.allCases.map(\.rawValue)],
                                "maxActive": ["type": "integer", "minimum": 1, "maximum": Backfill.intervalLimit],
                                "params": [
                                    "type": "object", "additionalProperties": ["oneOf": ["string", "number", "boolean"].map { ["type": $0] }],
                                ],
                            ],
                        ]
                    ]
                ],
            ]
        default:
            ["required": false, "description": body, "content": ["application/json": ["schema": ["type": "object"]]]]
        }
    }

    /// The media types a response comes in, each with its schema.
    private static func content(of body: String) -> [String: Any] {
        guard body != "Export" else {
            return [
                "application/json": ["schema": ["type": "object"]], "text/csv": ["schema": ["type": "string"]],
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["schema": ["type": "string", "format": "binary"]],
            ]
        }
        return [mediaType(of: body): ["schema": schema(of: body)]]
    }

    private static func schema(of body: String) -> [String: Any] {
        switch mediaType(of: body) {
        case "application/json": ["type": body.hasSuffix("[]") ? "array" : "object"]
        default: ["type": "string"]
        }
    }

    static func register(on router: Router<APIContext>, requiresToken: Bool) {
        let document = json(requiresToken: requiresToken)
        router.get("api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
