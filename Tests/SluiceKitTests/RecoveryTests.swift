import Foundation
import SluiceKit
import SluiceTestSupport
import Synchronization
import Testing

/// Seed 001's behaviour on real files and processes: change detection, versioned outputs, rollback, trigger
/// rules, the overall status and the manual-review notification.
struct RecoveryTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// A collector that merges `sources/*.csv` into `db/tables.csv`; with `-p inject=1` it corrupts its output,
    /// leaves a stray file and fails half-way, as seed 001's collector failure does.
    private func collectorPipeline(loaderRule: String = "recovered", onFailure: String = "rollback") throws {
        try workspace.pipeline(
            "data",
            """
            params:
              inject: {type: bool, default: false}
            steps:
              - name: collect
                script: collect.py
                inputs: [sources]
                outputs: [db/tables.csv, "db/*.part"]
                on_failure: \(onFailure)
              - name: load
                command: 'cp db/tables.csv loaded.csv && echo load >> ran.txt'
                depends_on: [collect]
                trigger_rule: \(loaderRule)
            """)
        try workspace.script(
            "data", "collect.py",
            """
            import glob, os, sys
            os.makedirs("db", exist_ok=True)
            with open("ran.txt", "a") as log: log.write("collect\\n")
            if os.environ["INJECT"] == "true":
                with open("db/tables.csv", "w") as out: out.write("garbage, half written")
                open("db/leftover.part", "w").write("partial")
                sys.exit("injected failure while writing db/tables.csv")
            rows = []
            for name in sorted(glob.glob("sources/*.csv")):
                rows += open(name).read().splitlines()
            with open("db/tables.csv", "w") as out: out.write("\\n".join(sorted(set(rows))) + "\\n")
            """)
        try workspace.write("sources/january.csv", "a,1\nb,2\n")
    }

    private func ran() throws -> [String] { try workspace.read("ran.txt").split(separator: "\n").map(String.init) }

    @Test func anUnchangedRerunSkipsTheStepAndAChangedInputCreatesANewVersion() async throws {
        try collectorPipeline()
        let first = try await workspace.run("data", jobs: 1)
        #expect(first.run.status == .success)
        #expect(first.step("collect")?.state == .succeeded)

        let second = try await workspace.run("data", jobs: 1)
        #expect(second.step("collect")?.state == .upToDate)
        #expect(second.step("collect")?.reason?.contains("unchanged since run \(first.run.id)") == true)
        #expect(second.step("load")?.state == .succeeded, "a step without declared outputs runs every time")
        #expect(try ran() == ["collect", "load", "load"])

        try workspace.write("sources/february.csv", "c,3\n")
        let third = try await workspace.run("data", jobs: 1)
        #expect(third.step("collect")?.state == .succeeded)
        #expect(try workspace.read("db/tables.csv") == "a,1\nb,2\nc,3\n")

        let versions = OutputVersions(
            versionsDirectory: workspace.path(".sluice/versions"), pipeline: "data", step: "collect",
            workspace: workspace.root)
        let annotations = try versions.annotations()
        #expect(annotations.versions.map(\.version) == [1, 2])
        #expect(annotations.versions.map(\.runID) == [first.run.id, third.run.id])
        #expect(try workspace.read(versions.root + "/newest/db/tables.csv") == "a,1\nb,2\nc,3\n")
        #expect(try workspace.read(versions.root + "/history/v1/db/tables.csv") == "a,1\nb,2\n")

        let forced = try await workspace.run("data", jobs: 1, force: true)
        #expect(forced.step("collect")?.state == .succeeded)
        #expect(try versions.annotations().versions.count == 2, "unchanged outputs create no version")
    }

    @Test func anOutputChangedByHandMakesTheStepRunAgain() async throws {
        try collectorPipeline()
        _ = try await workspace.run("data", jobs: 1)
        try workspace.write("db/tables.csv", "edited by hand\n")
        let again = try await workspace.run("data", jobs: 1)
        #expect(again.step("collect")?.state == .succeeded)
        #expect(try workspace.read("db/tables.csv") == "a,1\nb,2\n")
    }

    @Test func aNoOpRerunReadsNoFileAgain() async throws {
        try collectorPipeline()
        try workspace.write("sources/big.csv", String(repeating: "x,1\n", count: 250_000))
        _ = try await workspace.run("data", jobs: 1)
        let hashed = Mutex(0)
        let rerun = try await workspace.run("data", jobs: 1) { events in
            for case let .filesHashed(files) in events.map(\.kind) { hashed.withLock { $0 += files.count } }
        }
        #expect(rerun.step("collect")?.state == .upToDate)
        #expect(hashed.withLock { $0 } == 0)
    }

    @Test func aFailedStepIsRolledBackByteForByteAndItsRecoveredDownstreamRuns() async throws {
        try collectorPipeline()
        _ = try await workspace.run("data", jobs: 1)
        let good = try Data(contentsOf: URL(fileURLWithPath: workspace.path("db/tables.csv")))

        let failed = try await workspace.run("data", parameters: ["inject": "true"], jobs: 1)
        #expect(failed.step("collect")?.state == .failed)
        #expect(failed.step("collect")?.recovered == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.path("db/tables.csv"))) == good)
        #expect(!workspace.exists("db/leftover.part"), "a file the failed attempt created is removed")
        #expect(failed.step("load")?.state == .succeeded)
        #expect(failed.run.status == .partialSuccess)

        let actions = try await workspace.store().recoveryActions(runID: failed.run.id)
        #expect(actions.map(\.action.kind) == [.rollback])
        #expect(actions.first?.action.status == .success)

        let text = try notificationText(of: failed)
        for section in ["MANUAL REVIEW NOTIFICATION", "SUMMARY", "ERROR DETAILS", "HEALING ACTIONS", "METADATA"] {
            #expect(text.contains(section))
        }
        #expect(text.contains("Status       : PARTIAL_SUCCESS"))
        #expect(text.contains("Total Steps         : 2"))
        #expect(text.contains("Successful          : 1"))
        #expect(text.contains("Failed              : 1"))
        #expect(text.contains("Recovered           : 1"))
        #expect(text.contains("1. [HIGH] ROLLBACK_TO_BACKUP at outputs of step 'collect' → Status: SUCCESS"))
        #expect(text.contains("injected failure while writing"), "the error message is in the details")
    }

    @Test func aFailedRollbackSkipsTheRecoveredDownstreamAndFailsTheRun() async throws {
        try collectorPipeline()
        // No good version exists yet: the rollback cannot succeed.
        let failed = try await workspace.run("data", parameters: ["inject": "true"], jobs: 1)
        #expect(failed.step("collect")?.recovered == false)
        #expect(failed.step("load")?.state == .skipped)
        #expect(failed.step("load")?.reason == "trigger rule recovered: upstream step 'collect' failed and was not recovered")
        #expect(failed.run.status == .failed)
        let text = try notificationText(of: failed)
        #expect(text.contains("Status       : FAILED"))
        #expect(text.contains("ROLLBACK_TO_BACKUP at outputs of step 'collect' → Status: FAILED"))
        #expect(text.contains("has never succeeded"))
    }

    @Test func aDamagedVersionFailsTheRollbackAndSaysWhy() async throws {
        try collectorPipeline()
        _ = try await workspace.run("data", jobs: 1)
        try workspace.write(".sluice/versions/data/collect/newest/db/tables.csv", "bit rot\n")
        let failed = try await workspace.run("data", parameters: ["inject": "true"], jobs: 1)
        let action = try #require(try await workspace.store().recoveryActions(runID: failed.run.id).first?.action)
        #expect(action.status == .failed)
        #expect(action.message.contains("no intact copy of version 1 of db/tables.csv"))
        #expect(try workspace.read("db/tables.csv") == "garbage, half written", "a damaged version is never copied in")
        #expect(failed.run.status == .failed)
    }

    @Test func withoutRecoveryTheDefaultRuleSkipsDownstream() async throws {
        try collectorPipeline(loaderRule: "all_success")
        _ = try await workspace.run("data", jobs: 1)
        let failed = try await workspace.run("data", parameters: ["inject": "true"], jobs: 1)
        #expect(failed.step("collect")?.recovered == true)
        #expect(failed.step("load")?.reason == "trigger rule all_success: upstream step 'collect' failed")
        #expect(failed.run.status == .failed, "a recovered failure after which the pipeline did not go on")
    }

    @Test func aHealingScriptIsRunAndRecorded() async throws {
        try collectorPipeline(onFailure: "{run: heal.sh}")
        try workspace.script("data", "heal.sh", "echo healing $SLUICE_STEP; rm -f db/leftover.part\n")
        let failed = try await workspace.run("data", parameters: ["inject": "true"], jobs: 1)
        let actions = try await workspace.store().recoveryActions(runID: failed.run.id)
        #expect(actions.map(\.action.kind) == [.healingScript])
        #expect(actions.first?.action.status == .success)
        #expect(try workspace.read("\(failed.run.runDirectory)/logs/collect.recovery.log") == "healing collect\n")
        #expect(!workspace.exists("db/leftover.part"))
        #expect(failed.step("load")?.state == .succeeded)
    }

    @Test func triggerRulesForAlertsAndCleanUp() async throws {
        try workspace.pipeline(
            "rules",
            """
            params:
              fail: {type: bool, default: false}
            steps:
              - {name: work, command: 'test "$FAIL" = false'}
              - {name: alert, command: 'true', depends_on: [work], trigger_rule: one_failed}
              - {name: cleanup, command: 'true', depends_on: [work], trigger_rule: all_done}
              - {name: report, command: 'true', depends_on: [work]}
            """)
        let good = try await workspace.run("rules", jobs: 1)
        #expect(good.run.status == .success)
        #expect(good.step("alert")?.state == .skipped)
        #expect(good.step("alert")?.reason == "trigger rule one_failed: no upstream step failed")
        #expect(good.step("cleanup")?.state == .succeeded)

        let bad = try await workspace.run("rules", parameters: ["fail": "true"], jobs: 1)
        #expect(bad.run.status == .failed)
        #expect(bad.step("alert")?.state == .succeeded)
        #expect(bad.step("cleanup")?.state == .succeeded)
        #expect(bad.step("report")?.state == .skipped)
    }

    /// A join after a branch (Airflow's `none_failed_min_one_success`): it runs after the path taken when the path not
    /// taken was skipped by its rule, and not when a failure upstream is why a path was skipped.
    @Test func aJoinRunsAfterTheBranchTakenButNotAfterAFailure() async throws {
        try workspace.pipeline(
            "branch",
            """
            params:
              fail: {type: bool, default: false}
            steps:
              - {name: check, command: 'test "$FAIL" = false'}
              - {name: repair, command: 'echo repaired > repaired.txt', depends_on: [check], trigger_rule: one_failed}
              - {name: publish, command: 'echo published > published.txt', depends_on: [check]}
              - {name: join, command: 'cat $(ls repaired.txt published.txt 2>/dev/null) > joined.txt', depends_on: [repair, publish],
                 trigger_rule: none_failed_min_one_success}
            """)
        let good = try await workspace.run("branch", jobs: 1)
        #expect(good.run.status == .success)
        #expect(good.step("repair")?.state == .skipped)
        #expect(good.step("join")?.state == .succeeded)
        #expect(try workspace.read("joined.txt") == "published\n")
        // The branch not taken is not something left to do.
        let store = try workspace.store()
        let retry = await #expect(throws: SluiceError.self) {
            try await RunRetry.plan(of: good.run, pipeline: try workspace.load("branch"), store: store)
        }
        #expect(retry?.code == .nothingToDo)
        let resume = await #expect(throws: SluiceError.self) {
            try await Resumption.claim(good.run, pipeline: try workspace.load("branch"), store: store, jobs: 1)
        }
        #expect(resume?.code == .nothingToDo)

        let bad = try await workspace.run("branch", parameters: ["fail": "true"], jobs: 1, continueOnError: true)
        #expect(bad.step("repair")?.state == .succeeded)
        #expect(bad.step("publish")?.state == .skipped)
        #expect(bad.step("join")?.state == .skipped, "the failed check is upstream of the join's branches")
        #expect(bad.step("join")?.reason == "trigger rule none_failed_min_one_success: upstream step 'publish' was skipped after a failure")
    }

    /// A branch chosen by `if:`: the branch not taken is skipped and says why, the join after both runs, and a run that
    /// takes the other branch runs only it.
    @Test func aConditionChoosesTheBranchAndTheJoinRunsAfterIt() async throws {
        try workspace.pipeline(
            "choose",
            """
            params:
              mode: {type: choice, choices: [full, quick], default: full}
            steps:
              - {name: extract, command: 'echo extracted > extracted.txt'}
              - {name: full, command: 'echo full > branch.txt', depends_on: [extract], if: "params.mode == 'full'"}
              - {name: quick, command: 'echo quick > branch.txt', depends_on: [extract], if: "params.mode == 'quick'"}
              - {name: publish, command: 'cp branch.txt published.txt', depends_on: [full, quick],
                 trigger_rule: none_failed_min_one_success}
            """)
        let full = try await workspace.run("choose", jobs: 1)
        #expect(full.run.status == .success)
        #expect(full.step("quick")?.state == .skipped)
        #expect(full.step("quick")?.reason == "if: params.mode == 'quick' is false (params.mode = 'full')")
        #expect(try workspace.read("published.txt") == "full\n")
        let quick = try await workspace.run("choose", parameters: ["mode": "quick"], jobs: 1)
        #expect(quick.step("full")?.state == .skipped && quick.step("quick")?.state == .succeeded)
        #expect(try workspace.read("published.txt") == "quick\n")
        // The branch not taken is nothing left to do.
        let retry = await #expect(throws: SluiceError.self) {
            try await RunRetry.plan(of: quick.run, pipeline: try workspace.load("choose"), store: try workspace.store())
        }
        #expect(retry?.code == .nothingToDo)
    }

    private func notificationText(of outcome: RunOutcome) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: outcome.run.runDirectory)
        let file = try #require(names.first { $0.hasPrefix("manual_review_") && $0.hasSuffix(".txt") })
        #expect(names.contains(file.replacingOccurrences(of: ".txt", with: ".json")))
        return try workspace.read("\(outcome.run.runDirectory)/\(file)")
    }
}
