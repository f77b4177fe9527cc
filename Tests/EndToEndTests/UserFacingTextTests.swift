import Foundation
import SluiceTestSupport
import Testing

/// What users read names features and examples. The requirement documents Sluice was built from ("seed 002",
/// "the seed's loader") are not theirs to know; tests may still cite them.
@Suite(.serialized)
struct UserFacingTextTests {
    /// A mention of a requirement document: "seed 001", "Seed 004:", "seed's", "the five seeds'", "the seed asks",
    /// "seed documents", a table column "| seed |". A random generator's seed ("seeded random") is not one.
    static var seedMention: Regex<Substring> { /(?i)\bseeds?\s+(?:\d|documents?\b)|\bseeds?'|\bthe\s+seeds?\b|\|\s*seeds?\s*\|/ }

    static func mentions(in text: String) -> [String] {
        text.split(separator: "\n").filter { $0.contains(seedMention) }.map(String.init)
    }

    @Test func noCommandsHelpMentionsASeed() throws {
        let workspace = try TestWorkspace()
        var pending = [[String]()], seen = 0
        while let command = pending.popLast() {
            let help = try SluiceBinary.run(command.isEmpty ? ["--help"] : ["help"] + command, in: workspace.root)
            #expect(help.status == 0, "sluice help \(command.joined(separator: " ")): \(help.stderr)")
            #expect(Self.mentions(in: help.stdout).isEmpty, "sluice help \(command.joined(separator: " ")): \(Self.mentions(in: help.stdout))")
            pending += Self.subcommands(in: help.stdout).map { command + [$0] }
            seen += 1
        }
        #expect(seen > 25, "every command and subcommand was looked at, \(seen) of them")
    }

    @Test func noDocumentOrExampleMentionsASeed() throws {
        let root = TestWorkspace.repositoryRoot
        var files = ["README.md"]
        for folder in ["docs", "examples", "scripts"] {
            let enumerator = FileManager.default.enumerator(
                at: URL(fileURLWithPath: "\(root)/\(folder)"), includingPropertiesForKeys: nil,
                options: .skipsHiddenFiles)
            while let url = enumerator?.nextObject() as? URL {
                // What running the examples leaves (git ignores it) is not the repository's text.
                if folder == "examples", ["data", "uploads", "runs"].contains(url.lastPathComponent) { enumerator?.skipDescendants() }
                if ["md", "yaml", "py", "json", "sh"].contains(url.pathExtension) {
                    files.append(String(url.path.dropFirst(root.count + 1)))
                }
            }
        }
        #expect(files.count > 50, "\(files)")
        for file in files {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            #expect(Self.mentions(in: text).isEmpty, "\(file): \(Self.mentions(in: text))")
        }
    }

    /// The names listed under SUBCOMMANDS: in a help text, one per line, its abstract beside it.
    static func subcommands(in help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        return section.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }
            .compactMap { $0.firstMatch(of: /^  ([a-z][a-z-]*)/).map { String($0.1) } }
    }
}
