import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
import Synchronization

/// Guards each connection below the router, where Hummingbird gives no say:
/// - a request's head must arrive within `headerTimeout` of the connection opening or the last response ending, so
///   connections that send half a header (or nothing) do not hold a descriptor for minutes;
/// - headers past the decoder's limits get 431, where they got no answer;
/// - the host of an absolute-form target, which Hummingbird drops, is checked;
/// - a WebSocket upgrade is checked by the ``AccessPolicy`` and the socket cap before the upgrader sees it, so a
///   refusal is a JSON error with its own status (401, 403, 503) rather than the upgrader's empty 400.
///
/// It sits right after the HTTP decoder, and leaves the pipeline once a connection becomes a WebSocket.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let policy: AccessPolicy
    private let sockets: SocketCount
    private let headerTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests read and not yet answered (a client may pipeline them): the timer runs only while there are none.
    private var unanswered = 0
    /// Only a connection's first request can become a WebSocket (NIO's upgrader looks at that one alone).
    private var firstRequest = true
    /// Set once a refusal is written: the rest of that request is dropped, and the connection closes.
    private var refused = false

    init(policy: AccessPolicy, sockets: SocketCount, headerTimeout: TimeAmount) {
        self.policy = policy
        self.sockets = sockets
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) { armTimer(context) }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case let .head(head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        timer?.cancel()
        timer = nil
        unanswered += 1
        defer { firstRequest = false }
        // Hummingbird keeps only the path of an absolute-form target (`GET http://HOST/…`): its host is checked here.
        if let (authority, _) = AccessPolicy.splitAbsoluteForm(head.uri), let refusal = policy.refusal(ofHosts: [authority]) {
            return refuse(context, refusal.status, refusal.message)
        }
        guard firstRequest, head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) else {
            return context.fireChannelRead(data)
        }
        if let refusal = policy.refusal(of: Self.request(head)) ?? sockets.reserve(for: context.channel) {
            return refuse(context, refusal.status, refusal.message, headers: refusal.headers)
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            if unanswered == 0 { armTimer(context) }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !refused else { return }
        if let parse = error as? HTTPParserError, parse == .headerOverflow {
            return refuse(
                context, .requestHeaderFieldsTooLarge,
                "the request's headers are too large: at most \(Self.limits.maxHeaderFieldCount) fields of "
                    + "\(Self.limits.maxHeaderListSize / 1024) KiB in all")
        }
        context.fireErrorCaught(error)
    }

    /// The decoder's limits, also named in the 431 answer.
    static let limits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: 32 * 1024, maxHeaderListSize: 64 * 1024,
        maxHeaderFieldCount: 200)

    private func armTimer(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: headerTimeout) { Self.shut(bound.value) }
    }

    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponse.Status, _ message: String, headers extra: HTTPFields = [:]) {
        refused = true
        timer?.cancel()
        // An answer to an earlier, pipelined request may be on its way: one more would be mixed into it.
        guard unanswered <= 1 else { return Self.shut(context) }
        let body = ByteBuffer(bytes: (try? APIJSON.encoder().encode(["error": ["message": message]])) ?? Data())
        var headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", String(body.readableBytes)),
            ("Connection", "close"),
        ])
        for field in extra { headers.add(name: field.name.canonicalName, value: field.value) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status.code), headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in Self.shut(bound.value) }
    }

    /// Closes the connection as if the client had hung up: an upgrader still waiting for a head then ends quietly,
    /// where a plain close makes Hummingbird log an error for every cut-off connection.
    private static func shut(_ context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }

    /// What the policy reads of a raw head: its target may be in origin form (`/api/events?…`) or absolute form.
    private static func request(_ head: HTTPRequestHead) -> AccessPolicy.Request {
        var target = head.uri, hosts = head.headers["host"]
        if let (authority, path) = AccessPolicy.splitAbsoluteForm(target) {
            hosts.insert(authority, at: 0)
            target = path
        }
        let uri = URI(target)
        return AccessPolicy.Request(
            method: head.method.rawValue, path: uri.path, hosts: hosts, origin: head.headers.first(name: "origin"),
            authorization: head.headers.first(name: "authorization"),
            accessToken: uri.queryParameters.get("access_token"))
    }
}

/// Open WebSockets, capped: each holds a task that follows the store.
final class SocketCount: Sendable {
    let limit: Int
    private let open = Mutex(0)

    init(limit: Int) { self.limit = limit }

    var current: Int { open.withLock { $0 } }

    /// Counts `channel` until it closes, or says why there is no room.
    func reserve(for channel: any Channel) -> AccessPolicy.Refusal? {
        let taken = open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard taken else {
            return AccessPolicy.Refusal(
                status: .serviceUnavailable,
                message: "the server already has \(limit) live connections open; "
                    + "close some (each browser tab holds one) and try again", headers: [.retryAfter: "5"])
        }
        channel.closeFuture.whenComplete { _ in self.open.withLock { $0 -= 1 } }
        return nil
    }
}
