import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReserve

/// The stores one exchange runs on, behind the protocols the domain modules define: what a
/// front end is given, so that it never depends on SQLite or PostgreSQL (the `kinko`
/// executable opens the database and hands these over).
public struct ExchangeStores: Sendable {
    public let governance: any GovernanceStore
    public let ledger: any LedgerStore
    public let custody: any CustodyStore
    public let reserve: any ReserveStore
    public let monitoring: any MonitoringStore
    /// The public half of the key that signs this database's audit checkpoints, read from the
    /// key file outside the database; nil when the key file is absent.
    public let auditPublicKey: [UInt8]?

    public init(
        governance: any GovernanceStore,
        ledger: any LedgerStore,
        custody: any CustodyStore,
        reserve: any ReserveStore,
        monitoring: any MonitoringStore,
        auditPublicKey: [UInt8]?
    ) {
        self.governance = governance
        self.ledger = ledger
        self.custody = custody
        self.reserve = reserve
        self.monitoring = monitoring
        self.auditPublicKey = auditPublicKey
    }
}
