import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The process's OTLP/HTTP exporter of spans (swift-otel), started by the first run that has an endpoint
/// (`otlp_endpoint`, or `OTEL_EXPORTER_OTLP_ENDPOINT`) and shut down, its spans flushed, when the process has done
/// its work (``shutdown()``, which `sluice` calls before it exits). One endpoint per process: the tracing system is
/// process-wide, and can be set up once.
public actor TraceExport {
    public static let shared = TraceExport()

    private enum State {
        case idle
        case exporting(endpoint: String, group: ServiceGroup, running: Task<Void, Never>)
        /// Set up failed (said once) or the exporter was shut down: no run of this process exports again.
        case unavailable
    }

    private var state = State.idle

    /// Whether spans are exported: from now on to `endpoint` (an http(s) base URL; `/v1/traces` is added), or to
    /// the endpoint of an earlier run of this process.
    func start(endpoint: String) -> Bool {
        switch state {
        case .exporting: return true
        case .unavailable: return false
        case .idle: break
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "sluice"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.diagnosticLogLevel = .error
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/v1/traces"
        configuration.traces.otlpExporter.timeout = .seconds(3)
        configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
        configuration.traces.batchSpanProcessor.exportTimeout = .seconds(3)
        // A big fan-out ends thousands of attempts at once; the default queue (2,048) would drop their spans.
        configuration.traces.batchSpanProcessor.maxQueueSize = 65_536
        do {
            let service = try OTel.bootstrap(configuration: configuration, environment: Self.environment)
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "sluice.traces")))
            state = .exporting(endpoint: endpoint, group: group, running: Task { try? await group.run() })
            return true
        } catch {
            state = .unavailable
            FileHandle.standardError.write(Data("note: runs are not traced to \(PostgresRunStore.redacted(endpoint)): \(error)\n".utf8))
            return false
        }
    }

    /// Exports the spans still buffered and stops; returns at once when nothing was started.
    public func shutdown() async {
        guard case let .exporting(_, group, running) = state else { return }
        state = .unavailable
        await group.triggerGracefulShutdown()
        await running.value
    }

    /// The `OTEL_*` settings swift-otel may read (the service name, resource attributes, headers, sampling) but not
    /// those that would undo Sluice's: its endpoint wins over the environment's, as Sluice's settings do; traces
    /// only (logs and metrics would take over the process's logging); OTLP over HTTP with protobuf only.
    private static var environment: [String: String] {
        ProcessInfo.processInfo.environment.filter { name, _ in
            ![
                "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER",
            ].contains(name) && !name.hasPrefix("OTEL_LOGS_")
                && !name.hasPrefix("OTEL_METRICS_")
        }
    }
}
