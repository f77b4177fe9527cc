/// Where a template stands in a step's command, as bash reads it: a value Sluice puts there is one quoted word, and
/// that is inert only where bash takes a word as data. Elsewhere bash reads the value again as code: in quotes of
/// the command's own (the value's quotes end them), after a backslash (it undoes the opening quote), in a
/// here-document (quotes mean nothing there), in arithmetic and `[[ ]]` (subscripts run `$(...)`), and where a
/// builtin takes a variable's name (the same).
enum CommandContext {
    /// Why a value at `offset` of `command` would not be inert, or nil when it is.
    static func danger(in command: String, at offset: Int) -> String? {
        let before = Array(command.prefix(offset))
        if before.last == "\\" { return "after a backslash" }
        if inQuotes(before) { return "inside quotes" }
        if command.contains("<<") { return "in a command with a here-document" }
        if command.contains("((") || command.contains("[[") { return "in a command with arithmetic or [[ ]]" }
        let words = String(before).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ";" })
        if let word = words.last.map(String.init), nameTakers.contains(word) || words.contains("let") {
            return "where bash takes a variable's name"
        }
        return nil
    }

    /// Words after which bash reads a variable's name, whose subscript it evaluates.
    private static let nameTakers: Set<String> = [
        "-v", "read", "declare", "typeset", "local", "export", "readonly", "unset", "let", "-n", "mapfile", "readarray",
    ]

    /// Whether the end of `text` is inside single, double or `$'…'` quotes.
    private static func inQuotes(_ text: [Character]) -> Bool {
        var single = false, double = false, ansi = false, escaped = false
        var previous: Character = " "
        for character in text {
            defer { previous = character }
            if escaped {
                escaped = false
            } else if character == "\\" && (ansi || !single) {
                escaped = true
            } else if character == "'" && ansi {
                ansi = false
            } else if character == "'" && !double && !single && previous == "$" {
                ansi = true
            } else if character == "'" && !double {
                single.toggle()
            } else if character == "\"" && !single && !ansi {
                double.toggle()
            }
        }
        return single || double || ansi
    }
}
