import Foundation
import SluiceTestSupport
import Testing

/// `/api/openapi.json` describes every body by a component schema reflected from the type the server encodes or
/// decodes, and every status a route answers; schemathesis (``APIFuzzTests``) checks the real answers against it,
/// and ``GeneratedClientTests`` generates a client from it.
struct OpenAPIDocumentTests {
    let harness: ServerHarness

    init() throws {
        harness = try ServerHarness()
        try harness.workspace.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
    }

    @Test func everyJSONBodyIsAComponentWithItsFieldsAndEveryErrorIsDeclared() async throws {
        try await harness.test(.router) { client in
            let document = try await client.send(.get, "/api/openapi.json").object
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            let runRecord = try #require(schemas["RunRecord"])
            let properties = try #require(runRecord["properties"] as? [String: Any])
            #expect(Set(properties.keys).isSuperset(of: ["id", "pipeline", "status", "createdAt", "finishedAt", "parameters"]))
            #expect((runRecord["required"] as? [String])?.contains("finishedAt") == false, "an optional field is not required")
            #expect(runRecord["additionalProperties"] as? Bool == false)
            let status = try #require(properties["status"] as? [String: Any])
            #expect((status["enum"] as? [String])?.contains("partial_success") == true)

            let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
            var shells: [String] = []
            for (path, operations) in paths {
                for (method, operation) in operations {
                    let responses = try #require(operation["responses"] as? [String: [String: Any]])
                    #expect(responses["default"] == nil, "every status is named")
                    for (code, response) in responses {
                        guard let content = response["content"] as? [String: [String: Any]],
                            let schema = content["application/json"]?["schema"] as? [String: Any]
                        else { continue }
                        let target = (schema["items"] as? [String: Any]) ?? schema
                        if target["$ref"] == nil, path != "/api/openapi.json" { shells.append("\(method) \(path) \(code)") }
                    }
                    if path.contains("{") { #expect(responses["404"] != nil, "\(method) \(path) declares 404") }
                    let body = ((operation["requestBody"] as? [String: Any])?["content"] as? [String: [String: Any]])?["application/json"]
                    if let schema = body?["schema"] as? [String: Any], schema["$ref"] == nil { shells.append("\(method) \(path) body") }
                    if operation["requestBody"] != nil {
                        #expect(responses["413"] != nil && responses["415"] != nil, "\(method) \(path) declares 413 and 415")
                    }
                }
            }
            #expect(shells.isEmpty, "JSON bodies without a component: \(shells)")
            #expect(paths["/api/events"]?["get"].flatMap { ($0["responses"] as? [String: Any])?["426"] } != nil)
        }
    }

    @Test func aBodyKeyTheRouteDoesNotTakeIsRefusedAndNamed() async throws {
        try await harness.test(.router) { client in
            let typo = try await client.send(.post, "/api/pipelines/p/runs", #"{"parms": {"day": "2026-01-01"}}"#)
            #expect(typo.status == .badRequest)
            #expect(typo.message.contains("unknown key \"parms\"") && typo.message.contains("did you mean 'params'?"), "\(typo.message)")
            let paused = try await client.send(.put, "/api/pipelines/p/paused", #"{"paused": true, "x": 1}"#)
            #expect(paused.status == .badRequest && paused.message.contains("\"x\""), "\(paused.message)")
            let null = try await client.send(.post, "/api/pipelines/p/runs", #"{"mode": null}"#)
            #expect(null.status == .accepted, "null is an optional key left out, as the document says")
        }
    }
}
