import Foundation

/// One written form of a secret, as bytes to find in output.
struct SecretPattern: Sendable {
    let bytes: [UInt8]
    /// An encoder's output (base64, hex) may be wrapped across lines (`base64` and MIME break at 76 columns,
    /// `xxd -p` at 60): one line break between two of its characters still matches.
    let wraps: Bool

    enum Match { case found(end: Int), incomplete, different }

    /// Whether the form starts at `start` in `data`; incomplete when `data` ends before it could tell.
    func match(in data: [UInt8], at start: Int) -> Match {
        var position = start
        for (offset, byte) in bytes.enumerated() {
            if wraps, offset > 0 {
                if position < data.count, data[position] == Self.lineFeed {
                    position += 1
                } else if position + 1 < data.count, data[position] == Self.carriageReturn, data[position + 1] == Self.lineFeed {
                    position += 2
                } else if position + 1 == data.count, data[position] == Self.carriageReturn {
                    return .incomplete
                }
            }
            guard position < data.count else { return .incomplete }
            guard data[position] == byte else { return .different }
            position += 1
        }
        return .found(end: position)
    }

    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static func isLineBreak(_ byte: UInt8) -> Bool { byte == lineFeed || byte == carriageReturn }
}

/// The forms in which a step could write a secret out: as it is, URL-encoded (either hex case, `+` or `%20` for
/// spaces), base64-encoded alone (with and without padding) or inside a longer text (an HTTP Basic `user:secret`),
/// and hex-encoded (either case).
enum SecretForms {
    /// Forms derived from shorter secrets would match ordinary text by chance: a 3-byte secret's base64 cores are 3
    /// or 4 characters long.
    static let shortestForDerivedForms = 4

    static func patterns(of value: String) -> [SecretPattern] {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return [] }
        let base64 = Data(bytes).base64EncodedString()
        let plain = [value] + urlEncodings(of: value) + escapedForms(of: value)
        var encoded = [base64, base64.trimmingCharacters(in: ["="])]
        if bytes.count >= shortestForDerivedForms { encoded += base64Cores(of: bytes) + hexEncodings(of: bytes) }
        return plain.map { SecretPattern(bytes: Array($0.utf8), wraps: false) } + encoded.map { SecretPattern(bytes: Array($0.utf8), wraps: true) }
    }

    /// What any base64 text containing `bytes` holds, whatever comes before and after: base64 encodes 3 bytes as 4
    /// characters, so the secret starts at one of 3 alignments. At each, the characters that depend only on the
    /// secret's bits; the first and last characters mix in the neighbouring bytes and are left out.
    static func base64Cores(of bytes: [UInt8]) -> [String] {
        (0..<3).map { offset in
            let encoded = Array((Data(count: offset) + bytes).base64EncodedString().utf8)
            let first = (8 * offset + 5) / 6  // the first character whose 6 bits all come from the secret
            let end = 8 * (offset + bytes.count) / 6  // past the last such character
            return String(decoding: encoded[first..<end], as: UTF8.self)
        }
    }

    static func hexEncodings(of bytes: [UInt8]) -> [String] {
        let lower = bytes.map { String(format: "%02x", $0) }.joined()
        return [lower, lower.uppercased()]
    }

    /// The value as reports and messages quote it: escaped for HTML (the report escapes before it masks) and as a
    /// quoted string (an error quoting a bad line), where `"` or `\` would otherwise hide the value from the mask.
    static func escapedForms(of value: String) -> [String] {
        let quoted = String(value.debugDescription.dropFirst().dropLast())
        return [Markup.escape(value), quoted].filter { $0 != value }
    }

    static func urlEncodings(of value: String) -> [String] {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        guard let upper = value.addingPercentEncoding(withAllowedCharacters: unreserved) else { return [] }
        var lower = ""
        var index = upper.startIndex
        while index < upper.endIndex {
            if upper[index] == "%", let end = upper.index(index, offsetBy: 3, limitedBy: upper.endIndex) {
                lower += upper[index..<end].lowercased()
                index = end
            } else {
                lower.append(upper[index])
                index = upper.index(after: index)
            }
        }
        return [upper, lower].flatMap { [$0, $0.replacingOccurrences(of: "%20", with: "+")] }
    }
}
