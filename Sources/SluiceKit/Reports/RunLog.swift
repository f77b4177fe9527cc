import Foundation

/// `run.log`: one line per phase start and completion (seed 000's `_log_phase_start` / `_log_phase_completion`),
/// appended on a queue of its own so the engine never waits for it.
final class RunLog: Sendable {
    private let handle: FileHandle?
    private let queue = DispatchQueue(label: "sluice.runlog")

    init(path: String) {
        FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    func handle(_ event: RunEvent) {
        guard let line = Self.line(for: event) else { return }
        let text = "\(Timestamp.iso(event.time)) \(line)\n"
        queue.async { [handle] in try? handle?.write(contentsOf: Data(text.utf8)) }
    }

    /// Waits for every queued line and closes the file.
    func close() {
        queue.sync { try? handle?.close() }
    }

    static func line(for event: RunEvent) -> String? {
        switch event.kind {
        case let .runStarted(steps): "RUN START \(event.runID) pipeline=\(event.pipeline) steps=\(steps.count)"
        case let .attemptStarted(step, attempt, pid): "STEP START \(step) attempt=\(attempt) pid=\(pid)"
        case let .attemptFinished(step, attempt, result):
            "STEP \(result.state == .succeeded ? "DONE" : "FAIL") \(step) attempt=\(attempt) state=\(result.state.rawValue) duration=\(DurationFormat.short(result.duration))"
                + (result.error.map { " error=\"\($0)\"" } ?? "")
        case let .retryScheduled(step, attempt, delay): "STEP RETRY \(step) attempt=\(attempt) in=\(DurationFormat.short(delay))"
        case .stepFinished: nil
        case let .stepSkipped(step, reason): "STEP SKIP \(step) reason=\"\(reason)\""
        case let .runFinished(status): "RUN FINISH \(event.runID) status=\(status.rawValue)"
        }
    }
}

/// ISO 8601 timestamps with milliseconds, in UTC.
public enum Timestamp {
    public static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
