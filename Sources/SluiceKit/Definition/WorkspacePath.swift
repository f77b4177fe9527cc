import Foundation

/// Paths a pipeline names in the workspace (inputs, outputs, globs): relative, and never out of it.
enum WorkspacePath {
    /// Whether `path` (normalized) is or holds Sluice's own folder, its store and versions: no step writes there.
    static func isSluicesOwn(_ path: String) -> Bool { path.isEmpty || path == ".sluice" || path.hasPrefix(".sluice/") }

    /// `path` without `.` parts, or nil when it is empty or blank, absolute, climbs out with `..`, or holds a control
    /// character (a NUL, a newline).
    static func normalized(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard !path.allSatisfy(\.isWhitespace), !path.hasPrefix("/"), !parts.contains(".."),
            !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return parts.filter { $0 != "." }.joined(separator: "/")
    }

    /// Whether the file `path`, relative to `workspace`, is inside it once links are followed: its folder, or the
    /// nearest of its folders that exists, is the workspace or beneath it.
    static func stays(_ path: String, inside workspace: String) -> Bool {
        guard let path = normalized(path), let root = resolved(workspace) else { return false }
        var folder = ((workspace as NSString).appendingPathComponent(path) as NSString).deletingLastPathComponent
        while resolved(folder) == nil, folder.count > workspace.count { folder = (folder as NSString).deletingLastPathComponent }
        guard let real = resolved(folder) else { return false }
        return real == root || real.hasPrefix(root + "/")
    }

    private static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}
