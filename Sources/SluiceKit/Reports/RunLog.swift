import Foundation

/// `run.log`: one line per step start and completion, retry, skip and recovery, and for the run's start and end,
/// appended a batch at a time by the ``EventBatcher``'s thread.
final class RunLog: Sendable {
    private let handle: FileHandle?
    private let mask: SecretMask

    init(path: String, mask: SecretMask) {
        self.mask = mask
        if !FileManager.default.fileExists(atPath: path) {  // a resumed run appends to its log
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    func write(_ events: [RunEvent]) {
        var text = ""
        for event in events {
            guard let line = Self.line(for: event) else { continue }
            text += "\(Timestamp.iso(event.time)) \(line)\n"
        }
        try? handle?.write(contentsOf: Data(mask.redact(text).utf8))
    }

    func close() { try? handle?.close() }

    static func line(for event: RunEvent) -> String? {
        switch event.kind {
        case let .runStarted(steps): "RUN START \(event.runID) pipeline=\(event.pipeline) steps=\(steps.count)"
        case let .stepsAdded(step, instances): "STEP FAN-OUT \(step) instances=\(instances.count)"
        case let .attemptStarted(step, attempt, pid): "STEP START \(step) attempt=\(attempt) pid=\(pid)"
        case let .attemptFinished(step, attempt, result):
            "STEP \(result.state == .succeeded ? "DONE" : "FAIL") \(step) attempt=\(attempt) state=\(result.state.rawValue) duration=\(DurationFormat.short(result.duration))"
                + (result.error.map { " error=\"\($0)\"" } ?? "")
        case let .retryScheduled(step, attempt, delay): "STEP RETRY \(step) attempt=\(attempt) in=\(DurationFormat.short(delay))"
        case .stepFinished: nil
        case let .stepSkipped(step, reason): "STEP SKIP \(step) reason=\"\(reason)\""
        case let .stepUpToDate(step, reason): "STEP UP-TO-DATE \(step) reason=\"\(reason)\""
        case let .valuesRecorded(step, values): "STEP VALUES \(step) \(OutputValues.listing(values))"
        case let .outputsRecorded(step, record, versions):
            "STEP OUTPUTS \(step) files=\(record.outputs.count) new_versions=\(versions.map { "\($0.path)@v\($0.version)" }.joined(separator: ","))"
        case let .recoveryFinished(step, action):
            "STEP RECOVERY \(step) action=\(action.kind.rawValue) status=\(action.status.rawValue) message=\"\(action.message)\""
        case .filesHashed, .reportsWritten: nil
        case let .runFinished(status): "RUN FINISH \(event.runID) status=\(status.rawValue)"
        }
    }
}
