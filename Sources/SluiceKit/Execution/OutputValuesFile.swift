import Foundation

/// What a step passes on to its downstream steps: the `KEY=VALUE` lines it wrote to the file `$SLUICE_OUTPUT`
/// names, read as GitHub Actions reads `$GITHUB_OUTPUT`. A value of several lines is written
///
///     KEY<<DELIMITER
///     first line
///     second line
///     DELIMITER
///
/// A key appears once per step in what is recorded: written twice, the last value wins.
public enum OutputValuesFile {
    /// At most this much is read, as GitHub caps a job's outputs: values are for names, counts and short lists,
    /// and files are for data.
    static let limit = 1 << 20

    struct Problem: Error, Sendable {
        var message: String
    }

    /// `values` as lines that ``parse(_:)`` reads back unchanged, sorted by key: `KEY=VALUE`, or a delimited block
    /// for a value with a line break (a delimiter no line of it equals).
    public static func render(_ values: [String: String]) -> String {
        values.sorted { $0.key < $1.key }.map { key, value in
            guard value.contains(where: \.isNewline) else { return "\(key)=\(value)\n" }
            let lines = Set(value.split(separator: "\n", omittingEmptySubsequences: false))
            var delimiter = "SLUICE_EOF"
            while lines.contains(Substring(delimiter)) { delimiter += "_" }
            return "\(key)<<\(delimiter)\n\(value)\n\(delimiter)\n"
        }.joined()
    }

    /// The values in the regular file at `path`, which is removed once read (the store keeps them, masked); none when
    /// the step wrote no file. Opened without following a link and without waiting: a step may have put anything there.
    static func read(_ path: String) throws(Problem) -> [String: String] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return [:] }
            throw Problem(message: "cannot read $SLUICE_OUTPUT (\(path)): \(String(cString: strerror(errno))); it must be a regular file")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        defer { unlink(path) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw Problem(message: "$SLUICE_OUTPUT (\(path)) is not a regular file: write lines to it, do not replace it")
        }
        let data: Data
        do { data = try handle.read(upToCount: limit + 1) ?? Data() } catch {
            throw Problem(message: "cannot read $SLUICE_OUTPUT (\(path)): \(error.localizedDescription)")
        }
        guard data.count <= limit else {
            throw Problem(message: "it wrote more than \(limit >> 20) MiB to $SLUICE_OUTPUT; pass large data in a file under $SLUICE_OUTPUTS_DIR")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(message: "what it wrote to $SLUICE_OUTPUT is not UTF-8 text")
        }
        guard !text.utf8.contains(0) else { throw Problem(message: "what it wrote to $SLUICE_OUTPUT holds a NUL byte") }
        return try parse(text)
    }

    static func parse(_ text: String) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        // "\r\n" is one Character to Swift: lines written on Windows end so.
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)[...]
        var number = 0
        while let line = lines.popFirst() {
            number += 1
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let equals = line.firstIndex(of: "=")
            let heredoc = line.range(of: "<<")
            if let heredoc, equals.map({ heredoc.lowerBound < $0 }) ?? true {
                let key = try self.key(line[..<heredoc.lowerBound], line: number)
                let delimiter = line[heredoc.upperBound...]
                guard !delimiter.isEmpty else {
                    throw Problem(message: "$SLUICE_OUTPUT line \(number): '\(key)<<' names no delimiter; write \(key)<<EOF")
                }
                var body: [Substring] = []
                let start = number
                while true {
                    guard let next = lines.popFirst() else {
                        throw Problem(message: "$SLUICE_OUTPUT line \(start): the value of '\(key)' is not ended by a line '\(delimiter)'")
                    }
                    number += 1
                    if next == delimiter { break }
                    body.append(next)
                }
                values[key] = body.joined(separator: "\n")
            } else if let equals {
                values[try key(line[..<equals], line: number)] = String(line[line.index(after: equals)...])
            } else {
                throw Problem(
                    message: "$SLUICE_OUTPUT line \(number) is neither KEY=VALUE nor KEY<<DELIMITER: \(String(line.prefix(80)).debugDescription)")
            }
        }
        return values
    }

    /// A key as templates name it (`{{ steps.NAME.outputs.KEY }}`): a letter or `_`, then letters, digits, `_`, `-`.
    private static func key(_ text: Substring, line: Int) throws(Problem) -> String {
        let key = String(text)
        guard let first = key.unicodeScalars.first, first == "_" || first.properties.isAlphabetic, first.isASCII,
            key.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }),
            key.utf8.count <= 100
        else {
            throw Problem(
                message: "$SLUICE_OUTPUT line \(line): \(String(key.prefix(80)).debugDescription) is not a key: "
                    + "write letters, digits, _ and -, starting with a letter, at most 100")
        }
        return key
    }
}
