import Foundation
import GRDB

/// The SQL of triggers' shared state, applied inside the caller's transaction.
enum TriggerSQL {
    /// Performs `claim`; throws ``TriggerClaimed`` when another process performed it first.
    static func apply(_ claim: TriggerClaim, _ db: Database, runID: String?) throws {
        switch claim {
        case let .scheduled(pipeline, trigger, at):
            try db.execute(
                sql: """
                    UPDATE triggers SET firedFor = ?, lastRunID = coalesce(?, lastRunID), lastError = NULL
                    WHERE pipeline = ? AND name = ? AND (firedFor IS NULL OR firedFor < ?)
                    """, arguments: [at.timeIntervalSince1970, runID, pipeline, trigger, at.timeIntervalSince1970])
            guard db.changesCount == 1 else {
                throw TriggerClaimed(description: "\(pipeline)/\(trigger) was already handled for \(at) by another process")
            }
        case let .changed(pipeline, trigger, from, snapshot):
            try db.execute(
                sql: """
                    UPDATE triggers SET fingerprint = ?, snapshot = ?, lastRunID = coalesce(?, lastRunID), lastError = NULL
                    WHERE pipeline = ? AND name = ? AND fingerprint IS ?
                    """, arguments: [snapshot.fingerprint, try encode(snapshot.files), runID, pipeline, trigger, from])
            guard db.changesCount == 1 else {
                throw TriggerClaimed(description: "\(pipeline)/\(trigger): another process handled this change of the watched files")
            }
        case let .interval(pipeline, interval):
            if let run = try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM runs WHERE pipeline = ? AND json_extract(triggerDetail, '$.interval') = ?
                    AND status IN ('success', 'running', 'queued') LIMIT 1
                    """, arguments: [pipeline, interval])
            {
                throw TriggerClaimed(description: "\(pipeline) \(interval): run \(run) succeeded or is under way")
            }
        }
    }

    static func register(pipeline: String, name: String, since: Date, snapshot: WatchSnapshot?, _ db: Database) throws -> TriggerState {
        try db.execute(
            sql: """
                INSERT INTO triggers (pipeline, name, since, fingerprint, snapshot) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (pipeline, name) DO NOTHING
                """, arguments: [pipeline, name, since.timeIntervalSince1970, snapshot?.fingerprint, try snapshot.map { try encode($0.files) }])
        return try states(db, pipeline: pipeline, name: name)[0]
    }

    static func states(_ db: Database, pipeline: String?, name: String? = nil) throws -> [TriggerState] {
        var sql = "SELECT * FROM triggers"
        var arguments: StatementArguments = []
        if let pipeline {
            sql += " WHERE pipeline = ?"
            arguments += [pipeline]
            if let name {
                sql += " AND name = ?"
                arguments += [name]
            }
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY pipeline, name", arguments: arguments).map { row in
            let snapshot: String? = row["snapshot"]
            return TriggerState(
                pipeline: row["pipeline"], name: row["name"], since: Date(timeIntervalSince1970: row["since"]),
                firedFor: (row["firedFor"] as Double?).map(Date.init(timeIntervalSince1970:)),
                snapshot: try snapshot.map { WatchSnapshot(files: try JSONDecoder().decode([String: String].self, from: Data($0.utf8))) },
                lastRunID: row["lastRunID"], lastError: row["lastError"])
        }
    }

    private static func encode(_ files: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(files), as: UTF8.self)
    }
}
