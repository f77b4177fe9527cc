import Foundation

/// The files of a watched folder that match its patterns, with their sizes and modification times.
enum FolderSnapshot {
    /// More files than this in one watched folder is a mistake (watching `/`, say); the rest are not looked at.
    static let fileLimit = 100_000

    /// Relative path to `size:modified-ns` of every regular file under `folder` matching one of `patterns`
    /// (fnmatch, `*` not crossing `/`). Hidden files and folders (a copy in progress, `.tmp`) are left out.
    static func take(_ folder: String, patterns: [String]) -> [String: String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [:] }
        var files: [String: String] = [:]
        var seen = 0
        while let relative = walker.nextObject() as? String, seen < fileLimit {
            seen += 1
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            guard patterns.contains(where: { fnmatch($0, relative, FNM_PATHNAME) == 0 }) else { continue }
            var info = stat()
            guard stat(folder + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            files[relative] = "\(info.st_size):\(Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))"
        }
        return files
    }
}
