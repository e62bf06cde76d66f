public import KinkoCore
public import KinkoGovernance

/// Where wallets, observations, the whitelist, movements and reconciliations live. Every write
/// appends its audit event in the same transaction.
public protocol CustodyStore: Sendable {
    func vendors() async throws -> [Vendor]
    func saveVendor(_ vendor: Vendor, audit: AuditEvent) async throws

    func wallets() async throws -> [Wallet]
    /// `conflict` if the id is taken.
    func insertWallet(_ wallet: Wallet, audit: AuditEvent) async throws
    /// Freezes or unfreezes; `alongside` (an approval's execution) commits with it.
    func setFrozen(_ id: String, at time: TimestampNanoseconds?, reason: String?, alongside: [RecordWrite], audit: AuditEvent) async throws

    func recordBalances(_ observations: [BalanceObservation], audit: AuditEvent) async throws
    func recordPrices(_ observations: [PriceObservation], audit: AuditEvent) async throws
    /// The latest balance per wallet and asset observed at or before `time`.
    func latestBalances(asOf time: TimestampNanoseconds) async throws -> [BalanceObservation]
    /// The latest price per asset observed at or before `time`.
    func latestPrices(asOf time: TimestampNanoseconds) async throws -> [PriceObservation]

    func whitelist() async throws -> [WhitelistEntry]
    /// Files `request` and the entry naming it in one transaction — or neither, when the
    /// address is already on the list (`conflict`, field `address`).
    func insertWhitelistEntry(_ entry: WhitelistEntry, request: ApprovalRequest, audit: AuditEvent) async throws -> (WhitelistEntry, ApprovalRequest)
    /// Activates the entry and marks its approval request executed (at `revision`), atomically;
    /// false if the request was executed or changed already.
    func activateWhitelistEntry(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, usableFrom: TimestampNanoseconds,
                                at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool

    func movements() async throws -> [Movement]
    func insertMovement(_ movement: Movement, audit: AuditEvent) async throws -> Movement
    /// Releases the movement to the signer queue and marks its approval request executed, atomically;
    /// false if either already happened.
    func releaseMovement(_ id: UInt64, requestID: ApprovalRequestID, revision: Int, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool
    func completeMovement(_ id: UInt64, transactionHash: String, networkFee: Amount, at time: TimestampNanoseconds, audit: AuditEvent) async throws -> Bool
    /// Σ amounts of released and completed movements out of `wallet` in `asset` since `time`.
    func outflows(wallet: String, asset: String, since time: TimestampNanoseconds) async throws -> Amount

    /// Stores a day's reconciliation as the day's current result, with an alert for the board
    /// per break, and appends `run` to the day's runs (numbered from 1; earlier runs are kept).
    /// Returns the run's number.
    func saveReconciliation(_ result: Reconciliation, run: ReconciliationRun, audit: AuditEvent) async throws -> Int
    func reconciliation(day: String) async throws -> Reconciliation?
    /// Every run of `day`, oldest first.
    func reconciliationRuns(day: String) async throws -> [ReconciliationRun]
    /// The most recent reconciled day, if any.
    func latestReconciliationDay() async throws -> String?
    func alerts() async throws -> [CustodyAlert]
}

/// A record for the board: a segregation break, a shortfall.
public struct CustodyAlert: Sendable, Equatable {
    public var id: UInt64
    public var kind: String
    public var subject: String
    public var message: String
    public var raisedAt: TimestampNanoseconds

    public init(id: UInt64, kind: String, subject: String, message: String, raisedAt: TimestampNanoseconds) {
        self.id = id
        self.kind = kind
        self.subject = subject
        self.message = message
        self.raisedAt = raisedAt
    }
}
