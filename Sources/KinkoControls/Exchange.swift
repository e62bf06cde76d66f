public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring
public import KinkoReports
public import KinkoReserve

/// The exchange's domain services, wired once: what a front end (the CLI, the HTTP server)
/// holds. The ledger is reached through `LedgerService`, so every transfer a front end posts
/// passes the transfer controls; custody asks the withdrawal verdicts before a customer
/// withdrawal moves; the controls see custody's wallets and the reserve's requirement.
public struct Exchange: Sendable {
    public let governance: Governance
    public let ledger: LedgerService
    public let custody: Custody
    public let reserve: Reserve
    public let monitoring: Monitoring
    public let withdrawals: Withdrawals
    public let deposits: Deposits
    public let clock: any WallClock

    /// The engine without the exchange's controls: for the domain modules' own approved
    /// postings and for reading. Front ends post through `ledger`.
    public var engine: Ledger { ledger.ledger }

    /// Customers' identity-verification records and the KYC work they raise.
    public var customers: Customers { Customers(governance: governance, monitoring: monitoring, clock: clock) }

    /// Books, records and reports.
    public var reports: Reports {
        Reports(governance: governance, ledger: ledger, custody: custody, reserve: reserve, monitoring: monitoring, customers: customers, clock: clock)
    }

    /// Bitcoin on chain: keys, descriptor wallets, deposit addresses, outputs and PSBTs.
    public var bitcoin: BitcoinCustody { BitcoinCustody(custody: custody) }

    public init(governance: Governance, ledger: Ledger, custodyStore: any CustodyStore, reserveStore: any ReserveStore,
                monitoringStore: any MonitoringStore, clock: any WallClock, custodySettings: CustodySettings = CustodySettings(),
                reportingEntity: String = "Kinko exchange") {
        let book = WithdrawalBook(store: governance.store)
        let custody = Custody(governance: governance, ledger: ledger, store: custodyStore, settings: custodySettings, clock: clock, clearance: book)
        let reserve = Reserve(governance: governance, ledger: ledger, custody: custody, store: reserveStore, clock: clock)
        let monitoring = Monitoring(governance: governance, store: monitoringStore, clock: clock, reportingEntity: reportingEntity)
        let screening = DepositScreening(store: governance.store)
        let facts = ExchangeFacts(ledger: ledger, custody: custody, reserve: reserve, withdrawals: book,
                                  screening: { try await screening.screenings($0) })
        let service = LedgerService(ledger: ledger, governance: governance, facts: facts)
        self.governance = governance
        self.ledger = service
        self.custody = custody
        self.reserve = reserve
        self.monitoring = monitoring
        withdrawals = Withdrawals(ledger: service, monitoring: monitoring, book: book)
        deposits = Deposits(ledger: service, monitoring: monitoring)
        self.clock = clock
    }
}

/// Reads deposit screenings without the rest of `Deposits` (the controls need only this).
struct DepositScreening: Sendable {
    let store: any RecordStore

    func screenings(_ ids: [TransferID]) async throws -> [UInt128: AccountID] {
        let records = RecordCollection<DepositRecord>(DepositRecord.collection, store: store)
        var found: [UInt128: AccountID] = [:]
        for id in Set(ids) {
            if let record = try await records.get(ParkedTransfer.key(id))?.value, let account = UInt128(record.credited) {
                found[id.rawValue] = AccountID(account)
            }
        }
        return found
    }
}
