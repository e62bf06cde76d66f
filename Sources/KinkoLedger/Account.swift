public import KinkoCore

/// What an account stands for. Segregation is a rule of the ledger: the class of the debit and
/// credit accounts decides which transfer codes may move value between them (`SegregationTable`).
///
/// Claims (credit-normal; the balance is credits − debits): customer liability, own funds,
/// reserve fund, compensation payable. Holdings (debit-normal; debits − credits): customer
/// custody holding, own holding, guarantee crypto, insurance receivable, external settlement.
public enum AccountClass: UInt8, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// What the exchange owes one customer in one asset.
    case customerLiability = 1
    /// Coins (or trust money) held for customers, one account per wallet or trust account.
    case customerCustodyHolding = 2
    /// The exchange's own capital in this asset: fee income, its own trading position.
    case ownFunds = 3
    /// The exchange's own coins or cash, in its own wallets and bank accounts.
    case ownHolding = 4
    /// The liability reserve (責任準備金), set aside from own funds for compensation.
    case reserveFund = 5
    /// Performance-guarantee crypto (履行保証暗号資産) held against the hot customer part.
    case guaranteeCrypto = 6
    /// What insurers owe the exchange under a claim.
    case insuranceReceivable = 7
    /// What the exchange owes victims of an incident until it is paid.
    case compensationPayable = 8
    /// The outside world: banks and chains on the far side of a settlement.
    case externalSettlement = 9
    /// What the exchange holds for a customer but may not make available: a deposit from a
    /// sanctioned or stolen address, until compliance decides (released or returned).
    case quarantine = 10
    /// The liability reserve's holdings: cash and coins set aside for it, in accounts and
    /// wallets of its own, apart from the exchange's other holdings; reconciled daily against
    /// what was observed there and against the reserve fund they back.
    case reserveHolding = 11

    public var isClaim: Bool {
        switch self {
        case .customerLiability, .ownFunds, .reserveFund, .compensationPayable, .quarantine: true
        default: false
        }
    }

    public var description: String { name }

    public var name: String {
        switch self {
        case .customerLiability: "customer_liability"
        case .customerCustodyHolding: "customer_custody_holding"
        case .ownFunds: "own_funds"
        case .ownHolding: "own_holding"
        case .reserveFund: "reserve_fund"
        case .guaranteeCrypto: "guarantee_crypto"
        case .insuranceReceivable: "insurance_receivable"
        case .compensationPayable: "compensation_payable"
        case .externalSettlement: "external_settlement"
        case .quarantine: "quarantine"
        case .reserveHolding: "reserve_holding"
        }
    }

    public init?(name: String) {
        guard let match = AccountClass.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

public struct AccountFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// This event and the next succeed or fail together.
    public static let linked = AccountFlags(rawValue: 1 << 0)
    /// Debits (pending + posted) may never exceed posted credits: a claim that cannot go negative.
    public static let debitsMustNotExceedCredits = AccountFlags(rawValue: 1 << 1)
    /// Credits (pending + posted) may never exceed posted debits: a holding that cannot go negative.
    public static let creditsMustNotExceedDebits = AccountFlags(rawValue: 1 << 2)

    /// Every transfer touching the account records its balances as they stood after it, for
    /// `get_account_balances` (bit 3, as in TigerBeetle).
    public static let history = AccountFlags(rawValue: 1 << 3)
    /// An account from another ledger's history, with its original timestamp (bit 4, as in
    /// TigerBeetle): a batch is all imported or not at all.
    public static let imported = AccountFlags(rawValue: 1 << 4)

    /// No transfer may touch the account except the void (or expiry) of a pending one (bit 5,
    /// as in TigerBeetle): set on creation, or by a pending transfer with `closing_debit` or
    /// `closing_credit` while it stays pending.
    public static let closed = AccountFlags(rawValue: 1 << 5)

    static let known: AccountFlags = [.linked, .debitsMustNotExceedCredits, .creditsMustNotExceedDebits, .history, .imported, .closed]

    public var names: [String] {
        var result: [String] = []
        if contains(.linked) { result.append("linked") }
        if contains(.debitsMustNotExceedCredits) { result.append("debits_must_not_exceed_credits") }
        if contains(.creditsMustNotExceedDebits) { result.append("credits_must_not_exceed_debits") }
        if contains(.history) { result.append("history") }
        if contains(.imported) { result.append("imported") }
        if contains(.closed) { result.append("closed") }
        return result
    }

    public init(names: [String]) throws(KinkoError) {
        var flags = AccountFlags()
        for name in names where !name.isEmpty {
            switch name {
            case "linked": flags.insert(.linked)
            case "debits_must_not_exceed_credits": flags.insert(.debitsMustNotExceedCredits)
            case "credits_must_not_exceed_debits": flags.insert(.creditsMustNotExceedDebits)
            case "history": flags.insert(.history)
            case "imported": flags.insert(.imported)
            case "closed": flags.insert(.closed)
            default: throw KinkoError(.invalidInput, "unknown account flag \"\(name)\"", field: "flags")
            }
        }
        self = flags
    }
}

/// An account as created. Balances live apart (`AccountBalance`) because they change with every
/// transfer while the account itself never changes.
public struct Account: Hashable, Sendable {
    public var id: AccountID
    /// The asset's ledger number.
    public var ledger: UInt32
    /// A chart-of-accounts code chosen by the exchange (non-zero).
    public var code: UInt16
    public var flags: AccountFlags
    public var accountClass: AccountClass
    /// The customer (or wallet, or insurer) this account belongs to; zero for none.
    public var owner: UInt128
    /// Free for the application, e.g. a wallet id.
    public var userData64: UInt64
    /// Free for the application (TigerBeetle's `user_data_32`, e.g. a jurisdiction).
    public var userData32: UInt32
    /// Assigned by the ledger when the account is created; must be zero on input.
    public var timestamp: TimestampNanoseconds

    public init(
        id: AccountID, ledger: UInt32, code: UInt16, accountClass: AccountClass,
        flags: AccountFlags = [], owner: UInt128 = 0, userData64: UInt64 = 0, userData32: UInt32 = 0,
        timestamp: TimestampNanoseconds = 0
    ) {
        self.id = id
        self.ledger = ledger
        self.code = code
        self.flags = flags
        self.accountClass = accountClass
        self.owner = owner
        self.userData64 = userData64
        self.userData32 = userData32
        self.timestamp = timestamp
    }
}

/// Debits and credits of one account, pending and posted, in the asset's smallest unit.
public struct AccountBalance: Hashable, Sendable {
    public var debitsPending: UInt128 = 0
    public var debitsPosted: UInt128 = 0
    public var creditsPending: UInt128 = 0
    public var creditsPosted: UInt128 = 0

    public static let zero = AccountBalance()

    /// The net posted balance in the account's natural direction, or nil if it is on the
    /// other side (e.g. a claim with more debits than credits, only possible without limits).
    public func netPosted(claim: Bool) -> UInt128? {
        if claim { return creditsPosted >= debitsPosted ? creditsPosted - debitsPosted : nil }
        return debitsPosted >= creditsPosted ? debitsPosted - creditsPosted : nil
    }

    /// Net posted balance as a signed text in the natural direction (`-5` if on the other side).
    public func netPostedDescription(claim: Bool, scale: UInt8) -> String {
        if let net = netPosted(claim: claim) { return Amount(units: net).decimalString(scale: scale) }
        let other = claim ? debitsPosted - creditsPosted : creditsPosted - debitsPosted
        return "-" + Amount(units: other).decimalString(scale: scale)
    }

    public init(debitsPending: UInt128 = 0, debitsPosted: UInt128 = 0, creditsPending: UInt128 = 0, creditsPosted: UInt128 = 0) {
        self.debitsPending = debitsPending
        self.debitsPosted = debitsPosted
        self.creditsPending = creditsPending
        self.creditsPosted = creditsPosted
    }
}
