import Foundation
import Hummingbird
import HummingbirdWebSocket
import SluiceKit
import Synchronization

/// The request context of WebSocket routes.
public struct SocketContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    /// Where the stream starts, decided before the upgrade is answered (so a client that sees 101 misses nothing after).
    let start = StreamStart()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
    }
}

/// The sequence number after which a stream sends events; set once, before the upgrade.
final class StreamStart: Sendable {
    private let seq = Mutex<Int64>(0)
    var value: Int64 {
        get { seq.withLock { $0 } }
        set { seq.withLock { $0 = newValue } }
    }
}

/// `GET /api/events` (WebSocket): every stored event as a JSON message, in order, as it happens.
///
/// `?run=ID` follows one run; `?after=SEQ` resumes after the last sequence number a client saw, so a client that
/// reconnects misses nothing. Events come from the store, so runs of other Sluice processes appear too.
struct EventsController {
    let state: ServerState

    /// A plain HTTP request to the stream (no `Upgrade: websocket`) gets 426 and says what to do.
    static func refusePlainRequests(on router: Router<APIContext>) {
        router.get("api/events") { _, _ -> Response in
            throw HTTPError(
                .upgradeRequired, headers: [.upgrade: "websocket"], message: "/api/events is a WebSocket: connect with Upgrade: websocket")
        }
    }

    func register(on router: Router<SocketContext>) {
        router.ws("api/events") { request, context in
            guard let asked = try? QueryParameter.after.integer(in: request, default: 0) else { return .dontUpgrade }
            // A client that saw more than the store holds (another store, or one emptied since) gets what comes next.
            context.start.value = min(Int64(asked), try await state.store.latestEventSeq())
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let run = context.request.uri.queryParameters.get("run"), after = context.requestContext.start.value
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The client's messages are not used; the stream ends when it disconnects.
                group.addTask { for try await _ in inbound {} }
                group.addTask { try await send(run: run, after: after, to: outbound) }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Sends stored events after `seq` until cancelled, waiting for the doorbell between batches.
    private func send(run: String?, after seq: Int64, to outbound: WebSocketOutboundWriter) async throws {
        let encoder = APIJSON.encoder()
        var after = seq
        while !Task.isCancelled {
            for event in try await state.store.events(after: after, runID: run, limit: 500) {
                try await outbound.write(.text(String(decoding: try encoder.encode(event), as: UTF8.self)))
                after = event.seq
            }
            await state.doorbell.wait(timeout: .milliseconds(250))
        }
    }
}
