import Crypto
public import KinkoCore
public import KinkoLedger

public enum Temperature: String, Sendable, CaseIterable {
    case hot, cold
}

/// What a wallet's coins are for; it decides the class of the wallet's ledger accounts.
public enum WalletPurpose: String, Sendable, CaseIterable {
    /// Customers' coins (or, for JPY, the customer money trust account).
    case customerPool = "customer_pool"
    /// The exchange's own coins.
    case ownFunds = "own_funds"
    /// Performance-guarantee crypto held against the hot customer part.
    case guarantee
    /// The liability reserve's holdings, kept apart from the exchange's own: a class of their
    /// own (`reserve_holding`), reconciled daily against what was observed and against the
    /// reserve fund. (A reserve wallet registered before 2026-12-03 has `own_holding` accounts;
    /// its balances are still reconciled as the reserve's.)
    case reserve

    public var accountClass: AccountClass {
        switch self {
        case .customerPool: .customerCustodyHolding
        case .ownFunds: .ownHolding
        case .reserve: .reserveHolding
        case .guarantee: .guaranteeCrypto
        }
    }
}

/// A wallet-software vendor and its advance notice to the regulator (a 2026 requirement). A
/// wallet whose vendor has no notice on file is flagged wherever it appears.
public struct Vendor: Sendable, Equatable {
    public var name: String
    /// The date the notice was filed (JST, `YYYY-MM-DD`), and the regulator's reference.
    public var noticeDate: String?
    public var noticeReference: String?

    public var hasNotice: Bool { noticeDate != nil && noticeReference != nil }

    public static func validate(date: String) throws(KinkoError) {
        // A real calendar day within the accepted range (a notice dated 2026-02-30 or 9999-12-31 was accepted).
        _ = try CalendarDay.parse(date, field: "notice_date")
    }

    public init(name: String, noticeDate: String? = nil, noticeReference: String? = nil) {
        self.name = name
        self.noticeDate = noticeDate
        self.noticeReference = noticeReference
    }
}

public struct Wallet: Sendable, Equatable {
    public var id: String
    public var chain: String
    public var temperature: Temperature
    public var purpose: WalletPurpose
    /// Asset codes the wallet holds.
    public var assets: [String]
    public var addresses: [String]
    public var vendor: String
    public var vendorVersion: String
    /// Set when an incident freezes the wallet: every movement is refused.
    public var frozenAt: TimestampNanoseconds?
    public var frozenReason: String?
    /// Most that may leave the wallet per asset within the velocity window, in units.
    public var velocityLimits: [String: Amount]
    public var createdAt: TimestampNanoseconds

    public init(
        id: String, chain: String, temperature: Temperature, purpose: WalletPurpose, assets: [String], addresses: [String] = [],
        vendor: String, vendorVersion: String, frozenAt: TimestampNanoseconds? = nil, frozenReason: String? = nil,
        velocityLimits: [String: Amount] = [:], createdAt: TimestampNanoseconds = 0
    ) {
        self.id = id
        self.chain = chain
        self.temperature = temperature
        self.purpose = purpose
        self.assets = assets
        self.addresses = addresses
        self.vendor = vendor
        self.vendorVersion = vendorVersion
        self.frozenAt = frozenAt
        self.frozenReason = frozenReason
        self.velocityLimits = velocityLimits
        self.createdAt = createdAt
    }

    public var isFrozen: Bool { frozenAt != nil }

    public static let idLengthMax = 64
    public static let addressesMax = 64

    /// 1–64 characters: lower-case letters, digits, `.`, `-`, `_`.
    public static func validate(id: String) throws(KinkoError) {
        guard (1...idLengthMax).contains(id.utf8.count),
            id.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || [46, 45, 95].contains($0) })
        else {
            throw KinkoError(.invalidInput, "a wallet id is 1–\(idLengthMax) lower-case letters, digits, '.', '-' or '_'; got \"\(id)\"", field: "id")
        }
    }

    /// The ledger account that carries this wallet's holding of `asset`: the first 16 bytes of
    /// SHA-256("kinko.wallet:<id>:<asset>"), so it is the same in every database and never
    /// needs a lookup table.
    public static func accountID(wallet: String, asset: String) -> AccountID {
        let digest = Array(SHA256.hash(data: Array("kinko.wallet:\(wallet):\(asset)".utf8)))
        var value: UInt128 = 0
        for byte in digest.prefix(16) { value = value << 8 | UInt128(byte) }
        return AccountID(value)
    }

    public func accountID(for asset: String) -> AccountID { Self.accountID(wallet: id, asset: asset) }
}

/// An on-chain (or, for JPY, trust-account) balance as observed.
public struct BalanceObservation: Sendable, Equatable {
    public var wallet: String
    public var asset: String
    public var amount: Amount
    public var observedAt: TimestampNanoseconds
    public var source: String
    /// Who recorded it (set by `Custody.recordBalances` from the caller, whatever the input
    /// says; "" for observations recorded before this was kept): a reconciliation that uses it
    /// must be run by someone else.
    public var recordedBy: String

    public init(wallet: String, asset: String, amount: Amount, observedAt: TimestampNanoseconds, source: String, recordedBy: String = "") {
        self.wallet = wallet
        self.asset = asset
        self.amount = amount
        self.observedAt = observedAt
        self.source = source
        self.recordedBy = recordedBy
    }
}

public struct PriceObservation: Sendable, Equatable {
    public var asset: String
    public var price: JPYPrice
    public var observedAt: TimestampNanoseconds
    public var source: String

    public init(asset: String, price: JPYPrice, observedAt: TimestampNanoseconds, source: String) {
        self.asset = asset
        self.price = price
        self.observedAt = observedAt
        self.source = source
    }
}
