public import KinkoCore
public import KinkoGovernance

/// What front ends read from the ledger, each read authorized here (a refusal is audited) and
/// caught up with what other processes wrote, lists paged.
extension LedgerService {
    public func assets(by caller: Caller) async throws -> [Asset] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try await ledger.refresh()
        return await ledger.assets
    }

    public func asset(code: String, by caller: Caller) async throws -> Asset {
        guard let asset = try await assets(by: caller).first(where: { $0.code == code }) else {
            throw KinkoError(.assetNotFound, "unknown asset \(code)", field: "asset")
        }
        return asset
    }

    public func account(_ id: AccountID, by caller: Caller) async throws -> (account: Account, balance: AccountBalance) {
        _ = try await governance.authorize(caller, .ledgerRead)
        try await ledger.refresh()
        guard let found = await ledger.account(id) else { throw KinkoError(.notFound, "no account \(id)", field: "id") }
        return found
    }

    public struct BalancePage: Sendable {
        public var accounts: [(account: Account, balance: AccountBalance)]
        /// Pass as `after` for the next page; nil on the last.
        public var nextAfter: AccountID?
    }

    /// Accounts in id order after `after`, filtered by asset, owner and class, at most `limit`.
    /// With `asOf`, the accounts that existed then with their posted balances as they stood
    /// (see `Ledger.postedBalances(asOf:)`).
    public func balances(asset: String?, owner: UInt128?, accountClass: AccountClass?, after: AccountID?, limit: Int?,
                         asOf: TimestampNanoseconds? = nil, by caller: Caller) async throws -> BalancePage
    {
        _ = try await governance.authorize(caller, .ledgerRead)
        let size = try Self.page(limit)
        if let asOf { try TimestampNanoseconds.checkAccepted(asOf, field: "as_of") }
        try await ledger.refresh()
        var chosenLedger: UInt32?
        if let asset {
            guard let found = await ledger.asset(code: asset) else { throw KinkoError(.assetNotFound, "unknown asset \(asset)", field: "asset") }
            chosenLedger = found.ledger
        }
        let ledgerFilter = chosenLedger
        let start = after?.rawValue ?? 0
        let predicate = { @Sendable (account: Account) in
            account.id.rawValue > start && (ledgerFilter.map { account.ledger == $0 } ?? true) && (owner.map { account.owner == $0 } ?? true)
                && (accountClass.map { account.accountClass == $0 } ?? true)
        }
        let found = if let asOf { try await ledger.postedBalances(asOf: asOf, where: predicate) } else { await ledger.accounts(where: predicate) }
        let matching = found.sorted { $0.account.id < $1.account.id }
        let page = Array(matching.prefix(size))
        return BalancePage(accounts: page, nextAfter: matching.count > size ? page.last?.account.id : nil)
    }

    public func transfer(_ id: TransferID, by caller: Caller) async throws -> Transfer {
        _ = try await governance.authorize(caller, .ledgerRead)
        try await ledger.refresh()
        guard let transfer = try await ledger.transfer(id) else { throw KinkoError(.notFound, "no transfer \(id)", field: "id") }
        return transfer
    }

    /// Whether `id` is a pending transfer still open (neither posted, voided nor expired).
    public func isOpenPending(_ id: TransferID, by caller: Caller) async throws -> Bool {
        _ = try await governance.authorize(caller, .ledgerRead)
        return await ledger.pendingTransfer(id) != nil
    }

    /// Every account with its balance, for an export (no paging: the file takes them all).
    public func allAccounts(by caller: Caller) async throws -> [(account: Account, balance: AccountBalance)] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try await ledger.refresh()
        return await ledger.accounts()
    }

    /// Stored batches after `sequence`, in order, for an export.
    public func batches(after sequence: UInt64, by caller: Caller) async throws -> [LedgerBatchRecord] {
        _ = try await governance.authorize(caller, .ledgerRead)
        return try await ledger.batches(after: sequence)
    }

    /// An account's transfers, newest first, before `before`, at most `limit` (1–1,000); with
    /// `asOf`, only those stamped at or before it.
    public func history(of account: AccountID, before: TransferLocation = .end, limit: Int, asOf: TimestampNanoseconds? = nil,
                        by caller: Caller) async throws -> Ledger.HistoryPage
    {
        _ = try await governance.authorize(caller, .ledgerRead)
        if let asOf { try TimestampNanoseconds.checkAccepted(asOf, field: "as_of") }
        try await ledger.refresh()
        guard await ledger.account(account) != nil else { throw KinkoError(.notFound, "no account \(account)", field: "id") }
        let ceiling = if let asOf { min(before, try await ledger.location(asOf: asOf)) } else { before }
        return try await ledger.history(of: account, before: ceiling, limit: limit)
    }

    /// An account's transfers by TigerBeetle's account filter. A filter TigerBeetle would answer
    /// with nothing is refused here, naming the field, so a typo is not read as "no transfers".
    public func accountTransfers(_ filter: AccountFilter, by caller: Caller) async throws -> [Transfer] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try Self.refuse(filter.invalidReason)
        try await ledger.refresh()
        guard await ledger.account(filter.accountID) != nil else { throw KinkoError(.notFound, "no account \(filter.accountID)", field: "account_id") }
        return try await ledger.accountTransfers(filter)
    }

    /// An account's balances after each of its transfers that match the filter
    /// (`get_account_balances`). Refused, naming the field, for an invalid filter or an account
    /// created without the `history` flag (TigerBeetle answers both with nothing).
    public func accountBalances(_ filter: AccountFilter, by caller: Caller) async throws -> [AccountBalanceAt] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try Self.refuse(filter.invalidReason)
        try await ledger.refresh()
        guard let account = await ledger.account(filter.accountID)?.account else {
            throw KinkoError(.notFound, "no account \(filter.accountID)", field: "account_id")
        }
        guard account.flags.contains(.history) else {
            throw KinkoError(.invalidInput, "account \(filter.accountID) was created without the history flag: it keeps no balances per transfer",
                             field: "account_id")
        }
        return try await ledger.accountBalances(filter)
    }

    /// Accounts by TigerBeetle's query filter (user data 128 is the owner), with balances.
    public func queryAccounts(_ filter: QueryFilter, by caller: Caller) async throws -> [(account: Account, balance: AccountBalance)] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try Self.refuse(filter.invalidReason)
        try await ledger.refresh()
        return await ledger.queryAccounts(filter)
    }

    /// Transfers by TigerBeetle's query filter (a scan of the log from the window's start).
    public func queryTransfers(_ filter: QueryFilter, by caller: Caller) async throws -> [Transfer] {
        _ = try await governance.authorize(caller, .ledgerRead)
        try Self.refuse(filter.invalidReason)
        try await ledger.refresh()
        return try await ledger.queryTransfers(filter)
    }

    /// A filter TigerBeetle answers with nothing, refused naming the field.
    private static func refuse(_ invalid: (field: String, reason: String)?) throws {
        if let (field, reason) = invalid { throw KinkoError(.invalidInput, "\(field) \(reason)", field: field) }
    }

    /// The adopted transfer-control policy; nil while the built-in one applies.
    public func adoptedPolicy(by caller: Caller) async throws -> SettingsVersion? {
        _ = try await governance.authorize(caller, .ledgerRead)
        return try await policies.currentVersion()
    }

    public func verify(full: Bool, by caller: Caller) async throws -> Ledger.Verification {
        _ = try await governance.authorize(caller, .ledgerVerify)
        try await ledger.refresh()
        return try await ledger.verify(full: full)
    }

    @discardableResult
    public func pulse(by caller: Caller) async throws -> [TransferID] {
        _ = try await governance.authorize(caller, .ledgerPulse)
        try await ledger.refresh()
        return try await ledger.pulse(by: caller)
    }
}
