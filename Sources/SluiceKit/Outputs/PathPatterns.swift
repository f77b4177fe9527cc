import Foundation

/// Declared inputs and outputs resolved to files: a plain path names a file, or every file beneath a folder;
/// `*`, `?` and `[...]` match within one path segment and `**` matches any number of folders.
enum PathPatterns {
    struct Match {
        /// Workspace-relative paths of the files found, sorted.
        var files: [String]
        /// Plain paths (no wildcards) that name nothing.
        var missing: [String]
    }

    static func files(_ patterns: [String], in workspace: String) -> Match {
        var files = Set<String>()
        var missing: [String] = []
        for pattern in patterns {
            let segments = pattern.split(separator: "/").map(String.init)
            guard let firstWild = segments.firstIndex(where: isWild) else {
                let found = filesBeneath(pattern, in: workspace)
                if found.isEmpty { missing.append(pattern) }
                files.formUnion(found)
                continue
            }
            let base = segments[..<firstWild].joined(separator: "/")
            let rest = Array(segments[firstWild...])
            for relative in filesBeneath(base, in: workspace) {
                let tail = relative.split(separator: "/").dropFirst(firstWild).map(String.init)
                if matches(rest[...], tail[...]) { files.insert(relative) }
            }
        }
        return Match(files: files.sorted(), missing: missing)
    }

    /// Whether `patterns` name the workspace-relative file `path`, and every plain one is `path` or a folder above one
    /// of `paths`: what a set of files must be to be what `patterns` declare.
    static func declare(_ paths: [String], _ patterns: [String]) -> Bool {
        let names = covers
        let plain = patterns.filter { !$0.split(separator: "/").contains(where: { isWild(String($0)) }) }
        return paths.allSatisfy { path in patterns.contains { names($0, path) } }
            && plain.allSatisfy { pattern in paths.contains { names(pattern, $0) } }
    }

    /// Whether `pattern` names the workspace-relative file `path`: it is `path`, a folder above it, or a glob matching it.
    static func covers(_ pattern: String, _ path: String) -> Bool {
        let segments = pattern.split(separator: "/").map(String.init), parts = path.split(separator: "/").map(String.init)
        guard let firstWild = segments.firstIndex(where: isWild) else { return path == pattern || path.hasPrefix(pattern + "/") }
        return parts.count >= firstWild && Array(parts[..<firstWild]) == Array(segments[..<firstWild])
            && matches(segments[firstWild...], parts[firstWild...])
    }

    /// `path` itself if it is a file, or every file beneath it if it is a folder (hidden ones included).
    private static func filesBeneath(_ path: String, in workspace: String) -> [String] {
        let absolute = path.isEmpty ? workspace : workspace + "/" + path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder) else { return [] }
        guard isFolder.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: absolute) else { return [] }
        var found: [String] = []
        let prefix = path.isEmpty ? "" : path + "/"
        while let relative = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { found.append(prefix + relative) }
        }
        return found
    }

    private static func isWild(_ segment: String) -> Bool { segment.contains { "*?[".contains($0) } }

    private static func matches(_ pattern: ArraySlice<String>, _ parts: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return parts.isEmpty }
        if head == "**" {
            return (0...parts.count).contains { matches(pattern.dropFirst(), parts.dropFirst($0)) }
        }
        guard let part = parts.first, fnmatch(head, part, FNM_PERIOD) == 0 else { return false }
        return matches(pattern.dropFirst(), parts.dropFirst())
    }
}
