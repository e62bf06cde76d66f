public import KinkoCore

/// TigerBeetle's `AccountFilter`: one account's transfers (and, later, balances), narrowed by
/// user data, code and a timestamp window, oldest or newest first. A zero field does not
/// narrow. An invalid filter finds nothing, as in TigerBeetle (`isValid` says why not).
public struct AccountFilter: Sendable, Hashable {
    public var accountID: AccountID
    public var userData128: UInt128 = 0
    public var userData64: UInt64 = 0
    public var userData32: UInt32 = 0
    public var code: UInt16 = 0
    /// Inclusive bounds; 0 means unbounded.
    public var timestampMin: TimestampNanoseconds = 0
    public var timestampMax: TimestampNanoseconds = 0
    public var limit: UInt32
    /// Transfers debiting the account, crediting it, or both (at least one).
    public var debits = true
    public var credits = true
    public var reversed = false

    public init(accountID: AccountID, limit: UInt32, debits: Bool = true, credits: Bool = true, reversed: Bool = false) {
        self.accountID = accountID
        self.limit = limit
        self.debits = debits
        self.credits = credits
        self.reversed = reversed
    }

    /// The account's transfers narrowed as `query` narrows transfers (its `ledger` aside: an
    /// account has one).
    public init(accountID: AccountID, narrowedAs query: QueryFilter, debits: Bool = true, credits: Bool = true) {
        self.init(accountID: accountID, limit: query.limit, debits: debits, credits: credits, reversed: query.reversed)
        userData128 = query.userData128
        userData64 = query.userData64
        userData32 = query.userData32
        code = query.code
        timestampMin = query.timestampMin
        timestampMax = query.timestampMax
    }

    /// Why this filter finds nothing, or nil if it is valid.
    public var invalidReason: (field: String, reason: String)? {
        if accountID.rawValue == 0 || accountID.rawValue == .max { return ("account_id", "must not be 0 or 2^128-1") }
        if let window = LedgerQuery.windowProblem(timestampMin, timestampMax) { return window }
        if limit == 0 { return ("limit", "must not be 0") }
        if !debits && !credits { return ("flags", "needs debits, credits or both") }
        return nil
    }

    public var isValid: Bool { invalidReason == nil }

    public func matches(_ t: Transfer) -> Bool {
        ((debits && t.debitAccountID == accountID) || (credits && t.creditAccountID == accountID))
            && (userData128 == 0 || t.userData128 == userData128) && (userData64 == 0 || t.userData64 == userData64)
            && (userData32 == 0 || t.userData32 == userData32) && (code == 0 || t.code.rawValue == code)
            && LedgerQuery.inWindow(t.timestamp, timestampMin, timestampMax)
    }
}

/// TigerBeetle's `QueryFilter`: accounts or transfers by user data, ledger and code in a
/// timestamp window, oldest or newest first. A zero field does not narrow. An account's
/// `user_data_128` is its owner.
public struct QueryFilter: Sendable, Hashable {
    public var userData128: UInt128 = 0
    public var userData64: UInt64 = 0
    public var userData32: UInt32 = 0
    public var ledger: UInt32 = 0
    public var code: UInt16 = 0
    public var timestampMin: TimestampNanoseconds = 0
    public var timestampMax: TimestampNanoseconds = 0
    public var limit: UInt32
    public var reversed = false

    public init(limit: UInt32, reversed: Bool = false) {
        self.limit = limit
        self.reversed = reversed
    }

    public var invalidReason: (field: String, reason: String)? {
        if let window = LedgerQuery.windowProblem(timestampMin, timestampMax) { return window }
        if limit == 0 { return ("limit", "must not be 0") }
        return nil
    }

    public var isValid: Bool { invalidReason == nil }

    public func matches(_ t: Transfer) -> Bool {
        (userData128 == 0 || t.userData128 == userData128) && (userData64 == 0 || t.userData64 == userData64)
            && (userData32 == 0 || t.userData32 == userData32) && (ledger == 0 || t.ledger == ledger)
            && (code == 0 || t.code.rawValue == code) && LedgerQuery.inWindow(t.timestamp, timestampMin, timestampMax)
    }

    public func matches(_ a: Account) -> Bool {
        (userData128 == 0 || a.owner == userData128) && (userData64 == 0 || a.userData64 == userData64)
            && (userData32 == 0 || a.userData32 == userData32) && (ledger == 0 || a.ledger == ledger)
            && (code == 0 || a.code == code) && LedgerQuery.inWindow(a.timestamp, timestampMin, timestampMax)
    }
}

/// The selection both filters share.
public enum LedgerQuery {
    /// The most results one query returns, whatever its `limit` (TigerBeetle stops at what fits
    /// in one reply; Kinko at the history page limit).
    public static let resultsMax = 1_000

    /// TigerBeetle's timestamp range: 1 … 2⁶³ − 1.
    static func windowProblem(_ min: TimestampNanoseconds, _ max: TimestampNanoseconds) -> (field: String, reason: String)? {
        if min > LedgerEngine.timestampMax { return ("timestamp_min", "must be at most 2^63-1") }
        if max > LedgerEngine.timestampMax { return ("timestamp_max", "must be at most 2^63-1") }
        if max != 0 && min > max { return ("timestamp_min", "must not be after timestamp_max") }
        return nil
    }

    static func inWindow(_ timestamp: TimestampNanoseconds, _ min: TimestampNanoseconds, _ max: TimestampNanoseconds) -> Bool {
        timestamp >= min && (max == 0 || timestamp <= max)
    }

    /// The first `limit` (at most `resultsMax`) of `items`, which are in timestamp order,
    /// that match — from the newest with `reversed`.
    public static func select<Item>(_ items: some BidirectionalCollection<Item>, limit: UInt32, reversed: Bool,
                                    where matches: (Item) -> Bool) -> [Item] {
        let count = Int(min(UInt64(limit), UInt64(resultsMax)))
        var selected: [Item] = []
        if reversed {
            for item in items.reversed() where matches(item) {
                selected.append(item)
                if selected.count == count { break }
            }
        } else {
            for item in items where matches(item) {
                selected.append(item)
                if selected.count == count { break }
            }
        }
        return selected
    }
}

/// An account's balances right after one of its transfers (`Ledger.accountBalances`).
public struct AccountBalanceAt: Sendable, Equatable {
    /// The transfer's timestamp.
    public var timestamp: TimestampNanoseconds
    public var transfer: TransferID
    public var balance: AccountBalance

    public init(timestamp: TimestampNanoseconds, transfer: TransferID, balance: AccountBalance) {
        self.timestamp = timestamp
        self.transfer = transfer
        self.balance = balance
    }
}
