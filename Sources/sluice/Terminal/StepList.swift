import Foundation

/// Step names given to `--only`, `--skip`, `--from` and `--to`: several flags, or names separated by commas, but
/// for commas between brackets, which belong to a matrix instance's name (`report[eu,2024]`).
enum StepList {
    static func split(_ text: String) -> [String] {
        var names: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            case "," where depth == 0:
                names.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        names.append(current)
        return names.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
