import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Seed 002's format as written, and every diagnostic a pipeline file can get.
struct PipelineDefinitionTests {
    /// Loads `yaml` as pipeline `p` and returns its diagnostics (empty when valid).
    func diagnostics(_ yaml: String, scripts: [String] = []) throws -> [Diagnostic] {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", yaml)
        for script in scripts { try workspace.script("p", script, "print('hi')\n") }
        return PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.diagnostics
    }

    @Test func seedFormatLoadsUnchanged() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("my_pipeline", Seed002.myPipelineYAML)
        for script in ["setup.py", "process.py", "report.py"] { try workspace.script("my_pipeline", script, Seed002.setupScript) }
        let pipeline = try workspace.load("my_pipeline")
        #expect(pipeline.name == "My Pipeline")
        #expect(pipeline.description == "Description of what this pipeline does")
        #expect(pipeline.steps.map(\.name) == ["setup", "process_data", "generate_report"])
        #expect(pipeline.steps[1].dependsOn == ["setup"])
        #expect(pipeline.steps[2].action == .script(path: "report.py"))
    }

    @Test func aChangedCopyOfAStepLeavesTheStepAsItWas() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - name: a\n    wait_for: {file: ready.flag}\n    env: {X: '1'}\n")
        let original = try workspace.load("p").steps[0]
        var copy = original
        copy.name = "b"
        copy.environment["X"] = "2"
        copy.waitFor = nil
        #expect(original.name == "a" && original.environment == ["X": "1"] && original.waitFor != nil)
        #expect(copy.name == "b" && copy.environment == ["X": "2"] && copy.waitFor == nil)
    }

    @Test func folderLayoutWithPipelineYAMLIsDiscovered() throws {
        let workspace = try TestWorkspace()
        try workspace.write("pipelines/example_pipeline/pipeline.yaml", "name: Example\nsteps:\n  - name: a\n    script: a.py\n")
        try workspace.write("pipelines/example_pipeline/a.py", "print(1)\n")
        let catalog = PipelineCatalog.scan(workspace.pipelinesDirectory)
        #expect(catalog.entries.map(\.id) == ["example_pipeline"])
        #expect(catalog.entry("example_pipeline")?.pipeline?.scriptsDirectory == workspace.path("pipelines/example_pipeline"))
        #expect(catalog.entry("Example")?.id == "example_pipeline")
    }

    @Test func yamlSyntaxErrorNamesLineAndColumn() throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: [unclosed\n")
        let problem = try #require(found.first)
        #expect(problem.code == .yamlSyntax)
        #expect(problem.location.line >= 3)
        #expect(problem.description.contains("p.yaml:\(problem.location.line):\(problem.location.column): error: invalid YAML"))
    }

    @Test func emptyAndControlCharacterStepNamesAreRefusedAtTheirLine() throws {
        let found = try diagnostics(
            "steps:\n  - {name: '', command: 'true'}\n  - {name: '   ', command: 'true'}\n  - {name: \"a\\nb\", command: 'true'}\n")
        #expect(
            found.map(\.message) == [
                "a step's name is empty", "a step's name is empty",
                "step name 'a\\nb' cannot contain '/' or control characters, or start with '.'",
            ])
        #expect(found.map(\.location.line) == [2, 3, 4])
    }

    @Test func anHonestGeneratedPipelineOfTenMegabytesLoads() throws {
        let padding = String(repeating: "x", count: 1000)
        var yaml = "steps:\n"
        for index in 0..<10_000 {
            yaml +=
                "  - name: s\(index)\n    description: \"\(padding)\"\n    command: 'true'\n"
                + (index > 0 ? "    depends_on:\n      - s\(index - 1)\n" : "")
        }
        #expect(yaml.utf8.count > 10 << 20)
        let workspace = try TestWorkspace()
        try workspace.pipeline("generated", yaml)
        #expect(try workspace.load("generated").steps.count == 10_000)
    }

    @Test func concurrencyIsOneOfThreePolicies() throws {
        let found = try diagnostics("concurrency: queu\nsteps:\n  - {name: a, command: 'true'}\n")
        #expect(found.map(\.message) == ["'concurrency' must be allow, queue or reject, not 'queu'"])
        #expect(found.first?.fix == "did you mean 'queue'?")
    }

    @Test func placementMergesStepOverPipelineAndNamesEachMistake() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            executor: slurm
            slurm: {partition: batch, cpus: 4, memory: 16G, flags: ["--qos=long"]}
            steps:
              - {name: a, command: 'true'}
              - {name: b, command: 'true', executor: workers, runs_on: [gpu, big-mem]}
              - {name: c, command: 'true', slurm: {cpus: 8, time: 2h, flags: ["--exclusive"]}}
            """)
        let pipeline = try workspace.load("p")
        #expect(
            pipeline.placement(of: pipeline.steps[0])
                == StepPlacement(
                    executor: .slurm,
                    slurm: SlurmRequest(
                        partition: "batch", cpus: 4, memory: "16G", flags: ["--qos=long"])))
        #expect(pipeline.placement(of: pipeline.steps[1]).executor == .workers && pipeline.steps[1].placement.labels == ["gpu", "big-mem"])
        #expect(
            pipeline.placement(of: pipeline.steps[2]).slurm
                == SlurmRequest(
                    partition: "batch", cpus: 8, memory: "16G", time: 7200,
                    flags: ["--qos=long", "--exclusive"]))

        let found = try diagnostics(
            """
            executor: slurn
            steps:
              - {name: a, command: 'true', runs_on: ['gpu box'], slurm: {memory: lots, flags: [exclusive], nodes: 2}}
            """)
        #expect(
            found.map(\.message) == [
                "unknown executor 'slurn'",
                "'gpu box' in 'runs_on' is not a label",
                "'memory' is not an amount sbatch takes: 'lots'",
                "'exclusive' in 'flags' is not an sbatch option",
                "unknown key 'nodes' in 'slurm'",
            ], "\(found.map(\.message))")
        #expect(found.first?.fix == "did you mean 'slurm'?" && found.first?.location.line == 1)
    }

    @Test func unknownKeySuggestsTheKnownOne() throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: 'true'\n  - name: b\n    command: 'true'\n    depend_on: [a]\n")
        let problem = try #require(found.first { $0.code == .unknownKey })
        #expect(problem.location.line == 6)
        #expect(problem.location.column == 5)
        #expect(problem.message == "unknown key 'depend_on' in a step")
        #expect(problem.fix == "did you mean 'depends_on'?")
    }

    @Test func missingScriptNamesThePathAndFolder() throws {
        let found = try diagnostics("steps:\n  - name: a\n    script: nowhere.py\n")
        let problem = try #require(found.first)
        #expect(problem.code == .missingScript)
        #expect(problem.message.contains("script 'nowhere.py' not found at"))
        #expect(problem.location.line == 2)
    }

    @Test func scriptWithoutInterpreterNeedsShebangOrExecutableBit() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - name: a\n    script: tool\n")
        try workspace.script("p", "tool", "echo hi\n")
        let problem = try #require(PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.diagnostics.first)
        #expect(problem.message.contains("no known extension, no shebang and is not executable"))
        #expect(problem.fix?.contains("chmod +x") == true)
    }

    @Test func duplicateStepNamesPointAtBoth() throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: 'true'\n  - name: a\n    command: 'true'\n")
        let problem = try #require(found.first)
        #expect(problem.code == .duplicateStep)
        #expect(problem.location.line == 4)
        #expect(problem.message.contains("first at line 2"))
    }

    @Test func unknownDependencySuggestsANameThatExists() throws {
        let found = try diagnostics(
            "steps:\n  - name: clean_data\n    command: 'true'\n  - name: b\n    command: 'true'\n    depends_on: [Clean_data]\n")
        let problem = try #require(found.first)
        #expect(problem.code == .unknownDependency)
        #expect(problem.message == "step 'b' depends on 'Clean_data', which is not a step of this pipeline")
        #expect(problem.fix?.hasPrefix("did you mean 'clean_data'?") == true)
    }

    @Test func dependencyCycleIsPrintedInOrder() throws {
        let found = try diagnostics(
            """
            steps:
              - name: a
                command: 'true'
                depends_on: [c]
              - name: b
                command: 'true'
                depends_on: [a]
              - name: c
                command: 'true'
                depends_on: [b]
            """)
        let problem = try #require(found.first)
        #expect(problem.code == .dependencyCycle)
        #expect(problem.message == "dependency cycle: a -> b -> c -> a")
    }

    @Test func selfDependencyIsACycle() throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: 'true'\n    depends_on: a\n")
        #expect(found.map(\.message) == ["dependency cycle: a -> a"])
    }

    @Test func badParameterDeclarationsAreReported() throws {
        let found = try diagnostics(
            """
            params:
              start: {type: date, default: 2025-02-30}
              level: {type: choise}
              region: {type: choice}
            steps:
              - name: a
                command: 'true'
            """)
        #expect(found.map(\.code) == [.badValue, .badValue, .missingKey])
        #expect(found[0].message == "default of parameter 'start': '2025-02-30' is not a date written YYYY-MM-DD")
        #expect(found[1].fix == "did you mean 'choice'?")
        #expect(found[2].message.contains("lists no 'choices'"))
    }

    @Test func everyProblemIsReportedAtOnceInFileOrder() throws {
        let found = try diagnostics(
            """
            name: p
            stepz: []
            steps:
              - name: a
                script: missing.py
                timeout: soon
              - command: 'true'
            """)
        #expect(found.map(\.code) == [.unknownKey, .missingScript, .badValue, .missingKey])
        #expect(found.map(\.location.line) == [2, 4, 6, 7])
    }

    @Test func wrongTypesAreNamed() throws {
        let found = try diagnostics("steps:\n  name: a\n")
        #expect(found.first?.message == "'steps' must be a list")
        let scalar = try diagnostics("steps:\n  - name: [a, b]\n    command: 'true'\n")
        #expect(scalar.first?.message == "'name' must be a single value, not a list")
    }

    @Test func extensionsAreRead() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            params:
              app_filter: {type: string, required: true, description: Which app}
            modes:
              quick: [fast]
            env: {REGION: eu}
            steps:
              - name: a
                command: echo $REGION
                timeout: 1h30m
                retries: {count: 3, delay: 2s, backoff: 3, max_delay: 10s}
                tags: [fast]
                allow_failure: true
                env: {LEVEL: "2"}
            """)
        let pipeline = try workspace.load("p")
        let step = pipeline.steps[0]
        #expect(step.timeout == 5400)
        #expect(step.retry == RetryPolicy(retries: 3, delay: 2, backoff: 3, maxDelay: 10))
        #expect(step.retry.delay(beforeAttempt: 2) == 2)
        #expect(step.retry.delay(beforeAttempt: 3) == 6)
        #expect(step.retry.delay(beforeAttempt: 4) == 10)
        #expect(step.allowFailure)
        #expect(step.environment == ["LEVEL": "2"])
        #expect(pipeline.environment == ["REGION": "eu"])
        #expect(pipeline.modes.map(\.name) == ["quick"])
        #expect(pipeline.parameters.first?.required == true)
        #expect(pipeline.parameters.first?.environmentName == "APP_FILTER")
    }

    @Test(arguments: [("90s", 90.0), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("42", 42), ("1.5", 1.5), ("2d", 172_800)])
    func durationsAreParsed(text: String, seconds: Double) throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline("p", "steps:\n  - name: a\n    command: 'true'\n    timeout: \(text)\n")
        #expect(try workspace.load("p").steps[0].timeout == seconds)
    }

    @Test(arguments: ["5 minutes", "m5", "-3", "1h-2m", ""])
    func malformedDurationsAreRefused(text: String) throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: 'true'\n    timeout: '\(text)'\n")
        #expect(found.first?.message == "'timeout' is not a duration: '\(text)'")
    }
}

extension PipelineDefinitionTests {
    @Test func anchorsAliasesAndMergeKeysWork() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "p",
            """
            x-defaults: &defaults
              timeout: 5m
              retries: 2
              tags: [nightly]
            steps:
              - name: a
                command: 'true'
                <<: *defaults
                retries: 4
              - name: b
                command: 'true'
                depends_on: &after-a [a]
              - name: c
                command: 'true'
                depends_on: *after-a
                x-owner: data-team
            """)
        let steps = try workspace.load("p").steps
        #expect(steps[0].timeout == 300)
        #expect(steps[0].retry.retries == 4, "an explicit key wins over a merged one")
        #expect(steps[0].tags == ["nightly"])
        #expect(steps[2].dependsOn == ["a"])
    }

    @Test func aMergeOfSomethingElseIsRefused() throws {
        let found = try diagnostics("steps:\n  - name: a\n    command: 'true'\n    <<: [1, 2]\n")
        #expect(found.first?.message == "'<<' in a step must merge a mapping or a list of mappings")
    }
}

extension PipelineDefinitionTests {
    @Test func aMergeBombIsStoppedWithAClearError() throws {
        var lines = ["x-m0: &m0 {timeout: 5m}"]
        for level in 1...12 {
            lines.append("x-m\(level): &m\(level) {<<: [" + Array(repeating: "*m\(level - 1)", count: 9).joined(separator: ",") + "]}")
        }
        lines.append("steps:\n  - {name: a, command: 'true', <<: *m12}")
        let found = try diagnostics(lines.joined(separator: "\n"))
        #expect(found.map(\.message) == ["merge keys ('<<') in this file expand to more than 10000 entries"])
    }
}
