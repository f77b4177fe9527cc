/// Text with `{{ NAME.PATH }}` references (`{{ item }}`, `{{ item.stem }}`, `{{ params.samples }}`, `{{ run.id }}`),
/// parsed once and rendered per run or per fan-out instance.
///
/// Only braces that open on a name are a reference: `{{.Names}}` (a Go template handed to `docker ps`) and other
/// brace text stay as written.
struct Template: Sendable {
    struct Reference: Sendable, Equatable {
        /// `["params", "samples"]` for `{{ params.samples }}`.
        var path: [String]
        /// Where `{{` is in the text, in characters: added to the field's column in diagnostics.
        var offset: Int
        var text: String { path.joined(separator: ".") }
    }

    enum Part: Sendable {
        case text(String)
        case reference(Reference)
    }

    /// Why a template cannot be read, at `offset` characters into the text.
    struct Problem: Error, Sendable {
        var message: String
        var offset: Int
    }

    let parts: [Part]

    var references: [Reference] {
        parts.compactMap { if case let .reference(reference) = $0 { reference } else { nil } }
    }

    var isPlain: Bool { references.isEmpty }

    /// Whether `text` may hold a reference: it has `{{` (a scan of its bytes, cheap enough to ask of every field).
    static func mayHoldReferences(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "{"), previous == byte { return true }
            previous = byte
        }
        return false
    }

    init(parsing text: String) throws(Problem) {
        guard Self.mayHoldReferences(text) else {
            parts = [.text(text)]
            return
        }
        var parts: [Part] = []
        var literal = ""
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            guard characters[index] == "{", index + 1 < characters.count, characters[index + 1] == "{" else {
                literal.append(characters[index])
                index += 1
                continue
            }
            var cursor = index + 2
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor < characters.count, characters[cursor].isLetter || characters[cursor] == "_" else {
                literal += "{{"
                index += 2
                continue
            }
            let start = cursor
            while cursor < characters.count, Self.isNameCharacter(characters[cursor]) { cursor += 1 }
            let name = String(characters[start..<cursor])
            while cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor + 1 < characters.count, characters[cursor] == "}", characters[cursor + 1] == "}" else {
                throw Problem(message: "'{{ \(name)' is not closed by '}}', or holds more than a name", offset: index)
            }
            let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                throw Problem(message: "'{{ \(name) }}' has an empty part between dots", offset: index)
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(.reference(Reference(path: path, offset: index)))
            index = cursor + 2
        }
        if !literal.isEmpty || parts.isEmpty { parts.append(.text(literal)) }
        self.parts = parts
    }

    /// `text` as one shell word of a command Sluice writes, its references left as written: they are filled in,
    /// shell-quoted, as in any command (a `pipeline:` step's parameters, a `wait_for:` target).
    static func shellWord(_ text: String) -> String {
        guard let template = try? Template(parsing: text), !template.isPlain else { return ShellQuote.quote(text) }
        return template.parts.map { part in
            switch part {
            case let .text(literal): ShellQuote.quote(literal)
            case let .reference(reference): "{{ \(reference.text) }}"
            }
        }.joined()
    }

    /// Text taken as written.
    init(literal text: String) { parts = [.text(text)] }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "-" || character == "."
    }

    /// The text with each reference replaced by `value(reference)`; nil from it leaves a ``marker(_:)``, filled in
    /// when the value is known: `{{ run.id }}` at launch, `{{ steps.NAME.outputs.KEY }}` once that step has ended.
    func render<Failure: Error>(_ value: (Reference) throws(Failure) -> String?) throws(Failure) -> String {
        var result = ""
        for part in parts {
            switch part {
            case let .text(text): result += text
            case let .reference(reference): result += try value(reference) ?? Self.marker(reference.text)
            }
        }
        return result
    }

    /// Where the value of `name` (`run.id`) goes once it is known: between NULs, which no parameter, item or value
    /// may hold, so no value can put a marker there itself; and no process could receive one.
    static func marker(_ name: String) -> String { "\u{0}\(name)\u{0}" }

    /// Whether `text` holds a marker.
    static func hasMarkers(_ text: String) -> Bool { text.utf8.contains(0) }

    /// The names of the markers in `text`.
    static func markers(in text: String) -> [String] {
        guard hasMarkers(text) else { return [] }
        let parts = text.split(separator: "\u{0}", omittingEmptySubsequences: false)
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }

    /// `text` with each marker whose `value(name)` is not nil replaced by it.
    static func fillMarkers(_ text: String, _ value: (String) -> String?) -> String {
        guard hasMarkers(text) else { return text }
        let parts = text.split(separator: "\u{0}", omittingEmptySubsequences: false)
        var result = ""
        for (position, part) in parts.enumerated() {
            if position % 2 == 0 || position == parts.count - 1 {
                result += part
            } else {
                result += value(String(part)) ?? marker(String(part))
            }
        }
        return result
    }
}
