/// Paths a pipeline names in the workspace (inputs, outputs, globs): relative, and never out of it.
enum WorkspacePath {
    /// `path` without `.` parts, or nil when it is empty, absolute, climbs out with `..` or holds a NUL.
    /// Whether `path` (normalized) is or holds Sluice's own folder, its store and versions: no step writes there.
    static func isSluicesOwn(_ path: String) -> Bool { path.isEmpty || path == ".sluice" || path.hasPrefix(".sluice/") }

    static func normalized(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(".."), !path.contains("\0") else { return nil }
        return parts.filter { $0 != "." }.joined(separator: "/")
    }
}
