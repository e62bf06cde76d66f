public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve
public import KinkoSQLite

/// Everything one server process holds: the database, the services built on it, and the
/// ledger loaded once (other processes may write the same file; the ledger catches up).
public struct Services: Sendable {
    public let database: KinkoDatabase
    public let governance: Governance
    public let ledger: Ledger
    public let custody: Custody
    public let reserve: Reserve
    public let monitoring: Monitoring
    public let clock: any WallClock

    public init(database: KinkoDatabase, clock: any WallClock = SystemWallClock()) async throws {
        self.database = database
        self.clock = clock
        governance = Governance(store: SQLiteGovernanceStore(database: database), clock: clock)
        ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database), clock: clock)
        custody = Custody(governance: governance, ledger: ledger, store: SQLiteCustodyStore(database: database), clock: clock)
        reserve = Reserve(governance: governance, ledger: ledger, custody: custody, store: SQLiteReserveStore(database: database), clock: clock)
        monitoring = Monitoring(governance: governance, store: SQLiteMonitoringStore(database: database), clock: clock)
    }
}

/// The authenticated caller of the request being served.
enum RequestScope {
    @TaskLocal static var caller: Caller?
    @TaskLocal static var requestID: String?

    static func requireCaller() throws -> Caller {
        guard let caller else { throw KinkoError(.unauthenticated, "send Authorization: Bearer <token>") }
        return caller
    }
}
