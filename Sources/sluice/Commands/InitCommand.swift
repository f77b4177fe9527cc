import ArgumentParser
import Foundation
import SluiceKit

/// `sluice init [FOLDER]`: a workspace to start from, and what to try in it.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a workspace with a small commented pipeline to start from.",
        discussion: "Writes sluice.yaml, .gitignore and pipelines/hello.yaml with its scripts; never over a file that is there.")

    @Argument(help: "The folder (default: the current one; made if missing).", completion: .directory)
    var folder: String?

    func run() throws {
        if let folder, folder.isEmpty || folder.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw fail("the folder name must not be empty nor hold control characters", ExitStatus.invalidInput)
        }
        let current = FileManager.default.currentDirectoryPath
        let path = folder.map { $0.hasPrefix("/") ? $0 : current + "/" + $0 } ?? current
        let files: [String]
        files = try StarterWorkspace.create(in: path)
        print("Made a workspace in \(path):")
        for file in files { print("  \(file)") }
        let into = folder.map { "cd \(Self.shellWord($0)) && " } ?? ""
        print(
            """

            Try next:
              \(into)sluice run hello
              sluice run hello -p greeting=Hi    # the texts and their counts are up to date this time
              sluice serve                       # the web UI and the API, at http://127.0.0.1:5001
            """)
    }

    /// The folder as the user can paste it back into a shell (`./-x`: cd would take `-x` for an option).
    private static func shellWord(_ text: String) -> String {
        let path = text.hasPrefix("-") ? "./" + text : text
        return path.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
            ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
