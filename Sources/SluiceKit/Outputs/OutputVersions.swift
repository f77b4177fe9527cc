import Foundation

/// Versioned copies of a step's declared outputs:
/// `newest/PATH` holds each output's latest version, `history/vN/PATH` the earlier ones, and
/// `annotations.json` describes them all. Every file is written atomically.
public struct OutputVersions: Sendable {
    /// `.../versions/PIPELINE/STEP`
    public let root: String
    public let workspace: String
    public let pipeline: String
    public let step: String

    public init(versionsDirectory: String, pipeline: String, step: String, workspace: String) {
        root = "\(versionsDirectory)/\(pipeline)/\(step)"
        self.workspace = workspace
        self.pipeline = pipeline
        self.step = step
    }

    var annotationsFile: String { root + "/annotations.json" }

    public func annotations() throws -> OutputAnnotations {
        guard let data = FileManager.default.contents(atPath: annotationsFile) else {
            return OutputAnnotations(pipeline: pipeline, step: step)
        }
        do { return try JSONDecoder().decode(OutputAnnotations.self, from: data) } catch {
            throw SluiceError(
                .file, "unreadable annotations (\(error)); restore it from a backup or delete the folder to start over", file: annotationsFile)
        }
    }

    /// Where version `annotation` is kept: `newest/` if it is the newest, `history/vN/` otherwise. Both are
    /// returned, the expected place first: a crash between moving a newest version to history and saving the
    /// annotations leaves it in the other one.
    func locations(of annotation: OutputAnnotation, in annotations: OutputAnnotations) -> [String] {
        let newest = "\(root)/newest/\(annotation.path)", history = "\(root)/history/v\(annotation.version)/\(annotation.path)"
        return annotations.newest(annotation.path)?.version == annotation.version ? [newest, history] : [history, newest]
    }

    /// Records a successful attempt's outputs: each whose content changed becomes a new version. Returns the new versions.
    ///
    /// The copies and the annotations are staged, made durable by one `sync` shared with the steps that record at
    /// the same time, then renamed into place. The renames are durable once the run's next sync is done, which it
    /// makes before the store records these versions (``PipelineRunner``): a crash before then leaves the step
    /// unrecorded, to run again, and every file in place intact.
    func record(
        _ outputs: [String: FileHash], into annotations: inout OutputAnnotations, runID: String, sync: GroupSync
    ) throws -> [OutputAnnotation] {
        var updated = annotations
        var created: [(annotation: OutputAnnotation, replaces: Int?)] = []
        var staged: [AtomicFile.Staged] = []
        var lastGood: [String: Int] = [:]
        sync.prepare()
        do {
            for (path, hash) in outputs.sorted(by: { $0.key < $1.key }) {
                let newest = updated.newest(path)
                if let newest, newest.sha256 == hash.sha256 {
                    lastGood[path] = newest.version
                    continue
                }
                staged.append(
                    try AtomicFile.stageCopy("\(workspace)/\(path)", for: "\(root)/newest/\(path)") { copy in
                        guard try FileHasher(known: [:]).hash(copy)?.sha256 == hash.sha256 else {
                            throw SluiceError(.file, "changed while it was being versioned", file: path)
                        }
                    })
                let annotation = OutputAnnotation(
                    path: path, sha256: hash.sha256, size: hash.size, version: (updated.versions.map(\.version).max() ?? 0) + 1,
                    runID: runID, recordedAt: Timestamp.iso(Date()))
                updated.versions.append(annotation)
                lastGood[path] = annotation.version
                created.append((annotation, newest?.version))
            }
            updated.lastGood = lastGood
            // Outputs as they were: nothing to write, nor to sync.
            if created.isEmpty && annotations.lastGood == lastGood { return [] }
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            staged.append(try AtomicFile.stage(try Self.encoded(updated), for: annotationsFile))
            try sync.sync()
        } catch {
            for file in staged { file.discard() }
            throw error
        }
        // Each newest version moves to history before its successor takes its place; the annotations come last.
        for (index, file) in staged.enumerated() {
            do {
                if index < created.count, let replaced = created[index].replaces {
                    let path = created[index].annotation.path
                    let history = "\(root)/history/v\(replaced)/\(path)"
                    try FileManager.default.createDirectory(
                        atPath: (history as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    guard rename("\(root)/newest/\(path)", history) == 0 || errno == ENOENT else {
                        throw AtomicFile.posixError("cannot move version \(replaced) of \(path) to history")
                    }
                }
                try file.commit()
            } catch {
                for file in staged[index...] { file.discard() }
                throw error
            }
        }
        annotations = updated
        return created.map(\.annotation)
    }

    /// Puts `chosen` versions back in the workspace, byte for byte (each copy is checked against its hash),
    /// and removes the files in `remove`.
    public func restore(_ chosen: [OutputAnnotation], from annotations: OutputAnnotations, remove: [String] = []) throws {
        for annotation in chosen {
            // A tampered annotation, or a folder of the workspace replaced by a link, must not lead a copy elsewhere.
            guard WorkspacePath.stays(annotation.path, inside: workspace) else {
                throw SluiceError(
                    .file, "version \(annotation.version) of \(annotation.path) would be written outside the workspace; nothing was restored there",
                    file: root)
            }
            var restored = false
            for source in locations(of: annotation, in: annotations) where !restored && FileManager.default.fileExists(atPath: source) {
                let target = "\(workspace)/\(annotation.path)"
                let copy = {
                    try AtomicFile.copy(source, to: target) { copy in
                        guard try FileHasher(known: [:]).hash(copy)?.sha256 == annotation.sha256 else { throw VersionMismatch() }
                    }
                }
                do {
                    try copy()
                    restored = true
                } catch is VersionMismatch {
                    continue
                } catch let error as FileError where error.code == ENOSPC {
                    // The file being replaced (a failed attempt's output, often what filled the disk) makes room.
                    unlink(target)
                    try copy()
                    restored = true
                }
            }
            guard restored else {
                throw SluiceError(
                    .file,
                    "no intact copy of version \(annotation.version) of \(annotation.path) (missing, or its content does not match the recorded SHA-256)",
                    file: root)
            }
        }
        for path in remove where unlink("\(workspace)/\(path)") != 0 && errno != ENOENT {
            throw AtomicFile.posixError("cannot remove \(path)")
        }
    }

    private struct VersionMismatch: Error {}

    func save(_ annotations: OutputAnnotations) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try AtomicFile.write(try Self.encoded(annotations), to: annotationsFile)
    }

    private static func encoded(_ annotations: OutputAnnotations) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(annotations)
    }
}
