import Foundation
import GRDB
import PostgresNIO

/// A type both stores' drivers read from a column.
protocol StoreValue: DatabaseValueConvertible, StatementColumnConvertible, PostgresDecodable, Sendable where _DecodableType == Self {}

extension String: StoreValue {}
extension Int: StoreValue {}
extension Int64: StoreValue {}
extension Double: StoreValue {}
extension Bool: StoreValue {}

/// A row read from either store, its columns named in lower case as both schemas name them.
protocol StoreRow {
    /// The value of `column`; nil when it is NULL.
    func value<T: StoreValue>(_ column: String, as type: T.Type) throws -> T?
}

extension StoreRow {
    /// The value of a column that is never NULL.
    func required<T: StoreValue>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try value(column, as: T.self) else { throw SluiceError(.store, "\(column) is missing from a row of the store") }
        return value
    }

    func optional<T: StoreValue>(_ column: String, as type: T.Type = T.self) throws -> T? { try value(column, as: T.self) }

    /// A time, kept as seconds since 1970.
    func date(_ column: String) throws -> Date? { try value(column, as: Double.self).map(Date.init(timeIntervalSince1970:)) }

    func requiredDate(_ column: String) throws -> Date { Date(timeIntervalSince1970: try required(column, as: Double.self)) }

    /// A JSON value kept as text.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T? {
        guard let text = try value(column, as: String.self) else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    func requiredJSON<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        guard let value = try json(column, as: T.self) else { throw SluiceError(.store, "\(column) is missing from a row of the store") }
        return value
    }

    func state(_ column: String) throws -> StepState {
        let text = try required(column, as: String.self)
        guard let state = StepState(rawValue: text) else { throw SluiceError(.store, "unknown step state '\(text)' in the store") }
        return state
    }
}

/// A record both stores read the same way from their rows.
protocol StoreRecord: Sendable {
    init(row: some StoreRow) throws
}

extension RunRecord: StoreRecord {
    init(row: some StoreRow) throws {
        let status = try row.required("status", as: String.self)
        guard let runStatus = RunStatus(rawValue: status) else { throw SluiceError(.store, "unknown run status '\(status)' in the store") }
        self.init(
            id: try row.required("id"), pipeline: try row.required("pipeline"), status: runStatus, trigger: try row.required("trigger"),
            parameters: try row.requiredJSON("parameters", as: [String: String].self),
            selection: try row.requiredJSON("selection", as: Selection.self),
            runDirectory: try row.required("rundirectory"), ownerPID: Int32(truncatingIfNeeded: try row.required("ownerpid", as: Int.self)),
            ownerHost: try row.optional("ownerhost"), leaseExpiresAt: try row.date("leaseexpiresat"), createdAt: try row.requiredDate("createdat"),
            finishedAt: try row.date("finishedat"), stepsTotal: try row.required("stepstotal"),
            triggerDetail: try row.json("triggerdetail", as: TriggerDetail.self))
    }
}

// The records read by the thousand (every step of a run) are decoded by hand: GRDB's Codable decoding costs about ten
// times as much per row.

extension StepRunRecord: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            runID: try row.required("runid"), step: try row.required("step"), position: try row.required("position"), state: try row.state("state"),
            reason: try row.optional("reason"), attempts: try row.required("attempts"),
            exitCode: try row.optional("exitcode", as: Int.self).map { Int32(truncatingIfNeeded: $0) }, startedAt: try row.date("startedat"),
            finishedAt: try row.date("finishedat"), duration: try row.optional("duration"), error: try row.optional("error"),
            peakMemoryKB: try row.optional("peakmemorykb"), cpuSeconds: try row.optional("cpuseconds"),
            allowedFailure: try row.optional("allowedfailure") ?? false, recovered: try row.optional("recovered") ?? false,
            outputValues: try OutputValues.decode(row.optional("outputvalues")))
    }
}

extension AttemptRecord: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            runID: try row.required("runid"), step: try row.required("step"), attempt: try row.required("attempt"), state: try row.state("state"),
            pid: Int32(truncatingIfNeeded: try row.required("pid", as: Int.self)), startedAt: try row.requiredDate("startedat"),
            finishedAt: try row.date("finishedat"), exitCode: try row.optional("exitcode", as: Int.self).map { Int32(truncatingIfNeeded: $0) },
            signal: try row.optional("signal", as: Int.self).map { Int32(truncatingIfNeeded: $0) }, error: try row.optional("error"),
            peakMemoryKB: try row.optional("peakmemorykb"), userCPU: try row.optional("usercpu"), systemCPU: try row.optional("systemcpu"))
    }
}

/// An attempt with its step's position in the run: the order, and the cursor, of a page of attempts.
public struct PositionedAttempt: Sendable, StoreRecord {
    public var position: Int
    public var attempt: AttemptRecord

    init(row: some StoreRow) throws {
        position = try row.required("position")
        attempt = try AttemptRecord(row: row)
    }
}

extension StoredEvent: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            seq: try row.required("seq"), runID: try row.required("runid"), at: try row.requiredDate("at"), kind: try row.required("kind"),
            step: try row.optional("step"), attempt: try row.optional("attempt"), state: try row.optional("state"),
            message: try row.optional("message"), exitCode: try row.optional("exitcode", as: Int.self).map { Int32(truncatingIfNeeded: $0) },
            duration: try row.optional("duration"), peakMemoryKB: try row.optional("peakmemorykb"))
    }
}

extension StepStatusRecord: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            pipeline: try row.required("pipeline"), step: try row.required("step"), completed: try row.optional("completed") ?? false,
            tested: try row.optional("tested") ?? false, lastRun: try row.date("lastrun"), lastRunID: try row.optional("lastrunid"),
            lastState: try row.optional("laststate", as: String.self).flatMap(StepState.init(rawValue:)),
            lastDuration: try row.optional("lastduration"),
            error: try row.optional("error"))
    }
}

extension RecoveryActionRecord: StoreRecord {
    init(row: some StoreRow) throws {
        let kind = try row.required("kind", as: String.self), status = try row.required("status", as: String.self)
        guard let actionKind = RecoveryAction.Kind(rawValue: kind), let actionStatus = RecoveryAction.Status(rawValue: status) else {
            throw SluiceError(.store, "unknown recovery action '\(kind)' in the store")
        }
        self.init(
            step: try row.required("step"),
            action: RecoveryAction(
                kind: actionKind, target: try row.required("target"), status: actionStatus, message: try row.required("message"),
                at: try row.requiredDate("at")))
    }
}

extension StepFingerprintRecord: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            pipeline: try row.required("pipeline"), step: try row.required("step"), runID: try row.required("runid"),
            recordedAt: try row.requiredDate("recordedat"), fingerprint: try row.requiredJSON("fingerprint", as: StepFingerprint.self),
            outputs: try row.requiredJSON("outputs", as: [String: String].self), outputValues: try OutputValues.decode(row.optional("outputvalues")))
    }
}

/// A row of `file_hashes`.
struct FileHashRow: StoreRecord {
    var path: String
    var hash: FileHash

    init(row: some StoreRow) throws {
        path = try row.required("path")
        hash = FileHash(
            size: try row.required("size"), modifiedNS: try row.required("modifiedns"),
            inode: UInt64(bitPattern: try row.required("inode", as: Int64.self)), sha256: try row.required("sha256"))
    }
}

extension TriggerState: StoreRecord {
    init(row: some StoreRow) throws {
        self.init(
            pipeline: try row.required("pipeline"), name: try row.required("name"), since: try row.requiredDate("since"),
            firedFor: try row.date("firedfor"), snapshot: try row.json("snapshot", as: [String: String].self).map(WatchSnapshot.init(files:)),
            lastRunID: try row.optional("lastrunid"), lastError: try row.optional("lasterror"))
    }
}

/// A row of `paused_pipelines`.
struct PausedPipelineRow: StoreRecord {
    var pipeline: String
    var at: Date

    init(row: some StoreRow) throws {
        pipeline = try row.required("pipeline")
        at = try row.requiredDate("pausedat")
    }
}

/// A count by a text column (`GROUP BY`): the text as `name`, the count as `n`.
struct CountRow: StoreRecord {
    var key: String
    var count: Int

    init(row: some StoreRow) throws {
        key = try row.required("name")
        count = try row.required("n")
    }
}
