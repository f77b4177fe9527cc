import Foundation
import SluiceTestSupport
import Testing

/// `sluice init`: a workspace whose pipeline validates without a warning, runs, shows a fan-out, a value passed on
/// and outputs kept up to date, and is never written over.
struct InitCommandTests {
    @Test func initMakesAWorkspaceWhosePipelineRunsAndTeachesAndNeverOverwritesOne() throws {
        let parent = try TestWorkspace()
        let made = try SluiceBinary.run(["init", "my flows"], in: parent.root)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("cd 'my flows' && sluice run hello") && made.stdout.contains("sluice serve"), "\(made.stdout)")
        let root = parent.path("my flows")
        for file in ["sluice.yaml", ".gitignore", "pipelines/hello.yaml", "pipelines/hello/count.py"] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "\(file)")
        }

        let validated = try SluiceBinary.run(["validate"], in: root)
        #expect(validated.status == 0 && !validated.stderr.contains("warning"), "\(validated.stdout)\(validated.stderr)")
        let first = try SluiceBinary.run(["run", "hello"], in: root)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("count[rivers]") && first.stdout.contains("values   total: words=54"), "\(first.stdout)")
        let again = try SluiceBinary.run(["run", "hello", "-p", "greeting=Hi", "--json"], in: root)
        let steps = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]] ?? []
        let states = Dictionary(
            uniqueKeysWithValues: steps.compactMap { step in (step["step"] as? String).map { ($0, step["state"] as? String ?? "") } })
        #expect(states["write_texts"] == "up_to_date" && states["count[seas]"] == "up_to_date" && states["report"] == "succeeded", "\(states)")
        let runID = try #require(
            ((try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])?["id"] as? String)
        #expect(try String(contentsOfFile: root + "/runs/\(runID)/outputs/report.txt", encoding: .utf8) == "Hi, 54 words\n")

        let before = try String(contentsOfFile: root + "/pipelines/hello.yaml", encoding: .utf8)
        try "# mine\nsteps: [{name: a, command: 'true'}]\n".write(toFile: root + "/pipelines/hello.yaml", atomically: true, encoding: .utf8)
        let twice = try SluiceBinary.run(["init"], in: root)
        #expect(twice.status == 65 && twice.stderr.contains("writes nothing over a file"), "\(twice.stderr)")
        #expect(try String(contentsOfFile: root + "/pipelines/hello.yaml", encoding: .utf8) != before, "the user's file is kept")

        // Nor through a link to nothing, nor into a folder that is a file; a name starting with - pastes back.
        let linked = parent.path("linked")
        try FileManager.default.createDirectory(atPath: linked, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: linked + "/sluice.yaml", withDestinationPath: parent.path("elsewhere.yaml"))
        let throughLink = try SluiceBinary.run(["init", "linked"], in: parent.root)
        #expect(throughLink.status == 65 && !FileManager.default.fileExists(atPath: parent.path("elsewhere.yaml")), "\(throughLink.stderr)")
        try parent.write("blocked/pipelines", "a file")
        let blocked = try SluiceBinary.run(["init", "blocked"], in: parent.root)
        #expect(
            blocked.status == 65 && blocked.stderr.contains("is a file")
                && !FileManager.default.fileExists(atPath: parent.path("blocked/sluice.yaml")))
        let dash = try SluiceBinary.run(["init", "--", "-flows"], in: parent.root)
        #expect(dash.status == 0 && dash.stdout.contains("cd ./-flows && sluice run hello"), "\(dash.stdout)\(dash.stderr)")
    }
}
