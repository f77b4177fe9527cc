import Foundation
import PostgresNIO

/// Where a workspace's runs are kept, from the `store` setting: an SQLite file (a path, or `sqlite:PATH`), or a
/// PostgreSQL database (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`) that several hosts share.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Relative SQLite paths are taken from `workspace`.
    public init(setting: String, workspace: String) {
        if setting.hasPrefix("postgres://") || setting.hasPrefix("postgresql://") {
            self = .postgres(url: setting)
        } else {
            let path = setting.hasPrefix("sqlite:") ? String(setting.dropFirst("sqlite:".count)) : setting
            self = .sqlite(path: path.hasPrefix("/") ? path : (workspace as NSString).appendingPathComponent(path))
        }
    }

    /// Why `setting` names no store, if it does not.
    public static func problem(_ setting: String) -> String? {
        if setting.isEmpty || setting == "sqlite:" { return "must not be empty" }
        if let scheme = setting.range(of: "://").map({ setting[..<$0.lowerBound] }), !scheme.contains("/"),
            !["postgres", "postgresql"].contains(scheme.lowercased())
        {
            return "names an unknown kind of store ('\(scheme)://'): use a file path, sqlite:PATH or postgres://USER@HOST/DATABASE"
        }
        if setting.hasPrefix("postgres://") || setting.hasPrefix("postgresql://"), case let .failure(problem) = PostgresAddress.parse(setting) {
            return problem.message
        }
        return nil
    }

    /// The location for messages: a URL's password is masked.
    public var description: String {
        switch self {
        case let .sqlite(path): path
        case let .postgres(url): PostgresRunStore.redacted(url)
        }
    }

    /// Opens the store, creating it and applying pending migrations when needed (unless `migrate` is false).
    public func open(timeout: Double = 30, migrate: Bool = true) async throws -> any RunStore {
        switch self {
        case let .sqlite(path): try SQLiteRunStore(path: path, timeout: timeout, migrate: migrate)
        case let .postgres(url): try await PostgresRunStore(url: url, migrate: migrate)
        }
    }

    /// What a failure of a store means for the user, whichever store it is.
    public static func explain(_ error: any Error) -> String {
        switch error {
        case let error as SluiceError: error.message
        case is PSQLError, is PostgresTransactionError: PostgresRunStore.explain(error)
        default: SQLiteRunStore.explain(error)
        }
    }
}
