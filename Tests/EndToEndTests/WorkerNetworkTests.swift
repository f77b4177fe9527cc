import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Workers on other hosts (network namespaces): a 200-step pipeline run from sl-h1, where PostgreSQL is, by workers
/// on sl-h2 and sl-h3. One worker is killed, the other is cut off the network for longer than its lease; every step
/// still ends, recorded as succeeded exactly once.
@Suite(.serialized)
struct WorkerNetworkTests {
    @Test func twoHundredStepsSurviveAKilledAndACutOffWorker() async throws {
        let hosts = try NetworkHosts()
        let workspace = try TestWorkspace()
        try workspace.write("sluice.yaml", "store: \(hosts.storeURL)\nexecutor: workers\njobs: 12\n")
        // Each attempt leaves a file: how many times steps really ran, beside how they were recorded.
        // 196 short steps for any worker, and 4 long ones only sl-h3's worker may take (`runs_on`): it is running
        // them when it is cut off. Each attempt that ends leaves a file: how many times steps really ran.
        let short = (1...196).map { "  - {name: s\($0), command: 'sleep 0.2; touch \"ran/$SLUICE_STEP.$$\"', retries: {count: 3, delay: 0}}\n" }
        let long = (1...4).map {
            "  - {name: long\($0), command: 'sleep 8; touch \"ran/$SLUICE_STEP.$$\"', runs_on: [h3], retries: {count: 3, delay: 0}}\n"
        }
        try workspace.pipeline("wide", "steps:\n" + (long + short).joined())
        try FileManager.default.createDirectory(atPath: workspace.path("ran"), withIntermediateDirectories: true)
        let ran = { (try? FileManager.default.contentsOfDirectory(atPath: workspace.path("ran")).count) ?? 0 }
        func worker(_ name: String, on host: String) throws -> BackgroundProcess {
            try hosts.start(
                on: host, [SluiceBinary.path, "worker", "--name", name, "--slots", "6", "--lease", "3s", "--labels", host],
                in: workspace.root, outputFile: workspace.path("\(name).out"))
        }
        let first = try worker("w2", on: "h2")
        let second = try worker("w3", on: "h3")
        let run = try hosts.start(on: "h1", [SluiceBinary.path, "run", "wide"], in: workspace.root, outputFile: workspace.path("run.out"))

        #expect(await waitUntil(timeout: 60) { ran() >= 40 }, "\(run.output)")
        first.signal(SIGKILL)
        let replacement = try worker("w2b", on: "h2")
        #expect(await waitUntil(timeout: 60) { ran() >= 100 }, "\(run.output)")
        try hosts.cut("h3")
        #expect(
            await waitUntil(timeout: 30) { second.output.contains("no contact with the store for a third of the lease: killing") },
            "the cut-off worker stops its long steps itself: \(second.output)")
        #expect(await waitUntil(timeout: 30) { run.output.contains("worker w3 stopped answering") }, "its lease ran out: \(run.output)")
        try hosts.plug("h3")

        #expect(await run.wait() == 0, "\(run.output)")
        for worker in [replacement, second] { worker.signal(SIGTERM) }
        let (replaced, kept) = (await replacement.wait(), await second.wait())
        #expect(replaced == 0 && kept == 0)
        let store = try await PostgresRunStore(url: hosts.storeURL)
        let runID = try #require(try await store.runs(pipeline: "wide", status: nil, limit: 1, offset: 0).first?.id)
        let steps = try await store.stepRuns(runID: runID)
        #expect(steps.count == 200 && steps.allSatisfy { $0.state == .succeeded })
        let attempts = try await store.attempts(runID: runID)
        let succeeded = Dictionary(grouping: attempts.filter { $0.state == .succeeded }, by: \.step)
        #expect(succeeded.count == 200 && succeeded.values.allSatisfy { $0.count == 1 }, "every step recorded as succeeded once")
        let lost = attempts.filter { $0.error?.contains("stopped answering") == true }
        #expect(
            lost.contains { $0.error!.contains("worker w2 ") } && lost.contains { $0.error!.contains("worker w3 ") },
            "the killed and the cut-off worker each lost attempts: \(lost.map(\.error))")
        print("200 steps: \(attempts.count) attempts, \(lost.count) lost and retried, \(ran()) step processes ran to the end")
    }
}
