import Foundation

/// Sizes as settings write them: `100MB`, `1GB`, `500KB`, `2048` (bytes); units are powers of 1024.
enum ByteSize {
    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let value = text.trimmingCharacters(in: .whitespaces).uppercased()
        let (number, scale) = units.first { value.hasSuffix($0.0) }.map { (String(value.dropLast($0.0.count)), $0.1) } ?? (value, 1)
        guard let amount = Double(number.trimmingCharacters(in: .whitespaces)), amount >= 1, amount.isFinite else { return nil }
        return Int64(amount * Double(scale))
    }
}
