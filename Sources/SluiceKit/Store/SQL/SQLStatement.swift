import Foundation

/// A value bound into a statement of either store.
enum SQLValue: Sendable {
    case text(String)
    case integer(Int64)
    case real(Double)
    /// A `BOOLEAN` in PostgreSQL, 0 or 1 in SQLite.
    case bool(Bool)
    case null

    static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    static func integer<T: BinaryInteger>(_ value: T?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    static func real(_ value: Double?) -> SQLValue { value.map(SQLValue.real) ?? .null }
    static func date(_ value: Date?) -> SQLValue { .real(value?.timeIntervalSince1970) }
    static func json(_ value: (some Encodable)?) throws -> SQLValue { .text(try value.map(jsonText)) }
}

/// A statement in the SQL both stores speak (``StoreSQL``), with a `?` for each of its values.
struct SQLStatement: Sendable {
    var sql: String
    var values: [SQLValue]

    init(_ sql: String, _ values: [SQLValue] = []) {
        self.sql = sql
        self.values = values
    }

    /// `sql` with PostgreSQL's numbered placeholders (`$1`, `$2`, ...) for SQLite's `?`, outside quoted text.
    var numberedPlaceholders: String {
        var text = ""
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        assert(number == values.count, "\(number) placeholders for \(values.count) values in: \(sql)")
        return text
    }
}

/// Where the two stores' SQL differs: only in how a JSON value is written (PostgreSQL keeps `triggerdetail` as
/// `JSONB`; SQLite keeps JSON as text and reads it with the same `->>`).
enum SQLDialect: Sendable {
    case sqlite, postgres

    /// A placeholder for a JSON value given as text.
    var jsonPlaceholder: String { self == .postgres ? "?::jsonb" : "?" }

    /// After copying events with their numbers: new events are numbered after the copied ones (SQLite numbers them
    /// after the highest by itself).
    var afterImport: [SQLStatement] {
        self == .postgres ? [SQLStatement("SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST((SELECT max(seq) FROM events), 1))")] : []
    }
}

/// JSON text with sorted keys, as every JSON value in the stores is written.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
