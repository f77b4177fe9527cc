/// Reads the text of an `if:` into a ``Condition``'s tree, by recursive descent:
///
///     or      := and ("or" and)*
///     and     := not ("and" not)*
///     not     := "not" not | compare
///     compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
///     operand := 'text' | "text" | number | true | false | name(.name)* | [literal, ...] | ( or )
struct ConditionParser {
    private enum Token: Equatable {
        case word(String), text(String), number(Double), symbol(String), end
    }

    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0
    private let source: String
    /// Nesting of parentheses, lists and `not`: deep enough for any real condition, and no deeper, so that no input
    /// can exhaust the stack.
    private var depth = 0
    private static let maximumDepth = 50
    private static let maximumTokens = 500

    init(_ source: String) { self.source = source }

    mutating func parse() throws(Condition.Problem) -> Condition.Node {
        tokens = try Self.tokenize(source)
        guard tokens.count > 1 else { throw Condition.Problem(message: "the condition is empty", offset: 0) }
        // Evaluating follows the tree: a chain of thousands of `and`s would be as deep.
        guard tokens.count <= Self.maximumTokens else {
            throw Condition.Problem(message: "the condition has more than \(Self.maximumTokens) words and symbols", offset: 0)
        }
        let node = try or()
        guard current == .end else { throw problem("unexpected \(describe(current))") }
        return node
    }

    private var current: Token { tokens[position].token }

    private func problem(_ message: String) -> Condition.Problem {
        Condition.Problem(message: message, offset: tokens[position].offset)
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case let .word(word): "'\(word)'"
        case let .text(text): "'\(text)'"
        case let .number(number): number.formatted
        case let .symbol(symbol): "'\(symbol)'"
        case .end: "end of the condition"
        }
    }

    private mutating func or() throws(Condition.Problem) -> Condition.Node {
        var node = try and()
        while current == .word("or") {
            position += 1
            node = .or(node, try and())
        }
        return node
    }

    private mutating func and() throws(Condition.Problem) -> Condition.Node {
        var node = try not()
        while current == .word("and") {
            position += 1
            node = .and(node, try not())
        }
        return node
    }

    private mutating func not() throws(Condition.Problem) -> Condition.Node {
        guard current == .word("not") else { return try compare() }
        position += 1
        try deeper()
        defer { depth -= 1 }
        return .not(try not())
    }

    private mutating func deeper() throws(Condition.Problem) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw problem("the condition nests more than \(Self.maximumDepth) deep") }
    }

    private mutating func compare() throws(Condition.Problem) -> Condition.Node {
        let left = try operand()
        let op: Condition.Operator
        switch current {
        case let .symbol(symbol) where Condition.Operator(rawValue: symbol) != nil: op = Condition.Operator(rawValue: symbol)!
        case .word("in"): op = .in
        case .word("not") where tokens[position + 1].token == .word("in"):
            position += 1
            op = .notIn
        default: return left
        }
        position += 1
        return .compare(left, op, try operand())
    }

    private mutating func operand() throws(Condition.Problem) -> Condition.Node {
        let (token, offset) = tokens[position]
        position += 1
        switch token {
        case let .text(text): return .literal(.text(text))
        case let .number(number): return .literal(.number(number))
        case .word("true"): return .literal(.bool(true))
        case .word("false"): return .literal(.bool(false))
        case let .word(word) where !["and", "or", "not", "in"].contains(word):
            return .name(word.split(separator: ".", omittingEmptySubsequences: false).map(String.init), offset: offset)
        case .symbol("("):
            try deeper()
            defer { depth -= 1 }
            let node = try or()
            guard current == .symbol(")") else { throw problem("'(' is not closed by ')'") }
            position += 1
            return node
        case .symbol("["):
            try deeper()
            defer { depth -= 1 }
            var values: [Condition.Value] = []
            while current != .symbol("]") {
                guard case let .literal(value) = try operand() else { throw problem("a list holds values ('a', 3, true), not names") }
                values.append(value)
                if current == .symbol(",") { position += 1 } else if current != .symbol("]") { throw problem("expected ',' or ']'") }
            }
            position += 1
            return .list(values)
        default:
            position -= 1
            throw problem("expected a value or a name, not \(describe(token))")
        }
    }

    private static func tokenize(_ source: String) throws(Condition.Problem) -> [(token: Token, offset: Int)] {
        let characters = Array(source)
        var tokens: [(token: Token, offset: Int)] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let start = index
            if character.isWhitespace {
                index += 1
            } else if character == "'" || character == "\"" {
                index += 1
                var text = ""
                while index < characters.count, characters[index] != character {
                    text.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw Condition.Problem(message: "the quote is not closed", offset: start) }
                index += 1
                tokens.append((.text(text), start))
            } else if character.isNumber || (character == "-" && index + 1 < characters.count && characters[index + 1].isNumber) {
                index += 1
                while index < characters.count, characters[index].isNumber || characters[index] == "." { index += 1 }
                guard let number = Double(String(characters[start..<index])) else {
                    throw Condition.Problem(message: "'\(String(characters[start..<index]))' is not a number", offset: start)
                }
                tokens.append((.number(number), start))
            } else if character.isLetter || character == "_" {
                while index < characters.count,
                    characters[index].isLetter || characters[index].isNumber || "_.-".contains(characters[index])
                {
                    index += 1
                }
                tokens.append((.word(String(characters[start..<index])), start))
            } else if let symbol = ["==", "!=", "<=", ">="].first(where: { characters[index...].starts(with: $0) }) {
                index += 2
                tokens.append((.symbol(symbol), start))
            } else if "<>()[],".contains(character) {
                index += 1
                tokens.append((.symbol(String(character)), start))
            } else {
                throw Condition.Problem(
                    message: "'\(character)' has no meaning in a condition"
                        + (character == "{" ? ": a condition names values without braces (steps.NAME.outputs.KEY, params.NAME)" : ""),
                    offset: start)
            }
        }
        tokens.append((.end, characters.count))
        return tokens
    }
}
