import Crypto
public import KinkoCore
public import KinkoGovernance
import KinkoLedger

public enum IncidentStatus: String, Sendable {
    case declared
    /// A compensation plan is being paid.
    case paying
    case paid
}

public struct IncidentLoss: Sendable, Equatable {
    public var wallet: String
    public var asset: String
    public var amount: Amount

    public init(wallet: String, asset: String, amount: Amount) {
        self.wallet = wallet
        self.asset = asset
        self.amount = amount
    }
}

public struct Incident: Sendable, Equatable {
    public var id: UInt64
    /// `hack`, `insider_fraud`, …: what insurance policies must cover.
    public var lossType: String
    public var losses: [IncidentLoss]
    public var lostAt: TimestampNanoseconds
    public var detectedAt: TimestampNanoseconds
    public var declaredAt: TimestampNanoseconds
    public var declaredBy: PrincipalID
    public var status: IncidentStatus
    /// When the last compensation payment was posted.
    public var paidAt: TimestampNanoseconds?
    /// The JPY value of the losses at declaration, for the incident-history term.
    public var lossJPY: Amount
    /// How `lossJPY` was valued: per asset, the price used, when it was observed and how old it
    /// was at declaration, marked stale past the freshness limit ("" for incidents declared
    /// before valuations were kept).
    public var valuation: String

    public init(id: UInt64, lossType: String, losses: [IncidentLoss], lostAt: TimestampNanoseconds, detectedAt: TimestampNanoseconds,
                declaredAt: TimestampNanoseconds, declaredBy: PrincipalID, status: IncidentStatus = .declared, paidAt: TimestampNanoseconds? = nil,
                lossJPY: Amount = .zero, valuation: String = "") {
        self.id = id
        self.lossType = lossType
        self.losses = losses
        self.lostAt = lostAt
        self.detectedAt = detectedAt
        self.declaredAt = declaredAt
        self.declaredBy = declaredBy
        self.status = status
        self.paidAt = paidAt
        self.lossJPY = lossJPY
        self.valuation = valuation
    }

    /// Detection to the last payment, when paid.
    public var secondsToCompensation: UInt64? { paidAt.map { ($0 - min($0, detectedAt)) / 1_000_000_000 } }
}

/// A customer's holding of the lost asset when the loss happened.
public struct Entitlement: Sendable, Equatable {
    public var account: AccountID
    public var owner: UInt128
    public var amount: Amount

    public init(account: AccountID, owner: UInt128, amount: Amount) {
        self.account = account
        self.owner = owner
        self.amount = amount
    }
}

public enum CompensationMode: Sendable, Equatable {
    /// The lost coins are replaced one for one.
    case inKind
    /// Paid in yen at a fixed reference price per whole coin (Coincheck: ¥88.549 per XEM).
    case jpy(JPYPrice)
}

public enum SourceKind: String, Sendable {
    case reserveFund = "reserve_fund"
    case insurance
    case ownFunds = "own_funds"
}

public struct CompensationSource: Sendable, Equatable {
    public var kind: SourceKind
    public var amount: Amount
    /// For insurance: the policy.
    public var policy: UInt64?

    public init(kind: SourceKind, amount: Amount, policy: UInt64? = nil) {
        self.kind = kind
        self.amount = amount
        self.policy = policy
    }
}

/// Who lost what and who is paid what: each customer's share of the loss pro rata to their
/// holding at the time of loss, and the payment, both exact to the smallest unit (largest
/// remainder), with the sources that fund it in order and any shortfall.
public struct CompensationPlan: Sendable, Equatable {
    public var incident: UInt64
    public var asset: String
    public var mode: CompensationMode
    public var paymentAsset: String
    public var entitlements: [Entitlement]
    /// Each customer's share of the loss, in the lost asset's units (parallel to entitlements).
    public var shares: [Amount]
    /// Each customer's payment, in the payment asset's units.
    public var payments: [Amount]
    public var totalLoss: Amount
    public var totalPayment: Amount
    public var sources: [CompensationSource]
    public var shortfall: Amount

    /// SHA-256 over the canonical JSON of every line: what the approvers sign (inside the request).
    public var digest: [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("kinko.compensation.v1:\(incident):\(asset):\(paymentAsset)".utf8))
        // Each line as four 16-byte big-endian numbers: account, held, share, payment.
        var line = [UInt8](repeating: 0, count: 64)
        for index in entitlements.indices {
            line.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: entitlements[index].account.rawValue.bigEndian, toByteOffset: 0, as: UInt128.self)
                raw.storeBytes(of: entitlements[index].amount.units.bigEndian, toByteOffset: 16, as: UInt128.self)
                raw.storeBytes(of: shares[index].units.bigEndian, toByteOffset: 32, as: UInt128.self)
                raw.storeBytes(of: payments[index].units.bigEndian, toByteOffset: 48, as: UInt128.self)
            }
            hasher.update(data: line)
        }
        return Array(hasher.finalize())
    }

    public static let customersMax = 20_000_000

    /// Builds the plan. `available` lists what each source can give, in order (reserve fund,
    /// then insurance policies, then own funds); each is drawn only as far as needed.
    public static func make(
        incident: Incident, asset: Asset, paymentAsset: Asset, mode: CompensationMode, entitlements: [Entitlement],
        available: [CompensationSource]
    ) throws(KinkoError) -> CompensationPlan {
        guard entitlements.count <= customersMax else {
            throw KinkoError(.limitExceeded, "a plan covers at most \(customersMax) customers", field: "entitlements")
        }
        let held = entitlements.filter { !$0.amount.isZero }
        guard !held.isEmpty else { throw KinkoError(.invalidInput, "no customer held \(asset.code) when the loss happened", field: "asset") }
        let lost = try Amount.sum(incident.losses.filter { $0.asset == asset.code }.map(\.amount))
        guard !lost.isZero else { throw KinkoError(.invalidInput, "incident \(incident.id) lost no \(asset.code)", field: "asset") }
        // Customers bear at most what they held; anything beyond was the exchange's own.
        let customerLoss = min(lost, try Amount.sum(held.map(\.amount)))
        let shares = try Allocation.largestRemainder(customerLoss, weights: held.map(\.amount.units))
        let payments: [Amount]
        switch mode {
        case .inKind:
            payments = shares
        case .jpy(let price):
            let total = try customerLoss.jpyValue(of: asset, at: price, rounding: .up)
            payments = try Allocation.largestRemainder(total, weights: shares.map(\.units))
        }
        let needed = try Amount.sum(payments)
        var sources: [CompensationSource] = []
        var remaining = needed
        for source in available where !remaining.isZero && !source.amount.isZero {
            let drawn = min(source.amount, remaining)
            sources.append(CompensationSource(kind: source.kind, amount: drawn, policy: source.policy))
            remaining = try remaining.subtracting(drawn)
        }
        return CompensationPlan(
            incident: incident.id, asset: asset.code, mode: mode, paymentAsset: paymentAsset.code, entitlements: held, shares: shares,
            payments: payments, totalLoss: customerLoss, totalPayment: needed, sources: sources, shortfall: remaining)
    }

    public init(
        incident: UInt64,
        asset: String,
        mode: CompensationMode,
        paymentAsset: String,
        entitlements: [Entitlement],
        shares: [Amount],
        payments: [Amount],
        totalLoss: Amount,
        totalPayment: Amount,
        sources: [CompensationSource],
        shortfall: Amount
    ) {
        self.incident = incident
        self.asset = asset
        self.mode = mode
        self.paymentAsset = paymentAsset
        self.entitlements = entitlements
        self.shares = shares
        self.payments = payments
        self.totalLoss = totalLoss
        self.totalPayment = totalPayment
        self.sources = sources
        self.shortfall = shortfall
    }
}

/// The court-appointed administrator's schedule: per customer and asset, their claim and what
/// they receive from segregated customer holdings plus guarantee crypto (their priority right,
/// PSA Art. 63-19-2), pro rata (largest remainder) where short.
public struct DistributionSchedule: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var owner: UInt128
        public var account: AccountID
        public var asset: String
        public var claim: Amount
        public var distribution: Amount
    }

    public struct AssetTotal: Sendable, Equatable {
        public var asset: String
        public var claims: Amount
        public var customerHoldings: Amount
        public var guarantee: Amount
        public var distributed: Amount
        public var available: Amount { Amount(units: customerHoldings.units + guarantee.units) }
        public var isShort: Bool { available < claims }
    }

    public var lines: [Line]
    public var totals: [AssetTotal]

    public static func make(claims: [(asset: Asset, claims: [Entitlement], customerHoldings: Amount, guarantee: Amount)]) throws(KinkoError) -> DistributionSchedule {
        var lines: [Line] = []
        var totals: [AssetTotal] = []
        for entry in claims {
            let owed = try Amount.sum(entry.claims.map(\.amount))
            let available = try entry.customerHoldings.adding(entry.guarantee)
            let distributions: [Amount]
            if available >= owed || owed.isZero {
                distributions = entry.claims.map(\.amount)
            } else {
                distributions = try Allocation.largestRemainder(available, weights: entry.claims.map(\.amount.units))
            }
            for (claim, distribution) in zip(entry.claims, distributions) {
                lines.append(Line(owner: claim.owner, account: claim.account, asset: entry.asset.code, claim: claim.amount, distribution: distribution))
            }
            totals.append(AssetTotal(asset: entry.asset.code, claims: owed, customerHoldings: entry.customerHoldings, guarantee: entry.guarantee,
                                     distributed: try Amount.sum(distributions)))
        }
        return DistributionSchedule(lines: lines, totals: totals)
    }
}
