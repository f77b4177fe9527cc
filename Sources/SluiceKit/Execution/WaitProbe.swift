import Foundation

/// One check of a `wait_for:` step (`sluice probe`): whether what it waits for is there, and what it saw.
public enum WaitProbe {
    public struct Answer: Sendable {
        public var holds: Bool
        public var said: String
    }

    /// Why `target` cannot be waited for: a file or glob outside the workspace, a URL that is not http or https.
    public static func problem(file target: String) -> String? {
        WorkspacePath.normalized(target) == nil ? "must be a path inside the workspace, not '\(target)' (no '..', no absolute path)" : nil
    }

    public static func problem(url: String) -> String? {
        // Refused before it is quoted: a terminal would act on its escapes.
        guard !Configuration.hasControlCharacter(url) else { return "must not hold control characters (newlines, escapes)" }
        guard let target = URL(string: url), ["http", "https"].contains(target.scheme?.lowercased() ?? ""), target.host?.isEmpty == false
        else { return "must be an http:// or https:// URL with a host, not '\(url)'" }
        // The port as written: one too long for a number reads as no port at all, which would mean port 80.
        let authority = url.drop { $0 != "/" }.dropFirst(2).prefix { !"/?#".contains($0) }
        let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority
        let afterBracket = host.hasPrefix("[") ? host.drop { $0 != "]" } : host
        if let colon = afterBracket.lastIndex(of: ":") {
            let port = afterBracket[afterBracket.index(after: colon)...]
            guard !port.isEmpty, let number = Int(port), (1...65535).contains(number) else {
                return "has port '\(port)', which is not a number between 1 and 65535"
            }
        }
        return nil
    }

    /// Whether `path` (relative to `workspace`) exists.
    public static func file(_ path: String, in workspace: String) -> Answer {
        FileManager.default.fileExists(atPath: (workspace as NSString).appendingPathComponent(path))
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
        guard problem(url: url) == nil else {
            return Answer(holds: false, said: "'\(HTTPExchange.shown(url))' is not an http or https URL")
        }
        do {
            let status = try await HTTPExchange.status(.GET, url, timeout: timeout)
            return Answer(holds: (200..<300).contains(status), said: "\(HTTPExchange.shown(url)) answered \(status)")
        } catch {
            return Answer(holds: false, said: "\(HTTPExchange.shown(url)) did not answer: \(HTTPExchange.reason(error))")
        }
    }

}
