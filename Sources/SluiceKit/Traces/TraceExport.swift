import Foundation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The process's OTLP/HTTP exporter of spans (swift-otel), started by the first run that has an endpoint
/// (`otlp_endpoint`, or `OTEL_EXPORTER_OTLP_ENDPOINT`) and shut down, its spans flushed, when the process has done
/// its work (``shutdown()``, which `sluice` calls before it exits). One endpoint per process: the tracing system is
/// process-wide.
public actor TraceExport {
    public static let shared = TraceExport()

    private var group: ServiceGroup?
    private var running: Task<Void, Never>?
    private(set) var endpoint: String?

    /// Whether spans are exported: started now for `endpoint` (an http(s) base URL; `/v1/traces` is added), or
    /// earlier for any endpoint. A configuration swift-otel refuses is reported once on standard error.
    func start(endpoint: String) -> Bool {
        if self.endpoint != nil { return true }
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
        // The endpoint configured for Sluice wins over one in the environment, as Sluice's settings do.
        let environment = ProcessInfo.processInfo.environment.filter {
            !["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains($0.key)
        }
        do {
            let service = try OTel.bootstrap(configuration: configuration, environment: environment)
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "sluice.traces")))
            self.group = group
            running = Task { try? await group.run() }
            self.endpoint = endpoint
            return true
        } catch {
            FileHandle.standardError.write(Data("note: traces are not exported to \(endpoint): \(error)\n".utf8))
            return false
        }
    }

    /// Exports the spans still buffered and stops; returns at once when nothing was started.
    public func shutdown() async {
        guard let group, let running else { return }
        await group.triggerGracefulShutdown()
        await running.value
        self.group = nil
        self.running = nil
    }
}
