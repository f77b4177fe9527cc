import Foundation
import SluiceKit

/// Receives a `multipart/form-data` body (RFC 7578) as it streams in, writing each file part straight into a
/// temporary file in `folder`: an upload is never held in memory. The caller publishes or discards the files.
///
/// Used by one task at a time (hence `@unchecked Sendable`), off the cooperative pool: it writes files.
final class MultipartReceiver: @unchecked Sendable {
    struct Part {
        var field: String
        var filename: String
        var temporary: String
        var size: Int = 0
    }

    enum Problem: Error, CustomStringConvertible {
        case notMultipart, malformed(String), unsafeName(String), duplicate(String), tooManyFiles(Int), io(String)
        var description: String {
            switch self {
            case .notMultipart: "the body must be multipart/form-data with a boundary"
            case let .malformed(what): "malformed multipart body: \(what)"
            case let .unsafeName(name):
                "'\(name)' is not an acceptable file name: use letters, digits, '.', '-' and '_', not starting with '.'"
            case let .duplicate(name): "the form holds '\(name)' twice"
            case let .tooManyFiles(limit): "the form holds more than \(limit) files"
            case let .io(what): what
            }
        }
    }

    private enum State { case preamble, afterDelimiter, headers, content, done }

    /// Each file part costs a file and an fsync: a form is refused past this many.
    static let fileLimit = 100

    private let folder: String
    /// `--BOUNDARY`, and the same preceded by the line break that ends a part's content.
    private let delimiter: [UInt8], partEnd: [UInt8]
    private var state = State.preamble
    private var pending: [UInt8] = []
    private var file: Int32 = -1
    private(set) var parts: [Part] = []

    init(contentType: String?, folder: String) throws(Problem) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let range = contentType.range(of: "boundary=", options: .caseInsensitive)
        else { throw .notMultipart }
        let boundary =
            contentType[range.upperBound...].split(separator: ";").first.map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            } ?? ""
        guard !boundary.isEmpty, boundary.count <= 200 else { throw .notMultipart }
        self.folder = folder
        delimiter = Array("--\(boundary)".utf8)
        partEnd = Array("\r\n--\(boundary)".utf8)
    }

    deinit { if file >= 0 { close(file) } }

    /// Takes the next bytes of the body.
    func receive(_ bytes: [UInt8]) throws(Problem) {
        pending += bytes
        var progressed = true
        while progressed { progressed = try step() }
    }

    /// The body has ended: every part must be closed by the final boundary.
    func finish() throws(Problem) {
        guard state == .done else {
            throw .malformed(parts.isEmpty && state == .preamble ? "no boundary line" : "the last part is not closed by the boundary")
        }
    }

    /// Removes the temporary files (after an error, or once they are published).
    func discard() {
        if file >= 0 {
            close(file)
            file = -1
        }
        for part in parts { unlink(part.temporary) }
    }

    /// Moves the parser on as far as the bytes at hand allow; false when it needs more.
    private func step() throws(Problem) -> Bool {
        switch state {
        case .preamble:
            guard let found = Self.find(delimiter, in: pending) else {
                pending.removeFirst(max(0, pending.count - delimiter.count))
                return false
            }
            pending.removeFirst(found + delimiter.count)
            state = .afterDelimiter
        case .afterDelimiter:
            guard pending.count >= 2 else { return false }
            if pending.starts(with: [0x2D, 0x2D]) {
                state = .done
                pending = []
                return false
            }
            guard pending.starts(with: [0x0D, 0x0A]) else { throw .malformed("a boundary is not followed by a line break") }
            pending.removeFirst(2)
            state = .headers
        case .headers:
            guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: pending) else {
                if pending.count > 16 << 10 { throw .malformed("a part's headers are longer than 16 KiB") }
                return false
            }
            try begin(headers: String(decoding: pending[..<end], as: UTF8.self))
            pending.removeFirst(end + 4)
            state = .content
        case .content:
            if let end = Self.find(partEnd, in: pending) {
                try write(pending[..<end])
                pending.removeFirst(end + partEnd.count)
                try endPart()
                state = .afterDelimiter
            } else {
                // The last bytes may be the start of the boundary: keep them for the next chunk.
                let safe = max(0, pending.count - (partEnd.count - 1))
                try write(pending[..<safe])
                pending.removeFirst(safe)
                return false
            }
        case .done:
            pending = []
            return false
        }
        return true
    }

    private func begin(headers: String) throws(Problem) {
        let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") })
        // A quoted value cut by a line break would name another file than the one sent. Bytes, not characters: a
        // quote followed by a combining mark is one character.
        if let disposition, disposition.utf8.count(where: { $0 == UInt8(ascii: "\"") }) % 2 == 1 {
            throw .malformed("a part's Content-Disposition has an unclosed quote")
        }
        guard let disposition, let filename = Self.parameter("filename", in: disposition) else { return }  // a plain field: its value is skipped
        guard Self.isSafe(filename) else { throw .unsafeName(filename) }
        guard !parts.contains(where: { $0.filename == filename }) else { throw .duplicate(filename) }
        guard parts.count < Self.fileLimit else { throw .tooManyFiles(Self.fileLimit) }
        let temporary = "\(folder)/.upload.\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        file = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw .io("cannot create a file in \(folder): \(String(cString: strerror(errno)))") }
        parts.append(Part(field: Self.parameter("name", in: disposition) ?? "", filename: filename, temporary: temporary))
    }

    private func write(_ bytes: ArraySlice<UInt8>) throws(Problem) {
        guard file >= 0, !bytes.isEmpty else { return }
        guard bytes.withUnsafeBytes({ AtomicFile.writeAll($0, to: file) }) else {
            throw .io("cannot write an upload: \(String(cString: strerror(errno)))")
        }
        parts[parts.count - 1].size += bytes.count
    }

    private func endPart() throws(Problem) {
        guard file >= 0 else { return }
        defer {
            close(file)
            file = -1
        }
        guard fsync(file) == 0 else { throw .io("cannot write an upload: \(String(cString: strerror(errno)))") }
    }

    /// A plain file name: no folders, no hidden files, nothing a shell or a path could misread.
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    private static func parameter(_ name: String, in header: Substring) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }
        return nil
    }

    /// Where `needle` first starts in `haystack`: `memchr` to each candidate first byte, then a compare.
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBytes { hay in
            let base = hay.baseAddress!
            var start = 0
            while start + needle.count <= hay.count {
                guard let hit = memchr(base + start, Int32(first), hay.count - needle.count + 1 - start) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + offset, needle, needle.count) == 0 { return offset }
                start = offset + 1
            }
            return nil
        }
    }
}
