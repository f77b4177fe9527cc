import Yams

/// Reads typed values out of YAML nodes, collecting a diagnostic for each problem instead of stopping at the first.
final class DefinitionReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    /// Merge keys can nest aliases of aliases; past this many merged entries a file is a merge bomb, not a pipeline.
    private var mergeBudget = 10_000

    /// The file's text, for columns inside block scalars (`command: |`); split into lines only when one is asked for.
    private let text: String?
    private lazy var lines: [Substring] = text?.split(separator: "\n", omittingEmptySubsequences: false) ?? []

    init(file: String, text: String? = nil) {
        self.file = file
        self.text = text
    }

    func location(_ node: Node?) -> SourceLocation {
        let mark = node?.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    /// Where `offset` characters into a scalar's value are: exact for a value on one line (after its opening quote,
    /// if quoted; escapes in a double-quoted value shift it) and in a literal block (`|`, whose lines are the file's
    /// from the next line on), else the value's start.
    func location(_ node: Node, at offset: Int) -> SourceLocation {
        var location = location(node)
        guard let scalar = node.scalar else { return location }
        if !scalar.string.contains("\n") {
            location.column += offset + (scalar.style == .singleQuoted || scalar.style == .doubleQuoted ? 1 : 0)
        } else if scalar.style == .literal, text != nil {
            let before = scalar.string.prefix(offset)
            let line = location.line + 1 + before.count { $0 == "\n" }
            guard line <= lines.count else { return location }
            // The block's own indentation: the file line's, less what the value's line keeps of it.
            let inLine = String(before.reversed().prefix { $0 != "\n" }.reversed())
            let indent = lines[line - 1].prefix { $0 == " " }.count - inLine.prefix { $0 == " " }.count
            location.line = line
            location.column = indent + 1 + inLine.count
        }
        return location
    }

    func report(_ code: Diagnostic.Code, _ node: Node?, _ message: String, fix: String? = nil) {
        diagnostics.append(Diagnostic(code, at: location(node), message, fix: fix))
    }

    func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// Something the pipeline probably does not mean; it stays valid.
    func warn(_ code: Diagnostic.Code, at location: SourceLocation, _ message: String, fix: String? = nil) {
        var diagnostic = Diagnostic(code, at: location, message, fix: fix)
        diagnostic.severity = .warning
        diagnostics.append(diagnostic)
    }

    /// The entries of a mapping in file order, reporting keys that are not in `known`.
    ///
    /// YAML merge keys (`<<: *defaults`) are applied, explicit keys winning; keys starting with `x-` are the
    /// user's own (a place for anchors, as in docker-compose files) and are passed over.
    func entries(of node: Node, known: [String], context: String) -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else {
            report(.wrongType, node, "\(context) must be a mapping of keys to values", fix: "write it as `key: value` lines")
            return []
        }
        var result: [(String, Node, Node)] = []
        var merged: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(.wrongType, keyNode, "\(context) has a key that is not text")
                continue
            }
            if key == "<<" {
                let sources = value.mapping != nil ? [value] : value.sequence.map(Array.init) ?? []
                guard !sources.isEmpty, sources.allSatisfy({ $0.mapping != nil }) else {
                    report(.wrongType, value, "'<<' in \(context) must merge a mapping or a list of mappings", fix: "write `<<: *anchor`")
                    continue
                }
                mergeBudget -= sources.count
                guard mergeBudget >= 0 else {
                    if mergeBudget + sources.count >= 0 {
                        report(.badValue, value, "merge keys ('<<') in this file expand to more than 10000 entries", fix: "merge less deeply")
                    }
                    continue
                }
                for source in sources { merged += entries(of: source, known: known, context: context) }
            } else if key.hasPrefix("x-") {
                continue
            } else if known.contains(key) {
                result.append((key, keyNode, value))
            } else {
                let hint =
                    Suggestion.closest(to: key, among: known).map { "did you mean '\($0)'?" }
                    ?? "known keys are: \(known.joined(separator: ", ")) (keys starting with x- are yours)"
                report(.unknownKey, keyNode, "unknown key '\(key)' in \(context)", fix: hint)
            }
        }
        var present = Set(result.map(\.0))
        for entry in merged where present.insert(entry.0).inserted { result.append(entry) }
        return result
    }

    func string(_ node: Node, _ field: String) -> String? {
        guard let scalar = node.scalar else {
            report(.wrongType, node, "'\(field)' must be a single value, not a \(kind(of: node))")
            return nil
        }
        return scalar.string
    }

    func strings(_ node: Node, _ field: String) -> [(String, Node)] {
        if node.scalar != nil { return string(node, field).map { [($0, node)] } ?? [] }
        guard let sequence = node.sequence else {
            report(.wrongType, node, "'\(field)' must be a list of names", fix: "write it as [a, b]")
            return []
        }
        return sequence.compactMap { item in string(item, field).map { ($0, item) } }
    }

    func bool(_ node: Node, _ field: String) -> Bool? {
        guard let text = string(node, field) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(.wrongType, node, "'\(field)' must be true or false, not '\(text)'")
            return nil
        }
    }

    func duration(_ node: Node, _ field: String) -> Double? {
        guard let text = string(node, field) else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            if DurationText.parse(text) != nil {
                report(.badValue, node, "'\(field)' is longer than 366 days: '\(text)'", fix: "write a shorter duration")
            } else {
                report(.badValue, node, "'\(field)' is not a duration: '\(text)'", fix: "write 90s, 5m, 1h30m or a number of seconds")
            }
            return nil
        }
        return seconds
    }

    func number(_ node: Node, _ field: String, atLeast minimum: Double) -> Double? {
        guard let text = string(node, field) else { return nil }
        guard let value = Double(text), value >= minimum, value.isFinite else {
            report(.badValue, node, "'\(field)' must be a number of at least \(minimum.formatted), not '\(text)'")
            return nil
        }
        return value
    }

    func wholeNumber(_ node: Node, _ field: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, field) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            report(.badValue, node, "'\(field)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            return nil
        }
        return value
    }

    func environment(_ node: Node, _ context: String) -> [String: String] {
        var environment: [String: String] = [:]
        guard let mapping = node.mapping else {
            report(.wrongType, node, "'env' in \(context) must map variable names to values", fix: "write NAME: value lines")
            return [:]
        }
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, EnvironmentName.isValid(name) else {
                report(
                    .badValue, keyNode, "'\(keyNode.scalar?.string ?? "?")' is not a valid environment variable name",
                    fix: "use letters, digits and underscores, not starting with a digit")
                continue
            }
            guard !EnvironmentName.reserved.contains(name) else {
                report(
                    .badValue, keyNode, "'\(name)' is set by Sluice for every step; 'env' in \(context) cannot change it",
                    fix: "give the variable another name")
                continue
            }
            if let text = string(value, name) { environment[name] = text }
        }
        return environment
    }

    private func kind(of node: Node) -> String {
        switch node {
        case .mapping: "mapping"
        case .sequence: "list"
        case .scalar: "value"
        case .alias: "alias"
        }
    }
}

enum EnvironmentName {
    /// What Sluice sets for every step (``RunContext``): an `env` that set one would hide the run from the step, or
    /// the step's processes from orphan reaping.
    static let reserved: Set<String> = [
        "SLUICE_RUN_ID", "SLUICE_PIPELINE", "SLUICE_WORKSPACE", "SLUICE_RUN_DIR", "SLUICE_OUTPUTS_DIR",
        "SLUICE_WORKING_DIR", "SLUICE_LOGS_DIR", "SLUICE_SCHEDULED_FOR", "SLUICE_CHANGED_PATHS",
        "SLUICE_INTERVAL", "SLUICE_STEP", "SLUICE_ATTEMPT", "SLUICE_OUTPUT", "SLUICE_TOKEN", "SLUICE_ITEM",
    ]

    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

extension Double {
    /// `3` rather than `3.0` for whole numbers, for messages.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
