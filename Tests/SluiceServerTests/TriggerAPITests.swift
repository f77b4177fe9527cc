import Foundation
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Testing

/// Schedules, pauses and backfills through the API; two servers sharing one store.
struct TriggerAPITests {
    static let pipeline = """
        params:
          date_start: {type: date, required: true}
          date_end: {type: date, required: true, min: date_start}
        schedule:
          cron: "*/5 * * * *"
          timezone: Europe/Berlin
          catch_up: latest
          params: {date_start: "{{ schedule.date }}", date_end: "{{ schedule.end_date }}"}
        steps:
          - name: a
            command: "true"
        """

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func twoServersSharingAStoreStartEachDueTimeOnceAndShowTheNextTime() async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("report", Self.pipeline)
        let clock = ManualClock(Self.at("2026-11-22T09:58:00Z"))
        let first = try ServerHarness(workspace: workspace, clock: clock), second = try ServerHarness(workspace: workspace, clock: clock)
        try await first.server.triggers.check()
        try await first.test { client in
            let detail = try await client.send(.get, "/api/pipelines/report").object
            let triggers = (detail["summary"] as? [String: Any])?["triggers"] as? [[String: Any]] ?? []
            #expect(triggers.first?["nextTime"] as? String == "2026-11-22T11:00:00+01:00", "the next time, in the schedule's zone")
            #expect(triggers.first?["cron"] as? String == "*/5 * * * *")
        }
        var started: [RunRecord] = []
        for step in 1...6 {
            clock.advance(to: Self.at("2026-11-22T10:00:00Z").addingTimeInterval(Double(step - 1) * 300))
            async let a = first.server.triggers.check()
            async let b = second.server.triggers.check()
            started += try await a + b
        }
        #expect(started.count == 6, "six due times, six runs, whichever server started each")
        try await first.test { [started] client in
            let run = try await client.finishedRun(started[0].id)["run"] as? [String: Any] ?? [:]
            #expect(run["trigger"] as? String == "schedule")
            #expect((run["triggerDetail"] as? [String: Any])?["scheduledFor"] as? String == "2026-11-22T11:00:00+01:00")
            #expect((run["parameters"] as? [String: Any])?["date_start"] as? String == "2026-11-22")
            for run in started.dropFirst() { _ = try await client.finishedRun(run.id) }
        }
    }

    @Test(arguments: HTTPSetup.both) func aPausedPipelineHasNoNextTimeAndStartsNothing(_ setup: HTTPSetup) async throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("report", Self.pipeline)
        let clock = ManualClock(Self.at("2026-11-22T09:58:00Z"))
        let harness = try ServerHarness(workspace: workspace, clock: clock)
        try await harness.server.triggers.check()
        try await harness.test(setup.value) { client in
            let paused = try await client.send(.put, "/api/pipelines/report/paused", #"{"paused": true}"#)
            #expect(paused.status == .ok)
            #expect(paused.object["paused"] as? Bool == true)
            #expect((paused.object["triggers"] as? [[String: Any]])?.first?["nextTime"] == nil)
            clock.advance(to: Self.at("2026-11-22T10:00:00Z"))
            #expect(try await harness.server.triggers.check().isEmpty)
            #expect(try await client.send(.put, "/api/pipelines/report/paused", #"{"paused": "yes"}"#).status == .badRequest)
            #expect(try await client.send(.put, "/api/pipelines/nope/paused", #"{"paused": true}"#).status == .notFound)
            let resumed = try await client.send(.put, "/api/pipelines/report/paused", #"{"paused": false}"#)
            #expect(resumed.object["paused"] as? Bool == false)
            let runs = try await harness.server.triggers.check()
            #expect(runs.map(\.triggerDetail?.scheduledFor) == ["2026-11-22T11:00:00+01:00"], "catch_up latest after the pause")
            _ = try await client.finishedRun(runs[0].id)
        }
    }

    @Test(arguments: HTTPSetup.both) func aBackfillQueuesOneRunPerIntervalAndRepeatedSkipsThem(_ setup: HTTPSetup) async throws {
        let workspace = try TestWorkspace()
        _ = try workspace.write("sluice.yaml", "params_file: params.yaml\n")
        _ = try workspace.write("params.yaml", "{}\n")
        let harness = try ServerHarness(workspace: workspace)
        try harness.workspace.pipeline("report", Self.pipeline)
        try await harness.test(setup.value) { client in
            let body = #"{"from": "2026-10-01", "to": "2026-10-30", "maxActive": 4}"#
            let started = try await client.send(.post, "/api/pipelines/report/backfill", body)
            #expect(started.status == .accepted)
            let runs = started.object["runs"] as? [[String: Any]] ?? []
            #expect(runs.count == 30)
            #expect(runs.first?["trigger"] as? String == "backfill")
            #expect(((runs.last?["parameters"] as? [String: Any])?["date_end"] as? String) == "2026-10-30", "the schedule's params give the dates")
            for run in runs { _ = try await client.finishedRun(run["id"] as? String ?? "") }
            let again = try await client.send(.post, "/api/pipelines/report/backfill", body).object
            #expect((again["runs"] as? [Any])?.count == 0 && (again["skipped"] as? [Any])?.count == 30, "idempotent")
            let weekly = try await client.send(
                .post, "/api/pipelines/report/backfill",
                #"{"from": "2026-11-02", "to": "2026-11-15", "step": "weekly", "params": {"date_end": "{{ schedule.end_date }}"}}"#)
            let weeks = (weekly.object["runs"] as? [[String: Any]] ?? []).map { ($0["triggerDetail"] as? [String: Any])?["interval"] as? String }
            #expect(weeks == ["2026-11-02..2026-11-08", "2026-11-09..2026-11-15"])
            for run in weekly.object["runs"] as? [[String: Any]] ?? [] { _ = try await client.finishedRun(run["id"] as? String ?? "") }

            let backwards = try await client.send(.post, "/api/pipelines/report/backfill", #"{"from": "2026-10-30", "to": "2026-10-01"}"#)
            #expect(backwards.status == .unprocessableContent && backwards.message.contains("is after"))
            #expect(
                try await client.send(.post, "/api/pipelines/report/backfill", #"{"from": "2026-10-01", "to": "2026-10-02", "step": "hourly"}"#)
                    .status == .badRequest)
            #expect(try await client.send(.post, "/api/pipelines/report/backfill", #"{"from": "2026-10-01"}"#).status == .badRequest)
            // The document's bound on maxActive is the server's, and a number no integer holds is named as such.
            let many = try await client.send(
                .post, "/api/pipelines/report/backfill", #"{"from": "2026-10-01", "to": "2026-10-02", "maxActive": 3661}"#)
            #expect(many.status == .unprocessableContent && many.message.contains("from 1 to 3660"), "\(many.message)")
            let huge = try await client.send(
                .post, "/api/pipelines/report/backfill", #"{"from": "2026-10-01", "to": "2026-10-02", "maxActive": 1e30}"#)
            #expect(huge.status == .badRequest && huge.message.contains("a number too large"), "\(huge.message)")
            // A broken parameter file refuses the backfill and a run, saying where, and starts nothing.
            _ = try harness.workspace.write("params.yaml", "date_end: [\n")
            let broken = try await client.send(.post, "/api/pipelines/report/backfill", #"{"from": "2026-12-01", "to": "2026-12-02"}"#)
            #expect(broken.status == .unprocessableContent && broken.message.contains("params.yaml"), "\(broken.message)")
            let run = try await client.send(.post, "/api/pipelines/report/runs", "{}")
            #expect(run.status == .unprocessableContent && run.message.contains("params_file"), "\(run.message)")
        }
    }
}
