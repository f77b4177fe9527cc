import Hummingbird

/// The web UI: one page, its scripts and a stylesheet (`Web/`), compiled into the binary.
struct WebController {
    func register(on router: Router<APIContext>) {
        router.get("/") { _, _ in Self.response(PackageResources.index_html, "text/html; charset=utf-8") }
        router.get("app.js") { _, _ in Self.response(PackageResources.app_js, "text/javascript; charset=utf-8") }
        router.get("run.js") { _, _ in Self.response(PackageResources.run_js, "text/javascript; charset=utf-8") }
        router.get("charts.js") { _, _ in Self.response(PackageResources.charts_js, "text/javascript; charset=utf-8") }
        router.get("style.css") { _, _ in Self.response(PackageResources.style_css, "text/css; charset=utf-8") }
    }

    private static func response(_ bytes: [UInt8], _ type: String) -> Response {
        var headers = SecurityHeaders.page(policy: SecurityHeaders.interface)
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
