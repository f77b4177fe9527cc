import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKit

/// `foreach` and `matrix` as the file declares them and as a run expands them: instance names, items, templates,
/// quoting, and every mistake refused at its place in the file.
struct FanOutTests {
    let workspace: TestWorkspace

    init() throws { workspace = try TestWorkspace() }

    /// The pipeline as one run would execute it.
    func expanded(_ yaml: String, parameters: [String: String] = [:], files: [String] = []) throws -> Pipeline {
        try workspace.pipeline("p", yaml)
        let pipeline = try workspace.load("p")
        let values = try ParameterBinding.bind(parameters, to: pipeline.parameters).get()
        return try FanOutExpansion.expand(pipeline, parameters: values) { _ in files }
    }

    func diagnostics(_ yaml: String) throws -> [String] {
        try workspace.pipeline("p", yaml)
        return PipelineCatalog.scan(workspace.pipelinesDirectory).entry("p")!.diagnostics.map {
            "\($0.location.line):\($0.location.column): \($0.message) (\($0.fix ?? ""))"
        }
    }

    func command(_ step: Step) -> String {
        if case let .command(text) = step.action { return text }
        return ""
    }

    @Test func aListParameterFansOutAndTheJoinWaitsForEveryInstance() throws {
        let pipeline = try expanded(
            """
            params:
              samples: {type: list, default: [A, B]}
            steps:
              - {name: map, foreach: "{{ params.samples }}", command: "count {{ item }} --run {{ run.id }}"}
              - {name: join, depends_on: [map], command: "merge"}
            """, parameters: ["samples": "A, B,C"])
        #expect(pipeline.steps.map(\.name) == ["map[A]", "map[B]", "map[C]", "join"])
        #expect(command(pipeline.steps[1]) == "count B --run \u{0}run.id\u{0}", "the run's id is filled in at launch")
        #expect(pipeline.steps[1].environment["SLUICE_ITEM"] == "B")
        #expect(pipeline.steps[1].instance?.of == "map")
        #expect(pipeline.steps[3].dependsOn == ["map[A]", "map[B]", "map[C]"])
        #expect(try Planner.plan(pipeline, selection: Selection(only: ["map"])).included.map(\.step.name) == ["map[A]", "map[B]", "map[C]"])
    }

    @Test func filesFromAGlobGiveTheirPathNameAndStem() throws {
        let pipeline = try expanded(
            """
            steps:
              - name: align
                foreach: {glob: "data/*.fastq"}
                command: "bwa {{ item.path }} > out/{{ item.stem }}.bam"
                outputs: ["out/{{ item.stem }}.bam"]
            """, files: ["data/A.fastq", "data/B.fastq"])
        #expect(pipeline.steps.map(\.name) == ["align[A]", "align[B]"])
        #expect(command(pipeline.steps[0]) == "bwa data/A.fastq > out/A.bam")
        #expect(pipeline.steps[1].outputs == ["out/B.bam"])
        #expect(pipeline.steps[1].environment["SLUICE_ITEM_NAME"] == "B.fastq")
    }

    /// The example of GitHub Actions' documentation, with its result.
    @Test func aMatrixExpandsAsGitHubActionsDoes() throws {
        let pipeline = try expanded(
            """
            steps:
              - name: job
                command: "true"
                matrix:
                  fruit: [apple, pear]
                  animal: [cat, dog]
                  include:
                    - color: green
                    - {color: pink, animal: cat}
                    - {fruit: apple, shape: circle}
                    - fruit: banana
                    - {fruit: banana, animal: cat}
            """)
        #expect(
            pipeline.steps.map(\.name) == [
                "job[apple,cat,pink,circle]", "job[apple,dog,green,circle]", "job[pear,cat,pink]", "job[pear,dog,green]",
                "job[banana]", "job[banana,cat]",
            ])
        let excluded = try expanded(
            """
            steps:
              - {name: job, command: "echo {{ item.os }}", matrix: {os: [linux, mac], py: ["3.11", "3.12"], exclude: [{os: mac, py: "3.11"}]}}
            """)
        #expect(excluded.steps.map(\.name) == ["job[linux,3.11]", "job[linux,3.12]", "job[mac,3.12]"])
        #expect(excluded.steps[2].environment["SLUICE_ITEM"] == #"{"os":"mac","py":"3.12"}"#)
    }

    /// An item is one word of the command, whatever it holds: no item can run a command of its own.
    @Test func itemsAndParametersAreShellQuotedInCommands() throws {
        let pipeline = try expanded(
            """
            params:
              note: {type: string, default: "x"}
            steps:
              - {name: map, foreach: ["a b", "$(touch pwned)", "it's", "x;y\\nz"], command: "echo {{ item }} {{ params.note }}"}
            """, parameters: ["note": "`id`"])
        #expect(
            pipeline.steps.map(command) == [
                "echo 'a b' '`id`'", "echo '$(touch pwned)' '`id`'", #"echo "it's" '`id`'"#, #"echo $'x;y\nz' '`id`'"#,
            ])
        #expect(pipeline.steps.map(\.name) == ["map[a b]", "map[$(touch pwned)]", "map[it's]", "map[x;y_z]"], "no control character in a name")
    }

    @Test func anItemThatLeadsAPathOutOfTheWorkspaceIsRefused() throws {
        let yaml = """
            params:
              names: {type: list}
            steps:
              - {name: map, foreach: "{{ params.names }}", command: "true", outputs: ["out/{{ item }}"]}
            """
        #expect(throws: SluiceError.self) { try expanded(yaml, parameters: ["names": "ok,../../etc"]) }
        let bare =
            "params:\n  names: {type: list}\nsteps:\n  - {name: map, foreach: \"{{ params.names }}\", command: 'true', outputs: [\"{{ item }}\"]}"
        #expect(throws: SluiceError.self, "the workspace itself is no output") { try expanded(bare, parameters: ["names": "."]) }
        let absolute = "steps:\n  - {name: map, foreach: [\"a\", \"../../etc\"], command: 'true', workdir: '/srv/data/{{ item }}'}"
        #expect(throws: SluiceError.self, "nor out of an absolute workdir") { try expanded(absolute) }
        #expect(try expanded(yaml, parameters: ["names": "a//b"]).steps[0].outputs == ["out/a/b"], "doubled slashes fold")
        let glob = #expect(throws: SluiceError.self, "a value is a name, not a pattern") { try expanded(yaml, parameters: ["names": "a,*"]) }
        #expect(glob?.message == #"step 'map' for item "*": 'outputs' would take "*", whose * ? [ ] would match other files"#)
    }

    @Test func equalLabelsStillGiveDistinctNamesAndHugeMatricesAreRefused() throws {
        let pipeline = try expanded("steps:\n  - {name: map, foreach: [a, a, a/b, a_b, a~1], command: 'true'}")
        #expect(pipeline.steps.map(\.name) == ["map[a]", "map[a~1]", "map[a_b]", "map[a_b~3]", "map[a~1~4]"])
        let values = (0..<1000).map(String.init).joined(separator: ", ")
        #expect(
            try diagnostics("steps:\n  - {name: m, command: 'true', matrix: {x: [\(values)], y: [\(values)]}}")
                == ["2:40: 'matrix' makes 1000000 combinations; at most 250000 are allowed (split the step, or use fewer values)"])
        let items = (0...250_000).map(String.init).joined(separator: ",")
        let error = #expect(throws: SluiceError.self) {
            try expanded("params: {n: {type: list}}\nsteps:\n  - {name: m, foreach: '{{ params.n }}', command: 'true'}", parameters: ["n": items])
        }
        #expect(error?.message == "step 'm' would run 250001 instances; at most 250000 are allowed")
    }

    /// A fan-out over the same items as the one it depends on pairs instance with instance, so each item goes down
    /// its own chain; a step that does not fan out, or a matrix, waits for every instance.
    @Test func fanOutsOverTheSameItemsPairTheirInstances() throws {
        let pipeline = try expanded(
            """
            params:
              samples: {type: list, default: [A, B]}
            steps:
              - {name: map, foreach: "{{ params.samples }}", command: "true"}
              - {name: sort, foreach: "{{ params.samples }}", depends_on: [map], command: "true"}
              - {name: other, foreach: [A, B], depends_on: [map], command: "true"}
              - {name: call, depends_on: [sort], command: "true"}
            """)
        let dependencies = Dictionary(uniqueKeysWithValues: pipeline.steps.map { ($0.name, $0.dependsOn) })
        #expect(dependencies["sort[A]"] == ["map[A]"] && dependencies["sort[B]"] == ["map[B]"])
        #expect(dependencies["other[A]"] == ["map[A]", "map[B]"], "other items: every instance")
        #expect(dependencies["call"] == ["sort[A]", "sort[B]"])
    }

    /// A fan-out without items (an empty list, a glob that matches nothing) has no instances; what waited for it
    /// waits for what it waited for.
    @Test func aFanOutWithoutItemsKeepsTheOrderOfTheRest() throws {
        let pipeline = try expanded(
            """
            params:
              samples: {type: list, default: []}
            steps:
              - {name: setup, command: "true"}
              - {name: map, foreach: "{{ params.samples }}", depends_on: [setup], command: "true"}
              - {name: call, depends_on: [map], command: "true"}
            """)
        #expect(pipeline.steps.map(\.name) == ["setup", "call"])
        #expect(pipeline.steps[1].dependsOn == ["setup"])
    }

    @Test func anAddedItemChangesOnlyItsOwnFingerprint() throws {
        let yaml = """
            params:
              samples: {type: list}
            steps:
              - {name: map, foreach: "{{ params.samples }}", command: "echo {{ item }}", outputs: ["{{ item }}.txt"]}
            """
        let before = try expanded(yaml, parameters: ["samples": "A"])
        let after = try expanded(yaml, parameters: ["samples": "A,B"])
        func fingerprint(_ pipeline: Pipeline) throws -> StepFingerprint {
            let tracker = OutputTracker(
                pipeline: pipeline, workspace: workspace.root, versionsDirectory: workspace.path("v"),
                parameters: try ParameterBinding.bind(["samples": pipeline.steps.count == 1 ? "A" : "A,B"], to: pipeline.parameters).get(),
                force: false, previous: [:], knownHashes: [:])
            return try tracker.fingerprint(of: pipeline.steps[0])
        }
        #expect(try fingerprint(before) == fingerprint(after))
    }

    /// Found trying it as an attacker: where bash reads a word again as code, a quoted value is no protection, so
    /// validation refuses a template there.
    @Test func aTemplateWhereBashWouldReadItsValueAsCodeIsRefused() throws {
        let commands = [
            #"printf '%s\n' {{ params.v }} > out.txt"#, "cat <<EOF\nvalue: {{ params.v }}\nEOF", "echo $(( {{ params.v }} ))",
            "[[ {{ params.v }} -eq 1 ]]", "let {{ params.v }}", "printf -v {{ params.v }} x", #"echo \{{ params.v }}"#,
            #"echo $'\' {{ params.v }} '"#,
        ]
        let yaml =
            "params: {v: {type: string, default: x}}\nsteps:\n"
            + commands.enumerated().map { index, command in
                "  - name: s\(index)\n    command: \(JSONText.string(command))"
            }.joined(separator: "\n")
        // "LINE:COLUMN: {{ params.v }} in step 'sN' is REASON, where bash would read its value as code (FIX)"
        let found = try diagnostics(yaml).compactMap { line -> String? in
            guard let step = line.range(of: "in step '"), let end = line.range(of: ", where bash") else { return nil }
            return String(line[step.upperBound..<end.lowerBound]).replacingOccurrences(of: "' is ", with: ": ")
        }
        #expect(
            found == [
                "s1: in a command with a here-document", "s2: in a command with arithmetic or [[ ]]", "s3: in a command with arithmetic or [[ ]]",
                "s4: where bash takes a variable's name", "s5: where bash takes a variable's name", "s6: after a backslash", "s7: inside quotes",
            ], "the first, a plain word, is fine")
    }

    @Test func theStoreIsNoOutputAndNamesAndValuesAreBounded() throws {
        let found = try diagnostics(
            """
            steps:
              - {name: a, command: "true", outputs: [.sluice/store.sqlite]}
              - {name: \(String(repeating: "n", count: 101)), command: "true"}
            """)
        #expect(found.count == 2 && found[0].contains("is or holds .sluice") && found[1].contains("longer than 100 bytes"))
        let yaml =
            "params:\n  names: {type: list}\nsteps:\n  - {name: map, foreach: \"{{ params.names }}\", command: 'true', outputs: [\"{{ item }}/x\"]}"
        #expect(throws: SluiceError.self, "not through an item either") { try expanded(yaml, parameters: ["names": ".sluice"]) }
        let spec = ParameterSpec(
            name: "s", type: .list, defaultValue: nil, required: false, choices: [], description: "",
            location: SourceLocation(file: "p.yaml", line: 1, column: 1))
        #expect(spec.normalize(#"["a\u0000b"]"#) == .failure(ParameterProblem(parameter: "s", message: "an item cannot hold a NUL character")))
        var text = spec
        text.type = .string
        #expect(
            text.normalize(String(repeating: "x", count: 70_000))
                == .failure(ParameterProblem(parameter: "s", message: "the value is longer than 64 KiB")))
    }

    @Test func listParametersTakeCommasOrJSONAndTheirChoices() throws {
        let spec = ParameterSpec(
            name: "s", type: .list, defaultValue: nil, required: false, choices: ["A", "B,C"], description: "",
            location: SourceLocation(file: "p.yaml", line: 1, column: 1))
        #expect(spec.normalize(" A , ") == .success(#"["A"]"#))
        #expect(spec.normalize(#"["A", "B,C"]"#) == .success(#"["A","B,C"]"#))
        #expect(spec.normalize("A,D") == .failure(ParameterProblem(parameter: "s", message: "'D' is not one of: A, B,C")))
        #expect(
            spec.normalize("[1, 2]") == .failure(ParameterProblem(parameter: "s", message: #"'[1, 2]' is not a list such as A,B,C or ["A","B,C"]"#)))
    }

    @Test func mistakesAreRefusedWhereTheyAre() throws {
        let found = try diagnostics(
            """
            params:
              mode: {type: string, default: x}
            steps:
              - {name: a, command: "echo {{ item }}"}
              - {name: b, foreach: [x], command: "echo {{ params.mdoe }} {{ item.key }}"}
              - {name: c, foreach: "{{ params.mode }}", command: "true"}
              - {name: d, foreach: [], command: "true"}
              - {name: e, foreach: [x], matrix: {k: [1]}, command: "true"}
              - {name: f, max_parallel: 2, command: "true"}
              - {name: "g[1]", foreach: [x], command: "true"}
              - {name: h, foreach: [x], command: "true", outputs: ["{{ run.id }}.txt"]}
              - {name: i, command: "echo {{ steps.a.outputs.n }} {{ itme }}"}
              - {name: k, command: "echo {{ item"}
              - {name: j, command: "docker ps --format '{{.Names}}'", env: {X: "{{ params.nope }}"}}
              - {name: l, foreach: [x], command: "echo \\"{{ item }}\\" '{{ item }}' {{ item }}"}
              - {name: m, command: "true", matrix: {region: [eu], exclude: [{regoin: eu}]}}
              - {name: "n[1]", command: "true"}
            """)
        #expect(
            found == [
                "4:30: {{ item }} in step 'a': the step has no 'foreach' or 'matrix' (add 'foreach:', or remove the template)",
                "5:44: {{ params.mdoe }} in step 'b' names no parameter of this pipeline (did you mean {{ params.mode }}?)",
                "5:62: {{ item.key }} in step 'b' names no key of its items (its items are plain values: write {{ item }})",
                "6:5: step 'c' fans out over parameter 'mode', which is a string, not a list (declare it under 'params:' as `mode: {type: list}`)",
                "7:24: 'foreach' lists no items (list at least one, or remove 'foreach')",
                "8:37: step 'e' has both 'foreach' and 'matrix' (keep one of them)",
                "9:29: 'max_parallel' of step 'f' applies to a step with 'foreach' or 'matrix' (remove it)",
                "10:5: step 'g[1]': a step's name cannot hold '[' or ']', which name the instances of a fan-out (map[A]) (rename it)",
                "11:57: {{ run.id }} in 'outputs' of step 'h': the run's id is known in 'command' and 'env' only (use it there)",
                "12:30: {{ steps.a.outputs.n }} in step 'i': 'a' is not upstream of it, so its values are not known when it starts (add 'a' to depends_on)",
                "12:54: {{ itme }} in step 'i' is not a known name (did you mean 'item'?)",
                "13:30: '{{ item' is not closed by '}}', or holds more than a name (write {{ item }}, {{ params.NAME }}, {{ steps.NAME.outputs.KEY }} or {{ run.id }})",
                "14:69: {{ params.nope }} in step 'j' names no parameter of this pipeline (did you mean {{ params.mode }}?)",
                "15:45: {{ item }} in step 'l' is inside quotes, where bash would read its value as code (write it as a plain word of the command, which Sluice quotes; a script can read it from its arguments)",
                "15:58: {{ item }} in step 'l' is inside quotes, where bash would read its value as code (write it as a plain word of the command, which Sluice quotes; a script can read it from its arguments)",
                "16:40: 'exclude' of 'matrix' names 'regoin', which is none of its lists (did you mean 'region'?)",
                "17:5: step 'n[1]': a step's name cannot hold '[' or ']', which name the instances of a fan-out (map[A]) (rename it)",
            ])
    }
}
