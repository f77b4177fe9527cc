import Foundation

/// The manual-review notification for a failed or partially successful run: identity, status, summary
/// counts, each error with its recovery actions, the healing actions, and resource figures.
struct ReviewNotification: Sendable, Codable {
    struct ErrorDetail: Sendable, Codable {
        public var step: String
        var errorType: String
        public var message: String
        /// The last lines the step printed.
        var logTail: [String]
        public var recoveryActions: [RecoveryAction]
    }

    /// How many steps ended each way.
    public struct Counts: Sendable, Codable {
        var totalSteps = 0, successful = 0, failed = 0, recovered = 0, skipped = 0, warnings = 0
        var changedFiles = 0, filesSaved = 0
    }

    struct Metadata: Sendable, Codable {
        var durationSeconds: Double
        /// nil when no step's peak memory could be measured.
        var peakMemoryMB: Double?
        var peakMemoryPercent: Double?
        var diskOutputMB: Double
        var diskFreeMB: Double
        /// The steps whose failure caused the notification (its "trigger agents").
        var triggeredBy: [String]
    }

    public var pipeline: String
    public var runID: String
    public var status: RunStatus
    public var timestamp: String
    public var counts: Counts
    public var errors: [ErrorDetail]
    var healingActions: [RecoveryAction]
    var metadata: Metadata

    /// Gathers the figures of a finished run; `versions` gives each step's version store (for changed and saved files).
    public init(
        run: RunRecord, steps: [StepRunRecord], actions: [RecoveryActionRecord], versions: (String) -> OutputVersions,
        workspace: String
    ) {
        pipeline = run.pipeline
        runID = run.id
        status = run.status
        timestamp = Timestamp.iso(run.finishedAt ?? Date())
        var counts = Counts(totalSteps: steps.count)
        var newVersionBytes: Int64 = 0
        for step in steps {
            switch step.state {
            case .succeeded, .upToDate: counts.successful += 1
            case .failed, .timedOut, .cancelled, .interrupted: counts.failed += 1
            case .skipped, .pending, .running: counts.skipped += 1
            }
            if step.recovered { counts.recovered += 1 }
            if step.allowedFailure { counts.warnings += 1 }
            guard let annotations = try? versions(step.step).annotations() else { continue }
            let created = annotations.versions.filter { $0.runID == run.id }
            counts.changedFiles += created.count
            newVersionBytes += created.reduce(0) { $0 + $1.size }
            if step.state == .succeeded { counts.filesSaved += annotations.lastGood.count }
        }
        self.counts = counts
        errors = steps.filter { $0.state.isFailure || $0.state == .interrupted }.map { step in
            ErrorDetail(
                step: step.step, errorType: step.state.rawValue, message: step.error ?? "",
                logTail: LogTail.lines(of: RunDirectory(root: run.runDirectory).log(of: step.step), count: 5),
                recoveryActions: actions.filter { $0.step == step.step }.map(\.action))
        }
        healingActions = actions.map(\.action)
        let peakKB = steps.compactMap(\.peakMemoryKB).max().map(Double.init)
        let physical = Double(ProcessInfo.processInfo.physicalMemory)
        var disk = statvfs()
        let free = statvfs(workspace, &disk) == 0 ? Double(disk.f_bavail) * Double(disk.f_frsize) : 0
        metadata = Metadata(
            durationSeconds: run.duration ?? 0, peakMemoryMB: peakKB.map { $0 / 1024 },
            peakMemoryPercent: peakKB.flatMap { physical > 0 ? $0 * 1024 / physical * 100 : nil },
            diskOutputMB: Double(newVersionBytes + RunReport.files(in: run.runDirectory).reduce(0) { $0 + $1.size }) / 1_048_576,
            diskFreeMB: free / 1_048_576, triggeredBy: errors.map(\.step))
    }

    /// The notification as text: a banner, the run, then its summary, errors, healing actions and resources.
    public var text: String {
        let rule = String(repeating: "=", count: 80)
        func section(_ title: String) -> String {
            let dashes = max(2, (64 - title.count) / 2)
            return "\n" + String(repeating: "-", count: dashes) + " \(title) " + String(repeating: "-", count: dashes)
        }
        func row(_ label: String, _ value: Any, width: Int = 20) -> String {
            label.padding(toLength: width, withPad: " ", startingAt: 0) + ": \(value)"
        }
        func describe(_ action: RecoveryAction) -> String {
            "[HIGH] \(action.kind.rawValue) at \(action.target) → Status: \(action.status.rawValue)\n       \(action.message)"
        }
        var lines = [
            rule, "                    MANUAL REVIEW NOTIFICATION", rule, "",
            row("Pipeline", pipeline, width: 13), row("Run ID", runID, width: 13),
            row("Status", status.rawValue.uppercased(), width: 13), row("Timestamp", timestamp, width: 13),
        ]
        lines.append(section("SUMMARY"))
        lines += [
            row("Total Steps", counts.totalSteps), row("Successful", counts.successful), row("Failed", counts.failed),
            row("Recovered", counts.recovered), row("Skipped", counts.skipped), row("Warnings", counts.warnings),
            row("Changed Files", counts.changedFiles), row("Files Saved", counts.filesSaved),
        ]
        lines.append(section("ERROR DETAILS"))
        if errors.isEmpty { lines.append("(none)") }
        for (number, error) in errors.enumerated() {
            lines += [
                "ERROR #\(number + 1):", "  " + row("Step", error.step, width: 15), "  " + row("Error Type", error.errorType, width: 15),
                "  " + row("Error Message", error.message, width: 15),
            ]
            lines += error.logTail.map { "  | \($0)" }
            lines += ["", "  Recovery Actions:"]
            if error.recoveryActions.isEmpty { lines.append("    (none attempted)") }
            lines += error.recoveryActions.enumerated().map { "    \($0.offset + 1). " + describe($0.element) }
        }
        lines.append(section("HEALING ACTIONS"))
        if healingActions.isEmpty { lines.append("(none)") }
        lines += healingActions.enumerated().map { "\($0.offset + 1). " + describe($0.element) }
        lines.append(section("METADATA"))
        lines += [
            row("Duration (s)", String(format: "%.2f", metadata.durationSeconds)),
            row("Memory Usage (MB)", metadata.peakMemoryMB.map { String(format: "%.1f (%.2f%%)", $0, metadata.peakMemoryPercent ?? 0) } ?? "unknown"),
            row("Disk Output (MB)", String(format: "%.2f", metadata.diskOutputMB)),
            row("Disk Free Space (MB)", String(format: "%.0f", metadata.diskFreeMB)),
            row("Trigger Steps", metadata.triggeredBy.joined(separator: ", ")),
        ]
        lines += ["", rule]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON document webhooks receive: the fields above and the text.
    public var json: Data {
        struct Document: Encodable {
            var notification: ReviewNotification
            var text: String
        }
        let encoder = JSONEncoder()
        // Unescaped slashes keep base64 forms of secrets recognisable to the mask.
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(Document(notification: self, text: text))) ?? Data()
    }
}
