import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SluiceKit
import SluiceServer
import SluiceTestSupport
import Testing

/// What a client of a big run reads: its status in constant size, its steps and attempts a page at a time, what
/// changed since an event, and a pipeline's history and resources.
struct BigRunAPITests {
    let harness: ServerHarness
    var workspace: TestWorkspace { harness.workspace }

    init() throws {
        harness = try ServerHarness()
    }

    /// A pipeline of `count` trivial steps, of which those in `failing` exit 3.
    private func flat(_ name: String, count: Int, failing: Set<Int> = []) throws {
        try workspace.pipeline(
            name,
            "steps:\n" + (1...count).map { "  - {name: s\($0), command: '\(failing.contains($0) ? "exit 3" : "true")'}" }.joined(separator: "\n")
                + "\n")
    }

    @Test func aRunsStatusCountsEveryStateAndIsTheSameSizeAtTenStepsAsAtTwoThousand() async throws {
        try flat("small", count: 10, failing: [4])
        try flat("big", count: 2000, failing: Set(stride(from: 10, through: 2000, by: 40)))
        let small = try await workspace.run("small", continueOnError: true).run.id
        let big = try await workspace.run("big", continueOnError: true).run.id
        try await harness.test { client in
            let smallStatus = try await client.send(.get, "/api/runs/\(small)/status")
            let bigStatus = try await client.send(.get, "/api/runs/\(big)/status")
            #expect(bigStatus.status == .ok)
            let status = bigStatus.object
            #expect(status["status"] as? String == "failed" && status["steps"] as? Int == 2000 && status["percent"] as? Double == 100)
            let counts = try #require(status["counts"] as? [String: Int])
            #expect(counts["succeeded"] == 1950 && counts["failed"] == 50 && counts["pending"] == 0, "\(counts)")
            #expect(Set(counts.keys) == Set(StepState.allCases.map(\.rawValue)), "every state is named, even at 0")
            #expect(status["failedCount"] as? Int == 50)
            let failed = try #require(status["failed"] as? [[String: Any]])
            #expect(failed.count == 20, "the failed steps are listed up to 20, and counted")
            #expect(failed.first?["step"] as? String == "s10" && failed.first?["exitCode"] as? Int == 3)
            #expect(failed.first?["error"] as? String == "exited with status 3")
            // Bounded: 20 failed and 20 running steps at most, where the run's detail carries every step and attempt.
            let detail = try await client.send(.get, "/api/runs/\(big)")
            #expect(bigStatus.data.count < 4096 && smallStatus.data.count < 4096, "\(bigStatus.data.count), \(smallStatus.data.count) bytes")
            #expect(detail.data.count > 100 * bigStatus.data.count, "the detail: \(detail.data.count) bytes")
            #expect(smallStatus.object["estimatedSeconds"] == nil, "no earlier successful run to estimate from")
            #expect(try await client.send(.get, "/api/runs/nope/status").status == .notFound)
        }
    }

    @Test func aStatusFollowsARunAsItGoesAndAfterItIsResumed() async throws {
        try workspace.pipeline(
            "gate",
            """
            steps:
              - {name: before, command: 'true'}
              - {name: wait, command: 'while [ ! -f go ]; do sleep 0.02; done; test -f pass', depends_on: [before]}
              - {name: after, command: 'true', depends_on: [wait]}
            """)
        try workspace.pipeline("quick", "steps:\n  - {name: a, command: 'true'}\n")
        _ = try await workspace.run("quick")
        try await harness.test(.live) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/gate/runs").object["id"] as? String)
            #expect(
                try await eventually {
                    let status = try await client.send(.get, "/api/runs/\(id)/status").object
                    return (status["running"] as? [[String: Any]])?.first?["step"] as? String == "wait"
                })
            let running = try await client.send(.get, "/api/runs/\(id)/status").object
            #expect(running["status"] as? String == "running" && running["runningCount"] as? Int == 1)
            #expect((running["counts"] as? [String: Int])?["succeeded"] == 1 && running["finished"] as? Int == 1)
            #expect(running["percent"] as? Double == 33.3)
            try workspace.write("go", "")
            #expect(try await eventually { try await client.send(.get, "/api/runs/\(id)/status").object["status"] as? String == "failed" })
            let failed = try await client.send(.get, "/api/runs/\(id)/status").object
            #expect((failed["counts"] as? [String: Int])?["skipped"] == 1 && failed["failedCount"] as? Int == 1)

            // A resume changes steps without an event each: the status reads the run again.
            try workspace.write("pass", "")
            let beforeResume = try #require(failed["seq"] as? Int)
            #expect(try await client.send(.post, "/api/runs/\(id)/resume").status == .accepted)
            #expect(try await eventually { try await client.send(.get, "/api/runs/\(id)/status").object["status"] as? String == "success" })
            let resumed = try await client.send(.get, "/api/runs/\(id)/status").object
            #expect((resumed["counts"] as? [String: Int])?["succeeded"] == 3 && resumed["failedCount"] as? Int == 0, "\(resumed)")
            let sinceResume = try await client.send(.get, "/api/runs/\(id)/steps?since=\(beforeResume)").object
            #expect(sinceResume["total"] as? Int == 3, "a resume changed steps without an event each: every step counts as changed")

            // A run of a pipeline that succeeded before says how long that took.
            let quick = try #require(try await client.send(.post, "/api/pipelines/quick/runs").object["id"] as? String)
            _ = try await client.finishedRun(quick)
            #expect(try await client.send(.get, "/api/runs/\(quick)/status").object["estimatedSeconds"] is Double)
        }
    }

    @Test func stepsComeAPageAtATimeByStateAndNameAndOnlyThoseChangedSinceAnEvent() async throws {
        try flat("big", count: 250, failing: [7, 107])
        let id = try await workspace.run("big", continueOnError: true).run.id
        try await harness.test { client in
            var names: [String] = []
            var after: String?
            repeat {
                let page = try await client.send(.get, "/api/runs/\(id)/steps?limit=100" + (after.map { "&after=\($0)" } ?? "")).object
                names += (page["steps"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
                #expect(page["total"] as? Int == 250)
                after = page["next"] as? String
            } while after != nil
            #expect(names == (1...250).map { "s\($0)" }, "every step once, in file order")
            let whole = try await client.send(.get, "/api/runs/\(id)/steps?limit=250").object
            #expect((whole["steps"] as? [Any])?.count == 250 && whole["next"] == nil, "a page that ends the run has no next")
            #expect(try await client.send(.get, "/api/runs/\(id)/attempts?limit=250").object["next"] == nil)
            #expect(try await client.send(.get, "/api/runs/\(id)/attempts?limit=249").object["next"] as? String == "248.1")

            let failed = try await client.send(.get, "/api/runs/\(id)/steps?state=failed,timed_out").object
            #expect((failed["steps"] as? [[String: Any]])?.compactMap { $0["step"] as? String } == ["s7", "s107"])
            #expect(failed["total"] as? Int == 2 && failed["next"] == nil)
            let named = try await client.send(.get, "/api/runs/\(id)/steps?search=S10&limit=5").object
            #expect((named["steps"] as? [[String: Any]])?.compactMap { $0["step"] as? String } == ["s10", "s100", "s101", "s102", "s103"])
            #expect(named["total"] as? Int == 11, "s10 and s100 to s109")
            #expect(try await client.send(.get, "/api/runs/\(id)/steps?search=%25").object["total"] as? Int == 0, "% is a character, not a wildcard")
            #expect(try await client.send(.get, "/api/runs/\(id)/steps?search=_").object["total"] as? Int == 0, "_ too")

            let seq = try #require(failed["seq"] as? Int)
            #expect((try await client.send(.get, "/api/runs/\(id)/steps?since=\(seq)").object["steps"] as? [Any])?.isEmpty == true)
            let attempts = try await client.send(.get, "/api/runs/\(id)/attempts?state=failed").object
            #expect((attempts["attempts"] as? [[String: Any]])?.compactMap { $0["step"] as? String } == ["s7", "s107"])
            let paged = try await client.send(.get, "/api/runs/\(id)/attempts?limit=2&after=1.1").object
            #expect((paged["attempts"] as? [[String: Any]])?.compactMap { $0["step"] as? String } == ["s3", "s4"])
            #expect(paged["next"] as? String == "3.1")

            for bad in [
                "steps?state=bogus", "steps?state=failed,", "steps?limit=0", "steps?limit=5001", "steps?since=-1", "steps?after=x",
                "attempts?after=x", "attempts?after=1.", "attempts?after=-1.1", "attempts?after=1.1.1",
                "steps?limit=1&limit=abc", "steps?state=failed&state=succeeded", "attempts?step=s1&step=s2",
            ] {
                let reply = try await client.send(.get, "/api/runs/\(id)/\(bad)")
                #expect(reply.status == .badRequest, "\(bad): \(reply.text)")
                #expect(!reply.message.isEmpty, "\(bad) says why")
            }
            #expect(try await client.send(.get, "/api/runs/nope/steps").status == .notFound)
            // The store would read up to a NUL: a run id or a value with one is refused, not cut.
            #expect(try await client.send(.get, "/api/runs/\(id)%00x/status").status == .notFound)
            #expect(try await client.send(.get, "/api/runs/\(id)%00x/steps").status == .notFound)
            #expect(try await client.send(.get, "/api/runs/\(id)/steps?search=s1%00x").status == .badRequest)
            #expect(try await client.send(.get, "/api/runs/\(id)/attempts?step=s1%0Ax").status == .badRequest)
            #expect(try await client.send(.get, "/api/runs/nope/attempts").status == .notFound)
            let bare = try await client.send(.get, "/api/runs/\(id)?steps=false").object
            #expect((bare["steps"] as? [Any])?.isEmpty == true && (bare["run"] as? [String: Any])?["id"] as? String == id)
        }
    }

    @Test func sinceAnEventGivesTheStepsThatChangedAndTheInstancesAFanOutAdded() async throws {
        try workspace.pipeline(
            "grow",
            """
            steps:
              - {name: list, command: 'while [ ! -f go ]; do sleep 0.02; done; echo "items=[\\"a\\", \\"b\\"]" >> "$SLUICE_OUTPUT"'}
              - {name: map, depends_on: [list], foreach: "{{ steps.list.outputs.items }}", command: 'true'}
              - {name: other, command: 'true'}
            """)
        try await harness.test(.live) { client in
            let id = try #require(try await client.send(.post, "/api/pipelines/grow/runs").object["id"] as? String)
            #expect(
                try await eventually {
                    let status = try await client.send(.get, "/api/runs/\(id)/status").object
                    return (status["counts"] as? [String: Int])?["succeeded"] == 1 && status["runningCount"] as? Int == 1
                })
            let before = try #require(try await client.send(.get, "/api/runs/\(id)/steps").object["seq"] as? Int)
            try workspace.write("go", "")
            _ = try await client.finishedRun(id)
            let changed = try await client.send(.get, "/api/runs/\(id)/steps?since=\(before)").object
            let names = Set((changed["steps"] as? [[String: Any]])?.compactMap { $0["step"] as? String } ?? [])
            #expect(names == ["list", "map", "map[a]", "map[b]"], "not 'other', which ended before")
            // The fan-out's own row is not counted: its instances are (as the CLI counts them).
            let status = try await client.send(.get, "/api/runs/\(id)/status").object
            #expect(status["steps"] as? Int == 4 && (status["counts"] as? [String: Int])?["succeeded"] == 4, "\(status)")
        }
    }

    @Test func aPipelinesHistoryHasARowPerStepAndACellPerRunAndARunItsResources() async throws {
        try workspace.pipeline(
            "daily",
            """
            steps:
              - {name: load, command: 'python3 -c "import time; x = bytearray(30_000_000); time.sleep(0.3)"'}
              - {name: score, foreach: [a, b, c], command: 'test "$SLUICE_ITEM" != b || test -f fixed', depends_on: [load]}
            """)
        _ = try await workspace.run("daily", continueOnError: true)
        try workspace.write("fixed", "")
        let second = try await workspace.run("daily", force: true).run.id
        try await harness.test { client in
            let history = try await client.send(.get, "/api/pipelines/daily/history?runs=5").object
            let runs = try #require(history["runs"] as? [[String: Any]])
            #expect(runs.map { $0["status"] as? String } == ["failed", "success"], "oldest first")
            let rows = try #require(history["steps"] as? [[String: Any]])
            #expect(rows.map { $0["step"] as? String } == ["load", "score"], "a fan-out is one row")
            let score = try #require(rows.last?["cells"] as? [[String: Any]])
            #expect(score.map { $0["state"] as? String } == ["failed", "succeeded"])
            #expect(score.first?["open"] as? String == "score[b]" && score.first?["instances"] as? Int == 3, "a click opens the instance that failed")
            let load = try #require(rows.first?["cells"] as? [[String: Any]])
            #expect(load.allSatisfy { ($0["peakMemoryKB"] as? Int ?? 0) > 25_000 }, "\(load)")
            #expect(try await client.send(.get, "/api/pipelines/daily/history?runs=0").status == .badRequest)
            #expect(try await client.send(.get, "/api/pipelines/nope/history").status == .notFound)

            let figures = try await client.send(.get, "/api/runs/\(second)/resources").object
            let resources = try #require(figures["rows"] as? [[String: Any]])
            #expect(resources.map { $0["step"] as? String } == ["load", "score"])
            #expect(resources.last?["measured"] as? Int == 3)
            let memory = try #require(resources.first?["memoryKB"] as? [String: Double])
            #expect(memory["max"] ?? 0 > 25_000 && memory["min"] == memory["max"])
            let report = try await client.send(.get, "/api/runs/\(second)/report")
            #expect(report.text.contains("<svg class=\"resources\"") && report.text.contains("score ×3"))
        }
    }
}
