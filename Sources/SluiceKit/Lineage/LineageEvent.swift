import Foundation

/// An OpenLineage run event (spec 2-0-2), as Marquez and other OpenLineage backends take it at `/api/v1/lineage`.
/// A Sluice run is a job named after its pipeline; each step that ran is a job `PIPELINE.STEP` whose `parent` facet
/// names the run, with the files the step declares as its input and output datasets.
struct LineageEvent: Encodable, Sendable {
    struct Run: Encodable, Sendable {
        var runId: String
        var facets: Facets?
    }

    struct Job: Encodable, Sendable {
        var namespace: String
        var name: String
    }

    struct Dataset: Encodable, Sendable, Hashable {
        var namespace: String
        var name: String
    }

    struct Facets: Encodable, Sendable {
        var parent: ParentFacet?
        var errorMessage: ErrorFacet?
    }

    struct ParentFacet: Encodable, Sendable {
        struct RunID: Encodable, Sendable { var runId: String }
        var _producer = LineageEvent.producer
        var _schemaURL = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
        var run: RunID
        var job: Job
    }

    struct ErrorFacet: Encodable, Sendable {
        var _producer = LineageEvent.producer
        var _schemaURL = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
        var message: String
        /// Of the step's script, which Sluice does not know: what it ran is a process.
        var programmingLanguage = "shell"
    }

    enum EventType: String, Encodable, Sendable { case START, COMPLETE, FAIL, ABORT }

    static let producer = "urn:sluice:\(SluiceVersion.current)"

    var eventType: EventType
    var eventTime: String
    var run: Run
    var job: Job
    var inputs: [Dataset]
    var outputs: [Dataset]
    var producer = LineageEvent.producer
    var schemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

    /// The ending event of a run or step in this state; nil while it has not ended.
    static func ending(_ state: StepState) -> EventType? {
        switch state {
        case .succeeded, .upToDate, .skipped: .COMPLETE
        case .failed, .timedOut: .FAIL
        case .cancelled, .interrupted: .ABORT
        case .pending, .running: nil
        }
    }

    static func ending(_ status: RunStatus) -> EventType? {
        switch status {
        case .success, .partialSuccess: .COMPLETE
        case .failed: .FAIL
        case .cancelled, .interrupted: .ABORT
        case .queued, .running: nil
        }
    }

    /// A UUID for a run id or a step of a run (OpenLineage's `runId` is one), the same every time it is asked for:
    /// a resumed run's events continue the run's.
    static func uuid(_ name: String) -> String {
        var bytes = SHA256.digest(of: Data(("sluice:" + name).utf8))
        // Version 8 (a name-based UUID of our own) and the RFC 4122 variant.
        bytes[6] = bytes[6] & 0x0F | 0x80
        bytes[8] = bytes[8] & 0x3F | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}
