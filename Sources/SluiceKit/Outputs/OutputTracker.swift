import Foundation
import Synchronization

/// The change detection and versioning side of a run: decides whether a step with declared outputs is up to date,
/// versions its outputs when it succeeds, and rolls them back when it fails.
///
/// Its methods read and hash files: call them from a dispatch thread, never from the cooperative pool.
final class OutputTracker: Sendable {
    /// Whether a step must run, and why.
    enum Decision: Sendable {
        case upToDate(reason: String)
        case run(fingerprint: StepFingerprint, reasons: [String])
        /// An earlier run had this fingerprint, and its outputs are still kept as versions: put them back instead of
        /// running the step (``restore(_:of:)``).
        case restore(Restoration)
    }

    /// Outputs of an earlier successful attempt with the same fingerprint, to put back.
    struct Restoration: Sendable {
        /// That attempt's record in the run cache.
        var record: StepFingerprintRecord
        var versions: [OutputAnnotation]
        /// Files the output patterns match now that the attempt did not leave.
        var extra: [String]
        /// Why the step's last outputs do not do.
        var reasons: [String]

        var reason: String { "restored from run \(record.runID), which had the same fingerprint: " + reasons.joined(separator: "; ") }
    }

    /// What a successful attempt left, to be recorded.
    struct Recorded: Sendable {
        var record: StepFingerprintRecord
        var newVersions: [OutputAnnotation]
    }

    let pipeline: Pipeline
    let workspace: String
    let versionsDirectory: String
    /// The run's parameter values, hashed once for every step's fingerprint.
    let parameterHashes: [String: String]
    let force: Bool
    let previous: [String: StepFingerprintRecord]
    /// Every earlier successful fingerprint still stored, by step, newest first.
    let cache: [String: [StepFingerprintRecord]]
    /// A step's cache entries by digest, made the first time the step's fingerprint has changed: a run where nothing
    /// changed hashes none of them.
    private let cacheByDigest = Mutex<[String: [String: StepFingerprintRecord]]>([:])
    let hasher: FileHasher
    /// Makes the versions steps record at the same time durable together; the run syncs again before the store
    /// records them.
    let versionsSync: GroupSync
    let temporary: TemporaryOutputs
    /// The pipeline's steps as a graph, for the upstream steps of a temporary output's readers.
    private let graph: DependencyGraph

    init(
        pipeline: Pipeline, workspace: String, versionsDirectory: String, parameters: [String: String], force: Bool,
        previous: [String: StepFingerprintRecord], cache: [String: [StepFingerprintRecord]] = [:], knownHashes: [String: FileHash]
    ) {
        self.pipeline = pipeline
        self.workspace = workspace
        self.versionsDirectory = versionsDirectory
        parameterHashes = parameters.mapValues { SHA256.hex(of: $0) }
        self.force = force
        self.previous = previous
        self.cache = cache
        hasher = FileHasher(known: knownHashes)
        versionsSync = GroupSync(folder: versionsDirectory)
        temporary = TemporaryOutputs(pipeline: pipeline, previous: previous)
        graph = DependencyGraph(steps: pipeline.steps)
    }

    func versions(of step: Step) -> OutputVersions {
        OutputVersions(versionsDirectory: versionsDirectory, pipeline: pipeline.id, step: step.name, workspace: workspace)
    }

    func fingerprint(of step: Step) throws -> StepFingerprint {
        let action: String
        switch step.action {
        case let .script(path):
            let file = path.hasPrefix("/") ? path : "\(pipeline.scriptsDirectory)/\(path)"
            action = "script \(path) " + (try hasher.hash(file)?.sha256 ?? "missing")
        case let .command(text):
            action = SHA256.hex(of: "command \(text)\nworkdir \(step.workdir ?? pipeline.workdir ?? "")")
        }
        var environment = pipeline.environment
        environment.merge(step.environment) { $1 }
        var inputs: [String: String] = [:]
        let match = PathPatterns.files(step.inputs, in: workspace)
        for path in match.files { inputs[path] = try hasher.hash("\(workspace)/\(path)")?.sha256 ?? "missing" }
        // A temporary input removed once its readers had succeeded stands in with the hash it had.
        let removed = temporary.recorded.isEmpty ? [:] : temporary.removed(readBy: step, in: workspace)
        inputs.merge(removed) { now, _ in now }
        for path in match.missing where !removed.keys.contains(where: { PathPatterns.covers(path, $0) }) { inputs[path] = "missing" }
        // Only the parameters the step uses; and an instance's own item is in its environment, so the whole list it came
        // from is not its business.
        var parameters = step.parameters.map { used in parameterHashes.filter { used.contains($0.key) } } ?? parameterHashes
        if let source = step.instance?.sourceParameter { parameters[source] = nil }
        return StepFingerprint(
            action: action, parameters: parameters,
            environment: environment.mapValues { SHA256.hex(of: $0) }, inputs: inputs)
    }

    /// Whether `step` (which declares outputs) can be skipped: same fingerprint as its last success and outputs intact.
    func decide(_ step: Step) throws -> Decision { try decide(step, deciding: []) }

    /// `deciding`: the steps whose decisions wait for this one (through their temporary outputs' readers).
    private func decide(_ step: Step, deciding: Set<String>) throws -> Decision {
        let fingerprint = try fingerprint(of: step)
        guard !force else { return .run(fingerprint: fingerprint, reasons: ["--force reruns every step"]) }
        guard let last = previous[step.name] else {
            return cachedOrRun(step, fingerprint, reasons: ["no successful run of '\(step.name)' with declared outputs is recorded"])
        }
        let changes = fingerprint.changes(since: last.fingerprint)
        guard changes.isEmpty else { return cachedOrRun(step, fingerprint, reasons: changes) }
        let current = PathPatterns.files(step.outputs, in: workspace).files
        for path in Set(last.outputs.keys).union(current).sorted() {
            let now = try hasher.hash("\(workspace)/\(path)")?.sha256
            if now == nil, last.outputs[path] != nil, TemporaryOutputs.isTemporary(path, of: step) {
                // Removed as temporary: it is made again only for a step that reads it and must run.
                if let why = try remakeReason(path, of: step, deciding: deciding.union([step.name])) {
                    return .run(fingerprint: fingerprint, reasons: ["temporary output '\(path)' was removed, and \(why)"])
                }
                continue
            }
            guard now == last.outputs[path] else {
                let problem =
                    switch (last.outputs[path], now) {
                    case (nil, _): "is new since run \(last.runID)"
                    case (_, nil): "is missing"
                    case let (before?, after?): "changed since run \(last.runID) (\(before.prefix(12)) -> \(after.prefix(12)))"
                    }
                return .run(fingerprint: fingerprint, reasons: ["output '\(path)' \(problem)"])
            }
        }
        return .upToDate(reason: "inputs, parameters and script unchanged since run \(last.runID); \(current.count) outputs intact")
    }

    /// Why `step` must write its removed temporary output `path` again: a step that reads it must run, or follows a
    /// step that must (other than `step` and what precedes it, which have run). Nil when every reader is up to date.
    private func remakeReason(_ path: String, of step: Step, deciding: Set<String>) throws -> String? {
        guard !temporary.keepsAll else { return "a fan-out over an upstream step's value may read it" }
        guard let producer = graph.index[step.name] else { return "its step is not in the pipeline as written" }
        let before = ancestors(of: producer).union([producer])
        for reader in temporary.readers(of: path, producer: step.name) {
            guard !reader.outputs.isEmpty else { return "step '\(reader.name)' reads it and runs every time (it declares no outputs)" }
            guard !deciding.contains(reader.name) else { return "step '\(reader.name)' reads it and writes a temporary input of its own step" }
            guard !SchedulerStateMachine.readsValues(reader) else {
                return "step '\(reader.name)' reads it and values of upstream steps, known only as the run goes"
            }
            for index in ancestors(of: graph.index[reader.name]!).subtracting(before).sorted() {
                let other = pipeline.steps[index]
                guard !other.outputs.isEmpty, !deciding.contains(other.name), case .upToDate = try decide(other, deciding: deciding) else {
                    return "step '\(reader.name)' reads it after step '\(other.name)', which must run"
                }
            }
            switch try decide(reader, deciding: deciding) {
            case .upToDate: continue
            case let .run(_, reasons): return "step '\(reader.name)' reads it and must run: " + reasons.joined(separator: "; ")
            case .restore: return "step '\(reader.name)' reads it and is not up to date"
            }
        }
        return nil
    }

    private func ancestors(of index: Int) -> Set<Int> {
        var found = Set<Int>(), pending = graph.upstream[index]
        while let next = pending.popLast() {
            if found.insert(next).inserted { pending += graph.upstream[next] }
        }
        return found
    }

    /// Restores the outputs of an earlier attempt with `fingerprint` when the run cache has one whose versions are all
    /// still kept, as DVC's run cache does; else the step runs. Outputs changed by hand under an unchanged fingerprint
    /// make the step run instead: they are never overwritten from the cache. Nor is anything removed that is not
    /// a known output of this step, and the attempt's files must be what the step declares today.
    private func cachedOrRun(_ step: Step, _ fingerprint: StepFingerprint, reasons: [String]) -> Decision {
        let entries = cacheByDigest.withLock { index in
            if let entries = index[step.name] { return entries }
            let entries = Dictionary((cache[step.name] ?? []).map { ($0.fingerprint.digest, $0) }, uniquingKeysWith: { newest, _ in newest })
            index[step.name] = entries
            return entries
        }
        guard let record = entries[fingerprint.digest], !record.outputs.isEmpty,
            PathPatterns.declare(Array(record.outputs.keys), step.outputs), let annotations = try? versions(of: step).annotations()
        else { return .run(fingerprint: fingerprint, reasons: reasons) }
        let versions = versions(of: step)
        // Each version must have an intact copy, so that what `why` says is what the run does.
        let kept = FileHasher(known: [:])
        var chosen: [OutputAnnotation] = []
        for (path, sha256) in record.outputs.sorted(by: { $0.key < $1.key }) {
            guard let version = annotations.versions.last(where: { $0.path == path && $0.sha256 == sha256 }),
                versions.locations(of: version, in: annotations).contains(where: { (try? kept.hash($0)?.sha256) == sha256 })
            else { return .run(fingerprint: fingerprint, reasons: reasons) }
            chosen.append(version)
        }
        // A file is removed only when a copy of its content is kept: another step's, or one the user wrote, even at a
        // path this step once had, makes the step run instead.
        let extra = PathPatterns.files(step.outputs, in: workspace).files.filter { record.outputs[$0] == nil }
        for path in extra {
            let now = try? hasher.hash("\(workspace)/\(path)")?.sha256
            guard annotations.versions.contains(where: { $0.path == path && $0.sha256 == now }) else {
                return .run(fingerprint: fingerprint, reasons: reasons)
            }
        }
        return .restore(Restoration(record: record, versions: chosen, extra: extra, reasons: reasons))
    }

    /// Puts `restoration`'s versions back, byte for byte, removes the files it did not have, and makes them the last
    /// good versions (a later rollback returns to them).
    func restore(_ restoration: Restoration, of step: Step) throws {
        let versions = versions(of: step)
        var annotations = try versions.annotations()
        try versions.restore(restoration.versions, from: annotations, remove: restoration.extra)
        annotations.lastGood = Dictionary(restoration.versions.map { ($0.path, $0.version) }, uniquingKeysWith: { _, last in last })
        try versions.save(annotations)
    }

    /// What the step passed on when it last succeeded with its declared outputs: a run where it is up to date
    /// passes the same on.
    func lastValues(of step: String) -> [String: String]? { previous[step]?.outputValues }

    /// Versions the outputs of a successful attempt. Throws when a declared output was not created.
    func recordSuccess(of step: Step, fingerprint: StepFingerprint, runID: String, values: [String: String]? = nil) throws -> Recorded {
        let match = PathPatterns.files(step.outputs, in: workspace)
        if let missing = match.missing.first {
            throw SluiceError(.file, "declared output of step '\(step.name)' was not created", file: missing)
        }
        var hashes: [String: FileHash] = [:]
        for path in match.files { hashes[path] = try hasher.hash("\(workspace)/\(path)") }
        let versions = versions(of: step)
        var annotations = try versions.annotations()
        // Temporary outputs are hashed, not kept.
        let created = try versions.record(
            hashes.filter { !TemporaryOutputs.isTemporary($0.key, of: step) }, into: &annotations, runID: runID, sync: versionsSync)
        let record = StepFingerprintRecord(
            pipeline: pipeline.id, step: step.name, runID: runID, recordedAt: Date(),
            fingerprint: fingerprint, outputs: hashes.mapValues(\.sha256), outputValues: values)
        return Recorded(record: record, newVersions: created)
    }

    /// Puts the step's declared outputs back to their last good version and removes files the failed attempt created.
    func rollback(_ step: Step) -> RecoveryAction {
        let target = "outputs of step '\(step.name)'"
        func action(_ status: RecoveryAction.Status, _ message: String) -> RecoveryAction {
            RecoveryAction(kind: .rollback, target: target, status: status, message: message, at: Date())
        }
        do {
            let versions = versions(of: step)
            let annotations = try versions.annotations()
            guard !annotations.lastGood.isEmpty else {
                return action(.failed, "no good version to roll back to: '\(step.name)' has never succeeded with these outputs")
            }
            let chosen = annotations.lastGood.sorted { $0.key < $1.key }.compactMap { path, version in
                annotations.versions.first { $0.path == path && $0.version == version }
            }
            let extra = PathPatterns.files(step.outputs, in: workspace).files.filter { annotations.lastGood[$0] == nil }
            try versions.restore(chosen, from: annotations, remove: extra)
            let runs = Set(chosen.map(\.runID)).sorted().joined(separator: ", ")
            return action(
                .success,
                "restored \(chosen.count) outputs to their versions from run \(runs)"
                    + (extra.isEmpty ? "" : "; removed \(extra.count) files the failed attempt created"))
        } catch {
            return action(.failed, "rollback failed: \(error)")
        }
    }
}
