import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP request and its status code, for webhooks, lineage events and `wait_for: {http: …}`.
///
/// Through AsyncHTTPClient (already built for the trace exporter) rather than URLSession: FoundationNetworking
/// brings libcurl and some twenty shared libraries that every `sluice` command would load at start-up.
enum HTTPExchange {
    /// The status code `url` answered within `timeout` seconds, its body read and dropped; throws when it did not answer.
    static func status(
        _ method: HTTPMethod, _ url: String, body: Data? = nil, headers: [(String, String)] = [], timeout: Double
    ) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // Bounded, so that no timeout a pipeline can hold overflows the conversion: a year is as good as forever here.
        let seconds = timeout.isNaN ? 31_536_000 : min(max(timeout, 0.001), 31_536_000)
        let deadline = NIODeadline.now() + .milliseconds(Int64(seconds * 1000))
        let response = try await HTTPClient.shared.execute(request, deadline: deadline)
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
            return error.connectionErrors.first.map { reason($0.error) } ?? "cannot connect"
        default:
            return String(describing: error)
        }
    }
}
