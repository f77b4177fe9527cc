import Foundation

/// Durations as pipeline files write them: `90s`, `5m`, `1h30m`, `250ms` or a bare number of seconds, up to
/// ``maximum`` (longer ones are mistakes, and timers would overflow).
public enum DurationText {
    public static let maximum: Double = 366 * 86400

    public static func seconds(_ text: String) -> Double? {
        parse(text).flatMap { $0 <= maximum ? $0 : nil }
    }

    /// Whether `text` is a duration, bounded or not (to tell "not a duration" from "too long").
    static func parse(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let bare = Double(text) { return bare >= 0 && bare.isFinite ? bare : nil }
        var total = 0.0
        var number = ""
        var unit = ""
        var sawPart = false
        func flush() -> Bool {
            guard let value = Double(number) else { return false }
            let scale: Double? =
                switch unit {
                case "ms": 0.001
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86400
                default: nil
                }
            guard let scale else { return false }
            total += value * scale
            number = ""
            unit = ""
            sawPart = true
            return true
        }
        for character in text {
            if character.isNumber || character == "." {
                if !unit.isEmpty, !flush() { return nil }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, flush(), sawPart else { return nil }
        return total
    }
}
