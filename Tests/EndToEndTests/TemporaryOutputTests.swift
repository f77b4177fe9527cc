import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// `outputs: [{path: P, temp: true}]`, as Snakemake's `temp()`: the file goes once every step that reads it has
/// succeeded, and its step does not run again while those steps are up to date. Real runs of the `sluice` binary.
struct TemporaryOutputTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        _ = try workspace.write("reads.txt", "acgt\nttga\n")
        try workspace.pipeline(
            "align",
            """
            steps:
              - name: align
                inputs: [reads.txt]
                outputs: [{path: work/aligned.txt, temp: true}]
                command: 'mkdir -p work; echo align >> calls.log; tr a-z A-Z < reads.txt > work/aligned.txt'
              - name: count
                depends_on: [align]
                inputs: [work/aligned.txt]
                outputs: [counts.txt]
                command: 'echo count >> calls.log; wc -c < work/aligned.txt > counts.txt'
            """)
    }

    func sluice(_ arguments: String...) throws -> SluiceBinary.Result { try SluiceBinary.run(arguments, in: workspace.root) }

    func calls() throws -> [String] { try workspace.read("calls.log").split(separator: "\n").map(String.init) }

    @Test func aTemporaryOutputGoesOnceItsReaderSucceededAndItsStepDoesNotRunAgainWhileTheReaderIsUpToDate() throws {
        let first = try sluice("run", "align")
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(try calls() == ["align", "count"])
        #expect(!workspace.exists("work/aligned.txt"), "removed once count had read it")
        #expect(try workspace.read("counts.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "10")
        let kept = try FileManager.default.subpathsOfDirectory(atPath: workspace.path(".sluice/versions"))
        #expect(!kept.contains { $0.contains("aligned") }, "no version of a temporary output is kept: \(kept)")

        let again = try sluice("run", "align")
        #expect(again.status == 0)
        #expect(try calls() == ["align", "count"], "both up to date: the removed file is not made again for nothing")

        // A reader that must run needs the file: its step makes it again first.
        try workspace.pipeline("align", try workspace.read("pipelines/align.yaml").replacingOccurrences(of: "wc -c", with: "wc -l"))
        let plan = try sluice("run", "align", "--dry-run")
        #expect(
            plan.stdout.contains(
                "temporary output 'work/aligned.txt' was removed, and step 'count' reads it and must run: the step's script or command changed"),
            "\(plan.stdout)")
        let changed = try sluice("run", "align")
        #expect(changed.status == 0, "\(changed.stdout)")
        #expect(try calls() == ["align", "count", "align", "count"])
        #expect(try workspace.read("counts.txt").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        #expect(!workspace.exists("work/aligned.txt"))

        // Without its step, a reader that must run cannot have it: it fails at once, saying what to run.
        try workspace.pipeline("align", try workspace.read("pipelines/align.yaml").replacingOccurrences(of: "wc -l", with: "wc -w"))
        let alone = try sluice("run", "align", "--only", "count")
        #expect(alone.status == 1)
        #expect(
            alone.stdout.contains(
                "its input 'work/aligned.txt' is a temporary output of step 'align', removed once its readers had succeeded; "
                    + "run that step again with this one (sluice run align --from align)"), "\(alone.stdout)")
        #expect(try calls().count == 4, "the reader did not start")
    }

    @Test func aTemporaryOutputStaysWhileAReaderFailedOrDidNotRunAndTheResumeUsesIt() async throws {
        try workspace.pipeline(
            "align",
            try workspace.read("pipelines/align.yaml").replacingOccurrences(
                of: "echo count >> calls.log;", with: "echo count >> calls.log; test -f fixed || exit 3;"))
        let failed = try sluice("run", "align")
        #expect(failed.status == 1)
        #expect(workspace.exists("work/aligned.txt"), "its reader failed: the file stays for the next go")
        let run = try #require(try await workspace.store().runs(pipeline: "align", limit: 1, offset: 0).first)
        _ = try workspace.write("fixed", "")
        let resumed = try sluice("resume", run.id)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try calls() == ["align", "count", "count"], "the resume ran the reader only, on the file kept")
        #expect(!workspace.exists("work/aligned.txt"))

        // Made by a run that leaves its reader out, it stays.
        _ = try workspace.write("reads.txt", "gattaca\n")
        let alone = try sluice("run", "align", "--only", "align")
        #expect(alone.status == 0)
        #expect(try workspace.read("work/aligned.txt") == "GATTACA\n", "its reader is outside the run")
    }

    /// A reader that also follows another step that must run will run too: the file is made again first.
    @Test func aReaderAfterAStepThatMustRunHasItsTemporaryInputMadeAgain() throws {
        try workspace.pipeline(
            "align",
            """
            params: {genome: {type: string, default: hg38}}
            steps:
              - {name: reference, outputs: [ref.txt], command: 'echo reference >> calls.log; echo {{ params.genome }} > ref.txt'}
              - name: align
                inputs: [reads.txt]
                outputs: [{path: work/aligned.txt, temp: true}]
                params: []
                command: 'mkdir -p work; echo align >> calls.log; tr a-z A-Z < reads.txt > work/aligned.txt'
              - name: count
                depends_on: [align, reference]
                inputs: [work/aligned.txt, ref.txt]
                outputs: [counts.txt]
                params: []
                command: 'echo count >> calls.log; cat ref.txt work/aligned.txt > counts.txt'
            """)
        #expect(try sluice("run", "align", "-j", "1").status == 0)
        #expect(try sluice("run", "align", "-j", "1").status == 0)
        #expect(try calls() == ["reference", "align", "count"], "the second run found everything up to date")
        let plan = try sluice("run", "align", "-p", "genome=t2t", "--dry-run")
        #expect(
            plan.stdout.contains("temporary output 'work/aligned.txt' was removed, and step 'count' reads it after step 'reference', which must run"),
            "\(plan.stdout)")
        let changed = try sluice("run", "align", "-p", "genome=t2t", "-j", "1")
        #expect(changed.status == 0, "\(changed.stdout)")
        #expect(try workspace.read("counts.txt") == "t2t\nACGT\nTTGA\n")
    }

    /// Removing a temporary output must take nothing else: what could is refused before anything runs.
    @Test func aTemporaryOutputThatCouldTakeOtherFilesIsRefused() throws {
        for (steps, message) in [
            (
                "  - {name: a, inputs: [y.txt], outputs: [{path: x.txt, temp: true}], command: 'true'}\n"
                    + "  - {name: b, inputs: [x.txt], outputs: [{path: y.txt, temp: true}], command: 'true'}",
                "step 'a': temporary output 'x.txt' is read by step 'b', which does not depend on it"
            ),
            ("  - {name: a, outputs: [{path: 'w/*.txt', temp: true}], command: 'true'}", "temporary output 'w/*.txt' is a glob"),
            (
                "  - {name: a, inputs: [x.txt], outputs: [{path: x.txt, temp: true}], command: 'true'}",
                "temporary output 'x.txt' is also its own input"
            ),
            (
                "  - {name: a, outputs: [{path: w, temp: true}], command: 'true'}\n  - {name: b, depends_on: [a], outputs: [w/out.txt], command: 'true'}",
                "temporary output 'w' holds output 'w/out.txt' of step 'b', which would be removed with it"
            ),
            ("  - {name: a, outputs: [{path: pipelines/p.yaml, temp: true}], command: 'true'}", "is or holds 'pipelines'"),
            ("  - {name: a, outputs: [{path: runs, temp: true}], command: 'true'}", "is or holds 'runs'"),
            ("  - {name: a, outputs: [{path: sluice.yaml, temp: true}], command: 'true'}", "is or holds 'sluice.yaml'"),
            ("  - {name: a, outputs: [{path: '  ', temp: true}], command: 'true'}", "'  ' in 'outputs' must be a path inside the workspace"),
            ("  - {name: a, outputs: [{path: \"a\\nb\", temp: true}], command: 'true'}", "in 'outputs' must be a path inside the workspace"),
        ] {
            try workspace.pipeline("p", "steps:\n" + steps)
            let checked = try sluice("validate", "p")
            #expect(checked.status == 65 && checked.stdout.contains(message), "\(steps)\n\(checked.stdout)")
            let run = try sluice("run", "p")
            #expect(run.status == 65 && run.stderr.contains(message) && run.stderr.contains("nothing was run"), "\(steps)\n\(run.stderr)")
        }
        #expect(workspace.exists("pipelines/p.yaml"))
    }

    /// A temporary output reached through a linked folder is never removed outside the workspace.
    @Test func aTemporaryOutputThroughALinkOutOfTheWorkspaceIsNotRemoved() throws {
        let outside = try TestWorkspace()
        _ = try outside.write("f", "precious\n")
        try FileManager.default.createSymbolicLink(atPath: workspace.path("lnk"), withDestinationPath: outside.root)
        try workspace.pipeline(
            "link",
            """
            steps:
              - {name: a, outputs: [{path: lnk/f, temp: true}], command: 'true'}
              - {name: b, depends_on: [a], inputs: [lnk/f], outputs: [o.txt], command: 'cat lnk/f > o.txt'}
            """)
        let run = try sluice("run", "link")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try outside.read("f") == "precious\n")
    }

    /// A resume whose reader succeeds removes the file: the readers that succeeded in the first go had read it.
    @Test func aResumeThatEndsTheReadingRemovesTheTemporaryOutput() async throws {
        try workspace.pipeline(
            "pair",
            """
            steps:
              - {name: a, outputs: [{path: a.txt, temp: true}], command: 'echo a > a.txt'}
              - {name: b, depends_on: [a], inputs: [a.txt], outputs: [b.txt], command: 'test -f ok && cp a.txt b.txt'}
              - {name: c, depends_on: [a], inputs: [a.txt], outputs: [c.txt], command: 'cp a.txt c.txt'}
            """)
        #expect(try sluice("run", "pair", "--continue-on-error").status == 1)
        #expect(workspace.exists("a.txt"))
        let run = try #require(try await workspace.store().runs(pipeline: "pair", limit: 1, offset: 0).first)
        _ = try workspace.write("ok", "")
        #expect(try sluice("resume", run.id).status == 0)
        #expect(!workspace.exists("a.txt"), "b, its last reader, succeeded")
    }

    @Test func anOutputWrittenAsAMapMustHaveAPathInsideTheWorkspace() throws {
        for (output, message) in [
            ("{temp: true}", "an output written as a map has no 'path'"),
            ("{path: ../outside.txt, temp: true}", "'../outside.txt' in 'outputs' must be a path inside the workspace"),
            ("{path: a.txt, temp: maybe}", "'temp' must be true or false, not 'maybe'"),
            ("{path: a.txt, tmp: true}", "tmp"),
        ] {
            try workspace.pipeline("bad", "steps:\n  - {name: s, command: 'true', outputs: [\(output)]}")
            let checked = try sluice("validate", "bad")
            #expect(checked.status != 0 && (checked.stdout + checked.stderr).contains(message), "\(output): \(checked.stdout)\(checked.stderr)")
        }
    }
}
