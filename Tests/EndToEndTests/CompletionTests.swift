import Foundation
import SluiceTestSupport
import Testing

/// `sluice --generate-completion-script bash`, sourced in a real bash that is asked to complete as it would be on
/// Tab: the function the script registers runs with the words of the line, and calls `sluice` back for the
/// workspace's pipelines, steps and instances, run ids and parameter names.
@Suite(.serialized)
struct CompletionTests {
    /// What bash offers for `line` (the cursor at its end), in `directory`.
    static func complete(_ line: String, script: String, in directory: String) throws -> [String] {
        let harness = """
            source "$1"
            COMP_LINE="$2"; COMP_POINT=${#COMP_LINE}
            read -ra COMP_WORDS <<< "$COMP_LINE"
            [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
            COMPREPLY=()
            # As bash calls it: the command, the word being completed, the word before it.
            # Its standard error too: anything it printed would land in the user's line.
            "$(complete -p sluice | sed -E 's/.*-F ([^ ]+).*/\\1/')" sluice "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>&1
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let path = (SluiceBinary.path as NSString).deletingLastPathComponent
        let result = try Shell.run("PATH=\"$3:$PATH\"; " + harness, script, line, path, in: directory)
        guard result.status == 0 else { throw TestFailure("bash failed completing '\(line)': \(result.output)") }
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesPipelinesStepsInstancesRunsAndParametersFromTheWorkspace() throws {
        let workspace = try TestWorkspace()
        try workspace.pipeline(
            "daily_sales",
            """
            params:
              day: {type: date, default: "2026-01-01"}
              region: {type: choice, choices: [north, south], default: north}
            steps:
              - {name: extract, command: 'true'}
              - {name: per_region, command: 'true', depends_on: [extract], foreach: [north, south]}
            """)
        try workspace.pipeline("cleanup", "steps:\n  - {name: sweep, command: 'true'}\n")
        let run = try SluiceBinary.run(["run", "daily_sales", "--json"], in: workspace.root)
        let record = (try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any]
        let id = try #require(record?["id"] as? String)
        let generated = try SluiceBinary.run(["--generate-completion-script", "bash"], in: workspace.root)
        try #require(generated.status == 0)
        let script = try workspace.write("sluice.bash", generated.stdout)
        let root = workspace.root

        #expect(try Self.complete("sluice ru", script: script, in: root) == ["run", "runs"])
        #expect(Set(try Self.complete("sluice run ", script: script, in: root)) == ["daily_sales", "cleanup"])
        #expect(try Self.complete("sluice run d", script: script, in: root) == ["daily_sales"])
        #expect(Set(try Self.complete("sluice run daily_sales -p ", script: script, in: root)) == ["day=", "region="])
        let steps = Set(try Self.complete("sluice step daily_sales ", script: script, in: root))
        #expect(steps.isSuperset(of: ["extract", "per_region"]) && steps.contains { $0.hasPrefix("per_region[") }, "\(steps)")
        #expect(try Self.complete("sluice why daily_sales ex", script: script, in: root) == ["extract"])
        #expect(try Self.complete("sluice status ", script: script, in: root) == [id])
        #expect(try Self.complete("sluice logs \(id) ex", script: script, in: root) == ["extract"])
        // Another folder names the workspace with -C; a folder that is none offers nothing and is left as it was.
        let elsewhere = try TestWorkspace()
        #expect(try Self.complete("sluice status -C \(root) ", script: script, in: elsewhere.root) == [id])
        #expect(try Self.complete("sluice status ", script: script, in: elsewhere.root).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path(".sluice")))

        // Names are offered as written, and nothing in them runs.
        try workspace.pipeline("odd", "steps:\n  - {name: '$(touch pwned)', command: 'true'}\n  - {name: '`touch pwned`{a,b}', command: 'true'}\n")
        #expect(Set(try Self.complete("sluice step odd ", script: script, in: root)) == ["$(touch pwned)", "`touch pwned`{a,b}"])
        #expect(!FileManager.default.fileExists(atPath: workspace.path("pwned")))

        // Settings that do not load offer nothing and print nothing.
        let broken = try TestWorkspace()
        try broken.write("sluice.yaml", "jobs: [unclosed\n")
        try broken.pipeline("p", "steps:\n  - {name: a, command: 'true'}\n")
        #expect(try Self.complete("sluice run ", script: script, in: broken.root).isEmpty)
    }

    @Test func zshAndFishScriptsAreGeneratedToo() throws {
        let workspace = try TestWorkspace()
        let zsh = try SluiceBinary.run(["--generate-completion-script", "zsh"], in: workspace.root)
        #expect(zsh.status == 0 && zsh.stdout.contains("#compdef sluice") && zsh.stdout.contains("---completion"))
        let fish = try SluiceBinary.run(["--generate-completion-script", "fish"], in: workspace.root)
        #expect(fish.status == 0 && fish.stdout.contains("complete -c 'sluice'") && fish.stdout.contains("---completion"))
    }
}
