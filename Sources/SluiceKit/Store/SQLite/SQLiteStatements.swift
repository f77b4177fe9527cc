import GRDB
import GRDBSQLite

/// SQLite copies transient text before `sqlite3_bind_text` returns; the C macro is not imported into Swift.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension Statement {
    /// Runs a cached statement with `values`, binding them through SQLite's C API.
    ///
    /// The engine records eight rows per step; GRDB's general-purpose argument handling cost more than SQLite
    /// itself there. Use it only for writes whose observers nobody needs (none are registered on the store).
    func run(_ values: [SQLValue]) throws {
        let statement = sqliteStatement
        sqlite3_reset(statement)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case let .text(text): sqlite3_bind_text(statement, index, text, -1, transient)
            case let .integer(number): sqlite3_bind_int64(statement, index, number)
            case let .real(number): sqlite3_bind_double(statement, index, number)
            case let .bool(flag): sqlite3_bind_int64(statement, index, flag ? 1 : 0)
            case .null: sqlite3_bind_null(statement, index)
            }
        }
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement))))
        }
    }

    func run(_ values: SQLValue...) throws { try run(values) }
}

extension Database {
    /// Runs `statement`, prepared once per connection.
    func run(_ statement: SQLStatement) throws { try cachedStatement(sql: statement.sql).run(statement.values) }

    /// The rows `statement` returns (all of them: a write's `RETURNING` rows too).
    func rows<T: StoreRecord>(_ statement: SQLStatement, as type: T.Type) throws -> [T] {
        let cursor = try Row.fetchCursor(cachedStatement(sql: statement.sql), arguments: statement.arguments)
        var records: [T] = []
        while let row = try cursor.next() { records.append(try T(row: row)) }
        return records
    }

    /// The first column of the first row `statement` returns; nil when none came back or it is NULL.
    func value<T: StoreValue>(_ statement: SQLStatement, as type: T.Type) throws -> T? {
        try T.fetchOne(cachedStatement(sql: statement.sql), arguments: statement.arguments)
    }
}

extension SQLStatement {
    var arguments: StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case let .text(text): text
                case let .integer(number): number
                case let .real(number): number
                case let .bool(flag): flag
                case .null: nil
                }
            })
    }
}

extension Row: StoreRow {
    func value<T: StoreValue>(_ column: String, as type: T.Type) throws -> T? { try decode(T?.self, forColumn: column) }
}
