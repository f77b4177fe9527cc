import Foundation

/// A run, its steps and attempts, as JSON, CSV (one row per step) or an XLSX workbook (sheets Run, Steps, Attempts).
public struct RunExport: Sendable {
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

    public func data(_ format: Format) throws -> Data {
        switch format {
        case .json:
            struct Document: Encodable { var run: RunRecord; var steps: [StepRunRecord]; var attempts: [AttemptRecord] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            return try encoder.encode(Document(run: run, steps: steps, attempts: attempts))
        case .csv:
            return Data(stepRows.map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined().utf8)
        case .xlsx:
            return XLSXWorkbook(sheets: [("Run", runRows), ("Steps", stepRows), ("Attempts", attemptRows)]).data
        }
    }

    private var runRows: [[Cell]] {
        [["run_id", "pipeline", "status", "trigger", "started_at", "finished_at", "duration_seconds", "steps"].map(Cell.text),
         [.text(run.id), .text(run.pipeline), .text(run.status.rawValue), .text(run.trigger), .text(Timestamp.iso(run.createdAt)),
          .text(run.finishedAt.map(Timestamp.iso) ?? ""), .number(run.duration), .number(Double(run.stepsTotal))]]
    }

    private var stepRows: [[Cell]] {
        [["step", "state", "attempts", "exit_code", "started_at", "finished_at", "duration_seconds", "peak_memory_kb", "cpu_seconds",
          "recovered", "reason", "error"].map(Cell.text)]
            + steps.map { step in
                [.text(step.step), .text(step.state.rawValue), .number(Double(step.attempts)), .number(step.exitCode.map(Double.init)),
                 .text(step.startedAt.map(Timestamp.iso) ?? ""), .text(step.finishedAt.map(Timestamp.iso) ?? ""), .number(step.duration),
                 .number(step.peakMemoryKB.map(Double.init)), .number(step.cpuSeconds), .text(step.recovered ? "true" : "false"),
                 .text(step.reason ?? ""), .text(step.error ?? "")]
            }
    }

    private var attemptRows: [[Cell]] {
        [["step", "attempt", "state", "pid", "started_at", "finished_at", "exit_code", "signal", "peak_memory_kb", "user_cpu", "system_cpu",
          "error"].map(Cell.text)]
            + attempts.map { attempt in
                [.text(attempt.step), .number(Double(attempt.attempt)), .text(attempt.state.rawValue), .number(Double(attempt.pid)),
                 .text(Timestamp.iso(attempt.startedAt)), .text(attempt.finishedAt.map(Timestamp.iso) ?? ""),
                 .number(attempt.exitCode.map(Double.init)), .number(attempt.signal.map(Double.init)),
                 .number(attempt.peakMemoryKB.map(Double.init)), .number(attempt.userCPU), .number(attempt.systemCPU), .text(attempt.error ?? "")]
            }
    }

    private static func csvField(_ cell: Cell) -> String {
        let text = cell.text
        return text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

/// One spreadsheet cell.
enum Cell {
    case text(String)
    case number(Double?)

    var text: String {
        switch self {
        case let .text(text): text
        case let .number(value?): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .number(nil): ""
        }
    }
}

/// A minimal XLSX workbook (Office Open XML): inline strings and numbers, one sheet per table.
struct XLSXWorkbook {
    var sheets: [(name: String, rows: [[Cell]])]

    var data: Data {
        var zip = ZipWriter()
        let sheetList = sheets.indices.map { "<sheet name=\"\(Markup.escape(sheets[$0].name))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }.joined()
        let overrides = sheets.indices.map {
            "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }.joined()
        zip.add("[Content_Types].xml", xml("""
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            \(overrides)</Types>
            """))
        zip.add("_rels/.rels", xml("""
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """))
        zip.add("xl/workbook.xml", xml("""
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\(sheetList)</sheets></workbook>
            """))
        let relations = sheets.indices.map {
            "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>"
        }.joined()
        zip.add("xl/_rels/workbook.xml.rels", xml("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\(relations)</Relationships>"))
        for (index, sheet) in sheets.enumerated() {
            let rows = sheet.rows.enumerated().map { number, cells in
                "<row r=\"\(number + 1)\">" + cells.enumerated().map { column, cell in
                    let reference = "\(Self.column(column))\(number + 1)"
                    switch cell {
                    case .number(let value?) where value.isFinite: return "<c r=\"\(reference)\"><v>\(cell.text)</v></c>"
                    case .number: return "<c r=\"\(reference)\"/>"
                    case let .text(text): return "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(Markup.escape(text))</t></is></c>"
                    }
                }.joined() + "</row>"
            }.joined()
            zip.add("xl/worksheets/sheet\(index + 1).xml",
                    xml("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>\(rows)</sheetData></worksheet>"))
        }
        return zip.data
    }

    private func xml(_ body: String) -> Data { Data(("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n" + body).utf8) }

    /// A, B, … Z, AA, AB …
    private static func column(_ index: Int) -> String {
        var index = index, name = ""
        repeat {
            name = String(UnicodeScalar(UInt8(65 + index % 26))) + name
            index = index / 26 - 1
        } while index >= 0
        return name
    }
}
