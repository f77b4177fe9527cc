/// Values written so that `set -a; . .env` in bash gives them back unchanged, and so do dotenv readers (python-dotenv)
/// unless a value holds a line break, `${` (python-dotenv expands it within any quotes), or both a quote or backslash
/// and a `$` or backtick (no quoting means the same to both then). One line holds one variable: a line break in a value is written as bash's `$'…\n…'`, never as a line
/// that a line-based reader would take for a variable of its own.
/// The same quoting keeps a value templated into a step's command (`{{ item }}`) one word that bash runs nothing of.
public enum ShellQuote {
    public static func quote(_ value: String) -> String {
        let scalars = value.unicodeScalars
        func holds(_ characters: String) -> Bool { scalars.contains { characters.unicodeScalars.contains($0) } }
        if !scalars.isEmpty, scalars.allSatisfy(plain.contains) { return value }
        if holds("\n\r") { return "$'" + escaped(value, ["\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r"]) + "'" }
        // Single quotes keep everything as it is in the shell; dotenv readers take \\ and \' in them as escapes.
        if !holds("'\\") { return "'" + value + "'" }
        // In double quotes the shell and dotenv readers agree on \\ and \", but not on $ and `.
        if !holds("$`") { return "\"" + escaped(value, ["\\": "\\\\", "\"": "\\\""]) + "\"" }
        return "'" + escaped(value, ["'": "'\\''"]) + "'"
    }

    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:@%+,".unicodeScalars)

    /// `value` with each scalar that `replacements` names replaced; scalar by scalar, since "\r\n" is one Character.
    private static func escaped(_ value: String, _ replacements: [Unicode.Scalar: String]) -> String {
        value.unicodeScalars.reduce(into: "") { text, scalar in
            if let replacement = replacements[scalar] { text += replacement } else { text.unicodeScalars.append(scalar) }
        }
    }
}
