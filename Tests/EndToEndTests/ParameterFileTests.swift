import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// Parameter values from files, as DVC's params.yaml and Snakemake's configfile give them: the workspace's
/// `params_file`, then `--params-file`, then `-p`, each over the one before.
struct ParameterFileTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        try workspace.pipeline(
            "ml",
            """
            params:
              split: {type: number, default: "0.2"}
              max_features: {type: int, default: "100"}
              seed: {type: int, default: "1"}
              samples: {type: list, default: [a]}
              day: {type: date, default: "2026-01-01"}
            steps:
              - name: show
                command: 'echo "$SPLIT $MAX_FEATURES $SEED $SAMPLES"'
            """)
    }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result { try SluiceBinary.run(arguments, in: workspace.root) }

    /// The parameters the newest run recorded.
    func recordedParameters() async throws -> [String: String] {
        try #require(try await workspace.store().runs(pipeline: "ml", limit: 1, offset: 0).first).parameters
    }

    @Test func filesAndFlagsLayerInOrderAndTheValuesAreRecordedWithTheRun() async throws {
        // One workspace file serves several pipelines: names this one does not declare are left out.
        // Other tools' nested values and aliases under names no pipeline declares are left alone.
        _ = try workspace.write(
            "params.yaml", "split: 0.30\nmax_features: 300\nlearning_rate: 0.1\nsamples: [a, b]\ntrain: {epochs: 10}\nbig: &b x\nmore: [*b, *b]\n")
        _ = try workspace.write("sluice.yaml", "params_file: params.yaml\n")
        _ = try workspace.write("experiments/wide.json", #"{"max_features": "1000", "seed": "5"}"#)

        let plain = try sluice("run", "ml")
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        let first = try #require(try await workspace.store().runs(pipeline: "ml", limit: 1, offset: 0).first)
        #expect(try workspace.read("runs/\(first.id)/logs/show.log") == "0.30 300 1 [\"a\",\"b\"]\n")

        let layered = try sluice("run", "ml", "--params-file", "experiments/wide.json", "-p", "seed=9")
        #expect(layered.status == 0, "\(layered.stdout)\(layered.stderr)")
        #expect(
            try await recordedParameters() == ["split": "0.30", "max_features": "1000", "seed": "9", "samples": "[\"a\",\"b\"]", "day": "2026-01-01"])

        // Several files apply in order, the later over the earlier.
        _ = try workspace.write("experiments/seed.yaml", "seed: 6\n")
        let twoFiles = try sluice("run", "ml", "--params-file", "experiments/seed.yaml", "--params-file", "experiments/wide.json")
        #expect(twoFiles.status == 0)
        let fromTwo = try await recordedParameters()
        #expect(fromTwo["seed"] == "5" && fromTwo["max_features"] == "1000")

        let step = try sluice("step", "ml", "show", "--params-file", "experiments/wide.json")
        #expect(step.status == 0, "\(step.stdout)\(step.stderr)")
        #expect(try await recordedParameters()["seed"] == "5")

        let backfill = try sluice(
            "backfill", "ml", "--from", "2026-01-01", "--to", "2026-01-02", "-p", "day={{ schedule.date }}", "--params-file",
            "experiments/wide.json", "--dry-run")
        #expect(backfill.status == 0 && backfill.stdout.contains("max_features=1000") && backfill.stdout.contains("split=0.30"), "\(backfill.stdout)")
        #expect(try sluice("config").stdout.contains("params_file"))
    }

    @Test func aBadParameterFileIsReportedAtItsLineAndNothingRuns() async throws {
        _ = try workspace.write("nested.yaml", "seed: 3\nsplit:\n  max_features: 300\n")
        let nested = try sluice("run", "ml", "--params-file", "nested.yaml")
        #expect(nested.status == 65)
        #expect(nested.stderr.contains("nested.yaml:3:") && nested.stderr.contains("parameter 'split' holds a map"), "\(nested.stderr)")
        #expect(nested.stderr.contains("nothing was run"))

        _ = try workspace.write("twice.yaml", "seed: 1\nseed: 2\n")
        let twice = try sluice("run", "ml", "--params-file", "twice.yaml").stderr
        #expect(twice.contains("twice.yaml:") && twice.contains("'seed' is given twice"), "\(twice)")
        // An alias bomb: 4,000 aliases of a 60 KB value in a 80 KB file.
        _ = try workspace.write(
            "bomb.yaml",
            "big: &b \"\(String(repeating: "x", count: 60_000))\"\nsamples: [\(Array(repeating: "*b", count: 4000).joined(separator: ", "))]\n")
        let bomb = try sluice("run", "ml", "--params-file", "bomb.yaml")
        #expect(bomb.status == 65 && bomb.stderr.contains("expand to more than"), "\(bomb.stderr)")
        _ = try workspace.write("shape.yaml", "seed: [1]\nsamples: [a, [b]]\n")
        let shape = try sluice("run", "ml", "--params-file", "shape.yaml").stderr
        #expect(shape.contains("shape.yaml:1:") && shape.contains("'seed' takes one value"), "\(shape)")
        #expect(shape.contains("shape.yaml:2:") && shape.contains("'samples' is a list of values"), "\(shape)")
        _ = try workspace.write("list.yaml", "- seed\n")
        #expect(try sluice("run", "ml", "--params-file", "list.yaml").stderr.contains("must map names to values"))
        _ = try workspace.write("broken.json", "{\"seed\": ")
        #expect(try sluice("run", "ml", "--params-file", "broken.json").stderr.contains("neither valid YAML nor JSON"))
        let missing = try sluice("run", "ml", "--params-file", "../nowhere/../missing.yaml")
        #expect(missing.status == 65 && missing.stderr.contains("missing.yaml") && missing.stderr.contains("cannot read"), "\(missing.stderr)")
        #expect(try sluice("run", "ml", "--params-file", ".").stderr.contains("not a regular file"))
        // A value from a file is checked as a value from -p is.
        _ = try workspace.write("wrong.yaml", "seed: many\n")
        let wrong = try sluice("run", "ml", "--params-file", "wrong.yaml")
        #expect(wrong.status == 65 && wrong.stderr.contains("seed"), "\(wrong.stderr)")
        // A workspace file that went missing stops every run, saying which setting names it.
        _ = try workspace.write("sluice.yaml", "params_file: gone.yaml\n")
        let gone = try sluice("run", "ml").stderr
        #expect(gone.contains("gone.yaml") && gone.contains("the workspace's params_file, set in") && gone.contains("sluice.yaml"), "\(gone)")
        _ = try workspace.write("sluice.yaml", "params_file: \"a\\nb.yaml\"\n")
        #expect(try sluice("run", "ml").stderr.contains("setting 'params_file' must be a path"))
        #expect(try await workspace.store().runs(pipeline: "ml", limit: 10, offset: 0).isEmpty, "no run was recorded")
    }
}
