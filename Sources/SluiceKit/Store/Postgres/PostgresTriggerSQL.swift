import Foundation
import Logging
import PostgresNIO

/// Triggers' shared state in PostgreSQL: the same claims as ``TriggerSQL``, inside the caller's transaction.
enum PostgresTriggerSQL {
    /// Performs `claim`; throws ``TriggerClaimed`` when another process performed it first.
    static func apply(_ claim: TriggerClaim, _ connection: PostgresConnection, runID: String?, logger: Logger) async throws {
        switch claim {
        case let .scheduled(pipeline, trigger, at):
            let seconds = at.timeIntervalSince1970
            guard
                try await changed(
                    connection.query(
                        """
                        UPDATE triggers SET firedfor = \(seconds), lastrunid = COALESCE(\(runID), lastrunid), lasterror = NULL
                        WHERE pipeline = \(pipeline) AND name = \(trigger) AND (firedfor IS NULL OR firedfor < \(seconds)) RETURNING name
                        """, logger: logger))
            else {
                throw TriggerClaimed(description: "\(pipeline)/\(trigger) was already handled for \(at) by another process")
            }
        case let .changed(pipeline, trigger, from, snapshot):
            guard
                try await changed(
                    connection.query(
                        """
                        UPDATE triggers SET fingerprint = \(snapshot.fingerprint), snapshot = \(try encode(snapshot.files)),
                        lastrunid = COALESCE(\(runID), lastrunid), lasterror = NULL
                        WHERE pipeline = \(pipeline) AND name = \(trigger) AND fingerprint IS NOT DISTINCT FROM \(from) RETURNING name
                        """, logger: logger))
            else {
                throw TriggerClaimed(description: "\(pipeline)/\(trigger): another process handled this change of the watched files")
            }
        case let .interval(pipeline, interval):
            // Two backfills of the same interval at once: the second waits for the first's transaction, then sees its run.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(pipeline + "\u{1}" + interval)))", logger: logger)
            for try await run in try await connection.query(
                """
                SELECT id FROM runs WHERE pipeline = \(pipeline) AND triggerdetail->>'interval' = \(interval)
                AND status IN ('success', 'running', 'queued') LIMIT 1
                """, logger: logger
            ).decode(String.self) {
                throw TriggerClaimed(description: "\(pipeline) \(interval): run \(run) succeeded or is under way")
            }
        }
    }

    private static func changed(_ rows: PostgresRowSequence) async throws -> Bool {
        for try await _ in rows { return true }
        return false
    }

    static func states(_ rows: PostgresRowSequence) async throws -> [TriggerState] {
        var states: [TriggerState] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let snapshot = try r["snapshot"].decode(String?.self)
            states.append(
                TriggerState(
                    pipeline: try r["pipeline"].decode(String.self), name: try r["name"].decode(String.self),
                    since: Date(timeIntervalSince1970: try r["since"].decode(Double.self)),
                    firedFor: try r["firedfor"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
                    snapshot: try snapshot.map { WatchSnapshot(files: try JSONDecoder().decode([String: String].self, from: Data($0.utf8))) },
                    lastRunID: try r["lastrunid"].decode(String?.self), lastError: try r["lasterror"].decode(String?.self)))
        }
        return states
    }

    static func encode(_ files: [String: String]) throws -> String { try jsonText(files) }
}
