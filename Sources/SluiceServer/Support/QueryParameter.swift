import Hummingbird
import SluiceKit

/// A query parameter a route takes. The handlers check values with it and the OpenAPI document describes it from it,
/// so a bound or a choice cannot differ between the two.
struct QueryParameter: Sendable {
    /// What the parameter accepts; anything else gets 400.
    enum Kind: Sendable {
        case string, boolean
        case integer(ClosedRange<Int>)
        case choice([String])
        /// Several of these, separated by commas.
        case choices([String])
        /// Text matching a regular expression (checked by the route, which says what it means).
        case matching(String)
    }

    let name: String
    let kind: Kind
    let summary: String

    static let pipeline = QueryParameter(name: "pipeline", kind: .string, summary: "only this pipeline")
    static let status = QueryParameter(name: "status", kind: .choice(RunStatus.allCases.map(\.rawValue)), summary: "only this status")
    static let trigger = QueryParameter(
        name: "trigger", kind: .string, summary: "only runs started so: cli, api, step, schedule, watch, backfill, retry (any retry:ID)")
    static let runsLimit = QueryParameter(name: "limit", kind: .integer(1...1000), summary: "default 50")
    static let runsOffset = QueryParameter(name: "offset", kind: .integer(0...Int.max), summary: "default 0")
    static let format = QueryParameter(
        name: "format", kind: .choice(RunExport.Format.allCases.map(\.rawValue)), summary: "json (default), csv or xlsx")
    static let logOffset = QueryParameter(name: "offset", kind: .integer(0...Int.max), summary: "first byte")
    static let logLimit = QueryParameter(name: "limit", kind: .integer(1...(16 << 20)), summary: "bytes, at most 16 MiB")
    static let follow = QueryParameter(name: "follow", kind: .boolean, summary: "stream the log as it grows until the step ends")
    static let overwrite = QueryParameter(name: "overwrite", kind: .boolean, summary: "replace a file of the same name (409 otherwise)")
    static let run = QueryParameter(name: "run", kind: .string, summary: "only this run")
    static let after = QueryParameter(name: "after", kind: .integer(0...Int.max), summary: "resume after this sequence number")
    static let historyRuns = QueryParameter(name: "runs", kind: .integer(1...100), summary: "how many of the last runs, default 20")
    static let withSteps = QueryParameter(
        name: "steps", kind: .boolean, summary: "false: without the steps and attempts, to read them a page at a time")
    static let stepStates = QueryParameter(
        name: "state", kind: .choices(StepState.allCases.map(\.rawValue)), summary: "only steps in these states, separated by commas")
    static let stepSearch = QueryParameter(name: "search", kind: .string, summary: "only steps whose name holds this, whatever its case")
    static let since = QueryParameter(
        name: "since", kind: .integer(0...Int.max), summary: "only steps whose state changed after this event (a status's or page's seq)")
    static let stepsAfter = QueryParameter(name: "after", kind: .integer(0...Int.max), summary: "the next page: the previous page's next")
    static let pageLimit = QueryParameter(name: "limit", kind: .integer(1...5000), summary: "default 100")
    static let attemptStep = QueryParameter(name: "step", kind: .string, summary: "only this step's attempts")
    static let attemptsAfter = QueryParameter(
        name: "after", kind: .matching("^[0-9]{1,9}\\.[0-9]{1,9}$"), summary: "the next page: the previous page's next (POSITION.ATTEMPT)")

    /// The parameter's text in `request`, checked against its kind; nil when the request does not give it.
    func value(in request: Request) throws -> String? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        // Given twice, one value would be dropped unseen: which was meant is not for the server to guess.
        guard request.uri.queryParameters.getAll(name).count == 1 else {
            throw HTTPError(.badRequest, message: "\(name) is given more than once: give it once (several states go in one, separated by commas)")
        }
        guard !Self.hasControlCharacter(text) else { throw HTTPError(.badRequest, message: "\(name) must not hold control characters") }
        switch kind {
        case .matching: return text
        // Given empty (`?pipeline=`, as a form with nothing chosen sends it): not given, so it filters nothing out.
        case .string: return text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
        case .boolean:
            guard text == "true" || text == "false" else { throw HTTPError(.badRequest, message: "\(name) must be true or false") }
        case let .integer(range):
            guard let number = Int(text), range.contains(number) else {
                throw HTTPError(.badRequest, message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
        case let .choice(values):
            guard values.contains(text) else { throw HTTPError(.badRequest, message: "\(name) must be one of: \(values.joined(separator: ", "))") }
        case let .choices(values):
            let given = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard let wrong = given.first(where: { !values.contains($0) }) else { break }
            throw HTTPError(
                .badRequest, message: "\(name) has '\(wrong)': give one or more of \(values.joined(separator: ", ")), separated by commas")
        }
        return text
    }

    /// Whether `text` holds a NUL, a newline or another control character, which no name or value of Sluice's has.
    static func hasControlCharacter(_ text: String) -> Bool { text.unicodeScalars.contains { $0.properties.generalCategory == .control } }

    func integer(in request: Request, default fallback: Int) throws -> Int { try value(in: request).flatMap { Int($0) } ?? fallback }
    func boolean(in request: Request) throws -> Bool { try value(in: request) == "true" }
    func list(in request: Request) throws -> [String] { try value(in: request)?.split(separator: ",").map(String.init) ?? [] }

    /// The JSON Schema of what it accepts, for the OpenAPI document.
    var schema: [String: any Sendable] {
        switch kind {
        // No control characters: the handlers refuse them (``hasControlCharacter``).
        case .string: ["type": "string", "pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"]
        case .boolean: ["type": "boolean"]
        case let .integer(range): ["type": "integer", "minimum": range.lowerBound, "maximum": range.upperBound]
        case let .choice(values): ["type": "string", "enum": values]
        case let .matching(pattern): ["type": "string", "pattern": pattern]
        case let .choices(values):
            ["type": "string", "pattern": "^(\(values.joined(separator: "|")))(,(\(values.joined(separator: "|"))))*$"]
        }
    }
}
