public import KinkoControls
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve
public import KinkoStores

/// Everything one server process holds: the database (SQLite or PostgreSQL), the exchange's
/// services built on it, and the ledger loaded once (other processes may write the same
/// database; the ledger catches up).
public struct Services: Sendable {
    public let stores: KinkoStores
    public let exchange: Exchange
    public let clock: any WallClock

    public var governance: Governance { exchange.governance }
    /// The engine, for reads; writes go through `ledgerService` (the transfer controls).
    public var ledger: Ledger { exchange.engine }
    public var ledgerService: LedgerService { exchange.ledger }
    public var custody: Custody { exchange.custody }
    public var reserve: Reserve { exchange.reserve }
    public var monitoring: Monitoring { exchange.monitoring }
    public var withdrawals: Withdrawals { exchange.withdrawals }
    public var deposits: Deposits { exchange.deposits }

    public init(stores: KinkoStores, clock: any WallClock = SystemWallClock()) async throws {
        self.stores = stores
        self.clock = clock
        let governance = Governance(store: stores.governance, clock: clock)
        exchange = Exchange(governance: governance, ledger: try await Ledger.open(store: stores.ledger, clock: clock), custodyStore: stores.custody,
                            reserveStore: stores.reserve, monitoringStore: stores.monitoring, clock: clock)
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
