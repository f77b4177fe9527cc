import Hummingbird
import SluiceKit

/// `GET /metrics` in Prometheus' text format, computed from the store (so runs of every process count).
struct MetricsController {
    let state: ServerState

    func register(on router: Router<APIContext>) {
        router.get("metrics") { _, _ in
            let totals = try await state.store.totals()
            var lines: [String] = []
            func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
                lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
                lines += samples.map { labels, value in "\(name)\(labels) \(value == value.rounded() ? String(Int64(value)) : String(value))" }
            }
            metric("sluice_runs", "gauge", "Runs in the store by status.",
                   RunStatus.allCases.map { ("{status=\"\($0.rawValue)\"}", Double(totals.runsByStatus[$0.rawValue] ?? 0)) })
            metric("sluice_step_runs", "gauge", "Step runs in the store by state.",
                   StepState.allCases.map { ("{state=\"\($0.rawValue)\"}", Double(totals.stepsByState[$0.rawValue] ?? 0)) })
            lines += ["# HELP sluice_step_duration_seconds Durations of finished step runs.", "# TYPE sluice_step_duration_seconds summary",
                      "sluice_step_duration_seconds_sum \(totals.stepSeconds)", "sluice_step_duration_seconds_count \(totals.stepsTimed)"]
            metric("sluice_retries_total", "counter", "Attempts after a step's first.", [("", Double(totals.retries))])
            metric("sluice_recoveries_total", "counter", "Recovery actions (rollbacks, healing scripts) by result.",
                   ["SUCCESS", "FAILED"].map { ("{status=\"\($0)\"}", Double(totals.recoveriesByStatus[$0] ?? 0)) })
            metric("sluice_queued_steps", "gauge", "Pending steps of running runs.", [("", Double(totals.queuedSteps))])
            metric("sluice_active_server_runs", "gauge", "Runs this server is executing.", [("", Double(await state.launcher.activeCount))])
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        }
    }
}
