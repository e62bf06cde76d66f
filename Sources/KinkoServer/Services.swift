public import KinkoControls
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve
public import KinkoSurveillance

/// Everything one server process holds: the database (SQLite or PostgreSQL), the exchange's
/// services built on it, and the ledger loaded once (other processes may write the same
/// database; the ledger catches up).
public struct Services: Sendable {
    public let stores: ExchangeStores
    public let exchange: Exchange
    public let clock: any WallClock
    /// The audit log's verification for API and console callers, with the pinned key; nil
    /// when the server holds no key it may trust (no signing key and no pin).
    public let auditVerification: AuditVerification?
    public let surveillance: Surveillance

    public var governance: Governance { exchange.governance }
    /// The engine, for reads; writes go through `ledgerService` (the transfer controls).
    public var ledger: Ledger { exchange.engine }
    public var ledgerService: LedgerService { exchange.ledger }
    public var custody: Custody { exchange.custody }
    public var reserve: Reserve { exchange.reserve }
    public var monitoring: Monitoring { exchange.monitoring }
    public var withdrawals: Withdrawals { exchange.withdrawals }
    public var deposits: Deposits { exchange.deposits }

    /// `auditKeyPin`: the fingerprint the installation pinned; the signing key file must match
    /// it (else the server refuses to start), and without a key file the database's key counts
    /// only if it matches.
    public init(stores: ExchangeStores, clock: any WallClock = SystemWallClock(), auditKeyPin: AuditKeyPin? = nil,
                refusals: RefusalLimiter.Settings = .standard) async throws {
        self.stores = stores
        self.clock = clock
        let governance = Governance(store: stores.governance, clock: clock, refusalLimiter: RefusalLimiter(settings: refusals))
        exchange = Exchange(governance: governance, ledger: try await Ledger.open(store: stores.ledger, clock: clock), custodyStore: stores.custody,
                            reserveStore: stores.reserve, monitoringStore: stores.monitoring, clock: clock)
        surveillance = Surveillance(monitoring: exchange.monitoring)
        auditVerification = try await Self.trustedAuditKey(stores, pin: auditKeyPin).map { AuditVerification(governance: governance, publicKey: $0) }
    }

    static func trustedAuditKey(_ stores: ExchangeStores, pin: AuditKeyPin?) async throws -> [UInt8]? {
        if let publicKey = stores.auditPublicKey {
            if let pin, !pin.matches(publicKey) {
                throw KinkoError(.invalidInput, "the audit signing key's fingerprint is \(AuditKeyPin(publicKey: publicKey).hex), not the pinned \(pin.hex)",
                                 field: "audit_key")
            }
            return publicKey
        }
        guard let pin else { return nil }
        return try await Governance(store: stores.governance).recordedAuditPublicKey(matching: pin)
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
