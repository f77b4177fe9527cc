/// Short run identifiers (six characters); the store checks each against those it has.
enum RunID {
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")

    static func make(length: Int = 6) -> String {
        String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
