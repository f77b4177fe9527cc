import Foundation

/// One spreadsheet cell.
enum Cell {
    case text(String)
    case number(Double?)
    /// A moment, in UTC: a date cell in a workbook, ISO 8601 text in CSV.
    case date(Date?)

    var text: String {
        switch self {
        case let .text(text): text
        case let .number(value?): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case let .date(date?): Timestamp.iso(date)
        case .number(nil), .date(nil): ""
        }
    }
}

/// A minimal XLSX workbook (Office Open XML): inline strings, numbers and dates, one sheet per table.
struct XLSXWorkbook {
    var sheets: [(name: String, rows: [[Cell]])]

    var data: Data {
        var zip = ZipWriter()
        let sheetList = sheets.indices.map { "<sheet name=\"\(Markup.escape(sheets[$0].name))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }
            .joined()
        let overrides = sheets.indices.map {
            "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }.joined()
        zip.add(
            "[Content_Types].xml",
            xml(
                """
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                \(overrides)</Types>
                """))
        zip.add(
            "_rels/.rels",
            xml(
                """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """))
        zip.add(
            "xl/workbook.xml",
            xml(
                """
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\(sheetList)</sheets></workbook>
                """))
        let relations =
            sheets.indices.map {
                "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>"
            }.joined()
            + "<Relationship Id=\"rId\(sheets.count + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>"
        zip.add(
            "xl/_rels/workbook.xml.rels",
            xml("<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\(relations)</Relationships>"))
        // Style 1 shows a date cell's serial number as a date and time to the millisecond. Excel wants the default
        // font, fills, border and Normal style listed even when nothing else uses them.
        zip.add(
            "xl/styles.xml",
            xml(
                """
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss.000"/></numFmts>\
                <fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                </styleSheet>
                """))
        for (index, sheet) in sheets.enumerated() {
            zip.add(
                "xl/worksheets/sheet\(index + 1).xml",
                xml(
                    """
                    <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                    \(Self.dateColumns(sheet.rows))<sheetData>\(Self.rows(sheet.rows))</sheetData></worksheet>
                    """))
        }
        return zip.data
    }

    private static func rows(_ rows: [[Cell]]) -> String {
        rows.enumerated().map { number, cells in
            "<row r=\"\(number + 1)\">"
                + cells.enumerated().map { column, cell in
                    let reference = "\(Self.column(column))\(number + 1)"
                    switch cell {
                    case .number(let value?) where value.isFinite: return "<c r=\"\(reference)\"><v>\(cell.text)</v></c>"
                    case .date(let date?): return "<c r=\"\(reference)\" s=\"1\"><v>\(serial(date))</v></c>"
                    case .number, .date: return "<c r=\"\(reference)\"/>"
                    case let .text(text): return "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(escape(text))</t></is></c>"
                    }
                }.joined() + "</row>"
        }.joined()
    }

    /// Columns that hold dates, wide enough to show one (a narrow column shows `####`).
    private static func dateColumns(_ rows: [[Cell]]) -> String {
        let columns = Set(rows.flatMap { row in row.indices.filter { if case .date = row[$0] { true } else { false } } })
        guard !columns.isEmpty else { return "" }
        return "<cols>" + columns.sorted().map { "<col min=\"\($0 + 1)\" max=\"\($0 + 1)\" width=\"24\" customWidth=\"1\"/>" }.joined() + "</cols>"
    }

    /// Days since 1899-12-30, the spreadsheet's count (1970-01-01 is day 25569), in UTC.
    private static func serial(_ date: Date) -> String { String(date.timeIntervalSince1970 / 86_400 + 25_569) }

    /// Text as SpreadsheetML holds it. A carriage return is a character reference, since XML parsers read a literal
    /// one as a line feed; the other control characters XML 1.0 cannot hold are `_xHHHH_` (ST_Xstring), which
    /// spreadsheets turn back into the character, and text that reads like such an escape has its `_` escaped.
    private static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.replacing(/_(x[0-9A-Fa-f]{4}_)/, with: { "_x005F_" + $0.1 }).unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\r": result += "&#13;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                result += String(format: "_x%04X_", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
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
