import ArgumentParser
import Foundation
import SluiceKit

struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "The run store: where it is, its schema version, and upgrading it.",
        discussion: "The `store` setting chooses it: an SQLite file (the default, .sluice/store.sqlite) or postgres://USER@HOST/DATABASE.",
        subcommands: [Status.self, Migrate.self, Copy.self], defaultSubcommand: Status.self)

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The store, the migrations it has and those it lacks; changes nothing.")
        @OptionGroup var workspace: WorkspaceOptions

        @Flag(help: "Print the store, its migrations and its number of runs as JSON.")
        var json = false

        /// What `--json` prints.
        struct StoreStatus: Encodable {
            var store: String
            /// False for an SQLite file not created yet; then no migration is applied or pending.
            var exists: Bool
            var applied: [String]
            var pending: [String]
            var runs: Int
        }

        func run() async throws {
            let status = try await read()
            if json { return Console.printJSON(status) }
            guard status.exists else {
                print("store    \(status.store) (not created yet: the first run creates it)")
                print("schema   none yet")
                print("runs     0")
                return
            }
            let (applied, pending) = (status.applied, status.pending)
            print("store    \(status.store)")
            print("schema   \(applied.count) of \(applied.count + pending.count) migrations applied\(applied.last.map { ", latest \($0)" } ?? "")")
            for name in pending { print("pending  \(name)") }
            print("runs     \(status.runs)")
            if !pending.isEmpty { print("`sluice db migrate` applies the pending migrations (any other command does too).") }
        }

        private func read() async throws -> StoreStatus {
            let configuration = try workspace.configuration()
            let location = "\(configuration.store)"
            // Looking creates nothing: a workspace that has not run yet has no SQLite file, and gets none.
            if case let .sqlite(path) = configuration.store, !FileManager.default.fileExists(atPath: path) {
                return StoreStatus(store: location, exists: false, applied: [], pending: [], runs: 0)
            }
            let store = try await DBCommand.open(configuration, migrate: false)
            let (applied, pending) = try await store.schemaVersions()
            // A new store has no tables yet.
            let runs = applied.isEmpty ? 0 : try await store.countRuns(RunFilter())
            return StoreStatus(store: location, exists: true, applied: applied, pending: pending, runs: runs)
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending schema migrations (every command does on start; this does it ahead, for operators).")
        @OptionGroup var workspace: WorkspaceOptions

        func run() async throws {
            let configuration = try workspace.configuration()
            let before = try await DBCommand.open(configuration, migrate: false).schemaVersions().pending
            let (applied, pending) = try await DBCommand.open(configuration, migrate: true).schemaVersions()
            for name in before where !pending.contains(name) { print("applied  \(name)") }
            print("\(configuration.store): schema up to date (\(applied.count) migrations)")
        }
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every run, step, event, status, hash and trigger state into another, empty store.",
            discussion: """
                Moving a workspace to PostgreSQL: `sluice db copy --to postgres://sluice@db.example.com/sluice`, then set
                `store:` to that URL in sluice.yaml. Stop the workspace's servers and schedulers first: runs recorded during the
                copy are not copied. The workspace's own store is left as it was.
                """)
        @OptionGroup var workspace: WorkspaceOptions

        @Option(help: "The store to copy into: postgres://USER@HOST/DATABASE, or an SQLite file.")
        var to: String

        func run() async throws {
            let configuration = try workspace.configuration()
            let target = StoreLocation(setting: to, workspace: configuration.workspace)
            if let problem = StoreLocation.problem(to) { throw ValidationError("--to \(problem)") }
            guard target != configuration.store else { throw ValidationError("--to is the workspace's own store") }
            let source = try await DBCommand.open(configuration, migrate: true)
            let pipelines = PipelineCatalog.scan(configuration.pipelinesDirectory).entries.map(\.id)
            let contents = try await StoreContents.read(from: source, pipelines: pipelines)
            do {
                // Looked at first without migrating: a store refused for its runs is left as it was, whatever its schema.
                if try await target.open(timeout: configuration.storeTimeout, migrate: false).countRuns(RunFilter()) > 0 {
                    throw SluiceError(.store, "it already has runs; copy into an empty store")
                }
                try await target.open(timeout: configuration.storeTimeout).importContents(contents)
            } catch {
                throw fail("\(target): \(StoreLocation.explain(error)); nothing was copied", ExitStatus.internalError)
            }
            print(
                "copied \(contents.runs.count) runs, \(contents.stepRuns.count) steps, \(contents.events.count) events and "
                    + "\(contents.stepStatuses.count) step statuses to \(target)")
            print("to use it, set `store: \(target)` in \(Configuration.fileName) (or SLUICE_STORE)")
        }
    }

    static func open(_ configuration: Configuration, migrate: Bool) async throws -> any RunStore {
        let location = configuration.store
        do { return try await location.open(timeout: configuration.storeTimeout, migrate: migrate) } catch {
            throw fail("\(location): \(StoreLocation.explain(error))", ExitStatus.internalError)
        }
    }
}
