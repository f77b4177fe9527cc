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
        #expect(twice.status == 75 && twice.stderr.contains("writes nothing over a file"), "\(twice.stderr)")
        #expect(try String(contentsOfFile: root + "/pipelines/hello.yaml", encoding: .utf8) != before, "the user's file is kept")
    }
}
