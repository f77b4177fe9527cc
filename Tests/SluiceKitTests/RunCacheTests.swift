import Foundation
import SluiceKit
import SluiceTestSupport
import Testing

/// DVC's run cache: a step whose inputs, parameters and script come back to those of an earlier successful attempt
/// gets that attempt's outputs back from the versions Sluice keeps, byte for byte, instead of running again.
struct RunCacheTests {
    let workspace: TestWorkspace

    init() throws {
        workspace = try TestWorkspace()
        // Binary outputs that differ with n; with n=2 a second file too.
        _ = try workspace.write(
            "make.py",
            """
            import os, sys
            n = int(sys.argv[1])
            os.makedirs("out", exist_ok=True)
            open("out/data.bin", "wb").write(bytes((i * n) % 256 for i in range(4096)))
            if n == 2:
                open("out/extra.bin", "wb").write(b"x")
            open(os.environ["SLUICE_OUTPUT"], "a").write("rows=%d\\n" % (n * 10))
            """)
        try workspace.pipeline(
            "cache",
            """
            params:
              n: {type: int, default: "1"}
            steps:
              - name: make
                command: 'python3 make.py {{ params.n }} && echo ran >> ran.txt'
                outputs: ["out/*.bin"]
              - name: use
                command: 'echo {{ steps.make.outputs.rows }} > used.txt'
                depends_on: [make]
            """)
    }

    private func runs() throws -> Int { try workspace.read("ran.txt").split(separator: "\n").count }

    @Test func runsWithNOf1212RunTwiceAndTheRestoredOutputsAreByteExact() async throws {
        let first = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: workspace.path("out/data.bin")))
        let second = try await workspace.run("cache", parameters: ["n": "2"], jobs: 1)
        #expect(first.run.status == .success && second.run.status == .success)
        #expect(workspace.exists("out/extra.bin"))

        let third = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        #expect(third.run.status == .success)
        let make = try #require(third.step("make"))
        #expect(make.state == .upToDate)
        #expect(make.reason?.hasPrefix("restored from run \(first.run.id)") == true, "\(make.reason ?? "")")
        #expect(make.reason?.contains("parameter 'n' changed") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.path("out/data.bin"))) == firstBytes, "byte for byte")
        #expect(!workspace.exists("out/extra.bin"), "the outputs are as that run left them")
        #expect(make.outputValues == ["rows": "10"], "its values come back with them")
        #expect(try workspace.read("used.txt") == "10\n")

        let fourth = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        #expect(fourth.step("make")?.state == .upToDate)
        #expect(fourth.step("make")?.reason?.contains("unchanged since run") == true)
        #expect(try runs() == 2, "n = 1, 2, 1, 1 ran the step twice")
    }

    @Test func whySaysWhichRunItWouldBeRestoredFromAndGcBoundsTheCache() async throws {
        let first = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        _ = try await workspace.run("cache", parameters: ["n": "2"], jobs: 1)
        let why = try await SluiceBinary.run(["why", "cache", "make", "-p", "n=1"], in: workspace.root)
        #expect(why.stdout.contains("restored from run \(first.run.id)"), "\(why.stdout)\(why.stderr)")

        // Once the run that made them is removed, its outputs are no longer offered.
        let gc = try await SluiceBinary.run(["gc", "--keep", "1"], in: workspace.root)
        #expect(gc.status == 0, "\(gc.stdout)\(gc.stderr)")
        let again = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        #expect(again.step("make")?.state == .succeeded)
        #expect(try runs() == 3)
    }

    @Test func aVersionThatNoLongerMatchesItsHashMakesTheStepRunInstead() async throws {
        _ = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        _ = try await workspace.run("cache", parameters: ["n": "2"], jobs: 1)
        // Damage every kept copy of version 1.
        let history = workspace.path(".sluice/versions/cache/make/history")
        for case let file as String in FileManager.default.enumerator(atPath: history) ?? NSEnumerator()
        where file.hasSuffix("data.bin") {
            try Data("damaged".utf8).write(to: URL(fileURLWithPath: "\(history)/\(file)"))
        }
        let why = try await SluiceBinary.run(["why", "cache", "make", "-p", "n=1"], in: workspace.root)
        #expect(!why.stdout.contains("restored"), "why says what the run will do: \(why.stdout)")
        let third = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        #expect(third.run.status == .success)
        #expect(third.step("make")?.state == .succeeded, "ran, since no intact copy was left")
        #expect(try runs() == 3)
    }

    @Test func aFileWrittenByHandWhereTheStepOnceHadOneIsNeverRemoved() async throws {
        _ = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        _ = try await workspace.run("cache", parameters: ["n": "2"], jobs: 1)
        // out/extra.bin was the n=2 run's; now it holds something of the user's.
        _ = try workspace.write("out/extra.bin", "MY OWN NOTES")
        let third = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        #expect(third.step("make")?.state == .succeeded, "it ran rather than remove a file with no kept copy")
        #expect(try workspace.read("out/extra.bin") == "MY OWN NOTES")
    }

    @Test func noRestoreWritesOutsideTheWorkspace() async throws {
        _ = try await workspace.run("cache", parameters: ["n": "1"], jobs: 1)
        _ = try await workspace.run("cache", parameters: ["n": "2"], jobs: 1)
        // The output folder replaced by a link to a folder elsewhere.
        let outside = try TestWorkspace()
        _ = try outside.write("data.bin", "ORIGINAL")
        try FileManager.default.moveItem(atPath: workspace.path("out"), toPath: workspace.path("out.real"))
        try FileManager.default.createSymbolicLink(atPath: workspace.path("out"), withDestinationPath: outside.root)
        let linked = try await SluiceBinary.run(["restore", "cache", "make", "1"], in: workspace.root)
        #expect(linked.status != 0 && linked.stderr.contains("outside the workspace"), "\(linked.stdout)\(linked.stderr)")
        #expect(try outside.read("data.bin") == "ORIGINAL")

        // A tampered annotation naming a path above the workspace.
        try FileManager.default.removeItem(atPath: workspace.path("out"))
        try FileManager.default.moveItem(atPath: workspace.path("out.real"), toPath: workspace.path("out"))
        let annotations = workspace.path(".sluice/versions/cache/make/annotations.json")
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: annotations))) as? [String: Any])
        var versions = try #require(document["versions"] as? [[String: Any]])
        versions[0]["path"] = "../escape-\(UUID().uuidString).bin"
        document["versions"] = versions
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: annotations))
        let escape = (workspace.root as NSString).deletingLastPathComponent + "/" + (versions[0]["path"] as! String).dropFirst(3)
        let tampered = try await SluiceBinary.run(["restore", "cache", "make", "\(versions[0]["version"] as? Int ?? 1)"], in: workspace.root)
        #expect(tampered.status != 0, "\(tampered.stdout)\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: escape))
    }

}
