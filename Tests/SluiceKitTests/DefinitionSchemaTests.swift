import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `sluice schema pipeline|config`, checked with check-jsonschema (installed by `scripts/test.sh`), the validator
/// editors' users run: every example and every snippet of the docs passes, and every file the loader refuses for
/// an unknown key or a value of the wrong type is refused by the schema too.
@Suite(.serialized)
struct DefinitionSchemaTests {
    static let validator = URL(fileURLWithPath: Python.tools).deletingLastPathComponent().appendingPathComponent("check-jsonschema").path

    /// Runs check-jsonschema on `files` (paths in `workspace`) against `schema`; its status and report.
    static func validate(_ files: [String], against schema: Data, in workspace: TestWorkspace) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: validator) else {
            throw TestFailure("check-jsonschema is not at \(validator): scripts/test.sh installs it")
        }
        try schema.write(to: URL(fileURLWithPath: workspace.path("schema.json")))
        return try Shell.run(#""$1" --schemafile schema.json "${@:2}" 2>&1"#, arguments: [validator] + files, in: workspace.root)
    }

    /// The YAML blocks of the docs and the README, as (where, text).
    static func snippets() throws -> [(String, String)] {
        let root = TestWorkspace.repositoryRoot
        let documents =
            ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: root + "/docs")).filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        return try documents.sorted().flatMap { document in
            let text = try String(contentsOfFile: root + "/" + document, encoding: .utf8)
            return text.components(separatedBy: "```yaml\n").dropFirst().enumerated().compactMap { index, block in
                block.components(separatedBy: "```").first.map { ("\(document) block \(index + 1)", $0) }
            }
        }
    }

    @Test func everyExampleAndEveryDocumentedPipelineAndSettingsFileIsValid() throws {
        let workspace = try TestWorkspace()
        let examples = try FileManager.default.contentsOfDirectory(atPath: TestWorkspace.examplesDirectory + "/pipelines")
            .filter { $0.hasSuffix(".yaml") }.map { TestWorkspace.examplesDirectory + "/pipelines/" + $0 }
        #expect(examples.count >= 8)
        let starter = StarterWorkspace.files.filter { $0.path.hasSuffix(".yaml") }
        var pipelines = examples + (try starter.filter { $0.path.hasPrefix("pipelines/") }.map { try workspace.write("starter.yaml", $0.text) })
        var settings = try starter.filter { $0.path == "sluice.yaml" }.map { try workspace.write("starter-settings.yaml", $0.text) }
        for (index, (place, text)) in try Self.snippets().enumerated() {
            let first = text.split(separator: "\n").first ?? ""
            // A parameter file is neither; a part of a pipeline is checked as one, with a step added.
            guard !first.contains("params.yaml") else { continue }
            let file = "snippet-\(index).yaml"
            if first.contains("sluice.yaml") {
                settings.append(try workspace.write(file, text))
            } else {
                let whole = text.split(separator: "\n").contains { $0.hasPrefix("steps:") } ? text : text + "\nsteps: [{name: a, command: 'true'}]\n"
                pipelines.append(try workspace.write(file, "# \(place)\n" + whole))
            }
        }
        #expect(settings.count >= 3, "the docs show sluice.yaml files")
        // What the loader reads in any case.
        pipelines.append(
            try workspace.write(
                "any-case.yaml", "params:\n  n: {type: INT, default: '1'}\nsteps:\n  - {name: a, command: 'true', allow_failure: tRuE}\n"))
        let checked = try Self.validate(pipelines, against: DefinitionSchema.pipeline, in: workspace)
        #expect(checked.status == 0, "\(checked.output)")
        let checkedSettings = try Self.validate(settings, against: DefinitionSchema.config, in: workspace)
        #expect(checkedSettings.status == 0, "\(checkedSettings.output)")
    }

    /// Files the loader refuses for a key or a type: the hostile corpus's, and one for each section of the format.
    static let refused: [(name: String, text: String)] = [
        ("a key of resources", "steps:\n  - {name: a, command: 'true', resources: {cpu: 2}}\n"),
        ("a key of retries", "steps:\n  - {name: a, command: 'true', retries: {times: 2}}\n"),
        ("a key of wait_for", "steps:\n  - {name: a, command: 'true', wait_for: {file: x, every: 1m}}\n"),
        ("wait_for as a list", "steps:\n  - {name: a, command: 'true', wait_for: [x]}\n"),
        ("a key of a parameter", "params:\n  n: {type: int, defualt: 3}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("params as a list", "params: [n]\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a key of a schedule", "schedule: {cron: '0 6 * * *', tz: UTC}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a key of a watch", "watch: {path: inbox, patern: '*.csv'}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a key of a notify handler", "notify:\n  - {file: n.log, when: [failure]}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a key of slurm", "slurm: {queue: batch}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a key of an output", "steps:\n  - {name: a, command: 'true', outputs: [{path: o, temporary: true}]}\n"),
        ("a key of a mode", "modes:\n  quick: {steps: [a], about: x}\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("env as a list", "env: [A=1]\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a step as text", "steps:\n  - a\n"),
        ("the name as a list", "name: [a]\nsteps:\n  - {name: a, command: 'true'}\n"),
        ("a matrix list of mappings", "steps:\n  - {name: a, command: 'true', matrix: {r: [{a: 1}]}}\n"),
        ("a matrix's include as a mapping", "steps:\n  - {name: a, command: 'true', matrix: {r: [x], include: {r: y}}}\n"),
        ("a child run's value as a list", "steps:\n  - {name: a, pipeline: q, params: {n: [1]}}\n"),
        ("a foreach glob as a list", "steps:\n  - {name: a, command: 'true', foreach: {glob: [a, b]}}\n"),
    ]

    @Test func whatTheLoaderRefusesForAKeyOrATypeTheSchemaRefusesToo() throws {
        let workspace = try TestWorkspace()
        // The bombs are left out: a validator expands their aliases, which is what the loader's budget stops.
        let corpus = HostileInputTests.corpus.filter { !$0.name.hasSuffix("bomb") && $0.name != "a huge file" }
            .map { ($0.name, String(decoding: $0.content, as: UTF8.self)) }
        var checked = 0
        for (name, text) in corpus + Self.refused {
            let file = try workspace.write("pipelines/p.yaml", text)
            guard case let .failure(error) = PipelineLoader.load(file: file, id: "p", scriptsDirectory: workspace.path("pipelines/p")),
                error.diagnostics.contains(where: { $0.code == .unknownKey || $0.code == .wrongType })
            else {
                #expect(!Self.refused.contains { $0.name == name }, "the loader should refuse \(name) for a key or a type")
                continue
            }
            let result = try Self.validate([file], against: DefinitionSchema.pipeline, in: workspace)
            #expect(result.status != 0, "the schema accepts \(name), which the loader refuses: \(error.diagnostics.map(\.message))")
            checked += 1
        }
        #expect(checked >= Self.refused.count + 3)

        let settings = try workspace.write("sluice.yaml", "jobs: 2\npool: {db: 1}\n")
        #expect(try Self.validate([settings], against: DefinitionSchema.config, in: workspace).status != 0, "an unknown settings key")
        let pools = try workspace.write("sluice.yaml", "pools: [db]\n")
        #expect(try Self.validate([pools], against: DefinitionSchema.config, in: workspace).status != 0, "pools as a list")
    }
}

extension DefinitionSchemaTests {
    @Test func theCommandPrintsEitherSchemaAndRefusesOtherNames() throws {
        let workspace = try TestWorkspace()
        let pipeline = try SluiceBinary.run(["schema", "pipeline"], in: workspace.root)
        #expect(pipeline.status == 0 && pipeline.stdout == String(decoding: DefinitionSchema.pipeline, as: UTF8.self) + "\n")
        let config = try SluiceBinary.run(["schema", "config"], in: workspace.root)
        let object = try JSONSerialization.jsonObject(with: Data(config.stdout.utf8)) as? [String: Any]
        #expect((object?["properties"] as? [String: Any])?["store"] != nil)
        let other = try SluiceBinary.run(["schema", "step"], in: workspace.root)
        #expect(other.status == 64 && other.stderr.contains("pipeline") && other.stderr.contains("config"), "\(other.stderr)")
    }
}
