import Foundation

/// A run, its steps and attempts, as JSON, CSV (one row per step) or an XLSX workbook (sheets Run, Steps, Attempts).
public struct RunExport: Sendable {
    /// The file formats a run exports to.
    public enum Format: String, Sendable, CaseIterable {
        case json, csv, xlsx

        public var mediaType: String {
            switch self {
            case .json: "application/json"
            case .csv: "text/csv; charset=utf-8"
            case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    public var run: RunRecord
    public var steps: [StepRunRecord]
    public var attempts: [AttemptRecord]

    public init(run: RunRecord, steps: [StepRunRecord], attempts: [AttemptRecord]) {
        self.run = run
        self.steps = steps
        self.attempts = attempts
    }

    /// The JSON export.
    public struct Document: Codable, Sendable {
        public var run: RunRecord
        public var steps: [StepRunRecord]
        public var attempts: [AttemptRecord]
        public var fanOuts: [FanOutSummary]
    }

    public func data(_ format: Format) throws -> Data {
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = Timestamp.jsonEncoding
            return try encoder.encode(
                Document(run: run, steps: steps, attempts: attempts, fanOuts: FanOutSummary.of(steps.lazy.map { ($0.step, $0.state) })))
        case .csv:
            return Data(stepRows.map { $0.map { Self.csvField($0.text) }.joined(separator: ",") + "\r\n" }.joined().utf8)
        case .xlsx:
            return XLSXWorkbook(sheets: [("Run", runRows), ("Steps", stepRows), ("Attempts", attemptRows)]).data
        }
    }

    private var runRows: [[Cell]] {
        [
            ["run_id", "pipeline", "status", "trigger", "started_at", "finished_at", "duration_seconds", "steps"].map(Cell.text),
            [
                .text(run.id), .text(run.pipeline), .text(run.status.rawValue), .text(run.trigger), .date(run.createdAt),
                .date(run.finishedAt), .number(run.duration), .number(Double(run.stepsTotal)),
            ],
        ]
    }

    private var stepRows: [[Cell]] {
        [
            [
                "step", "state", "attempts", "exit_code", "started_at", "finished_at", "duration_seconds", "peak_memory_kb", "cpu_seconds",
                "recovered", "reason", "error", "values",
            ].map(Cell.text)
        ]
            + steps.map { step in
                [
                    .text(step.step), .text(step.state.rawValue), .number(Double(step.attempts)), .number(step.exitCode.map(Double.init)),
                    .date(step.startedAt), .date(step.finishedAt), .number(step.duration),
                    .number(step.peakMemoryKB.map(Double.init)), .number(step.cpuSeconds), .text(step.recovered ? "true" : "false"),
                    .text(step.reason ?? ""), .text(step.error ?? ""),
                    .text(step.outputValues.map { JSONText.object($0.sorted { $0.key < $1.key }) } ?? ""),
                ]
            }
    }

    private var attemptRows: [[Cell]] {
        [
            [
                "step", "attempt", "state", "pid", "started_at", "finished_at", "exit_code", "signal", "peak_memory_kb", "user_cpu", "system_cpu",
                "error",
            ].map(Cell.text)
        ]
            + attempts.map { attempt in
                [
                    .text(attempt.step), .number(Double(attempt.attempt)), .text(attempt.state.rawValue), .number(Double(attempt.pid)),
                    .date(attempt.startedAt), .date(attempt.finishedAt),
                    .number(attempt.exitCode.map(Double.init)), .number(attempt.signal.map(Double.init)),
                    .number(attempt.peakMemoryKB.map(Double.init)), .number(attempt.userCPU), .number(attempt.systemCPU), .text(attempt.error ?? ""),
                ]
            }
    }

    /// A field of RFC 4180 CSV. Text a spreadsheet would take for a formula gets a leading `'`, as OWASP advises for
    /// CSV injection, unless it is a plain number such as `-1`. A field with a comma, a quote or a line break is quoted;
    /// line breaks are found by scalar, since Swift takes "\r\n" for one Character that is neither "\r" nor "\n".
    private static func csvField(_ text: String) -> String {
        let formula = text.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } ?? false
        let safe = formula && text.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?/) == nil ? "'" + text : text
        guard safe.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) }) else { return safe }
        return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
