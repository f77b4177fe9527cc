import Foundation
import PostgresNIO

/// The work queue in PostgreSQL: `work_items`, claimed with `FOR UPDATE SKIP LOCKED`, so that workers never wait on
/// one another's claims. Queued, cancelled and released items notify `sluice_work` (workers listen), claimed and
/// finished ones `sluice_work_done` (owners listen), with `pg_notify` in the statement that moves them: one round
/// trip each. An item's order holds the step's secrets: it is erased when the item ends.
extension PostgresRunStore: WorkQueue {
    static let workChannel = "sluice_work"
    static let workDoneChannel = "sluice_work_done"

    public func enqueue(_ order: AttemptOrder, labels: [String]) async throws -> Int64 {
        let json = String(decoding: try JSONEncoder.attempts.encode(order), as: UTF8.self)
        let identity = order.launch.identity
        return try await first(
            Int64.self,
            client.query(
                """
                WITH item AS (
                    INSERT INTO work_items (runid, step, attempt, orderjson, labels, state, cpus, memory)
                    VALUES (\(identity.runID), \(identity.step), \(identity.attempt), \(json), \(labels), 'ready',
                            \(order.launch.resources?.cpus ?? 1), \(order.launch.resources?.memory ?? 0)) RETURNING id)
                SELECT id FROM item, pg_notify(\(Self.workChannel), '')
                """, logger: logger))!
    }

    public func cancelWork(_ id: Int64, cancelled: AttemptResult) async throws {
        let result = String(decoding: try JSONEncoder.attempts.encode(cancelled), as: UTF8.self)
        try await client.query(
            """
            WITH item AS (
                UPDATE work_items SET
                    state = CASE state WHEN 'ready' THEN 'done' ELSE 'cancelling' END,
                    result = CASE state WHEN 'ready' THEN \(result) ELSE result END,
                    orderjson = CASE state WHEN 'ready' THEN NULL ELSE orderjson END,
                    finishedat = CASE state WHEN 'ready' THEN now() ELSE finishedat END
                WHERE id = \(id) AND state IN ('ready', 'claimed') RETURNING id)
            SELECT id FROM item, pg_notify(\(Self.workChannel), '')
            """, logger: logger)
    }

    public func progress(of ids: [Int64]) async throws -> [WorkProgress] {
        try await client.withConnection { connection in
            try await connection.query(
                """
                UPDATE work_items SET state = 'lost', orderjson = NULL, finishedat = now()
                WHERE id = ANY(\(ids)) AND state IN ('claimed', 'cancelling') AND leaseexpiresat < now()
                """, logger: self.logger)
            var progress: [WorkProgress] = []
            let rows = try await connection.query(
                """
                SELECT id, state, worker, pid, result FROM work_items WHERE id = ANY(\(ids)) AND state <> 'ready'
                """, logger: self.logger)
            for try await (id, state, worker, pid, result) in rows.decode((Int64, String, String?, Int32?, String?).self) {
                guard let state = WorkState(rawValue: state) else { continue }
                progress.append(
                    WorkProgress(
                        id: id, state: state, worker: worker, pid: pid,
                        result: try result.map { try JSONDecoder.attempts.decode(AttemptResult.self, from: Data($0.utf8)) }))
            }
            return progress
        }
    }

    public func claimWork(worker: String, labels: [String], limit: Int, room: StepResources, lease: Double) async throws -> [ClaimedWork] {
        // Only items of runs still running: a run whose process died is interrupted, and its queued items are moot.
        // Of those that fit alone, the first ones whose resources fit together (a running sum: one that does not fit
        // with those before it waits for the next turn). An item too big for this worker's room now is left to another
        // worker, or to this one later.
        let (cpus, memory) = (room.cpus, room.memory ?? 0)
        let rows = try await client.query(
            """
            WITH candidates AS (
                SELECT item.id, item.cpus, item.memory FROM work_items AS item JOIN runs ON runs.id = item.runid
                WHERE item.state = 'ready' AND item.labels <@ \(labels) AND runs.status = 'running'
                    AND item.cpus <= \(cpus) AND item.memory <= \(memory)
                ORDER BY item.id LIMIT \(limit) FOR UPDATE OF item SKIP LOCKED),
            fitting AS (
                SELECT id FROM (
                    SELECT id, sum(cpus) OVER (ORDER BY id) AS cpus, sum(memory) OVER (ORDER BY id) AS memory FROM candidates) AS running
                WHERE cpus <= \(cpus) AND memory <= \(memory)),
            claimed AS (
                UPDATE work_items SET state = 'claimed', worker = \(worker), leaseexpiresat = now() + make_interval(secs => \(lease))
                WHERE id IN (SELECT id FROM fitting)
                RETURNING id, orderjson)
            SELECT id, orderjson FROM claimed, pg_notify(\(Self.workDoneChannel), '')
            """, logger: logger)
        var claimed: [ClaimedWork] = []
        for try await (id, json) in rows.decode((Int64, String).self) {
            claimed.append(ClaimedWork(id: id, order: try JSONDecoder.attempts.decode(AttemptOrder.self, from: Data(json.utf8))))
        }
        return claimed
    }

    public func recordWorkStarted(_ id: Int64, worker: String, pid: Int32) async throws {
        try await client.query("UPDATE work_items SET pid = \(pid) WHERE id = \(id) AND worker = \(worker)", logger: logger)
    }

    public func renewWork(worker: String, lease: Double) async throws -> [Int64: WorkState] {
        // An item whose run is no longer running (its process died; it was recorded interrupted) is to be stopped.
        let rows = try await client.query(
            """
            UPDATE work_items SET leaseexpiresat = now() + make_interval(secs => \(lease)),
                state = CASE WHEN state = 'claimed' AND runid IN (SELECT id FROM runs WHERE status <> 'running') THEN 'cancelling'
                             ELSE state END
            WHERE worker = \(worker) AND state IN ('claimed', 'cancelling') RETURNING id, state
            """, logger: logger)
        var states: [Int64: WorkState] = [:]
        for try await (id, state) in rows.decode((Int64, String).self) { states[id] = WorkState(rawValue: state) }
        return states
    }

    public func releaseWork(_ ids: [Int64], worker: String) async throws {
        try await client.query(
            """
            WITH released AS (
                UPDATE work_items SET state = 'ready', worker = NULL, leaseexpiresat = NULL
                WHERE id = ANY(\(ids)) AND worker = \(worker) AND state = 'claimed' RETURNING id)
            SELECT id FROM released, pg_notify(\(Self.workChannel), '')
            """, logger: logger)
    }

    public func completeWork(_ id: Int64, worker: String, result: AttemptResult) async throws -> Bool {
        let json = String(decoding: try JSONEncoder.attempts.encode(result), as: UTF8.self)
        return try await first(
            Int64.self,
            client.query(
                """
                WITH done AS (
                    UPDATE work_items SET state = 'done', result = \(json), orderjson = NULL, finishedat = now()
                    WHERE id = \(id) AND worker = \(worker) AND state IN ('claimed', 'cancelling') RETURNING id)
                SELECT id FROM done, pg_notify(\(Self.workDoneChannel), '')
                """, logger: logger)) != nil
    }

    public func followWorkNotifications(asWorker: Bool, _ wake: @escaping @Sendable () -> Void) async {
        await follow(channel: asWorker ? Self.workChannel : Self.workDoneChannel, wake)
    }
}
