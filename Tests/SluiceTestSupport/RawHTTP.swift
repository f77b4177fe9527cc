import Foundation

/// HTTP/1.1 over a plain TCP socket, for requests no HTTP client sends as written: doubled slashes, absolute-form
/// targets, forged `Host` and `Origin` headers, oversized or unfinished heads.
public enum RawHTTP {
    public struct Reply: Sendable {
        /// 0 when the server closed the connection without answering.
        public var status: Int
        public var head: String
        public var body: String

        public func header(_ name: String) -> String? {
            head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { $0.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Sends `request` as written to 127.0.0.1:`port` and reads until the server closes (waiting `timeout` at most).
    public static func exchange(_ request: String, port: Int, timeout: Int = 15) async throws -> Reply {
        try await exchange(Array(request.utf8), port: port, timeout: timeout)
    }

    public static func exchange(_ request: [UInt8], port: Int, timeout: Int = 15) async throws -> Reply {
        // Blocking socket calls: on a dispatch thread, never on the cooperative pool the server under test needs.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let socket = try connect(port: port, timeout: timeout)
                        defer { close(socket) }
                        try send(request, on: socket)
                        let data = readToEnd(socket)
                        let text = String(decoding: data, as: UTF8.self)
                        let split = text.range(of: "\r\n\r\n")
                        let head = split.map { String(text[..<$0.lowerBound]) } ?? text
                        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                        return Reply(status: status, head: head, body: split.map { String(text[$0.upperBound...]) } ?? "")
                    })
            }
        }
    }

    /// Whether the server closes a connection that has sent `partial` and nothing more, before `timeout` seconds.
    public static func isClosedByServer(afterSending partial: String, port: Int, timeout: Int = 20) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let socket = try connect(port: port, timeout: timeout)
                        defer { close(socket) }
                        try send(Array(partial.utf8), on: socket)
                        var byte: UInt8 = 0
                        while true {
                            let count = recv(socket, &byte, 1, 0)
                            if count == 0 { return true }  // end of stream: the server closed it
                            if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }  // false: our own timeout
                        }
                    })
            }
        }
    }

    static func connect(port: Int, timeout: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw TestFailure("connect to port \(port): \(String(cString: strerror(errno)))")
        }
        return socket
    }

    static func send(_ bytes: [UInt8], on socket: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            // A server that answers before reading everything (431) may close while we still write: that is fine.
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    private static func readToEnd(_ socket: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return data }
            data.append(contentsOf: buffer[0..<count])
        }
    }
}

/// A connection kept open after its request, such as a WebSocket the server upgraded.
public final class OpenSocket: Sendable {
    private let descriptor: Int32

    public init(port: Int, request: String) throws {
        descriptor = try RawHTTP.connect(port: port, timeout: 15)
        try RawHTTP.send(Array(request.utf8), on: descriptor)
    }

    /// The status of the server's answer, read up to the end of its head.
    public func status() async throws -> Int {
        let descriptor = descriptor
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var head: [UInt8] = [], byte: UInt8 = 0
                while !head.ends(with: [13, 10, 13, 10]), recv(descriptor, &byte, 1, 0) == 1 { head.append(byte) }
                let status = String(decoding: head, as: UTF8.self).split(separator: " ").dropFirst().first.flatMap { Int($0) }
                continuation.resume(with: status.map { .success($0) } ?? .failure(TestFailure("no answer")))
            }
        }
    }

    public func close() { Glibc.close(descriptor) }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
