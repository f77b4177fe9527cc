import Hummingbird

/// Requests the API does not serve get a JSON error that says why: 404 for a path no route has, 405 (with `Allow`)
/// for a method its path does not take. The routes are those of ``OpenAPIDocument``, so answers and document agree.
struct RouteMatchMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each documented path as segments (`{name}` matches one segment; `{path}` the rest), with its methods.
    private let routes: [(segments: [Substring], methods: Set<String>)] = Dictionary(grouping: OpenAPIDocument.operations, by: \.path)
        .map { path, operations in (path.split(separator: "/"), Set(operations.map { $0.method.uppercased() })) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        let allowed = routes.filter { Self.matches($0.segments, segments) }.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
        let method = request.method.rawValue == "HEAD" ? "GET" : request.method.rawValue
        guard !allowed.isEmpty else {
            throw HTTPError(.notFound, message: "no route \(request.method.rawValue) \(request.uri.path); the routes are in /api/openapi.json")
        }
        guard !allowed.contains(method) else { return try await next(request, context) }
        throw HTTPError(
            .methodNotAllowed, headers: [.allow: allowed.sorted().joined(separator: ", ")],
            message: "\(request.method.rawValue) is not allowed here; use \(allowed.sorted().joined(separator: " or "))")
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        if pattern.last == "{path}" { return path.count >= pattern.count && zip(pattern.dropLast(), path).allSatisfy(segment) }
        return pattern.count == path.count && zip(pattern, path).allSatisfy(segment)
    }

    private static func segment(_ pair: (Substring, Substring)) -> Bool { pair.0.hasPrefix("{") || pair.0 == pair.1 }
}
