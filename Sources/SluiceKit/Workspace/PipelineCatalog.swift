import Foundation

/// The pipelines found by scanning a folder: `NAME.yaml` with scripts in `NAME/`, or `NAME/pipeline.yaml`.
public struct PipelineCatalog: Sendable {
    /// One pipeline file, loaded or not.
    public struct Entry: Sendable {
        public var id: String
        public var file: String
        public var result: Result<Pipeline, DefinitionError>
        /// The file's size and modification time, and its scripts folder's: an entry with the same stamp need not be loaded again.
        var stamp: [Int64] = []

        public var pipeline: Pipeline? { try? result.get() }
        public var diagnostics: [Diagnostic] {
            if case let .failure(error) = result { return error.diagnostics }
            return []
        }
        /// Why the pipeline does not load, in one line: its first error and where it is; nil when it loads.
        public var problem: String? {
            let errors = diagnostics.filter { $0.severity == .error }
            return errors.first.map { "\($0.location): \($0.message)" + (errors.count > 1 ? " (and \(errors.count - 1) more)" : "") }
        }
    }

    public let directory: String
    public let entries: [Entry]

    /// Scans `directory` and loads every pipeline in it, sorted by id. Entries of `previous` whose file and scripts
    /// folder did not change are reused rather than loaded again (the server rescans on every request).
    /// With `only`, just that pipeline is loaded, with the pipelines its `pipeline:` steps run (to check those
    /// exist and none runs itself again): a command about one pipeline need not read every other.
    public static func scan(_ directory: String, reusing previous: PipelineCatalog? = nil, only: String? = nil) -> PipelineCatalog {
        let manager = FileManager.default
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var found: [(id: String, file: String, scripts: String)] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            let ext = (name as NSString).pathExtension
            if ext == "yaml" || ext == "yml" {
                let id = (name as NSString).deletingPathExtension
                found.append((id, path, (directory as NSString).appendingPathComponent(id)))
            } else {
                for candidate in ["pipeline.yaml", "pipeline.yml"] {
                    let file = (path as NSString).appendingPathComponent(candidate)
                    if manager.fileExists(atPath: file) { found.append((name, file, path)) }
                }
            }
        }
        var entries: [Entry] = []
        let filesByID = Dictionary(grouping: found, by: \.id).mapValues { $0.map(\.file) }
        var pending = found.filter { only == nil || $0.id == only }.reversed().map { $0 }
        var queued = Set(pending.map(\.file))
        while let item = pending.popLast() {
            // Two files with one id are both refused: running either would be a guess at which one was meant.
            let others = (filesByID[item.id] ?? []).filter { $0 != item.file }
            if !others.isEmpty {
                let diagnostic = Diagnostic(
                    .duplicatePipeline, at: SourceLocation(file: item.file, line: 1, column: 1),
                    "pipeline '\(item.id)' is also defined by \(others.joined(separator: ", "))",
                    fix: "rename or remove one of the files")
                entries.append(Entry(id: item.id, file: item.file, result: .failure(DefinitionError(diagnostics: [diagnostic]))))
                continue
            }
            let stamp = Self.stamp(item.file) + Self.stamp(item.scripts)
            if let known = previous?.entries.first(where: { $0.file == item.file && $0.id == item.id }), known.stamp == stamp {
                entries.append(known)
            } else {
                entries.append(
                    Entry(
                        id: item.id, file: item.file,
                        result: PipelineLoader.load(file: item.file, id: item.id, scriptsDirectory: item.scripts), stamp: stamp))
            }
            guard only != nil, let pipeline = entries.last?.pipeline else { continue }
            let callees = Set(pipeline.steps.compactMap(\.subPipeline?.pipeline))
            pending += found.filter { callees.contains($0.id) && queued.insert($0.file).inserted }
        }
        entries.sort { ($0.id, $0.file) < ($1.id, $1.file) }
        return PipelineCatalog(directory: directory, entries: SubPipelineCheck.apply(to: entries, known: Set(found.map(\.id))))
    }

    private static func stamp(_ path: String) -> [Int64] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [-1] }
        return [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(bitPattern: UInt64(info.st_ino))]
    }

    /// The entry named `name` (its id, or failing that its human-readable name).
    public func entry(_ name: String) -> Entry? {
        entries.first { $0.id == name } ?? entries.first { $0.pipeline?.name == name }
    }
}
