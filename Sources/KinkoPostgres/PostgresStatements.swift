import KinkoCore
import KinkoGovernance
import Logging
import PostgresNIO

/// What every PostgreSQL store does the same way: a write that may change nothing, the rows a
/// statement changed, an id an insert returned.
extension KinkoPostgresDatabase {
    private struct NothingChanged: Error {}

    /// Runs an audited write whose body reports whether it changed what it meant to; false
    /// rolls the transaction back (no audit entry for a change that did not happen).
    func change(audit: AuditEvent, _ body: (PostgresConnection) async throws -> Bool) async throws -> Bool {
        do {
            return try await audited(audit) { connection in
                guard try await body(connection) else { throw NothingChanged() }
                return true
            }
        } catch is NothingChanged {
            return false
        }
    }

    /// The rows a statement ending in `RETURNING 1` changed (counted from its rows, not from
    /// the command tag).
    static func count(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: logger).decode(Int32.self) { count += 1 }
        return count
    }

    /// Whether a statement ending in `RETURNING 1` changed exactly one row.
    static func affected(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await count(connection, query, logger: logger) == 1
    }

    /// Whether a query returns a row (read to its end).
    static func exists(_ connection: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Bool {
        try await run(query, on: connection, logger: logger) > 0
    }

    /// The id an `INSERT … RETURNING id` returned.
    static func newID(_ rows: PostgresRowSequence) async throws -> UInt64 {
        var id: Int64?
        for try await value in rows.decode(Int64.self) { id = value }
        guard let id else { throw KinkoError(.storageFailure, "an insert returned no id") }
        return UInt64(id)
    }
}
