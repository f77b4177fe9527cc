import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore
import ServiceLifecycle
import SluiceKit

/// Sluice's HTTP server: the REST API over one workspace's store and pipelines.
public struct SluiceServer: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Required as `Authorization: Bearer` on everything but the UI's files when set; mandatory off loopback.
        public var token: String?
        /// Whether this server starts the runs of schedules and watched folders (safe on every server of a store).
        public var triggers: Bool
        /// Host names answered besides IP addresses and `localhost` (`*`: any), for a proxy or a name of this machine.
        public var allowedHosts: [String]
        /// Web origins besides the server's own that may use it (`*`: any).
        public var allowedOrigins: [String]
        /// How long a connection may take to send a request's head, and may stay idle between requests.
        public var headerTimeout: Duration
        /// Live connections (`/api/events`) open at once; more get 503.
        public var maxWebSockets: Int

        public init(
            host: String = "127.0.0.1", port: Int = 5001, token: String? = nil, triggers: Bool = true,
            allowedHosts: [String] = [], allowedOrigins: [String] = [], headerTimeout: Duration = .seconds(10),
            maxWebSockets: Int = 256
        ) {
            self.host = host
            self.port = port
            self.token = token
            self.triggers = triggers
            self.allowedHosts = allowedHosts
            self.allowedOrigins = allowedOrigins
            self.headerTimeout = headerTimeout
            self.maxWebSockets = maxWebSockets
        }

        /// Why these settings are refused, if they are.
        public var problem: String? {
            if !Loopback.contains(host) && (token ?? "").isEmpty {
                return "refusing to listen on \(host) without a token: set SLUICE_TOKEN (or --token-file), or listen on 127.0.0.1"
            }
            return nil
        }

        var policy: AccessPolicy {
            AccessPolicy(token: token, listeningOn: host, allowedHosts: allowedHosts, allowedOrigins: allowedOrigins)
        }
    }

    let state: ServerState
    public let settings: Settings

    public init(
        configuration: Configuration, store: any RunStore, executor: any StepExecutor, settings: Settings,
        clock: any TriggerClock = SystemClock()
    ) {
        state = ServerState(configuration: configuration, store: store, executor: executor, clock: clock)
        self.settings = settings
    }

    /// What starts the runs of schedules and watched folders (``run(onRunning:)`` keeps it going).
    public var triggers: TriggerService { state.triggers }

    /// The routes, behind the token check.
    public func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: AccessPolicyMiddleware(policy: settings.policy))
        router.add(middleware: RouteMatchMiddleware())
        router.add(middleware: SluiceErrorMiddleware())
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

    /// The WebSocket routes, behind the same policy (which the ``ConnectionGuard`` applies first).
    public func socketRouter() -> Router<SocketContext> {
        let router = Router(context: SocketContext.self)
        router.add(middleware: AccessPolicyMiddleware(policy: settings.policy))
        EventsController(state: state).register(on: router)
        return router
    }

    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let policy = settings.policy, sockets = SocketCount(limit: settings.maxWebSockets), timeout = TimeAmount(settings.headerTimeout)
        let webSockets = socketRouter().buildResponder()
        let server = HTTPServerBuilder { responder in
            let http = HTTP1WebSocketUpgradeChannel.Configuration(
                http1: .init(idleTimeout: TimeAmount(settings.headerTimeout), httpDecoderConfiguration: ConnectionGuard.limits))
            return GuardedChannel(
                base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSockets, configuration: http),
                makeGuard: { ConnectionGuard(policy: policy, sockets: sockets, headerTimeout: timeout) })
        }
        var application = Application(
            router: router(), server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sluice"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
        let metrics = state.metrics
        application.beforeServerStarts { try await metrics.start() }
        return application
    }

    /// Serves, and starts the runs triggers call for, until SIGTERM or SIGINT; then stops taking requests, stops its
    /// background work, cancels the runs started here and waits until their states are recorded.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let state = state, doorbell = state.doorbell, store = state.store, launcher = state.launcher
        let background =
            [
                // Events stored by other processes (the CLI, workers, servers on other hosts) reach live views at once.
                BackgroundService("event follower") { await store.followEventNotifications { doorbell.ring() } },
                // Runs whose process died while this server lives (a CLI killed, a run this server could not record).
                BackgroundService("recovery") { await RunRecovery.keepRecovering(in: store, every: .seconds(30)) { ServerState.log($0) } },
                // The counters of /metrics see every event as it is stored, before `sluice gc` can remove its run.
                BackgroundService("metrics") { await state.metrics.follow() },
            ] + (settings.triggers ? [BackgroundService("triggers") { await state.triggers.run() }] : [])
        // Shut down in reverse: the server stops first, the runs are ended last.
        let group = ServiceGroup.sluice(
            [.init(service: ShutdownService { await launcher.shutdown(because: "the server shut down") })] + background.map(\.configuration)
                + [.init(service: application(onRunning: onRunning))],
            label: "sluice.serve")
        try await group.run()
    }
}
