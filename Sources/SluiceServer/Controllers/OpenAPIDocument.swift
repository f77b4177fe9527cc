import Foundation
import Hummingbird

/// `GET /api/openapi.json`: the API described as OpenAPI 3.0. A test checks that it lists exactly the routes
/// the server registers.
enum OpenAPIDocument {
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var query: [(name: String, type: String, summary: String)] = []
        var body: String?
        var responses: [Int: String]
    }

    static let operations: [Operation] = [
        Operation(method: "get", path: "/api/health", summary: "Liveness and store check", responses: [200: "Health", 401: "Error"]),
        Operation(method: "get", path: "/api/config", summary: "Effective settings and their sources", responses: [200: "Settings", 401: "Error"]),
        Operation(method: "get", path: "/api/openapi.json", summary: "This document", responses: [200: "Document"]),
        Operation(method: "get", path: "/", summary: "The web UI", responses: [200: "HTML"]),
        Operation(method: "get", path: "/app.js", summary: "The web UI's script", responses: [200: "JavaScript"]),
        Operation(method: "get", path: "/style.css", summary: "The web UI's stylesheet", responses: [200: "CSS"]),
        Operation(method: "get", path: "/metrics", summary: "Prometheus metrics: runs, steps, durations, retries, recoveries, queue",
                  responses: [200: "Text"]),
        Operation(method: "get", path: "/api/pipelines", summary: "Pipelines, with validity, step counts and the last run",
                  responses: [200: "PipelineSummary[]", 401: "Error"]),
        Operation(method: "get", path: "/api/pipelines/{pipeline}", summary: "A pipeline: steps with status, parameters, modes, graph edges",
                  responses: [200: "PipelineDetail", 404: "Error", 422: "Error"]),
        Operation(method: "post", path: "/api/pipelines/{pipeline}/runs", summary: "Start a run (202, Location: the run)", body: "StartRun",
                  responses: [202: "Run", 400: "Error", 404: "Error", 422: "RequestProblem"]),
        Operation(method: "post", path: "/api/pipelines/{pipeline}/steps/{step}/run", summary: "Start a run of one step (withDeps for its upstream)",
                  body: "StartRun", responses: [202: "Run", 400: "Error", 404: "Error", 422: "RequestProblem"]),
        Operation(method: "put", path: "/api/pipelines/{pipeline}/steps/{step}/tested", summary: "Set or clear a step's tested mark",
                  body: "Tested", responses: [200: "StepStatus", 400: "Error", 404: "Error"]),
        Operation(method: "post", path: "/api/uploads", summary: "Upload input files (multipart/form-data) into the workspace's uploads/ folder",
                  body: "multipart/form-data", responses: [201: "Stored[]", 400: "Error", 413: "Error"]),
        Operation(method: "get", path: "/api/runs", summary: "Runs, newest first",
                  query: [("pipeline", "string", "only this pipeline"), ("status", "string", "only this status"),
                          ("limit", "integer", "1 to 1000, default 50"), ("offset", "integer", "default 0")],
                  responses: [200: "Run[]", 400: "Error"]),
        Operation(method: "get", path: "/api/runs/{run}", summary: "A run with every step, attempt and recovery action",
                  responses: [200: "RunDetail", 404: "Error"]),
        Operation(method: "post", path: "/api/runs/{run}/cancel", summary: "Cancel a running run", responses: [202: "Cancelling", 404: "Error", 409: "Error"]),
        Operation(method: "post", path: "/api/runs/{run}/retry", summary: "A new run of the steps that did not succeed",
                  responses: [202: "Run", 404: "Error", 409: "Error", 422: "RequestProblem"]),
        Operation(method: "post", path: "/api/runs/{run}/resume", summary: "Continue an interrupted or failed run in place (same id)",
                  responses: [202: "Run", 404: "Error", 409: "Error", 422: "RequestProblem"]),
        Operation(method: "get", path: "/api/runs/{run}/export", summary: "The run as json, csv or xlsx",
                  query: [("format", "string", "json (default), csv or xlsx")], responses: [200: "File", 400: "Error", 404: "Error"]),
        Operation(method: "get", path: "/api/runs/{run}/steps/{step}/log", summary: "A byte range of a step's log; X-Log-Size has its size",
                  query: [("offset", "integer", "first byte"), ("limit", "integer", "bytes, at most 16 MiB"),
                          ("follow", "boolean", "stream the log as it grows until the step ends")],
                  responses: [200: "Text", 400: "Error", 404: "Error"]),
        Operation(method: "get", path: "/api/runs/{run}/report", summary: "The run's self-contained report.html",
                  responses: [200: "HTML", 404: "Error", 409: "Error"]),
        Operation(method: "get", path: "/api/runs/{run}/outputs", summary: "Files in the run's outputs folder", responses: [200: "OutputFile[]", 404: "Error"]),
        Operation(method: "get", path: "/api/runs/{run}/outputs/{path}", summary: "Download an output file (no path outside the folder); ?view=true shows it, sandboxed",
                  responses: [200: "File", 404: "Error"]),
        Operation(method: "get", path: "/api/events", summary: "WebSocket: stored events as JSON messages, in order",
                  query: [("run", "string", "only this run"), ("after", "integer", "resume after this sequence number")],
                  responses: [101: "Switching to WebSocket", 401: "Error"]),
    ]

    static var json: Data {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            let pathParameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment -> [String: Any] in
                ["name": String(segment.dropFirst().dropLast()), "in": "path", "required": true, "schema": ["type": "string"]]
            }
            let queryParameters = operation.query.map { query -> [String: Any] in
                ["name": query.name, "in": "query", "required": false, "description": query.summary, "schema": ["type": query.type]]
            }
            var entry: [String: Any] = [
                "summary": operation.summary,
                "operationId": operation.method + operation.path.replacingOccurrences(of: "/", with: "_").filter { $0.isLetter || $0 == "_" },
                "parameters": pathParameters + queryParameters,
                "responses": Dictionary(uniqueKeysWithValues: operation.responses.map { code, name in
                    (String(code), ["description": name, "content": ["application/json": ["schema": ["type": name.hasSuffix("[]") ? "array" : "object"]]]])
                }),
            ]
            if let body = operation.body {
                entry["requestBody"] = ["required": false, "description": body,
                                        "content": ["application/json": ["schema": ["type": "object"]]]]
            }
            paths[operation.path, default: [:]][operation.method] = entry
        }
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "Sluice", "version": SluiceVersion.current,
                     "description": "The Sluice orchestrator's REST API. Off loopback every request needs 'Authorization: Bearer TOKEN'."],
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]]],
            "security": [["bearer": []]],
            "paths": paths,
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
    }

    static func register(on router: Router<APIContext>) {
        router.get("api/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
        }
    }
}
