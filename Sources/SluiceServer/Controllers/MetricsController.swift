import Hummingbird
import SluiceKit

/// `GET /metrics` in Prometheus' text format. Gauges are computed from the store (so runs of every process count);
/// counters and the step duration histogram from the events stored since the server started (``EventCounters``),
/// so they never go down.
struct MetricsController {
    let state: ServerState

    func register(on router: Router<APIContext>) {
        router.get("metrics") { _, _ in
            let totals = try await state.store.totals()
            let counters = try await state.metrics.catchUp()
            var lines: [String] = []
            func number(_ value: Double) -> String { value == value.rounded() ? String(Int64(value)) : String(value) }
            /// Each sample is a suffix of the name (a histogram's `_bucket`, `_sum`, `_count`) and labels, and a value.
            func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
                lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"]
                lines += samples.map { suffix, value in "\(name)\(suffix) \(number(value))" }
            }
            metric(
                "sluice_runs", "gauge", "Runs in the store by status.",
                RunStatus.allCases.map { ("{status=\"\($0.rawValue)\"}", Double(totals.runsByStatus[$0.rawValue] ?? 0)) })
            metric(
                "sluice_step_runs", "gauge", "Step runs in the store by state.",
                StepState.allCases.map { ("{state=\"\($0.rawValue)\"}", Double(totals.stepsByState[$0.rawValue] ?? 0)) })
            let cumulative = counters.durations.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }
            let buckets = zip(EventCounters.bounds.map(number) + ["+Inf"], cumulative)
            metric(
                "sluice_step_duration_seconds", "histogram", "Durations of the step runs that finished since the server started.",
                buckets.map { ("_bucket{le=\"\($0)\"}", Double($1)) }
                    + [("_sum", counters.totalDuration), ("_count", Double(cumulative.last ?? 0))])
            metric("sluice_retries_total", "counter", "Attempts after a step's first, since the server started.", [("", Double(counters.retries))])
            metric(
                "sluice_recoveries_total", "counter", "Recovery actions (rollbacks, healing scripts) by result, since the server started.",
                counters.recoveries.sorted { $0.key > $1.key }.map { ("{status=\"\($0.key)\"}", Double($0.value)) })
            metric("sluice_queued_steps", "gauge", "Pending steps of running runs.", [("", Double(totals.queuedSteps))])
            metric("sluice_active_server_runs", "gauge", "Runs this server is executing.", [("", Double(await state.launcher.activeCount))])
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        }
    }
}
