import ArgumentParser
import Foundation
import SluiceKit

/// One check of a `wait_for:` step: exits 0 when what it waits for is there, 1 when not yet.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Check once for a file, a glob or an HTTP URL, as a wait_for step does: exit 0 when it is there, 1 when not yet.")

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "A file or folder that must exist (relative to the workspace).")
    var file: String?

    @Option(help: "A glob that must match at least one file of the workspace, such as incoming/*.csv.")
    var glob: String?

    @Option(help: "An http or https URL that must answer a 2xx status (within 10 s).")
    var http: String?

    func validate() throws {
        guard [file, glob, http].compactMap({ $0 }).count == 1 else { throw ValidationError("give exactly one of --file, --glob and --http") }
        if let problem = (file ?? glob).flatMap(WaitProbe.problem(file:)) ?? http.flatMap(WaitProbe.problem(url:)) {
            throw ValidationError("--\(file != nil ? "file" : glob != nil ? "glob" : "http") \(problem)")
        }
    }

    func run() async throws {
        let answer: WaitProbe.Answer =
            if let file {
                WaitProbe.file(file, in: workspace.root)
            } else if let glob {
                WaitProbe.glob(glob, in: workspace.root)
            } else {
                await WaitProbe.http(http ?? "")
            }
        print(answer.said)
        if !answer.holds { throw ExitCode(1) }
    }
}
