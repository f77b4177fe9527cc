import Hummingbird

/// The web UI: one page, a script and a stylesheet, compiled into the binary (nothing to install beside it).
struct WebController {
    func register(on router: Router<APIContext>) {
        router.get("/") { _, _ in Self.response(IndexPage.html, "text/html; charset=utf-8") }
        router.get("app.js") { _, _ in Self.response(AppScript.js, "text/javascript; charset=utf-8") }
        router.get("style.css") { _, _ in Self.response(Stylesheet.css, "text/css; charset=utf-8") }
    }

    private static func response(_ text: String, _ type: String) -> Response {
        var headers = SecurityHeaders.page(policy: SecurityHeaders.interface)
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
