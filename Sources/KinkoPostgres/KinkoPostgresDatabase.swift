import Foundation
import _ConnectionPoolModule
public import KinkoCore
public import KinkoGovernance
public import Logging
public import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// Kinko's state in one PostgreSQL database: a pool of connections (postgres-nio), the schema
/// migrated on open, and the audit signing key. Every audited write runs in one transaction
/// that first locks the audit state row, so writers from any number of processes are
/// serialised: the change and its audit entry commit together or not at all, and no entry is
/// lost or numbered twice.
public final class KinkoPostgresDatabase: Sendable {
    /// The pool in use. After an error that ends a connection the pool is replaced (see
    /// `replacePool`), so callers read it each time instead of keeping it.
    public var client: PostgresClient { pool.withLock { $0.client } }
    /// The URL without its password, for messages.
    public let location: String
    public let auditSigner: AuditSigner?
    public let clock: any WallClock
    let logger: Logger
    /// See `callDeadline`; tests shorten it.
    let deadline: Duration
    private let configuration: PostgresClient.Configuration
    private let pool: Mutex<Pool>
    /// Reads for callers that cannot await (see `BlockingReader`).
    let blockingReader: BlockingReader

    /// One pool of connections and what retires it from `service`; `generation` counts
    /// replacements.
    private struct Pool {
        var client: PostgresClient
        var retire: AsyncStream<Void>.Continuation
        var generation: Int
        var closed: Bool
        /// When each lease still waiting for its connection started waiting.
        var waiting: [Int: ContinuousClock.Instant] = [:]
        var nextLease = 0
    }
    /// Runs the pools and watches their leases (see `Running`).
    private let poolService: PostgresPoolService
    /// The task running `poolService` when the database runs it itself.
    private let ownRunner: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Who runs the database's background work (`PostgresPoolService`: the connection pool
    /// and its lease watcher).
    public enum Running: Sendable {
        /// A task of the database, from `open` until `close()`: for one-shot commands and tests.
        case byItself
        /// The caller's service group runs `service` (`kinko serve`); calls wait for a
        /// connection until it runs, and the caller migrates (`migrate()`) first.
        case inServiceGroup
    }
    /// The background work to run in a service group; nil when the database runs it itself.
    public var service: (any Service)? { ownRunner.withLock { $0 == nil } ? poolService : nil }

    /// Connections the pool opens at most.
    public static let connectionsMax = 16

    /// What a `postgres://` URL names.
    struct Target: Sendable {
        var host: String, port: Int, username: String, password: String?, database: String
    }

    /// `postgres://user[:password]@host[:port]/database` (or `postgresql://`); TLS is off (the
    /// database runs on the host or a private network).
    static func target(url: String) throws(KinkoError) -> Target {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw KinkoError(.invalidInput, "write postgres://user[:password]@host[:port]/database", field: "database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw KinkoError(.invalidInput, "the URL names no database (…/database)", field: "database") }
        return Target(host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
                      password: components.password?.removingPercentEncoding, database: database)
    }

    /// The URL as a pool configuration (at most `connectionsMax` connections).
    public static func configuration(url: String) throws(KinkoError) -> PostgresClient.Configuration {
        let target = try target(url: url)
        var configuration = PostgresClient.Configuration(
            host: target.host, port: target.port, username: target.username, password: target.password, database: target.database, tls: .disable)
        configuration.options.maximumConnections = connectionsMax
        return configuration
    }

    /// The pool configuration with the server-side deadlines: a statement (a lock wait
    /// included) that runs past `deadline` is cancelled by the server (SQLSTATE 57014), and a
    /// transaction left idle that long is ended, so no call waits forever and no lock is held
    /// by a client that went away.
    static func configuration(url: String, deadline: Duration) throws(KinkoError) -> PostgresClient.Configuration {
        var configuration = try configuration(url: url)
        let milliseconds = deadline.components.seconds * 1_000 + deadline.components.attoseconds / 1_000_000_000_000_000
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(milliseconds)"), ("idle_in_transaction_session_timeout", "\(milliseconds)"),
        ]
        return configuration
    }

    public static func isPostgresURL(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    /// Loads the audit signing key from `auditKeyPath` if the file exists and, when the
    /// database runs its background work by itself, connects and migrates the schema. With
    /// `.inServiceGroup` nothing connects until the service group runs `service`; call
    /// `migrate()` from there before anything else.
    public static func open(url: String, auditKeyPath: String?, clock: any WallClock = SystemWallClock(), logger: Logger? = nil,
                            deadline: Duration = callDeadline, running: Running = .byItself) async throws -> KinkoPostgresDatabase {
        let target = try target(url: url)
        let database = KinkoPostgresDatabase(deadline: deadline,
            configuration: try configuration(url: url, deadline: deadline), target: target, location: redacted(url),
            auditSigner: try auditKeyPath.flatMap { FileManager.default.fileExists(atPath: $0) ? try AuditSigner.load(path: $0) : nil },
            clock: clock, logger: logger ?? quietLogger)
        guard case .byItself = running else { return database }
        database.runByItself()
        do {
            try await database.migrate()
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    private init(deadline: Duration, configuration: PostgresClient.Configuration, target: Target, location: String, auditSigner: AuditSigner?, clock: any WallClock, logger: Logger) {
        self.deadline = deadline
        self.configuration = configuration
        blockingReader = BlockingReader(target: target, deadline: deadline, logger: logger)
        let watch = WeakReference<KinkoPostgresDatabase>()
        poolService = PostgresPoolService(watch: { watch.value?.replaceStuckPool() }, stopped: { watch.value?.markClosed() })
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        pool = Mutex(Pool(client: client, retire: poolService.start(client), generation: 0, closed: false))
        self.location = location
        self.auditSigner = auditSigner
        self.clock = clock
        self.logger = logger
        watch.value = self
    }

    /// Starts the task that runs `poolService` until `close()`.
    private func runByItself() {
        ownRunner.withLock { runner in
            guard runner == nil else { return }
            runner = Task { [poolService] in await poolService.run() }
        }
    }

    /// After the pool service stopped: every further call fails at once.
    private func markClosed() {
        pool.withLock { $0.closed = true }
    }

    /// Closes every connection; the database object is unusable afterwards.
    public func close() async {
        let retire = pool.withLock { pool in
            pool.closed = true
            return pool.retire
        }
        retire.finish()
        poolService.finish()
        await ownRunner.withLock { $0 }?.value
        blockingReader.close()
    }

    /// Replaces the pool of `generation` with a new one, once, after an error that ended a
    /// connection (a server restart ends them all). The old pool is shut down, which fails
    /// every request still waiting on it with a retryable error: postgres-nio 1.33.2 can leave
    /// a lease or a query waiting forever on a pool whose server restarted.
    private func replacePool(_ generation: Int) {
        let old = pool.withLock { pool -> AsyncStream<Void>.Continuation? in
            guard pool.generation == generation, !pool.closed else { return nil }
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            let old = pool.retire
            pool = Pool(client: client, retire: poolService.start(client), generation: generation + 1, closed: false)
            return old
        }
        old?.finish()
    }

    /// Runs one administrative statement (e.g. `CREATE DATABASE`) on the server at `url`, with
    /// a connection of its own and no migrations.
    public static func execute(url: String, _ sql: String) async throws {
        let client = PostgresClient(configuration: try configuration(url: url), backgroundLogger: quietLogger)
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await client.query(PostgresQuery(unsafeSQL: sql))
            }
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

    /// The URL with its password replaced by `…`, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgres://…" }
        if components.password != nil { components.password = "…" }
        return components.string ?? "postgres://…"
    }

    // MARK: Connections and transactions

    /// How long one statement (a wait for a lock included) may run, how long a transaction may
    /// sit idle, and how long a call may wait for a connection, before it fails with a retryable
    /// `storage_unavailable` instead of waiting forever. The server enforces the first two
    /// (`statement_timeout`, `idle_in_transaction_session_timeout`); `watchLeases` the third.
    public static let callDeadline: Duration = .seconds(30)

    /// Runs `body` on one pooled connection; after an error that ended the connection (or a
    /// call that could not get one) the pool is replaced, so the next call connects afresh.
    private func leased<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let (client, generation) = pool.withLock { ($0.client, $0.generation) }
        do {
            return try await leased(from: client, generation: generation, body)
        } catch {
            if Self.endsTheConnection(error) || (error as? KinkoError)?.code == .storageUnavailable { replacePool(generation) }
            throw error
        }
    }

    /// Runs `body` on a connection of `client`, registered as waiting until it has one (see
    /// `watchLeases`). The server enforces the deadline on what runs on the connection.
    private func leased<T: Sendable>(from client: PostgresClient, generation: Int, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let lease = pool.withLock { pool -> Int? in
            guard !pool.closed else { return nil }
            pool.nextLease += 1
            pool.waiting[pool.nextLease] = .now
            return pool.nextLease
        }
        guard let lease else { throw KinkoError(.storageUnavailable, "the database is closed (the process is shutting down)") }
        var leased = false
        defer { if !leased { _ = pool.withLock { $0.waiting.removeValue(forKey: lease) } } }
        do {
            return try await client.withConnection { connection in
                leased = true
                _ = pool.withLock { $0.waiting.removeValue(forKey: lease) }
                return try await body(connection)
            }
        } catch let error as PSQLError where error.code == .poolClosed && !leased {
            throw KinkoError(.storageUnavailable, "no database connection within \(deadline); retry")
        }
    }

    /// The lease watcher, once a second (`PostgresPoolService`): a lease that has waited past
    /// the deadline gets its pool replaced under it (postgres-nio 1.33.2 can leave a lease
    /// waiting forever on a pool whose server restarted; shutting the pool down fails the wait
    /// with a retryable error).
    fileprivate func replaceStuckPool() {
        let stuck: Int? = pool.withLock { pool in
            guard !pool.closed else { return nil }
            let oldest = pool.waiting.values.min()
            return oldest.map { ContinuousClock.now - $0 > deadline } == true ? pool.generation : nil
        }
        if let stuck { replacePool(stuck) }
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
                try await connection.answered("BEGIN", logger: self.logger)
                do {
                    let value = try await body(connection)
                    try await connection.answered("COMMIT", logger: self.logger)
                    return value
                } catch {
                    // A connection the server ended has no transaction left to roll back, and a
                    // query sent on it may never be answered.
                    if !connection.isClosed && !Self.endsTheConnection(error) {
                        _ = try? await connection.answered("ROLLBACK", logger: self.logger)
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
    /// A body that answers `false` changed nothing: it is rolled back and nothing is audited
    /// (as on SQLite).
    func audited<T: Sendable>(_ audit: AuditEvent?, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await transaction { connection in
                guard let audit else { return try await body(connection) }
                var frontier = try await PostgresAuditLog.lock(connection, logger: logger)
                let value = try await body(connection)
                if let changed = value as? Bool, !changed { throw Unchanged(value: value) }
                try await PostgresAuditLog.append(audit, frontier: &frontier, connection: connection, signer: auditSigner, clock: clock, logger: logger)
                return value
            }
        } catch let unchanged as Unchanged<T> {
            return unchanged.value
        }
    }

    /// Rolls an audited transaction back when its body changed nothing.
    struct Unchanged<T: Sendable>: Error { let value: T }

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
                case "57014", "25P03":
                    return KinkoError(.storageUnavailable, "the database call ran past its deadline and was cancelled (\(state)); nothing of it was stored; retry")
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
        for try await _ in try await connection.answered(query, logger: logger) { rows += 1 }
        return rows
    }
}



/// A reference that does not keep its object alive (the pool service's watcher must not keep
/// the database open).
private final class WeakReference<Object: AnyObject & Sendable>: Sendable {
    private let object = Mutex<WeakBox?>(nil)
    private struct WeakBox: @unchecked Sendable { weak var object: Object? }
    var value: Object? {
        get { object.withLock { $0?.object } }
        set { object.withLock { $0 = WeakBox(object: newValue) } }
    }
}
