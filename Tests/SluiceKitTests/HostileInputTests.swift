import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Broken and hostile pipeline files: each gets clear diagnostics, none crashes the loader, none takes it long.
struct HostileInputTests {
    static let corpus: [(name: String, content: [UInt8], expected: String)] = {
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        var bomb = "x-a: &a [{name: lol, command: 'true'}, {name: lol, command: 'true'}]\n"
        for level in 1..<10 {
            let name = Character(UnicodeScalar(97 + level)!), previous = Character(UnicodeScalar(96 + level)!)
            bomb += "x-\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
        }
        var merges = "x-0: &m0 {name: a, command: 'true'}\n"
        for level in 1..<20 { merges += "x-\(level): &m\(level) {<<: [" + (0..<level).map { "*m\($0)" }.joined(separator: ", ") + "]}\n" }
        return [
            ("bad YAML", text("steps:\n  - {name: a, command: [unclosed\n"), "invalid YAML"),
            ("wrong types", text("name: [1]\nsteps: {a: 1}\nparams: 3\n"), "must be"),
            ("unknown keys", text("steps:\n  - {name: a, command: 'true', depend_on: [b]}\n"), "did you mean 'depends_on'?"),
            (
                "a cycle", text("steps:\n  - {name: a, command: 'true', depends_on: [b]}\n  - {name: b, command: 'true', depends_on: [a]}\n"),
                "dependency cycle: a -> b -> a"
            ),
            (
                "deep nesting", text("steps: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"),
                "Maximum nesting level"
            ),
            (
                "deep mappings",
                text("x-deep: " + String(repeating: "{a: ", count: 50_000) + "1" + String(repeating: "}", count: 50_000) + "\nsteps: []\n"),
                "Maximum nesting level"
            ),
            ("an alias bomb", text(bomb + "steps: *j\n"), "a step must be a mapping"),
            ("a merge bomb", text(merges + "steps:\n  - <<: *m19\n"), "expand to more than"),
            ("a huge file", text("steps: []\n# ") + [UInt8](repeating: UInt8(ascii: "x"), count: 65 << 20), "limited to 64 MiB"),
            ("not UTF-8", [0x73, 0x74, 0x65, 0x70, 0x73, 0x3A, 0x20, 0xFF, 0xFE, 0x0A], "not UTF-8"),
            ("a NUL byte", text("steps:\n  - {name: \"a\u{0}b\", command: 'true'}\n"), "control characters"),
            ("tabs for indentation", text("steps:\n\t- name: a\n"), "invalid YAML"),
            ("an empty file", [], "empty"),
            ("only a comment", text("# nothing\n"), "empty"),
            ("a scalar document", text("just text\n"), "must be"),
            ("a huge number", text("steps:\n  - {name: a, command: 'true', retries: 99999999999999999999999}\n"), "retries"),
            (
                "an endless timeout", text("steps:\n  - {name: a, command: 'true', timeout: 1e300, retries: {count: 1, delay: 1e300}}\n"),
                "'timeout' is longer than 366 days"
            ),
        ]
    }()

    @Test(arguments: 0..<corpus.count)
    func eachHostileFileGetsAClearDiagnostic(_ index: Int) throws {
        let (name, content, expected) = Self.corpus[index]
        let workspace = try TestWorkspace()
        let file = workspace.path("pipelines/p.yaml")
        try Data(content).write(to: URL(fileURLWithPath: file))
        guard case let .failure(error) = PipelineLoader.load(file: file, id: "p", scriptsDirectory: workspace.path("pipelines/p")) else {
            Issue.record("\(name): loaded")
            return
        }
        #expect(error.diagnostics.allSatisfy { $0.location.line >= 1 && !$0.message.isEmpty }, "\(name)")
        #expect(error.description.contains(expected), "\(name): \(error.description.prefix(300))")
    }

    /// Random mutations of a valid pipeline: every result loads or is refused with diagnostics inside the file.
    /// `SLUICE_FUZZ_ITERATIONS` runs longer; `SLUICE_FUZZ_SEED` replays a failure.
    @Test func theLoaderSurvivesRandomMutationsOfAValidPipeline() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["SLUICE_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 2000
        let seed = environment["SLUICE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261122
        var random = SplitMix(seed: seed)
        let workspace = try TestWorkspace()
        let file = workspace.path("pipelines/p.yaml")
        try workspace.script("p", "extract.py", "print('x')\n")
        let original = Array(Self.valid.utf8)
        guard
            case .success = {
                try? Data(original).write(to: URL(fileURLWithPath: file))
                return PipelineLoader.load(file: file, id: "p", scriptsDirectory: workspace.path("pipelines/p"))
            }()
        else {
            Issue.record("the seed pipeline must be valid")
            return
        }
        var refused = 0
        for iteration in 0..<iterations {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) { Self.mutate(&bytes, &random) }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let lines = bytes.count(where: { $0 == 10 }) + 1
            switch PipelineLoader.load(file: file, id: "p", scriptsDirectory: workspace.path("pipelines/p")) {
            case .success: break
            case let .failure(error):
                refused += 1
                #expect(
                    !error.diagnostics.isEmpty && error.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.line <= lines + 1 },
                    "iteration \(iteration) of seed \(seed): \(error)")
            }
        }
        print("fuzz: \(iterations) mutations of seed \(seed), \(refused) refused with diagnostics, \(iterations - refused) valid, no crash")
        #expect(refused > iterations / 4, "the mutations reach the error paths")
    }

    static let valid = """
        name: "Fuzzed"
        x-retry: &retry {count: 2, delay: 1s, backoff: 2}
        params:
          date_start: {type: date, default: "2025-09-01"}
          date_end: {type: date, default: "2025-09-30", min: date_start}
          region: {type: choice, choices: [all, north], default: all}
        modes:
          quick: [extract, report]
        env: {A: "1"}
        steps:
          - name: extract
            script: extract.py
            timeout: 5m
            outputs: [data/out.csv]
            on_failure: rollback
          - {name: clean, command: "python3 -c 'print(1)'", depends_on: [extract], retries: *retry}
          - name: report
            command: echo done
            depends_on: [clean]
            trigger_rule: all_done
            tags: [publish]
        """

    private static let tokens = [
        ":", "-", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "\t", "\n", "'", "\"", "#", "!!binary ",
        "%YAML 1.1\n", "? ", "|\n", ">\n", "\u{0}", "é", "\u{FEFF}", "99999999999999999999", "-1", "1e309",
        "null", "~", "  ", "\\", "steps:", "depends_on: [", "name: ", "{{", "x-",
    ]

    private static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix) {
        guard !bytes.isEmpty else {
            bytes = Array(tokens.randomElement(using: &random)!.utf8)
            return
        }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...12, using: &random)))
        case 1: bytes.insert(contentsOf: Array(tokens.randomElement(using: &random)!.utf8), at: at)
        case 2: bytes[at] = UInt8.random(in: 0...255, using: &random)
        case 3:
            let end = bytes[at...].firstIndex(of: 10) ?? bytes.count
            let start = bytes[..<at].lastIndex(of: 10).map { $0 + 1 } ?? 0
            bytes.insert(contentsOf: bytes[start..<end] + [10], at: start)
        default: bytes.insert(contentsOf: [32, 32], at: bytes[..<at].lastIndex(of: 10).map { $0 + 1 } ?? 0)
        }
    }
}

/// A small seeded generator, so that a fuzz failure can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
