import Foundation
import HTTPTypes

/// Who may use the server, decided on the request as it arrived, before any route is chosen: the router skips
/// empty path segments, so a decision made on a path prefix (`//api/...`) could disagree with the route that answers.
///
/// - The token is required on everything but the UI's three files, compared on the exact raw path.
/// - `Host` must be an IP address, `localhost`, the address listened on or an allowed host: a page on another
///   domain that has re-pointed its name at 127.0.0.1 (DNS rebinding) is refused.
/// - A browser's `Origin`, when present, must be the server's own or an allowed origin: other web pages cannot
///   start runs, cancel them or open the event stream.
///
/// Bodies must also be JSON (uploads: multipart/form-data), which a page cannot send to another site without
/// asking: checked where a body is read (``decodeJSON``, the uploads).
struct AccessPolicy: Sendable {
    /// What is decided on: the parts of a request the policy reads, from Hummingbird or from the raw NIO head.
    struct Request {
        var method: String
        /// The raw path, without the query.
        var path: String
        /// Every host the request names: its `Host` header, and an absolute-form target's authority.
        var hosts: [String]
        var origin: String?
        var authorization: String?
        /// `?access_token=` (browsers cannot set headers on a WebSocket).
        var accessToken: String?

        /// The path as the router sees it: empty segments skipped.
        var segments: [Substring] { path.split(separator: "/") }
    }

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
        var headers: HTTPFields = [:]
    }

    /// Served to anyone: the page asks for the token itself.
    static let publicPaths: Set<String> = ["/", "/app.js", "/run.js", "/charts.js", "/style.css"]

    var token: String?
    /// Host names answered besides IP addresses, `localhost` and the address listened on; `*` answers any.
    var allowedHosts: Set<String>
    /// Origins (`scheme://host[:port]`) allowed besides the server's own; `*` allows any.
    var allowedOrigins: Set<String>

    init(token: String?, listeningOn host: String, allowedHosts: [String] = [], allowedOrigins: [String] = []) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.allowedHosts = Set((allowedHosts + [host]).map(Self.normalHost))
        self.allowedOrigins = Set(allowedOrigins.map { $0.lowercased() })
    }

    /// Why `request` is refused, or nil.
    func refusal(of request: Request) -> Refusal? {
        if let refusal = refusal(ofHosts: request.hosts) { return refusal }
        if let origin = request.origin, !isAllowed(origin: origin, host: request.hosts.first) {
            return Refusal(
                status: .forbidden,
                message: "requests from the web page at '\(origin)' are refused: only this server's own pages may "
                    + "use it; add the origin to the allowed_origins setting to let another one in")
        }
        if let token, !Self.publicPaths.contains(request.path) || !["GET", "HEAD"].contains(request.method) {
            let bearer = request.authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let query = request.segments == ["api", "events"] ? request.accessToken : nil
            guard let presented = bearer ?? query, Self.equal(Array(presented.utf8), Array(token.utf8)) else {
                return Refusal(
                    status: .unauthorized, message: "a valid 'Authorization: Bearer TOKEN' header is required",
                    headers: [.wwwAuthenticate: "Bearer"])
            }
        }
        return nil
    }

    /// Why a request naming these hosts is refused, or nil.
    func refusal(ofHosts hosts: [String]) -> Refusal? {
        guard let host = hosts.first(where: { !isAllowed(host: $0) }) else { return nil }
        return Refusal(
            status: .forbidden,
            message: "host '\(host)' is not served here: use 127.0.0.1, localhost or [::1], or add the name to "
                + "the allowed_hosts setting (this keeps out web pages whose domain points at this machine)")
    }

    private func isAllowed(host authority: String) -> Bool {
        let host = Self.normalHost(Self.hostPart(of: authority))
        return allowedHosts.contains("*") || host == "localhost" || Self.isIPAddress(host) || allowedHosts.contains(host)
    }

    /// The server's own origin is the one the browser connected to: its scheme and the request's `Host`. Any other
    /// origin is refused, extensions' and apps' (`chrome-extension://…`, `app://…`) too, except `ws://HOST`, which no
    /// browser sends but WebSocket client libraries do (for the host they connect to, without its port).
    private func isAllowed(origin: String, host: String?) -> Bool {
        let origin = origin.lowercased()
        if allowedOrigins.contains("*") || allowedOrigins.contains(origin) { return true }
        guard let host = host?.lowercased() else { return false }
        let bareHost = Self.hostPart(of: host)
        return origin == "http://" + host || origin == "https://" + host
            || [host, bareHost].contains { origin == "ws://" + $0 || origin == "wss://" + $0 }
    }

    /// An absolute-form target (`http://HOST/PATH`, which proxies receive) as its authority and its path.
    static func splitAbsoluteForm(_ target: String) -> (authority: String, path: String)? {
        guard target.hasPrefix("http://") || target.hasPrefix("https://"), let scheme = target.range(of: "://") else { return nil }
        let rest = target[scheme.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        return (String(rest[..<slash]), rest[slash...].isEmpty ? "/" : String(rest[slash...]))
    }

    /// `host` of `host:port`, `[v6]:port` or a bare name.
    static func hostPart(of authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            // Anything after the bracket but a port makes it no address at all (refused as a name).
            let rest = authority[authority.index(after: end)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isNumber)) else { return authority }
            return String(authority[authority.index(after: authority.startIndex)..<end])
        }
        if let colon = authority.lastIndex(of: ":"), authority[authority.index(after: colon)...].allSatisfy(\.isNumber) {
            return String(authority[..<colon])
        }
        return authority
    }

    private static func normalHost(_ host: String) -> String {
        let lower = host.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }

    /// A name in an address is what DNS rebinding changes; an IP address reaches the machine it names.
    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Compares in time that does not depend on where the first difference is.
    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
