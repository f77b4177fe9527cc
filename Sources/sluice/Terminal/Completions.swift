import ArgumentParser
import Foundation
import SluiceKit

/// What the shell completes from the workspace (`sluice --generate-completion-script bash|zsh|fish`): pipeline
/// names, a pipeline's steps and its fan-outs' instances, run ids, a run's steps, parameter names. The workspace is
/// the one `-C`/`--workspace` names on the line, or the current folder. A completion that cannot read it offers
/// nothing: it never prints an error into the user's line.
enum Completions {
    static let pipelines = CompletionKind.custom { words, _, _ in forShell(catalog(words)?.entries.map(\.id) ?? []) }

    /// The steps of the pipeline named before the word, with the instances of its latest run.
    static let steps = CompletionKind.custom { words, index, _ async in
        guard let catalog = catalog(words), let pipeline = pipeline(words, before: index, in: catalog) else { return [] }
        var names = pipeline.steps.map(\.name)
        if let store = await store(words), let latest = try? await store.runs(pipeline: pipeline.id, limit: 1, offset: 0).first,
            let steps = try? await store.stepRuns(runID: latest.id)
        {
            var seen = Set(names)
            names += steps.map(\.step).filter { seen.insert($0).inserted }
        }
        return forShell(names)
    }

    /// The newest runs first, of the pipeline named on the line if one is.
    static let runs = CompletionKind.custom { words, index, _ async -> [String] in
        guard let store = await store(words) else { return [] }
        let named = catalog(words).flatMap { pipeline(words, before: index, in: $0) }
        let runs = (try? await store.runs(pipeline: named?.id, limit: 200, offset: 0)) ?? []
        return forShell(runs.map(\.id))
    }

    /// The steps of the run named before the word, instances included.
    static let runSteps = CompletionKind.custom { words, index, _ async in
        guard let store = await store(words) else { return [] }
        for word in words[..<min(index, words.count)].dropFirst() where !word.hasPrefix("-") {
            if let steps = try? await store.stepRuns(runID: word), !steps.isEmpty { return forShell(steps.map(\.step)) }
        }
        return []
    }

    /// `name=` for each parameter of the pipeline named on the line.
    static let parameters = CompletionKind.custom { words, index, _ in
        guard let catalog = catalog(words), let pipeline = pipeline(words, before: index, in: catalog) else { return [] }
        return forShell(pipeline.parameters.map { $0.name + "=" })
    }

    /// bash's script hands the names to `compgen -W`, which expands `$(…)`, backticks, `${…}`, braces and quotes in
    /// them: each character but the plain ones is escaped, so that a name is offered as written and nothing in it
    /// runs (a step named after a file dropped in a watched folder, say).
    static func forShell(_ names: [String]) -> [String] {
        guard ProcessInfo.processInfo.environment["SAP_SHELL"] == "bash" else { return names }
        return names.map { name in
            String(name.flatMap { $0.isLetter || $0.isNumber || "-_./=:@+,%".contains($0) ? [$0] : ["\\", $0] })
        }
    }

    /// The workspace named on the line (`-C DIR`, `--workspace DIR`, `--workspace=DIR`), else the current folder.
    private static func configuration(_ words: [String]) -> Configuration? {
        var root: String?
        for (index, word) in words.enumerated() {
            if word == "-C" || word == "--workspace", index + 1 < words.count { root = words[index + 1] }
            if word.hasPrefix("--workspace=") { root = String(word.dropFirst("--workspace=".count)) }
        }
        var options = WorkspaceOptions()
        options.workspace = root
        // Not `options.configuration()`: it says what is wrong on stderr, which would land in the user's line.
        return try? Configuration.load(workspace: options.root)
    }

    private static func catalog(_ words: [String]) -> PipelineCatalog? {
        configuration(words).map { PipelineCatalog.scan($0.pipelinesDirectory) }
    }

    /// The first word before `index` that names a valid pipeline.
    private static func pipeline(_ words: [String], before index: Int, in catalog: PipelineCatalog) -> Pipeline? {
        words[..<min(index, words.count)].dropFirst().lazy.compactMap { catalog.entry($0)?.pipeline }.first
    }

    private static func store(_ words: [String]) async -> (any RunStore)? {
        // A folder without a store is not made one by pressing Tab in it.
        guard let location = configuration(words)?.store else { return nil }
        if case let .sqlite(path) = location, !FileManager.default.fileExists(atPath: path) { return nil }
        return try? await location.open(timeout: 1, migrate: false)
    }
}
