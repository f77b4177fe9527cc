import Foundation
import Synchronization
import Tracing

/// One run as an OpenTelemetry trace: the run is a span, and each attempt of a step a span under it, with its
/// pipeline, step, attempt, exit code and peak memory, an error as the span's status. A step's processes get their
/// attempt's span as `TRACEPARENT` (W3C trace context), so the spans a step makes itself nest under it.
final class RunTraces: Sendable {
    private let run: any Span
    private let attempts = Mutex<[String: any Span]>([:])
    private let runID: String
    private let pipeline: String
    /// A fan-out's instance is named after its item, which may hold a secret: names and errors are masked.
    private let mask: SecretMask

    /// `parent` is the `TRACEPARENT` the run continues, if any.
    init(runID: String, pipeline: String, trigger: String, start: Date, mask: SecretMask, parent traceparent: String?) {
        self.runID = runID
        self.pipeline = pipeline
        self.mask = mask
        var parent = InstrumentationContext.topLevel
        if let traceparent {
            InstrumentationSystem.instrument.extract(["traceparent": traceparent], into: &parent, using: Carrier())
        }
        run = startSpan("run \(pipeline)", context: parent, ofKind: .internal, at: Self.instant(start))
        run.attributes["sluice.pipeline"] = pipeline
        run.attributes["sluice.run_id"] = runID
        run.attributes["sluice.trigger"] = trigger
    }

    /// Starts the span of an attempt about to be launched and returns its `TRACEPARENT` value.
    func attemptStarting(step: String, attempt: Int) -> String? {
        let span = startSpan(mask.redact(step), context: run.context, ofKind: .internal, at: Self.instant(Date()))
        span.attributes["sluice.pipeline"] = pipeline
        span.attributes["sluice.run_id"] = runID
        span.attributes["sluice.step"] = mask.redact(step)
        span.attributes["sluice.attempt"] = attempt
        attempts.withLock { $0["\(step).\(attempt)"] = span }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(span.context, into: &carrier, using: Carrier())
        return carrier["traceparent"]
    }

    /// Ends the spans of the attempts and of the run that these events end.
    func observe(_ batch: [RunEvent]) {
        for event in batch {
            switch event.kind {
            case let .attemptFinished(step, attempt, result):
                guard let span = attempts.withLock({ $0.removeValue(forKey: "\(step).\(attempt)") }) else { continue }
                if let code = result.exitCode { span.attributes["process.exit.code"] = Int(code) }
                if let memory = result.peakMemoryKB { span.attributes["sluice.peak_memory_kb"] = memory }
                span.attributes["sluice.state"] = result.state.rawValue
                if result.state != .succeeded {
                    span.setStatus(SpanStatus(code: .error, message: mask.redact(result.error ?? result.state.rawValue)))
                }
                span.end(at: Self.instant(event.time))
            case let .runFinished(status):
                run.attributes["sluice.status"] = status.rawValue
                if [.failed, .cancelled, .interrupted].contains(status) {
                    run.setStatus(SpanStatus(code: .error, message: "the run \(status.rawValue)"))
                }
                // An attempt whose end was never recorded (the run was cancelled as it started) ends with the run.
                for span in attempts.withLock({ spans in
                    defer { spans = [:] }
                    return spans.values
                }) { span.end(at: Self.instant(event.time)) }
                run.end(at: Self.instant(event.time))
            default:
                continue
            }
        }
    }

    private static func instant(_ date: Date) -> DefaultTracerClock.Timestamp {
        DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: UInt64(max(0, date.timeIntervalSince1970) * 1_000_000_000))
    }

    private struct Carrier: Injector, Extractor {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}
