import ArgumentParser
import Foundation
import SluiceKit

/// Options every command shares, and the workspace they open.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .long], help: "The workspace folder (default: the current folder).")
    var workspace: String?

    var root: String {
        let path = workspace ?? FileManager.default.currentDirectoryPath
        return path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    func configuration(overrides: [String: String] = [:]) throws -> Configuration {
        do { return try Configuration.load(workspace: root, overrides: overrides) } catch {
            throw fail(error.description, ExitStatus.invalidInput)
        }
    }

    /// The workspace's store, after recording as interrupted the runs whose Sluice process died and ending the
    /// step processes they left (every command does this first: the next start after a crash cleans up).
    func store(_ configuration: Configuration) async throws -> any RunStore {
        let location = configuration.store
        do {
            let store = try await location.open(timeout: configuration.storeTimeout)
            for id in try await RunRecovery.recoverAbandonedRuns(in: store) {
                Console.write(
                    "note: run \(id) was interrupted: the Sluice process running it ended; `sluice resume \(id)` continues it\n", to: STDERR_FILENO)
            }
            return store
        } catch let error as SluiceError {
            throw fail("\(error)", ExitStatus.internalError)
        } catch {
            throw fail("\(location): \(StoreLocation.explain(error))", ExitStatus.internalError)
        }
    }

    /// The run with this id; otherwise the command exits 65.
    func run(_ id: String, in store: any RunStore) async throws -> RunRecord {
        guard let record = try await store.run(id: id) else {
            throw fail("no run '\(id)' in the store (see sluice runs)", ExitStatus.invalidInput)
        }
        return record
    }

    /// The named step of `pipeline`, or an instance of one of its fan-outs (`map[A]`); otherwise the command exits 65.
    func step(_ name: String, of pipeline: Pipeline) throws -> Step {
        guard let step = pipeline.step(orInstance: name) else {
            throw fail(
                "pipeline '\(pipeline.id)' has no step '\(name)'; its steps are: \(pipeline.steps.map(\.name).joined(separator: ", "))",
                ExitStatus.invalidInput)
        }
        return step
    }

    /// The named pipeline, loaded and valid; otherwise its diagnostics are printed and the command exits 65.
    func pipeline(_ name: String, in catalog: PipelineCatalog) throws -> Pipeline {
        guard let entry = catalog.entry(name) else {
            // The catalog may hold that pipeline alone (``PipelineCatalog/scan(_:reusing:only:)``): list them all.
            let known = PipelineCatalog.scan(catalog.directory).entries.map(\.id)
            let hint = known.isEmpty ? "no pipelines were found in \(catalog.directory)" : "known pipelines: \(known.joined(separator: ", "))"
            throw fail("no pipeline '\(name)' (\(hint))", ExitStatus.invalidInput)
        }
        switch entry.result {
        case let .success(pipeline): return pipeline
        case let .failure(error):
            Console.write(error.description + "\n", to: STDERR_FILENO)
            throw fail("pipeline '\(name)' is invalid: \(error.diagnostics.count) problem(s), nothing was run", ExitStatus.invalidInput)
        }
    }
}

extension Configuration {
    /// What runs the steps: local processes, and workers or Slurm jobs for the steps that ask for them. Slurm jobs run
    /// this same `sluice` binary (`sluice attempt`) on the compute nodes.
    func executor(for store: any RunStore) -> ExecutorRouter {
        executor(store: store, sluiceBinary: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
    }
}
