import Foundation
import _ConnectionPoolModule
public import KinkoCore
public import KinkoGovernance
public import Logging
public import PostgresNIO

/// Kinko's state in one PostgreSQL database: a pool of connections (postgres-nio), the schema
/// migrated on open, and the audit signing key. Every audited write runs in one transaction
/// that first locks the audit state row, so writers from any number of processes are
/// serialised: the change and its audit entry commit together or not at all, and no entry is
/// lost or numbered twice.
public final class KinkoPostgresDatabase: Sendable {
    public let client: PostgresClient
    /// The URL without its password, for messages.
    public let location: String
    public let auditSigner: AuditSigner?
    public let clock: any WallClock
    let logger: Logger
    /// See `callDeadline`; tests shorten it.
    let deadline: Duration
    private let runner: Task<Void, Never>

    /// Connections the pool opens at most.
    public static let connectionsMax = 16

    /// `postgres://user[:password]@host[:port]/database` (or `postgresql://`), as a client
    /// configuration without TLS (the database runs on the host or a private network).
    public static func configuration(url: String) throws(KinkoError) -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw KinkoError(.invalidInput, "write postgres://user[:password]@host[:port]/database", field: "database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw KinkoError(.invalidInput, "the URL names no database (…/database)", field: "database") }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password?.removingPercentEncoding, database: database, tls: .disable)
        configuration.options.maximumConnections = connectionsMax
        return configuration
    }

    public static func isPostgresURL(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    /// Connects, migrates the schema and loads the audit signing key from `auditKeyPath` if the
    /// file exists.
    public static func open(url: String, auditKeyPath: String?, clock: any WallClock = SystemWallClock(), logger: Logger? = nil,
                            deadline: Duration = callDeadline) async throws -> KinkoPostgresDatabase {
        let database = KinkoPostgresDatabase(deadline: deadline,
            configuration: try configuration(url: url), location: redacted(url),
            auditSigner: try auditKeyPath.flatMap { FileManager.default.fileExists(atPath: $0) ? try AuditSigner.load(path: $0) : nil },
            clock: clock, logger: logger ?? quietLogger)
        do {
            try await database.migrate()
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    private init(deadline: Duration, configuration: PostgresClient.Configuration, location: String, auditSigner: AuditSigner?, clock: any WallClock, logger: Logger) {
        self.deadline = deadline
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.location = location
        self.auditSigner = auditSigner
        self.clock = clock
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Closes every connection; the database object is unusable afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// Runs one administrative statement (e.g. `CREATE DATABASE`) on the server at `url`, with
    /// a connection of its own and no migrations.
    public static func execute(url: String, _ sql: String) async throws {
        let client = PostgresClient(configuration: try configuration(url: url), backgroundLogger: quietLogger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        do {
            try await client.query(PostgresQuery(unsafeSQL: sql))
        } catch {
            throw translate(error)
        }
    }

    /// The pool's own chatter (e.g. a lease asked for a moment before `run()` starts) is not
    /// worth a line; errors still are.
    static var quietLogger: Logger {
        var logger = Logger(label: "kinko.postgres")
        logger.logLevel = .error
        return logger
    }

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgres://…" }
        if components.password != nil { components.password = "…" }
        return components.string ?? "postgres://…"
    }

    // MARK: Migrations

    /// Applies the migrations not yet applied, each in its own transaction, holding an advisory
    /// lock so two processes starting at once do not both migrate.
    func migrate() async throws {
        try await transaction { connection in
            try await Self.run("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", on: connection, logger: self.logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS kinko_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: self.logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM kinko_migrations", logger: self.logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query("INSERT INTO kinko_migrations (name) VALUES (\(migration.name))", logger: self.logger)
            }
        }
    }

    static let migrationLock: Int64 = 0x4b494e4b4f  // "KINKO"

    /// The migrations applied so far, in the order they were applied.
    public func appliedMigrations() async throws -> [String] {
        let applied = Set(try await read { connection in
            try await Self.strings(connection.query("SELECT name FROM kinko_migrations", logger: self.logger))
        })
        return PostgresMigrations.all.map(\.name).filter(applied.contains)
    }

    static func strings(_ rows: PostgresRowSequence) async throws -> [String] {
        var result: [String] = []
        for try await value in rows.decode(String.self) { result.append(value) }
        return result
    }

    // MARK: Connections and transactions

    /// How long one database call (a read, or a whole transaction) may take before its
    /// connection is closed under it: a server that went away mid-query can leave a query that
    /// is never answered, and a caller must get a retryable error instead of waiting forever.
    public static let callDeadline: Duration = .seconds(30)

    /// Runs `body` on one pooled connection, closing the connection if `body` outlives the
    /// deadline (which fails whatever it was waiting for).
    private func leased<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let deadline = deadline
            let watchdog = Task {
                try await Task.sleep(for: deadline)
                try? await connection.close()
            }
            defer { watchdog.cancel() }
            do {
                return try await body(connection)
            } catch {
                if watchdog.isCancelled == false, connection.isClosed, !(error is KinkoError) {
                    throw KinkoError(.storageUnavailable, "the database did not answer within \(deadline); retry")
                }
                throw error
            }
        }
    }

    /// Runs `body` on one pooled connection (reads).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased { connection in try await body(connection) }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws (the
    /// error passes through unchanged).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased { connection in
                try await connection.query("BEGIN", logger: self.logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return value
                } catch {
                    // A connection the server ended has no transaction left to roll back, and a
                    // query sent on it may never be answered.
                    if !connection.isClosed && !Self.endsTheConnection(error) {
                        _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    }
                    throw error
                }
            }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Runs `body` in a transaction that first takes the audit lock and then appends `audit`:
    /// the change and its record commit together or not at all.
    func audited<T: Sendable>(_ audit: AuditEvent?, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction { connection in
            guard let audit else { return try await body(connection) }
            var frontier = try await PostgresAuditLog.lock(connection, logger: logger)
            let value = try await body(connection)
            try await PostgresAuditLog.append(audit, frontier: &frontier, connection: connection, signer: auditSigner, clock: clock, logger: logger)
            return value
        }
    }

    /// Errors of the database as Kinko errors: a lost connection or a restarting server is
    /// `storage_unavailable` (retry: nothing was committed that was not acknowledged); a
    /// constraint or a serialisation conflict is `conflict`; our own errors pass through.
    static func translate(_ error: any Error) -> any Error {
        switch error {
        case let error as KinkoError:
            return error
        case let error as PSQLError:
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "server error"
                switch state {
                case "23505", "40001", "40P01":
                    return KinkoError(.conflict, "the database refused a concurrent change (\(state)): \(message); retry")
                case "57P01", "57P02", "57P03", "08000", "08003", "08006":
                    return KinkoError(.storageUnavailable, "the database is restarting or unreachable (\(state)); retry")
                default:
                    return KinkoError(.storageFailure, "PostgreSQL error \(state): \(message)")
                }
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return KinkoError(.storageUnavailable, "the connection to the database was lost (\(error.code)); retry")
            default:
                return KinkoError(.storageFailure, "PostgreSQL: \(error.code)")
            }
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            return KinkoError(.storageUnavailable, "the database cannot be reached (no connection for a minute); retry")
        default:
            return error
        }
    }

    /// Whether `error` means the server ended the session (shutdown, termination, a broken
    /// connection): the transaction is gone with it.
    static func endsTheConnection(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P") || state.hasPrefix("08")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .connectionError:
            return true
        default:
            return false
        }
    }

    /// Runs a statement and reads its whole answer: a row-returning statement's error (a lock
    /// it could not take, a constraint) only arrives with its rows.
    @discardableResult
    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var rows = 0
        for try await _ in try await connection.query(query, logger: logger) { rows += 1 }
        return rows
    }
}

extension KinkoError.Code {
    /// The database could not be reached or went away mid-request; nothing unacknowledged was
    /// committed, and the same request may be sent again.
    public static let storageUnavailable = Self(rawValue: "storage_unavailable")
}
