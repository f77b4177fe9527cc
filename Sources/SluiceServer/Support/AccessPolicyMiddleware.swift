import HTTPTypes
import Hummingbird

/// Applies the ``AccessPolicy`` to every HTTP request; a refusal is a JSON error.
struct AccessPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = request.headers
        let asked = AccessPolicy.Request(
            method: request.method.rawValue, path: request.uri.path,
            hosts: [request.head.authority].compactMap { $0 } + headers[values: HTTPField.Name("Host")!],
            origin: headers[.origin], authorization: headers[.authorization],
            accessToken: request.uri.queryParameters.get("access_token"))
        if let refusal = policy.refusal(of: asked) {
            throw HTTPError(refusal.status, headers: refusal.headers, message: refusal.message)
        }
        return try await next(request, context)
    }
}
