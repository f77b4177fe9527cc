import Foundation

/// Resolves user-supplied relative paths so that nothing outside a folder can be reached: no `..`, no absolute
/// paths, no NUL, and no symlink that leads out (the real path must stay inside the folder's real path).
enum SafePath {
    /// The real path of the regular file `relative` inside `folder`, or nil.
    static func resolve(_ relative: String, inside folder: String) -> String? {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !relative.hasPrefix("/"), !relative.contains("\0"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }),
            let base = realPath(folder), let target = realPath(folder + "/" + parts.joined(separator: "/")),
            target.hasPrefix(base + "/")
        else { return nil }
        var info = stat()
        guard stat(target, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return target
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
