import Foundation

/// Hides every written form of secrets' values (``SecretForms``).
public struct SecretMask: Sendable, Codable {
    public static let replacement = Array("***".utf8)

    /// The secrets themselves: what a mask is sent as to another process (a worker, a Slurm job).
    let values: [String]

    /// Every form of every secret, longest first (a longer form wins where two overlap).
    let patterns: [SecretPattern]
    /// Which bytes can start a pattern: most positions are passed over with one lookup.
    let firstBytes: [Bool]
    /// The patterns, by their first byte.
    let candidates: [[SecretPattern]]

    public init(values: [String]) {
        self.values = values
        // A form that is both plain and encoded (one secret's text is another's base64) may wrap.
        var forms: [[UInt8]: Bool] = [:]
        for pattern in values.flatMap(SecretForms.patterns) where forms[pattern.bytes] != true { forms[pattern.bytes] = pattern.wraps }
        patterns = forms.map { SecretPattern(bytes: $0.key, wraps: $0.value) }.sorted {
            $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.bytes.lexicographicallyPrecedes($1.bytes)
        }
        var candidates = [[SecretPattern]](repeating: [], count: 256)
        for pattern in patterns { candidates[Int(pattern.bytes[0])].append(pattern) }
        self.candidates = candidates
        firstBytes = candidates.map { !$0.isEmpty }
    }

    public init(from decoder: any Decoder) throws { self.init(values: try [String](from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }

    public var isEmpty: Bool { patterns.isEmpty }

    /// `text` with every form of every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        guard !isEmpty else { return text }
        var masker = StreamMasker(mask: self)
        return String(decoding: masker.feed(Array(text.utf8)) + masker.finish(), as: UTF8.self)
    }
}

/// Masks secrets in a stream of output chunks: a secret split across two chunks (or, encoded, across two lines) is
/// still found, because the last bytes of a chunk that begin a form of one wait for the next chunk.
public struct StreamMasker: Sendable {
    let mask: SecretMask
    private var pending: [UInt8] = []

    public init(mask: SecretMask) { self.mask = mask }

    /// The bytes of `chunk` (and of earlier held-back bytes) that are safe to write, masked.
    public mutating func feed(_ chunk: [UInt8]) -> [UInt8] { process(pending + chunk, final: false) }

    /// Whatever was held back, masked: call at the end of the stream.
    public mutating func finish() -> [UInt8] { process(pending, final: true) }

    private mutating func process(_ data: [UInt8], final: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count)
        var index = 0
        scanning: while index < data.count {
            if mask.firstBytes[Int(data[index])] {
                for pattern in mask.candidates[Int(data[index])] {
                    switch pattern.match(in: data, at: index) {
                    case let .found(end):
                        output += SecretMask.replacement
                        // A wrapped form keeps its line breaks: the log keeps its lines.
                        if pattern.wraps { output += data[index..<end].filter(SecretPattern.isLineBreak) }
                        index = end
                        continue scanning
                    case .incomplete where !final:
                        break scanning  // the next chunk tells; what precedes is safe to write
                    case .incomplete, .different:
                        continue
                    }
                }
            }
            output.append(data[index])
            index += 1
        }
        pending = Array(data[index...])
        return output
    }
}
