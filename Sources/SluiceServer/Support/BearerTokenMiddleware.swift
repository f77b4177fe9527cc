import Hummingbird

/// Requires `Authorization: Bearer TOKEN` on the API and `/metrics` when the server has a token (always, off loopback).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, request.uri.path.hasPrefix("/api/") || request.uri.path == "/metrics" else {
            return try await next(request, context)
        }
        // Browsers cannot set headers on a WebSocket: the event stream also takes ?access_token=.
        let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            ?? (request.uri.path == "/api/events" ? request.uri.queryParameters.get("access_token") : nil)
        guard let presented, Self.equal(Array(presented.utf8), Array(token.utf8)) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a valid 'Authorization: Bearer TOKEN' header is required")
        }
        return try await next(request, context)
    }

    /// Compares in time that does not depend on where the first difference is.
    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
