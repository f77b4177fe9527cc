import Foundation
import SluiceKit

#if canImport(Glibc)
import Glibc
#endif

/// Where output goes, and whether it may be live and coloured: only on a terminal, never with NO_COLOR.
enum Console {
    static let isTerminal = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    static let usesColor = isTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    static let errorUsesColor = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    enum Color: String {
        case red = "31", green = "32", yellow = "33", blue = "34", dim = "2", bold = "1"
    }

    static func paint(_ text: String, _ color: Color, enabled: Bool = usesColor) -> String {
        enabled ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    static func error(_ message: String) {
        write(paint("error:", .red, enabled: errorUsesColor) + " " + message + "\n", to: STDERR_FILENO)
    }

    /// Writes to a terminal or pipe with write(2). A reader that went away (`sluice run | head`) ends the
    /// output, never the run: Foundation's `FileHandle.write(_:)` would trap on EPIPE.
    static func write(_ text: String, to descriptor: Int32 = STDOUT_FILENO) {
        write(bytes: Array(text.utf8), to: descriptor)
    }

    static func write(bytes: [UInt8], to descriptor: Int32 = STDOUT_FILENO) {
        var bytes = bytes[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    static func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = Timestamp.jsonEncoding
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.enumerated().map { index, row in
            let line = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            return index == 0 ? paint(line, .bold) : line
        }.joined(separator: "\n")
    }
}
