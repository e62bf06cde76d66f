public import KinkoCore

/// Why value moves. The code, together with the classes of the two accounts, is checked
/// against the `SegregationTable` on every transfer.
public struct TransferCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// A customer's coins or yen arrive in a customer wallet or trust account.
    public static let deposit = TransferCode(1)
    /// A customer's coins or yen leave a customer wallet or trust account.
    public static let withdrawal = TransferCode(2)
    /// One leg of a trade, between customers or with the exchange as principal.
    public static let trade = TransferCode(3)
    /// A fee charged to a customer, earned by the exchange.
    public static let fee = TransferCode(4)
    /// Coins move between wallets of the same pool (hot ↔ cold).
    public static let custodyTransfer = TransferCode(5)
    /// Fees swept out of the customer pool to the exchange's own wallets, or a shortfall topped up.
    public static let segregationSweep = TransferCode(6)
    /// The exchange puts in or takes out its own capital.
    public static let capital = TransferCode(7)
    /// The exchange pays its own expenses.
    public static let expense = TransferCode(8)
    /// Own coins set aside as performance-guarantee crypto.
    public static let guaranteeTopUp = TransferCode(9)
    /// Guarantee crypto no longer required returns to own holdings.
    public static let guaranteeRelease = TransferCode(10)
    /// Own funds set aside in the liability reserve.
    public static let reserveFunding = TransferCode(11)
    /// Reserve above the requirement returns to own funds.
    public static let reserveRelease = TransferCode(12)
    /// The reserve pays into compensation for an incident.
    public static let reserveDraw = TransferCode(13)
    /// An insurance claim recognised for compensation.
    public static let insuranceClaim = TransferCode(14)
    /// An insurer pays a recognised claim.
    public static let insuranceSettlement = TransferCode(15)
    /// Own funds cover what reserve and insurance could not.
    public static let ownFundsCompensation = TransferCode(16)
    /// A victim is paid: in kind into their account, or out to their bank.
    public static let compensation = TransferCode(17)
    /// A network fee paid by a wallet on a movement; the exchange bears it from own funds.
    public static let networkFee = TransferCode(18)
    /// Stolen customer coins written off the customers' claims (before they are compensated).
    public static let incidentLoss = TransferCode(19)
    /// A manual correction of a customer's balance against own funds (always maker-checker).
    public static let correction = TransferCode(20)
    /// Compliance releases a quarantined deposit to the customer's available balance.
    public static let quarantineRelease = TransferCode(21)
    /// Compliance returns a quarantined deposit (sent back, or surrendered to the authorities).
    public static let quarantineReturn = TransferCode(22)

    public static let all: [TransferCode] = [
        .deposit, .withdrawal, .trade, .fee, .custodyTransfer, .segregationSweep, .capital, .expense,
        .guaranteeTopUp, .guaranteeRelease, .reserveFunding, .reserveRelease, .reserveDraw,
        .insuranceClaim, .insuranceSettlement, .ownFundsCompensation, .compensation, .networkFee, .incidentLoss,
        .correction, .quarantineRelease, .quarantineReturn,
    ]

    public var name: String {
        switch self {
        case .deposit: "deposit"
        case .withdrawal: "withdrawal"
        case .trade: "trade"
        case .fee: "fee"
        case .custodyTransfer: "custody_transfer"
        case .segregationSweep: "segregation_sweep"
        case .capital: "capital"
        case .expense: "expense"
        case .guaranteeTopUp: "guarantee_top_up"
        case .guaranteeRelease: "guarantee_release"
        case .reserveFunding: "reserve_funding"
        case .reserveRelease: "reserve_release"
        case .reserveDraw: "reserve_draw"
        case .insuranceClaim: "insurance_claim"
        case .insuranceSettlement: "insurance_settlement"
        case .ownFundsCompensation: "own_funds_compensation"
        case .compensation: "compensation"
        case .networkFee: "network_fee"
        case .incidentLoss: "incident_loss"
        case .correction: "correction"
        case .quarantineRelease: "quarantine_release"
        case .quarantineReturn: "quarantine_return"
        default: "code_\(rawValue)"
        }
    }

    public var description: String { name }

    /// Accepts a name (`fee`) or a number (`4`).
    public init(parsing text: String) throws(KinkoError) {
        if let match = TransferCode.all.first(where: { $0.name == text }) {
            self = match
        } else if let number = UInt16(text) {
            self.init(number)
        } else {
            throw KinkoError(.invalidInput, "unknown transfer code \"\(text)\"", field: "code")
        }
    }
}

/// Which transfer codes may move value from which account class (debit side) to which
/// (credit side). Any other combination is refused with
/// `accountClassesNotAllowedForCode`; a code not in the table with `transferCodeUnknown`.
///
/// The default table keeps customer assets segregated: customer liabilities can only be
/// debited for withdrawals, trades and fees; fees go only from a customer to own funds; the
/// exchange's expenses come only out of own funds and own holdings.
public struct SegregationTable: Sendable {
    public struct Route: Hashable, Sendable {
        public let debit: AccountClass
        public let credit: AccountClass
        public init(_ debit: AccountClass, _ credit: AccountClass) {
            self.debit = debit
            self.credit = credit
        }
    }

    /// code → allowed (debit class, credit class) routes.
    public let routes: [UInt16: Set<Route>]
    /// Flat lookup `[code][debit][credit]` for the hot path.
    private let allowed: [Bool]
    private static let classSlots = 16

    public init(routes: [TransferCode: [Route]]) {
        var table: [UInt16: Set<Route>] = [:]
        for (code, list) in routes { table[code.rawValue, default: []].formUnion(list) }
        self.routes = table
        let codeMax = Int(table.keys.max() ?? 0)
        var flat = [Bool](repeating: false, count: (codeMax + 1) * Self.classSlots * Self.classSlots)
        for (code, set) in table {
            for route in set {
                flat[Self.slot(code, route.debit.rawValue, route.credit.rawValue)] = true
            }
        }
        allowed = flat
    }

    private static func slot(_ code: UInt16, _ debit: UInt8, _ credit: UInt8) -> Int {
        (Int(code) * classSlots + Int(debit)) * classSlots + Int(credit)
    }

    public func knows(_ code: TransferCode) -> Bool { routes[code.rawValue] != nil }

    @inline(__always)
    public func allows(_ code: TransferCode, debit: AccountClass, credit: AccountClass) -> Bool {
        let index = Self.slot(code.rawValue, debit.rawValue, credit.rawValue)
        return index < allowed.count && allowed[index]
    }

    public static let standard = SegregationTable(routes: [
        .deposit: [Route(.customerCustodyHolding, .customerLiability), Route(.customerCustodyHolding, .quarantine)],
        .withdrawal: [Route(.customerLiability, .customerCustodyHolding)],
        .trade: [
            Route(.customerLiability, .customerLiability),
            Route(.customerLiability, .ownFunds),
            Route(.ownFunds, .customerLiability),
        ],
        .fee: [Route(.customerLiability, .ownFunds)],
        .custodyTransfer: [
            Route(.customerCustodyHolding, .customerCustodyHolding),
            Route(.ownHolding, .ownHolding),
            Route(.guaranteeCrypto, .guaranteeCrypto),
            Route(.reserveHolding, .reserveHolding),
        ],
        .segregationSweep: [
            Route(.ownHolding, .customerCustodyHolding),
            Route(.customerCustodyHolding, .ownHolding),
        ],
        .capital: [
            Route(.ownHolding, .ownFunds),
            Route(.ownFunds, .ownHolding),
        ],
        .expense: [Route(.ownFunds, .ownHolding)],
        .guaranteeTopUp: [Route(.guaranteeCrypto, .ownHolding)],
        .guaranteeRelease: [Route(.ownHolding, .guaranteeCrypto)],
        // The fund (a claim) and its holdings (cash or coins moved between the exchange's own
        // accounts and the reserve's) move under the same codes, usually linked.
        .reserveFunding: [Route(.ownFunds, .reserveFund), Route(.reserveHolding, .ownHolding)],
        .reserveRelease: [Route(.reserveFund, .ownFunds), Route(.ownHolding, .reserveHolding)],
        .reserveDraw: [Route(.reserveFund, .compensationPayable), Route(.ownHolding, .reserveHolding)],
        .insuranceClaim: [Route(.insuranceReceivable, .compensationPayable)],
        .insuranceSettlement: [Route(.ownHolding, .insuranceReceivable)],
        .ownFundsCompensation: [Route(.ownFunds, .compensationPayable)],
        .compensation: [
            Route(.compensationPayable, .customerLiability),
            Route(.compensationPayable, .externalSettlement),
        ],
        .networkFee: [
            Route(.ownFunds, .customerCustodyHolding),
            Route(.ownFunds, .ownHolding),
            Route(.ownFunds, .guaranteeCrypto),
        ],
        .incidentLoss: [Route(.customerLiability, .customerCustodyHolding)],
        .correction: [Route(.ownFunds, .customerLiability), Route(.customerLiability, .ownFunds)],
        .quarantineRelease: [Route(.quarantine, .customerLiability)],
        .quarantineReturn: [Route(.quarantine, .customerCustodyHolding)],
    ])
}
