import Foundation
import Synchronization

/// Temporary outputs (`{path: P, temp: true}`, Snakemake's `temp()`): files a step writes only for the steps that
/// read them (by their `inputs`). They are kept in no version, and removed once every step that reads them has
/// succeeded in the run. A removed one does not make its step run again while the steps that read it are up to date:
/// it stands in their fingerprints with the hash it had (``OutputTracker``).
struct TemporaryOutputs: Sendable {
    /// Each temporary file the last success of its step recorded: that step, and the file's hash then.
    let recorded: [String: (producer: String, sha256: String)]
    /// A fan-out over an upstream step's value has readers not known before the run: nothing temporary is removed.
    let keepsAll: Bool
    private let steps: [Step]
    /// Every step's inputs, by step index, and the recorded files, by their place in `files`: made only for a
    /// pipeline with temporary outputs, so that finding a file's readers scans no step.
    private let inputs: PathIndex
    private let files: [String]
    private let filesIndex: PathIndex

    init(pipeline: Pipeline, previous: [String: StepFingerprintRecord]) {
        steps = pipeline.steps
        keepsAll = pipeline.steps.contains { $0.fanOut?.isDynamic == true }
        var recorded: [String: (producer: String, sha256: String)] = [:]
        for step in pipeline.steps where !step.temporaryOutputs.isEmpty {
            for (path, sha256) in previous[step.name]?.outputs ?? [:] where Self.isTemporary(path, of: step) {
                recorded[path] = (step.name, sha256)
            }
        }
        self.recorded = recorded
        let hasTemporary = pipeline.steps.contains { !$0.temporaryOutputs.isEmpty }
        inputs = hasTemporary ? Self.index(pipeline.steps.map(\.inputs)) : PathIndex()
        files = recorded.keys.sorted()
        filesIndex = Self.index(files.map { [$0] })
    }

    /// Each list's patterns, owned by the list's place.
    private static func index(_ lists: [[String]]) -> PathIndex {
        var index = PathIndex()
        for (owner, patterns) in lists.enumerated() { for pattern in patterns { index.add(pattern, owner: owner) } }
        return index
    }

    /// What makes `pipeline`'s temporary outputs unsafe to remove, by step: a glob (it would match files the step never
    /// wrote), a step that reads its own, a reader that does not depend on its step (it could run first, or read it
    /// after it is gone), and another step's output inside one (it would be removed with it).
    static func problems(in pipeline: Pipeline) -> [(step: Step, message: String, fix: String)] {
        guard pipeline.steps.contains(where: { !$0.temporaryOutputs.isEmpty }) else { return [] }
        let graph = DependencyGraph(steps: pipeline.steps)
        let inputs = index(pipeline.steps.map(\.inputs)), outputs = index(pipeline.steps.map(\.outputs))
        func dependsOn(_ reader: Int, _ producer: Int) -> Bool {
            var seen = Set<Int>(), pending = graph.upstream[reader]
            while let next = pending.popLast() {
                if next == producer { return true }
                if seen.insert(next).inserted { pending += graph.upstream[next] }
            }
            return false
        }
        var found: [(step: Step, message: String, fix: String)] = []
        for (index, step) in pipeline.steps.enumerated() {
            for path in step.temporaryOutputs.sorted() {
                let label = "step '\(step.name)': temporary output '\(path)'"
                guard !PathIndex.isGlob(path) else {
                    found.append((step, "\(label) is a glob, which could match files the step did not write", "name the file or folder it writes"))
                    continue
                }
                for other in inputs.covering(path).union(inputs.covered(by: path)).sorted() {
                    let reader = pipeline.steps[other]
                    if other == index {
                        found.append((step, "\(label) is also its own input", "make it an ordinary output, or read it in a later step"))
                    } else if graph.index[reader.name] == other, !dependsOn(other, index) {
                        found.append(
                            (
                                step, "\(label) is read by step '\(reader.name)', which does not depend on it",
                                "add depends_on: [\(step.name)] to step '\(reader.name)'"
                            ))
                    }
                }
                for other in outputs.covered(by: path).sorted() where other != index {
                    let holder = pipeline.steps[other]
                    if let inside = holder.outputs.first(where: { PathPatterns.covers(path, $0) }) {
                        found.append(
                            (
                                step, "\(label) holds output '\(inside)' of step '\(holder.name)', which would be removed with it",
                                "write the temporary files in a folder of their own"
                            ))
                    }
                }
            }
        }
        return found
    }

    static func isTemporary(_ path: String, of step: Step) -> Bool {
        step.temporaryOutputs.contains { PathPatterns.covers($0, path) }
    }

    /// The steps whose `inputs` name `path`, but its producer.
    func readers(of path: String, producer: String) -> [Step] {
        inputs.covering(path).sorted().map { steps[$0] }.filter { $0.name != producer }
    }

    /// The temporary files, gone now, that `step`'s inputs name: their recorded hashes, by path.
    func removed(readBy step: Step, in workspace: String) -> [String: String] {
        removedFiles(readBy: step, in: workspace).mapValues(\.sha256)
    }

    /// The same, with the step that wrote each, in path order.
    func producersOfRemoved(readBy step: Step, in workspace: String) -> [(path: String, producer: String)] {
        removedFiles(readBy: step, in: workspace).map { ($0.key, $0.value.producer) }.sorted { $0.path < $1.path }
    }

    private func removedFiles(readBy step: Step, in workspace: String) -> [String: (producer: String, sha256: String)] {
        guard !recorded.isEmpty else { return [:] }
        var found: [String: (producer: String, sha256: String)] = [:]
        for file in Set(step.inputs.flatMap(filesIndex.covered(by:))).map({ files[$0] }) {
            let entry = recorded[file]!
            if entry.producer != step.name, !FileManager.default.fileExists(atPath: workspace + "/" + file) { found[file] = entry }
        }
        return found
    }
}

/// Removes a run's temporary outputs once every step that reads them has succeeded. A file with a reader outside the
/// run (not selected), or whose reader failed, stays: the next run needs it.
final class TemporaryOutputRemover: Sendable {
    private struct State {
        /// Each temporary file written in this run, with the steps still to succeed that read it.
        var waiting: [String: Set<String>] = [:]
        var succeeded: Set<String> = []
    }

    private let workspace: String
    private let temporary: TemporaryOutputs
    private let included: Set<String>
    private let state = Mutex(State())

    /// `succeededBefore`: the steps outside this go of the run that succeeded in an earlier one (a resumed run): their
    /// reading is done.
    init(workspace: String, temporary: TemporaryOutputs, included: Set<String>, succeededBefore: Set<String> = []) {
        self.workspace = workspace
        self.temporary = temporary
        self.included = included.union(succeededBefore)
        state.withLock { $0.succeeded = succeededBefore }
        // Those an earlier run kept (a reader failed, or was left out) wait for this run's readers too.
        guard !temporary.keepsAll else { return }
        let due = state.withLock { state in
            var due: [String] = []
            for (file, entry) in temporary.recorded where FileManager.default.fileExists(atPath: workspace + "/" + file) {
                let readers = Set(temporary.readers(of: file, producer: entry.producer).map(\.name))
                guard !readers.isEmpty, readers.isSubset(of: self.included) else { continue }
                state.waiting[file] = readers.subtracting(succeededBefore)
                if state.waiting[file]!.isEmpty { due.append(file) }
            }
            return due
        }
        remove(due)
    }

    /// `step` recorded `files`: its temporary ones wait for their readers, or go at once when none reads them.
    func produced(_ files: [String], by step: Step) {
        let temporary = files.filter { TemporaryOutputs.isTemporary($0, of: step) }
        guard !temporary.isEmpty, !self.temporary.keepsAll else { return }
        let due = state.withLock { state in
            temporary.filter { file in
                let readers = Set(self.temporary.readers(of: file, producer: step.name).map(\.name))
                guard readers.isSubset(of: included) else { return false }
                state.waiting[file] = readers.subtracting(state.succeeded)
                return state.waiting[file]!.isEmpty
            }
        }
        remove(due)
    }

    /// `step` succeeded (or was up to date): the files whose last reader it was go.
    func succeeded(_ step: String) {
        let due = state.withLock { state in
            state.succeeded.insert(step)
            return state.waiting.keys.filter { state.waiting[$0]!.remove(step) != nil && state.waiting[$0]!.isEmpty }
        }
        remove(due)
    }

    private func remove(_ files: [String]) {
        // Never through a linked folder to a file outside the workspace.
        for file in files where WorkspacePath.stays(file, inside: workspace) {
            unlink(workspace + "/" + file)
            state.withLock { _ = $0.waiting.removeValue(forKey: file) }
        }
    }
}
