import Hummingbird
import SluiceKit

/// Errors with a shape of their own (a store's) answered as the ``SluiceError`` they convert to, rather than as a
/// bodiless 500.
struct SluiceErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as any SluiceErrorConvertible { throw error.sluiceError }
    }
}
