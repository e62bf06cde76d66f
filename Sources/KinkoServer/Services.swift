public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve
public import KinkoStores

/// Everything one server process holds: the database (SQLite or PostgreSQL), the services
/// built on it, and the ledger loaded once (other processes may write the same database; the
/// ledger catches up).
public struct Services: Sendable {
    public let stores: KinkoStores
    public let governance: Governance
    public let ledger: Ledger
    public let custody: Custody
    public let reserve: Reserve
    public let monitoring: Monitoring
    public let clock: any WallClock

    public init(stores: KinkoStores, clock: any WallClock = SystemWallClock()) async throws {
        self.stores = stores
        self.clock = clock
        governance = Governance(store: stores.governance, clock: clock)
        ledger = try await Ledger.open(store: stores.ledger, clock: clock)
        custody = Custody(governance: governance, ledger: ledger, store: stores.custody, clock: clock)
        reserve = Reserve(governance: governance, ledger: ledger, custody: custody, store: stores.reserve, clock: clock)
        monitoring = Monitoring(governance: governance, store: stores.monitoring, clock: clock)
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
