import Logging
import ServiceLifecycle

/// Long-lived work of a server or a scheduler (the trigger loop, following the store's events, periodic recovery) as
/// a service of the process's service group: the group's graceful shutdown (SIGTERM, SIGINT) cancels it, in order.
/// Work that ends by itself (a store with nothing to follow) does not end the group.
public struct BackgroundService: Service {
    public let name: String
    private let work: @Sendable () async -> Void

    public init(_ name: String, _ work: @escaping @Sendable () async -> Void) {
        self.name = name
        self.work = work
    }

    public func run() async throws { await cancelWhenGracefulShutdown { await work() } }

    /// The group's entry for it.
    public var configuration: ServiceGroupConfiguration.ServiceConfiguration {
        .init(service: self, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup)
    }
}

/// What a process does last when it shuts down gracefully (cancel the runs it started and wait until each is
/// recorded): first in its group, so that the group stops it after every other service, the server included.
public struct ShutdownService: Service {
    private let onShutdown: @Sendable () async -> Void

    public init(_ onShutdown: @escaping @Sendable () async -> Void) { self.onShutdown = onShutdown }

    public func run() async throws {
        // Cancelled instead (the group failed): the runs are ended and recorded all the same.
        try? await gracefulShutdown()
        await onShutdown()
    }
}

extension ServiceGroup {
    /// The group of a long-lived Sluice process: `services` in order, shut down in reverse on SIGTERM or SIGINT.
    public static func sluice(_ services: [ServiceGroupConfiguration.ServiceConfiguration], label: String) -> ServiceGroup {
        var logger = Logger(label: label)
        // The group's own start and stop messages are for debugging; a service's failure is an error, and shown.
        logger.logLevel = .error
        return ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }
}
