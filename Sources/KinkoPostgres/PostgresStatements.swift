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
        for try await _ in try await connection.answered(query, logger: logger).decode(Int32.self) { count += 1 }
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

extension PostgresConnection {
    /// `query`, failed with a retryable `storage_unavailable` when the connection closes without
    /// answering it. postgres-nio 1.33.2 never answers a query written to a connection the
    /// server has just closed (a restart ends every session, also one idle between two
    /// statements of a transaction), and the caller would wait forever. A check on the
    /// connection's event loop every half second notices. Every Kinko statement goes through
    /// here. (An abandoned query leaves one suspended task behind, a few hundred bytes.)
    @discardableResult
    func answered(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw Self.closedError }
        let answer = eventLoop.makePromise(of: PostgresRowSequence.self)
        let watch = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(500), delay: .milliseconds(500)) { [weak self] watch in
            guard self?.isClosed != false else { return }
            answer.fail(Self.closedError)
            watch.cancel()
        }
        Task {
            do {
                answer.succeed(try await self.query(query, logger: logger))
            } catch {
                answer.fail(error)
            }
            watch.cancel()
        }
        return try await answer.futureResult.get()
    }

    static var closedError: KinkoError {
        KinkoError(.storageUnavailable, "the connection to the database was closed (the server restarted or ended the session); retry")
    }
}
