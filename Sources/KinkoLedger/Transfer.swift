public import KinkoCore

public struct TransferFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// This transfer and the next succeed or fail together.
    public static let linked = TransferFlags(rawValue: 1 << 0)
    /// Reserve the amount now; post or void it later (two-phase transfer).
    public static let pending = TransferFlags(rawValue: 1 << 1)
    /// Post (all or part of) the pending transfer named by `pendingID`.
    public static let postPendingTransfer = TransferFlags(rawValue: 1 << 2)
    /// Void the pending transfer named by `pendingID`.
    public static let voidPendingTransfer = TransferFlags(rawValue: 1 << 3)
    /// Move at most `amount`, and no more than brings the debit account's debits (pending and
    /// posted) up to its posted credits.
    public static let balancingDebit = TransferFlags(rawValue: 1 << 4)
    /// Move at most `amount`, and no more than brings the credit account's credits (pending
    /// and posted) up to its posted debits.
    public static let balancingCredit = TransferFlags(rawValue: 1 << 5)

    /// Close the debit account (bit 6, as in TigerBeetle): only on a pending transfer; the
    /// account stays closed while it is pending, and reopens if it is voided or expires.
    public static let closingDebit = TransferFlags(rawValue: 1 << 6)
    /// Close the credit account (bit 7), likewise.
    public static let closingCredit = TransferFlags(rawValue: 1 << 7)

    /// An event from another ledger's history, with its original timestamp (bit 8, as in
    /// TigerBeetle): a batch is all imported or not at all.
    public static let imported = TransferFlags(rawValue: 1 << 8)

    static let known: TransferFlags = [.linked, .pending, .postPendingTransfer, .voidPendingTransfer, .balancingDebit, .balancingCredit, .closingDebit, .closingCredit, .imported]
    /// Flags a post or void may not carry (`flags_are_mutually_exclusive`).
    static let notWithPostOrVoid: TransferFlags = [.pending, .balancingDebit, .balancingCredit, .closingDebit, .closingCredit]
    static let closing: TransferFlags = [.closingDebit, .closingCredit]

    public var resolvesPending: Bool { !isDisjoint(with: [.postPendingTransfer, .voidPendingTransfer]) }

    public var names: [String] {
        var result: [String] = []
        if contains(.linked) { result.append("linked") }
        if contains(.pending) { result.append("pending") }
        if contains(.postPendingTransfer) { result.append("post_pending_transfer") }
        if contains(.voidPendingTransfer) { result.append("void_pending_transfer") }
        if contains(.balancingDebit) { result.append("balancing_debit") }
        if contains(.balancingCredit) { result.append("balancing_credit") }
        if contains(.closingDebit) { result.append("closing_debit") }
        if contains(.closingCredit) { result.append("closing_credit") }
        if contains(.imported) { result.append("imported") }
        return result
    }

    public init(names: [String]) throws(KinkoError) {
        var flags = TransferFlags()
        for name in names where !name.isEmpty {
            switch name {
            case "linked": flags.insert(.linked)
            case "pending": flags.insert(.pending)
            case "post_pending_transfer", "post": flags.insert(.postPendingTransfer)
            case "void_pending_transfer", "void": flags.insert(.voidPendingTransfer)
            case "balancing_debit": flags.insert(.balancingDebit)
            case "balancing_credit": flags.insert(.balancingCredit)
            case "closing_debit": flags.insert(.closingDebit)
            case "closing_credit": flags.insert(.closingCredit)
            case "imported": flags.insert(.imported)
            default: throw KinkoError(.invalidInput, "unknown transfer flag \"\(name)\"", field: "flags")
            }
        }
        self = flags
    }
}

/// A movement of `amount` from the debit account to the credit account of one ledger.
/// The field set and meaning follow TigerBeetle's `Transfer`.
public struct Transfer: Hashable, Sendable {
    public var id: TransferID
    public var debitAccountID: AccountID
    public var creditAccountID: AccountID
    public var amount: UInt128
    /// For post and void: the pending transfer being resolved. Zero otherwise.
    public var pendingID: TransferID
    public var userData128: UInt128
    public var userData64: UInt64
    public var userData32: UInt32
    /// For pending transfers: seconds until the reservation expires (zero: never).
    public var timeoutSeconds: UInt32
    public var ledger: UInt32
    public var code: TransferCode
    public var flags: TransferFlags
    /// Assigned by the ledger; must be zero on input.
    public var timestamp: TimestampNanoseconds

    /// A post's amount meaning "all of the pending amount" (TigerBeetle's `AMOUNT_MAX`). A post
    /// of 0 moves nothing and releases the whole reservation.
    public static let amountWholePending = UInt128.max

    public init(
        id: TransferID, debitAccountID: AccountID, creditAccountID: AccountID, amount: UInt128,
        ledger: UInt32, code: TransferCode, flags: TransferFlags = [], pendingID: TransferID = TransferID(0),
        timeoutSeconds: UInt32 = 0, userData128: UInt128 = 0, userData64: UInt64 = 0, userData32: UInt32 = 0,
        timestamp: TimestampNanoseconds = 0
    ) {
        self.id = id
        self.debitAccountID = debitAccountID
        self.creditAccountID = creditAccountID
        self.amount = amount
        self.pendingID = pendingID
        self.userData128 = userData128
        self.userData64 = userData64
        self.userData32 = userData32
        self.timeoutSeconds = timeoutSeconds
        self.ledger = ledger
        self.code = code
        self.flags = flags
        self.timestamp = timestamp
    }
}

/// What a pending transfer became.
public enum PendingStatus: UInt8, Sendable, Hashable, CustomStringConvertible {
    case pending = 1
    case posted = 2
    case voided = 3
    case expired = 4

    public var description: String {
        switch self {
        case .pending: "pending"
        case .posted: "posted"
        case .voided: "voided"
        case .expired: "expired"
        }
    }
}

/// A pending transfer and what has become of it.
public struct PendingTransfer: Hashable, Sendable {
    public var transfer: Transfer
    public var status: PendingStatus

    /// When the reservation lapses, or nil if it never does.
    public var expiresAt: TimestampNanoseconds? {
        transfer.timeoutSeconds == 0 ? nil : transfer.timestamp + UInt64(transfer.timeoutSeconds) * 1_000_000_000
    }

    public init(transfer: Transfer, status: PendingStatus) {
        self.transfer = transfer
        self.status = status
    }
}
