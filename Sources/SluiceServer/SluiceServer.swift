import Foundation
import Hummingbird
import HummingbirdWebSocket
import SluiceKit

/// Sluice's HTTP server: the REST API over one workspace's store and pipelines.
public struct SluiceServer: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Required as `Authorization: Bearer` on the API when set; mandatory off loopback.
        public var token: String?
        /// Whether this server starts the runs of schedules and watched folders (safe on every server of a store).
        public var triggers: Bool

        public init(host: String = "127.0.0.1", port: Int = 5001, token: String? = nil, triggers: Bool = true) {
            self.host = host
            self.port = port
            self.token = token
            self.triggers = triggers
        }

        /// Why these settings are refused, if they are.
        public var problem: String? {
            let loopback = ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
            if !loopback && (token ?? "").isEmpty {
                return "refusing to listen on \(host) without a token: set SLUICE_TOKEN (or --token), or listen on 127.0.0.1"
            }
            return nil
        }
    }

    let state: ServerState
    public let settings: Settings

    public init(configuration: Configuration, store: any RunStore, executor: any StepExecutor, settings: Settings,
                clock: any TriggerClock = SystemClock()) {
        state = ServerState(configuration: configuration, store: store, executor: executor, clock: clock)
        self.settings = settings
    }

    /// What starts the runs of schedules and watched folders (``run(onRunning:)`` keeps it going).
    public var triggers: TriggerService { state.triggers }

    /// The routes, behind the token check.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: BearerTokenMiddleware(token: settings.token))
        router.add(middleware: RouteMatchMiddleware())
        SystemController(state: state).register(on: router)
        PipelinesController(state: state).register(on: router)
        RunsController(state: state).register(on: router)
        OpenAPIDocument.register(on: router, requiresToken: settings.token != nil)
        MetricsController(state: state).register(on: router)
        UploadsController(state: state).register(on: router)
        WebController().register(on: router)
        EventsController.refusePlainRequests(on: router)
        return router
    }

    /// The WebSocket routes, behind the same token check.
    public func socketRouter() -> Router<SocketContext> {
        let router = Router(context: SocketContext.self)
        router.add(middleware: BearerTokenMiddleware(token: settings.token))
        EventsController(state: state).register(on: router)
        return router
    }

    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), server: .http1WebSocketUpgrade(webSocketRouter: socketRouter()),
                    configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sluice"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
    }

    /// Serves, and starts the runs triggers call for, until SIGTERM or SIGINT; then cancels the runs started here and
    /// waits until their states are recorded.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let triggers = settings.triggers ? Task { await state.triggers.run() } : nil
        // Events stored by other processes (the CLI, workers, servers on other hosts) reach live views at once.
        let doorbell = state.doorbell, store = state.store
        let notifications = Task { await store.followEventNotifications { doorbell.ring() } }
        defer {
            triggers?.cancel()
            notifications.cancel()
        }
        try await application(onRunning: onRunning).runService()
        triggers?.cancel()
        notifications.cancel()
        await state.launcher.shutdown()
    }
}

public enum SluiceVersion {
    public static let current = "0.1.0"
}
