import Foundation

/// The forms in which a secret's value could be written out, and how to hide them.
///
/// A value is masked as it is, base64-encoded (with and without padding) and URL-encoded (either hex case, `+` or
/// `%20` for spaces), since steps often pass tokens through HTTP headers and URLs.
public struct SecretMask: Sendable, Codable {
    public static let replacement = Array("***".utf8)

    /// The secrets themselves: what a mask is sent as to another process (a worker, a Slurm job).
    let values: [String]

    /// Every form of every secret, longest first (a longer form wins where two overlap).
    let patterns: [[UInt8]]
    /// Which bytes can start a pattern: most positions are passed over with one lookup.
    let firstBytes: Set<UInt8>

    public init(values: [String]) {
        self.values = values
        var forms = Set<[UInt8]>()
        for value in values where !value.isEmpty {
            let bytes = Array(value.utf8)
            forms.insert(bytes)
            let base64 = Data(bytes).base64EncodedString()
            forms.insert(Array(base64.utf8))
            forms.insert(Array(base64.trimmingCharacters(in: ["="]).utf8))
            for encoded in Self.urlEncodings(of: value) { forms.insert(Array(encoded.utf8)) }
        }
        patterns = forms.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        firstBytes = Set(patterns.compactMap(\.first))
    }

    public init(from decoder: any Decoder) throws { self.init(values: try [String](from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }

    public var isEmpty: Bool { patterns.isEmpty }
    var longest: Int { patterns.first?.count ?? 0 }

    /// `text` with every form of every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        guard !isEmpty else { return text }
        var masker = StreamMasker(mask: self)
        return String(decoding: masker.feed(Array(text.utf8)) + masker.finish(), as: UTF8.self)
    }

    private static func urlEncodings(of value: String) -> [String] {
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

/// Masks secrets in a stream of output chunks: a secret split across two chunks is still found, because the
/// last bytes of a chunk that could begin one wait for the next chunk.
public struct StreamMasker: Sendable {
    let mask: SecretMask
    private var pending: [UInt8] = []

    public init(mask: SecretMask) { self.mask = mask }

    /// The bytes of `chunk` (and of earlier held-back bytes) that are safe to write, masked.
    public mutating func feed(_ chunk: [UInt8]) -> [UInt8] { process(pending + chunk, final: false) }

    /// Whatever was held back, masked: call at the end of the stream.
    public mutating func finish() -> [UInt8] { process(pending, final: true) }

    private mutating func process(_ data: [UInt8], final: Bool) -> [UInt8] {
        // From `safeEnd` on, a match may still be completed by the next chunk.
        let safeEnd = final ? data.count : data.count - (mask.longest - 1)
        var output: [UInt8] = []
        output.reserveCapacity(data.count)
        var index = 0
        scanning: while index < data.count {
            if index >= safeEnd { break }
            if mask.firstBytes.contains(data[index]) {
                for pattern in mask.patterns where pattern.count <= data.count - index
                    && data[index..<(index + pattern.count)].elementsEqual(pattern) {
                    output += SecretMask.replacement
                    index += pattern.count
                    continue scanning
                }
            }
            output.append(data[index])
            index += 1
        }
        pending = Array(data[index...])
        return output
    }
}
