import GRDB
import PostgresNIO

// A store's own errors (SQLite busy, a lost PostgreSQL connection) reach every front end as what they mean.

extension DatabaseError: SluiceErrorConvertible {
    public var sluiceError: SluiceError { SluiceError(.store, "the store: \(StoreLocation.explain(self))") }
}

extension PostgresTransactionError: SluiceErrorConvertible {
    public var sluiceError: SluiceError { SluiceError(.store, "the store: \(StoreLocation.explain(self))") }
}

extension PSQLError: SluiceErrorConvertible {
    public var sluiceError: SluiceError { SluiceError(.store, "the store: \(StoreLocation.explain(self))") }
}
