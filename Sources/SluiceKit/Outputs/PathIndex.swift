/// Path patterns (plain paths, folders, globs), each with an owner, found by the paths they cover or hold without
/// scanning them all: plain ones by their path and by each folder above it; globs, which are few, one by one.
struct PathIndex: Sendable {
    private var plain: [String: [Int]] = [:]
    /// For each folder above a plain pattern, the owners of the patterns beneath it.
    private var beneath: [String: [Int]] = [:]
    private var globs: [(pattern: String, owner: Int)] = []

    init() {}

    mutating func add(_ pattern: String, owner: Int) {
        guard !Self.isGlob(pattern) else { return globs.append((pattern, owner)) }
        plain[pattern, default: []].append(owner)
        for folder in Self.folders(above: pattern) { beneath[folder, default: []].append(owner) }
    }

    /// The owners of patterns that name the file `path`: `path` itself, a folder above it, or a glob matching it.
    func covering(_ path: String) -> Set<Int> {
        var found = Set(plain[path] ?? [])
        for folder in Self.folders(above: path) { found.formUnion(plain[folder] ?? []) }
        for glob in globs where PathPatterns.covers(glob.pattern, path) { found.insert(glob.owner) }
        return found
    }

    /// The owners of patterns that `pattern` names: the same path, one beneath it, or one a glob `pattern` matches.
    func covered(by pattern: String) -> Set<Int> {
        var found = Set<Int>()
        if Self.isGlob(pattern) {
            for (path, owners) in plain where PathPatterns.covers(pattern, path) { found.formUnion(owners) }
        } else {
            found.formUnion(plain[pattern] ?? [])
            found.formUnion(beneath[pattern] ?? [])
        }
        for glob in globs where PathPatterns.covers(pattern, glob.pattern) { found.insert(glob.owner) }
        return found
    }

    static func isGlob(_ pattern: String) -> Bool { pattern.contains { "*?[".contains($0) } }

    /// `a` and `a/b` for `a/b/c`.
    private static func folders(above path: String) -> [String] {
        var folders: [String] = []
        var end = path.startIndex
        while let slash = path[end...].firstIndex(of: "/") {
            folders.append(String(path[..<slash]))
            end = path.index(after: slash)
        }
        return folders
    }
}
