import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One check of a `wait_for:` step (`sluice probe`): whether what it waits for is there, and what it saw.
public enum WaitProbe {
    public struct Answer: Sendable {
        public var holds: Bool
        public var said: String
    }

    /// Whether `path` (relative to `workspace`, or absolute) exists.
    public static func file(_ path: String, in workspace: String) -> Answer {
        let full = path.hasPrefix("/") ? path : (workspace as NSString).appendingPathComponent(path)
        return FileManager.default.fileExists(atPath: full)
            ? Answer(holds: true, said: "\(path) is there") : Answer(holds: false, said: "no \(path) yet")
    }

    /// Whether a file of `workspace` matches `pattern`.
    public static func glob(_ pattern: String, in workspace: String) -> Answer {
        let files = PathPatterns.files([pattern], in: workspace).files
        guard let first = files.first else { return Answer(holds: false, said: "nothing matches \(pattern) yet") }
        return Answer(holds: true, said: "\(files.count) file\(files.count == 1 ? "" : "s") match \(pattern), such as \(first)")
    }

    /// Whether `url` answers 2xx within `timeout` seconds.
    public static func http(_ url: String, timeout: Double = 10) async -> Answer {
        guard let target = URL(string: url), ["http", "https"].contains(target.scheme?.lowercased() ?? "") else {
            return Answer(holds: false, said: "'\(url)' is not an http or https URL")
        }
        var request = URLRequest(url: target, timeoutInterval: timeout)
        request.httpMethod = "GET"
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return Answer(holds: (200..<300).contains(status), said: "\(url) answered \(status)")
        } catch {
            return Answer(holds: false, said: "\(url) did not answer: \(error.localizedDescription)")
        }
    }
}
