import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP request and its status code, for webhooks, lineage events and `wait_for: {http: …}`.
///
/// Through AsyncHTTPClient (already built for the trace exporter) rather than URLSession: FoundationNetworking
/// brings libcurl and some twenty shared libraries that every `sluice` command would load at start-up.
enum HTTPExchange {
    /// A connection that cannot be made fails the request at once, as curl's did: retrying it until the deadline
    /// would make a dead webhook cost its whole timeout on every attempt.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// A URL refused before anything is sent.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// The status code `url` answered within `timeout` seconds, its body read and dropped; throws when it did not answer.
    /// A user and password in the URL are sent as Basic authentication, as curl sends them.
    static func status(
        _ method: HTTPMethod, _ url: String, body: Data? = nil, headers: [(String, String)] = [], timeout: Double
    ) async throws -> Int {
        // Checked here too: a URL from a template is known only now.
        if let problem = WaitProbe.problem(url: url) { throw Refused(description: "the URL \(problem)") }
        guard var parts = URLComponents(string: url) else { throw Refused(description: "not a URL") }
        let credentials = parts.user != nil || parts.password != nil ? "\(parts.user ?? ""):\(parts.password ?? "")" : nil
        (parts.user, parts.password) = (nil, nil)
        var request = HTTPClientRequest(url: credentials == nil ? url : parts.string ?? url)
        if let credentials { request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString()) }
        request.method = method
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // Bounded, so that no timeout a pipeline can hold overflows the conversion: a year is as good as forever here.
        let seconds = timeout.isNaN ? 31_536_000 : min(max(timeout, 0.001), 31_536_000)
        let response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(seconds * 1000)))
        for try await _ in response.body {}
        return Int(response.status.code)
    }

    /// What a failed exchange says to a user: the system's reason, not a Swift type's name.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout || error == .readTimeout:
            return "no answer in time"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return reason(failure.error) }
            return error.dnsAError != nil || error.dnsAAAAError != nil ? "cannot resolve host \(error.host)" : "cannot connect"
        case let error as NIOSSLError:
            // "…:OPENSSL_internal:WRONG_VERSION_NUMBER at /path/…" says "wrong version number".
            let text = String(describing: error)
            guard let range = text.range(of: "OPENSSL_internal:") else { return "TLS handshake failed" }
            let code = text[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return "TLS handshake failed: " + code.lowercased().replacingOccurrences(of: "_", with: " ")
        default:
            return String(describing: error)
        }
    }

    /// `url` as it is said: a password in it masked.
    static func shown(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }
}
