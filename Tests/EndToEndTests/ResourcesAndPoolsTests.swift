import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `resources:`, `pool:` and `priority:` with real `sluice` processes: runs sharing one SQLite store, steps that
/// detect each other (an `mkdir` lock fails when two hold it at once), and the kernel's memory cgroups.
struct ResourcesAndPoolsTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result { try SluiceBinary.run(arguments, in: workspace.root) }

    /// A step command that notes, in `overlaps`, when another step holding the same lock runs at the same time.
    static let exclusive =
        #"mkdir in-use 2>/dev/null || echo "$SLUICE_RUN_ID $SLUICE_STEP" >> overlaps; echo "$SLUICE_RUN_ID" >> order; sleep 0.3; rmdir in-use"#

    @Test func aPoolOfOneSharedByTwoConcurrentRunsLetsOneStepUseItAtATime() async throws {
        _ = try workspace.write("sluice.yaml", "pools: {warehouse: 1}\n")
        try workspace.pipeline(
            "load",
            """
            steps:
              - {name: load, foreach: [a, b, c], pool: warehouse, command: '\(Self.exclusive)'}
              - {name: report, depends_on: [load], command: 'echo done'}
            """)
        let one = try SluiceBinary.start(["run", "load", "-j", "3"], in: workspace.root)
        let two = try SluiceBinary.start(["run", "load", "-j", "3"], in: workspace.root)
        one.process.waitUntilExit()
        two.process.waitUntilExit()
        #expect(one.process.terminationStatus == 0 && two.process.terminationStatus == 0)
        #expect(!workspace.exists("overlaps"), "never two warehouse steps at once: \((try? workspace.read("overlaps")) ?? "")")
        let runs = try await workspace.store().runs(pipeline: "load", limit: 2, offset: 0)
        #expect(runs.count == 2 && runs.allSatisfy { $0.status == .success })
        let order = try workspace.read("order").split(separator: "\n").map(String.init)
        #expect(order.count == 6 && Set(order) == Set(runs.map(\.id)), "each run's three steps used the warehouse: \(order)")
        let (first, second) = (runs[1], runs[0])
        #expect(second.createdAt < first.finishedAt!, "the runs ran at the same time, so they shared the pool")
        #expect(try Python.sqlite(workspace.storePath, "SELECT count(*) FROM pool_slots") == "0", "every slot was given back")
    }

    @Test func aSlotHeldByAKilledRunIsFreeOnceThatRunIsRecordedInterrupted() async throws {
        _ = try workspace.write("sluice.yaml", "pools: {warehouse: 1}\n")
        try workspace.pipeline("hold", "steps:\n  - {name: hold, pool: warehouse, command: 'echo $$ > holding; exec sleep 60'}")
        try workspace.pipeline("next", "steps:\n  - {name: use, pool: warehouse, command: 'echo used'}")
        let holder = try SluiceBinary.start(["run", "hold"], in: workspace.root)
        #expect(await waitUntil { ((try? workspace.read("holding")) ?? "").hasSuffix("\n") })
        kill(holder.process.processIdentifier, SIGKILL)
        holder.process.waitUntilExit()
        defer { if let pid = pid_t(((try? workspace.read("holding")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) { kill(pid, SIGKILL) } }
        // The next Sluice start finds the killed run's owner gone, records it interrupted, and its slot is free.
        let next = try sluice("run", "next")
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        let held = try await workspace.store().runs(pipeline: "hold", limit: 1, offset: 0).first
        #expect(held?.status == .interrupted)
    }

    @Test func aStepNamingAPoolTheWorkspaceDoesNotDefineRunsNothingAndSaysSo() throws {
        try workspace.pipeline("p", "steps:\n  - {name: load, pool: warehuose, command: 'echo x'}")
        _ = try workspace.write("sluice.yaml", "pools: {warehouse: 2}\n")
        let run = try sluice("run", "p")
        #expect(run.status == 65, "invalid input")
        #expect(
            run.stderr.contains("pipelines/p.yaml:2:5: error: step 'load' uses pool 'warehuose', which sluice.yaml does not define"), "\(run.stderr)")
        #expect(run.stderr.contains("(it defines warehouse)") && run.stderr.contains("nothing was run"), "\(run.stderr)")
        let checked = try sluice("validate", "p")
        #expect(checked.status == 65 && checked.stdout.contains("uses pool 'warehuose', which sluice.yaml does not define"), "\(checked.stdout)")

        for (settings, message) in [
            ("pools: {warehouse: 0}\n", "'pools.warehouse' must be a whole number from 1 to 100000, not '0'"),
            ("pools: {\"ware house\": 1}\n", "'ware house' in 'pools' is not a pool name"),
            ("pools: [warehouse]\n", "'pools' must map pool names to sizes"),
        ] {
            _ = try workspace.write("sluice.yaml", settings)
            let refused = try sluice("run", "p")
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(settings): \(refused.stderr)")
        }
    }

    @Test func stepsStartWhileTheirCPUsFitAndOneAskingForMoreThanTheRunHasFails() throws {
        try workspace.pipeline(
            "crunch",
            """
            steps:
              - {name: a, resources: {cpus: 2}, command: '\(Self.exclusive)'}
              - {name: b, resources: {cpus: 2}, command: '\(Self.exclusive)'}
              - {name: huge, resources: {cpus: 4}, command: 'echo never'}
            """)
        let run = try sluice("run", "crunch", "-j", "2", "--cpus", "2", "--continue-on-error")
        #expect(run.status == 1)
        #expect(!workspace.exists("overlaps"), "two steps of 2 CPUs each never ran together on 2")
        #expect(
            run.stdout.contains("it asks for 4 CPUs (resources.cpus) and the steps of this run may use 2 (--cpus, or cpus in sluice.yaml)"),
            "\(run.stdout)")
        #expect(try workspace.read("order").split(separator: "\n").count == 2)

        // With room for both, they run side by side: each sees the other's mark.
        try workspace.pipeline(
            "pair",
            """
            steps:
              - {name: a, resources: {cpus: 2}, command: 'touch a.on; for i in $(seq 500); do test -f b.on && exit 0; sleep 0.01; done; exit 1'}
              - {name: b, resources: {cpus: 2}, command: 'touch b.on; for i in $(seq 500); do test -f a.on && exit 0; sleep 0.01; done; exit 1'}
            """)
        let together = try sluice("run", "pair", "-j", "2", "--cpus", "4")
        #expect(together.status == 0, "\(together.stdout)")

        // Memory is said exactly; asking for it is no Slurm setting to warn about.
        try workspace.pipeline("big", "steps:\n  - {name: load, resources: {memory: 2050M}, command: 'true'}")
        let big = try sluice("run", "big", "--memory", "2G")
        #expect(
            big.status == 1 && big.stdout.contains("it asks for 2050M of memory (resources.memory) and the steps of this run may use 2G"),
            "\(big.stdout)")
        let checked = try sluice("validate", "big")
        #expect(checked.status == 0 && !checked.stdout.contains("warning"), "\(checked.stdout)")

        let bad = try sluice("run", "pair", "--memory", "lots")
        #expect(
            bad.status != 0 && bad.stderr.contains("setting 'memory' must be an amount of memory such as 16G or 512M, not 'lots'"), "\(bad.stderr)")
    }

    @Test func aStepPastItsMemoryIsKilledByTheKernelAndSaysSo() throws {
        try workspace.pipeline(
            "hungry",
            """
            steps:
              - {name: eat, resources: {memory: 64M}, command: 'python3 -c "x = b\\"x\\" * (400 << 20); print(len(x))"'}
              - {name: fits, resources: {memory: 300M}, command: 'python3 -c "x = b\\"x\\" * (50 << 20); print(len(x))"'}
            """)
        let run = try sluice("run", "hungry", "--continue-on-error", "--json")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
        let steps = try #require(detail["steps"] as? [[String: Any]])
        let eat = try #require(steps.first { $0["step"] as? String == "eat" })
        let fits = try #require(steps.first { $0["step"] as? String == "fits" })
        #expect(fits["state"] as? String == "succeeded", "\(fits)")
        let runID = try #require((detail["run"] as? [String: Any])?["id"] as? String)
        // Its log holds what it wrote, if anything (a step killed before its first line has none).
        let log = (try? workspace.read("runs/\(runID)/logs/eat.log")) ?? ""
        if log.contains("is not enforced here") {
            // A kernel that lets Sluice make no memory cgroup: the step runs unbounded, and its log says so.
            #expect(log.hasPrefix("sluice: resources.memory (64M) is not enforced here: "), "\(log)")
            #expect(eat["state"] as? String == "succeeded")
        } else {
            #expect(eat["state"] as? String == "failed" && run.status == 1)
            #expect(eat["error"] as? String == "killed by the kernel for using more than its memory (resources.memory: 64M)", "\(eat)")
        }
    }
}
