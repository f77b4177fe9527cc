import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// What the commands print says what is meant, and looking at a workspace changes nothing in it.
/// Serialized for the same reason as ``CommandLineTests``.
@Suite(.serialized)
struct CommandOutputTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    func sluice(_ arguments: String..., environment: [String: String] = [:]) throws -> SluiceBinary.Result {
        try SluiceBinary.run(arguments, in: workspace.root, environment: environment)
    }

    @Test func countsSchedulesAndFailuresReadAsWritten() throws {
        try workspace.pipeline(
            "one",
            """
            schedule: {cron: "0 6 * * *", timezone: UTC}
            steps:
              - {name: slow, command: 'sleep 5', timeout: 200ms}
            """)
        #expect(try sluice("validate").stdout.contains("one (1 step)\n"))
        #expect(try sluice("triggers").stdout.contains("cron \"0 6 * * *\" UTC  "), "the zone as the file names it, not GMT")
        let run = try sluice("run", "one")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("timeout") })
        #expect(line.hasPrefix("timeout  slow attempt 1:"), "labels line up: \(line)")
    }

    @Test func whyShowsTheOldAndNewHashOfAChangedScript() throws {
        try workspace.pipeline(
            "collect",
            """
            steps:
              - {name: collect, script: collect.sh, outputs: [out.txt]}
            """)
        try workspace.script("collect", "collect.sh", "echo one > out.txt\n")
        #expect(try sluice("run", "collect").status == 0)
        try workspace.script("collect", "collect.sh", "echo two > out.txt\n")
        let why = try sluice("why", "collect", "collect").stdout
        let hashes = try #require(why.firstMatch(of: /changed \(([0-9a-f]{12}) -> ([0-9a-f]{12})\)/))
        #expect(hashes.1 != hashes.2, "\(why)")
    }

    @Test func anUnknownKindOfStoreIsAnErrorAndNothingIsCreated() throws {
        let refused = try sluice("db", "status", environment: ["SLUICE_STORE": "mysql://x@y/z"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("unknown kind of store ('mysql://')"))
        #expect(!workspace.exists("mysql:"))
    }

    @Test func dbStatusOfANewWorkspaceCreatesNoStore() throws {
        let status = try sluice("db", "status")
        #expect(status.status == 0)
        #expect(status.stdout.contains("not created yet"))
        #expect(!workspace.exists(".sluice"), "no store and no lock file")
    }

    @Test func configListsTheNotificationHandlers() throws {
        try workspace.write("sluice.yaml", "notify:\n  - webhook: https://hooks.example.com/T0/secret-path\n")
        let table = try sluice("config").stdout
        #expect(table.contains("webhook https://hooks.example.com/…"))
        #expect(!table.contains("secret-path"), "the URL's path is cut, as the API cuts it")
        let json = try JSONSerialization.jsonObject(with: Data(try sluice("config", "--json").stdout.utf8)) as? [[String: Any]]
        #expect(json?.contains { $0["key"] as? String == "notify" } == true)
    }

    /// A matrix instance's name has commas; `--only` splits names at commas, but not those between brackets.
    @Test func aMatrixInstanceIsSelectedByItsName() throws {
        try workspace.pipeline("mx", "steps:\n  - {name: report, matrix: {region: [eu, us], year: ['2024', '2025']}, command: 'true'}\n")
        let plan = try sluice("run", "mx", "--dry-run", "--only", "report[us,2025],report[eu,2024]")
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("2 of 4 steps would run"))
        let ran = try sluice("run", "mx", "--only", "report[us,2025]")
        #expect(ran.status == 0 && ran.stdout.contains("1 succeeded"))
    }

    @Test func theDryRunReadsConditionsOnParametersAndItems() throws {
        try workspace.pipeline(
            "br",
            """
            params:
              mode: {type: choice, choices: [full, quick], default: full}
            steps:
              - {name: extract, command: "echo n=1 >> $SLUICE_OUTPUT"}
              - {name: quick, command: "true", depends_on: [extract], if: "params.mode == 'quick'"}
              - {name: later, command: "true", depends_on: [extract], if: "steps.extract.outputs.n == 1"}
              - {name: map, foreach: [a, b], command: "true", if: "item != 'b'"}
            """)
        let plan = try sluice("run", "br", "--dry-run")
        #expect(plan.stdout.hasPrefix("Dry run of 'br': 3 of 5 steps would run, 2 skipped by their if:"), "\(plan.stdout)")
        #expect(plan.stdout.contains("skip  quick                 if: params.mode == 'quick' is false (params.mode = 'full')"))
        #expect(plan.stdout.contains("skip  map[b]                if: item != 'b' is false (item = 'b')"))
        #expect(plan.stdout.contains("run   later"), "a condition on an upstream step's value is read when it has run")
        #expect(try sluice("run", "br", "--dry-run", "-p", "mode=quick").stdout.contains("run   quick"))
    }

    @Test func instancesAreNamedInWhyVersionsRestoreAndMarkTested() throws {
        try workspace.pipeline(
            "fo", "steps:\n  - {name: map, foreach: [a, b], command: 'mkdir -p fo && date +%N > fo/{{ item }}.txt', outputs: ['fo/{{ item }}.txt']}\n"
        )
        #expect(try sluice("run", "fo").status == 0)
        let one = try sluice("why", "fo", "map[a]")
        #expect(one.stdout.hasPrefix("fo/map[a] would be skipped: up to date"), "\(one.stderr)")
        let all = try sluice("why", "fo", "map")
        #expect(all.stdout.contains("fo/map[a] would be skipped") && all.stdout.contains("fo/map[b] would be skipped"))
        #expect(try sluice("why", "fo", "map[zz]").stderr.contains("'map[zz]' is no step of 'fo' with these parameters"))
        #expect(try sluice("versions", "fo", "map[a]").stdout.contains("fo/a.txt"))
        let before = try workspace.read("fo/b.txt")
        try workspace.write("fo/b.txt", "changed\n")
        #expect(try sluice("restore", "fo", "map[b]").stdout.hasPrefix("restored fo/b.txt to v1"))
        #expect(try workspace.read("fo/b.txt") == before)
        #expect(try sluice("mark-tested", "fo", "map[a]").stdout == "fo/map[a]: marked tested\n")
        #expect(try sluice("mark-tested", "fo", "other[a]").status != 0)
        for empty in ["", "  "] {
            let refused = try sluice("step", "fo", "map[a]", "--from-run", empty)
            #expect(refused.status != 0 && refused.stderr.contains("--from-run takes a run id"), "\(refused.stderr)")
        }
    }

    @Test func validateWarnsOfSettingsThatWouldBeIgnoredAndRefusesTemplatedPaths() throws {
        try workspace.pipeline(
            "hints",
            """
            steps:
              - {name: reads, command: 'true', inputs: [data.csv]}
              - {name: big, command: 'true', slurm: {cpus: 8}}
            """)
        try workspace.pipeline(
            "templated",
            """
            steps:
              - {name: map, command: 'true', inputs: ["data/$SAMPLE.fastq"], outputs: ["mapped/{sample}.bam"]}
            """)
        let checked = try sluice("validate", "hints")
        #expect(checked.status == 0, "warnings leave the pipeline valid")
        #expect(checked.stdout.contains("hints.yaml:2:5: warning: step 'reads' declares inputs but no outputs"))
        #expect(checked.stdout.contains("hints.yaml:3:5: warning: step 'big' runs on the local executor, which ignores its slurm:"))
        #expect(try sluice("validate", "hints", environment: ["SLUICE_EXECUTOR": "slurm"]).stdout.contains("ignores") == false)
        let refused = try sluice("validate", "templated")
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("templated.yaml:2:43: error: 'data/$SAMPLE.fastq' in 'inputs' looks like a variable"))
        #expect(refused.stdout.contains("'mapped/{sample}.bam' in 'outputs' looks like a variable"))
        #expect(refused.stdout.contains("fix: use {{ item }} or {{ params.NAME }}"), "the way to say it")
    }

    @Test func twoFilesOfOnePipelineIdAreBothRefused() throws {
        try workspace.pipeline("dp", "steps:\n  - {name: a, command: 'echo file'}\n")
        try workspace.write("pipelines/dp/pipeline.yaml", "steps:\n  - {name: a, command: 'echo folder'}\n")
        let checked = try sluice("validate", "dp")
        #expect(checked.status != 0)
        #expect(checked.stdout.contains("pipelines/dp.yaml:1:1: error: pipeline 'dp' is also defined by"))
        #expect(checked.stdout.contains("pipelines/dp/pipeline.yaml:1:1: error: pipeline 'dp' is also defined by"))
        let run = try sluice("run", "dp")
        #expect(run.status != 0 && !run.stdout.contains("folder") && !run.stdout.contains("file"), "neither is run on a guess")
    }

    @Test func pipelinesShareAScriptFromAFolderBesideThem() throws {
        try workspace.write("pipelines/shared/greet.sh", "echo \"hello from shared\"\n")
        try workspace.pipeline("etl", "steps:\n  - {name: greet, script: ../shared/greet.sh}\n")
        try workspace.write("pipelines/report/pipeline.yaml", "steps:\n  - {name: greet, script: ../shared/greet.sh}\n")
        #expect(try sluice("validate").status == 0)
        for pipeline in ["etl", "report"] {
            let run = try sluice("run", pipeline)
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(try workspace.read("runs/\(try latestRun())/logs/greet.log") == "hello from shared\n")
    }

    private func latestRun() throws -> String {
        let runs = try JSONSerialization.jsonObject(with: Data(try sluice("runs", "--json").stdout.utf8)) as? [[String: Any]]
        return try #require(runs?.first?["id"] as? String)
    }

    @Test func sluicesOwnVariablesCannotBeOverriddenAndParametersWinOnce() throws {
        try workspace.pipeline(
            "env",
            """
            env: {SLUICE_RUN_ID: fake, REGION: from-env}
            steps:
              - {name: a, command: 'true', env: {SLUICE_STEP: other}}
            """)
        let refused = try sluice("validate", "env")
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("env.yaml:1:7: error: 'SLUICE_RUN_ID' is set by Sluice for every step"))
        #expect(refused.stdout.contains("error: 'SLUICE_STEP' is set by Sluice for every step; 'env' in a step cannot change it"))

        try workspace.pipeline(
            "env",
            """
            params: {region: {type: string, default: north}}
            env: {REGION: from-env}
            steps:
              - {name: a, command: 'echo "$REGION"'}
            """)
        #expect(try sluice("validate", "env").stdout.contains("warning: parameter 'region' sets REGION, which 'env' sets too"))
        #expect(try sluice("run", "env").status == 0)
        let id = try latestRun()
        #expect(try workspace.read("runs/\(id)/logs/a.log") == "north\n")
        let lines = try workspace.read("runs/\(id)/.env").split(separator: "\n").filter { $0.hasPrefix("REGION=") }
        #expect(lines == ["REGION=north"], "listed once, with the value the step saw")
    }
}
