import ArgumentParser
import Foundation
import SluiceKit

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Remove old runs from the store, with their run directories (never a running one).",
        discussion: "Either policy, or both: a run goes if it is older than --older-than or not among the --keep newest of its pipeline.")

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: "Remove runs that started longer ago than this (a duration such as 30d or 12h).")
    var olderThan: String?

    @Option(help: "Keep this many of the newest runs of each pipeline.")
    var keep: Int?

    @Flag(help: "Only list what would be removed.")
    var dryRun = false

    func run() async throws {
        guard olderThan != nil || keep != nil else { throw ValidationError("give --older-than, --keep, or both") }
        if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more") }
        let age = try olderThan.map { text -> Double in
            guard let seconds = DurationText.seconds(text), seconds > 0 else {
                throw ValidationError("--older-than takes a duration such as 30d or 12h, not '\(text)'")
            }
            return seconds
        }
        let configuration = try workspace.configuration()
        let store = try await workspace.store(configuration)
        let removed = try await store.removeRuns(before: age.map { Date().addingTimeInterval(-$0) }, keep: keep, dryRun: dryRun)
        var freed: Int64 = 0
        for run in removed {
            freed += Self.size(of: run.runDirectory)
            if !dryRun { try? FileManager.default.removeItem(atPath: run.runDirectory) }
        }
        let verb = dryRun ? "would remove" : "removed"
        print("\(verb) \(removed.count) runs and \(freed / 1024) KiB of run directories")
    }

    private static func size(of folder: String) -> Int64 {
        RunReport.files(in: folder).reduce(0) { $0 + $1.size }
    }
}
