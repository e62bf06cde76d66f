import Foundation
public import KinkoControls
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoPostgres
public import KinkoReserve
public import KinkoSQLite
public import ServiceLifecycle

/// Every store of one Kinko database behind the store protocols, so commands and the server
/// run the same on the embedded SQLite file and on PostgreSQL. `open` takes what `--database`
/// (or `KINKO_DATABASE`) says: a file path, or `postgres://user[:password]@host[:port]/database`.
public final class KinkoStores: Sendable {
    public enum Backend: String, Sendable { case sqlite, postgres }

    public let backend: Backend
    /// The file path, or the URL without its password: safe to print and log.
    public let location: String
    public let governance: any GovernanceStore
    public let ledger: any LedgerStore
    public let custody: any CustodyStore
    public let reserve: any ReserveStore
    public let monitoring: any MonitoringStore
    /// Signs audit checkpoints; nil when the key file is absent (reads and verification work).
    public let auditSigner: AuditSigner?
    /// The SQLite database, for the tools that are SQLite-only (the WAL checkpointer's file,
    /// the benchmark's baseline); nil on PostgreSQL.
    public let sqlite: KinkoDatabase?
    public let postgres: KinkoPostgresDatabase?

    public init(sqlite database: KinkoDatabase) {
        backend = .sqlite
        location = database.path
        governance = SQLiteGovernanceStore(database: database)
        ledger = SQLiteLedgerStore(database: database)
        custody = SQLiteCustodyStore(database: database)
        reserve = SQLiteReserveStore(database: database)
        monitoring = SQLiteMonitoringStore(database: database)
        auditSigner = database.auditSigner
        sqlite = database
        postgres = nil
    }

    public init(postgres database: KinkoPostgresDatabase) {
        backend = .postgres
        location = database.location
        governance = PostgresGovernanceStore(database: database)
        ledger = PostgresLedgerStore(database: database)
        custody = PostgresCustodyStore(database: database)
        reserve = PostgresReserveStore(database: database)
        monitoring = PostgresMonitoringStore(database: database)
        auditSigner = database.auditSigner
        sqlite = nil
        postgres = database
    }

    /// The background work a long-lived process over this database runs in its service group:
    /// the SQLite WAL checkpointer; on PostgreSQL opened `.inServiceGroup`, the connection pool
    /// and its lease watcher (`PostgresPoolService`; opened `.byItself`, the database runs it).
    public var backgroundServices: [any Service] {
        if let sqlite { return [sqlite.checkpointer] }
        return postgres?.service.map { [$0] } ?? []
    }

    /// Brings the schema up to date where opening did not: on PostgreSQL opened
    /// `.inServiceGroup`, once its service runs. (SQLite migrates when it opens.)
    public func migrate() async throws {
        try await postgres?.migrate()
    }

    /// Runs `body` with the background services running alongside, and stops them after.
    public func withBackgroundServices<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in backgroundServices { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// The stores as the domain sees them, for a front end (the server takes only these).
    public var exchange: ExchangeStores {
        ExchangeStores(governance: governance, ledger: ledger, custody: custody, reserve: reserve, monitoring: monitoring,
                       auditPublicKey: auditSigner?.publicKey)
    }

    public static func isPostgres(_ location: String) -> Bool { KinkoPostgresDatabase.isPostgresURL(location) }

    /// `location` safe to print: a path as it is, a URL without its password.
    public static func displayName(for location: String) -> String {
        isPostgres(location) ? KinkoPostgresDatabase.redacted(location) : location
    }

    /// Where the audit signing key lives unless told otherwise: next to a database file
    /// (`kinko.sqlite.audit-key`); for PostgreSQL, `<database name>.audit-key` in the working
    /// directory — never in the database itself, whose administrators must not hold it.
    public static func defaultAuditKeyPath(for location: String) -> String {
        guard isPostgres(location) else { return KinkoDatabase.defaultAuditKeyPath(for: location) }
        let name = URLComponents(string: location).map { String($0.path.drop { $0 == "/" }) } ?? ""
        return (name.isEmpty ? "kinko" : name) + ".audit-key"
    }

    /// Opens (creating a SQLite file if needed) and migrates the database at `location`.
    /// On PostgreSQL, `running` says who runs the pool (see `KinkoPostgresDatabase.Running`).
    public static func open(_ location: String, auditKeyPath: String? = nil, clock: any WallClock = SystemWallClock(),
                            running: KinkoPostgresDatabase.Running = .byItself) async throws -> KinkoStores {
        let keyPath = auditKeyPath ?? defaultAuditKeyPath(for: location)
        if isPostgres(location) {
            return KinkoStores(postgres: try await KinkoPostgresDatabase.open(url: location, auditKeyPath: keyPath, clock: clock, running: running))
        }
        return KinkoStores(sqlite: try KinkoDatabase(path: location, auditKeyPath: keyPath, clock: clock))
    }

    /// Whether a database exists at `location` with a principal in it (for `serve` and `init`,
    /// which behave differently on an empty database). Never creates a SQLite file.
    public static func isInitialised(_ location: String, auditKeyPath: String? = nil) async throws -> Bool {
        if !isPostgres(location) && !FileManager.default.fileExists(atPath: location) { return false }
        let stores = try await open(location, auditKeyPath: auditKeyPath)
        do {
            let initialised = try await !stores.governance.principals().isEmpty
            await stores.close()
            return initialised
        } catch {
            await stores.close()
            throw error
        }
    }

    /// Closes PostgreSQL connections (SQLite closes with the last reference).
    public func close() async {
        await postgres?.close()
    }

    /// The schema migrations applied, oldest first.
    public func appliedMigrations() async throws -> [String] {
        if let sqlite { return try sqlite.appliedMigrations() }
        return try await postgres?.appliedMigrations() ?? []
    }
}

extension KinkoStores {
    /// Checks a `postgres://` URL's shape without connecting; the error names the field.
    @discardableResult
    public static func validatePostgresURL(_ url: String) throws(KinkoError) -> String {
        _ = try KinkoPostgresDatabase.configuration(url: url)
        return url
    }
}
