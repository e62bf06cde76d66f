public import KinkoCore
public import KinkoGovernance
import KinkoLedger

public enum MovementKind: String, Sendable, CaseIterable {
    case hotToCold = "hot_to_cold"
    case coldToHot = "cold_to_hot"
    case withdrawal
    case guaranteeTopUp = "guarantee_top_up"
}

public enum MovementStatus: String, Sendable {
    /// Filed; waiting for its signers.
    case awaitingApproval = "awaiting_approval"
    /// Approved and handed to the exchange's signer through the queue.
    case released
    /// Broadcast and confirmed; posted to the ledger.
    case completed
}

/// What a treasurer asks for.
public struct MovementDraft: Sendable, Equatable {
    public var kind: MovementKind
    public var fromWallet: String
    /// The destination wallet (transfers between Kinko's wallets).
    public var toWallet: String?
    /// The destination address (withdrawals).
    public var toAddress: String?
    public var asset: String
    public var amount: Amount
    /// For a withdrawal from the customer pool: the ledger's pending transfer that reserved the
    /// customer's balance; completion posts it.
    public var ledgerPendingID: TransferID?

    /// The approval request's payload: exactly what the signers sign.
    public func payload(asset: Asset) -> CanonicalJSON {
        var fields: [String: CanonicalJSON] = [
            "kind": .string(kind.rawValue), "from_wallet": .string(fromWallet), "asset": .string(self.asset),
            "amount": .string(asset.format(amount)),
        ]
        if let toWallet { fields["to_wallet"] = .string(toWallet) }
        if let toAddress { fields["to_address"] = .string(toAddress) }
        if let ledgerPendingID { fields["ledger_pending_id"] = .string(ledgerPendingID.description) }
        return .object(fields)
    }

    public init(
        kind: MovementKind,
        fromWallet: String,
        toWallet: String? = nil,
        toAddress: String? = nil,
        asset: String,
        amount: Amount,
        ledgerPendingID: TransferID? = nil
    ) {
        self.kind = kind
        self.fromWallet = fromWallet
        self.toWallet = toWallet
        self.toAddress = toAddress
        self.asset = asset
        self.amount = amount
        self.ledgerPendingID = ledgerPendingID
    }
}

public struct Movement: Sendable, Equatable {
    public var id: UInt64
    public var draft: MovementDraft
    public var initiator: PrincipalID
    public var requestID: ApprovalRequestID
    public var status: MovementStatus
    public var createdAt: TimestampNanoseconds
    public var releasedAt: TimestampNanoseconds?
    public var completedAt: TimestampNanoseconds?
    public var transactionHash: String?
    public var networkFee: Amount?

    /// Ledger transfer ids of the movement's postings: derived from its id, so posting twice
    /// (a retry after a crash) answers `exists` instead of moving coins twice.
    public var ledgerTransferIDs: (main: TransferID, fee: TransferID) {
        let base = UInt128(0x6B69_6E6B_6F2E_6D76) << 64 | UInt128(id) << 8  // "kinko.mv"
        return (TransferID(base | 1), TransferID(base | 2))
    }

    public init(
        id: UInt64,
        draft: MovementDraft,
        initiator: PrincipalID,
        requestID: ApprovalRequestID,
        status: MovementStatus,
        createdAt: TimestampNanoseconds,
        releasedAt: TimestampNanoseconds? = nil,
        completedAt: TimestampNanoseconds? = nil,
        transactionHash: String? = nil,
        networkFee: Amount? = nil
    ) {
        self.id = id
        self.draft = draft
        self.initiator = initiator
        self.requestID = requestID
        self.status = status
        self.createdAt = createdAt
        self.releasedAt = releasedAt
        self.completedAt = completedAt
        self.transactionHash = transactionHash
        self.networkFee = networkFee
    }
}

public enum WhitelistStatus: String, Sendable {
    /// Waiting for approval.
    case pending
    /// Approved; usable from `usableFrom`.
    case active
}

public struct WhitelistEntry: Sendable, Equatable {
    public var id: UInt64
    public var asset: String
    public var address: String
    public var label: String
    public var status: WhitelistStatus
    public var requestID: ApprovalRequestID
    public var usableFrom: TimestampNanoseconds?
    public var createdAt: TimestampNanoseconds

    public static let addressLengthMax = 128
    public static let labelLengthMax = 200

    /// 1–`addressLengthMax` printable ASCII characters, no space: every chain Kinko knows
    /// writes its addresses so; a control character (NUL included) is refused before storage.
    public static func isWellFormed(address: String) -> Bool {
        (1...addressLengthMax).contains(address.utf8.count) && address.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    public init(
        id: UInt64,
        asset: String,
        address: String,
        label: String,
        status: WhitelistStatus,
        requestID: ApprovalRequestID,
        usableFrom: TimestampNanoseconds? = nil,
        createdAt: TimestampNanoseconds
    ) {
        self.id = id
        self.asset = asset
        self.address = address
        self.label = label
        self.status = status
        self.requestID = requestID
        self.usableFrom = usableFrom
        self.createdAt = createdAt
    }
}

/// A refusal names the rule that failed and its figures.
public struct MovementRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Rule: String, Sendable {
        case frozen, invalid, whitelist, balance, velocity, hotCap = "hot_cap", price, ledger, guarantee, monitoring
    }

    public var rule: Rule
    public var message: String
    public var description: String { "\(rule.rawValue): \(message)" }

    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }
}

/// The policy checks a movement passes before it is filed for approval, and again when it is
/// released. On success they give the approval policy (signers, time lock) it needs.
public enum MovementRules {
    public static func check(
        _ draft: MovementDraft, facts: CustodyFacts, whitelist: [WhitelistEntry], outflows: Amount
    ) -> Result<ApprovalPolicy, MovementRefusal> {
        guard let asset = facts.assets.first(where: { $0.code == draft.asset }), asset.kind == .crypto else {
            return .failure(MovementRefusal(.invalid, "\(draft.asset) is not a crypto-asset Kinko knows"))
        }
        guard let from = facts.wallets.first(where: { $0.id == draft.fromWallet }) else {
            return .failure(MovementRefusal(.invalid, "no wallet \(draft.fromWallet)"))
        }
        let to = draft.toWallet.flatMap { id in facts.wallets.first { $0.id == id } }
        for wallet in [from] + (to.map { [$0] } ?? []) where wallet.isFrozen {
            return .failure(MovementRefusal(.frozen, "wallet \(wallet.id) is frozen since \(wallet.frozenAt?.iso8601 ?? "?"): \(wallet.frozenReason ?? "")"))
        }
        if let refusal = shape(draft, from: from, to: to) { return .failure(refusal) }
        if draft.kind == .withdrawal, let refusal = whitelisted(draft, whitelist: whitelist, now: facts.now) { return .failure(refusal) }
        let available: Amount
        switch facts.freshBalance(from, draft.asset) {
        case .success(let amount): available = amount
        case .failure(let problem): return .failure(MovementRefusal(.balance, problem.message))
        }
        guard draft.amount <= available else {
            return .failure(MovementRefusal(.balance, "wallet \(from.id) holds \(asset.format(available)) \(asset.code); \(asset.format(draft.amount)) requested"))
        }
        if let limit = from.velocityLimits[draft.asset] {
            let after = outflows.units + draft.amount.units
            guard after <= limit.units else {
                return .failure(MovementRefusal(.velocity, "wallet \(from.id) sent \(asset.format(outflows)) \(asset.code) in the last \(facts.settings.velocityWindowSeconds) s; with \(asset.format(draft.amount)) it would be \(asset.format(Amount(units: after))), the limit is \(asset.format(limit))"))
            }
        }
        if let refusal = hotCap(draft, asset: asset, from: from, to: to, facts: facts) { return .failure(refusal) }
        if let refusal = guarantee(draft, asset: asset, from: from, facts: facts) { return .failure(refusal) }
        let price: JPYPrice
        switch facts.freshPrice(draft.asset) {
        case .success(let found): price = found
        case .failure(let problem): return .failure(MovementRefusal(.price, problem.message))
        }
        let value = (try? draft.amount.jpyValue(of: asset, at: price, rounding: .up))?.units ?? .max
        let touchesCold = from.temperature == .cold || to?.temperature == .cold
        let signers = facts.settings.signers(forJPY: value, touchesCold: touchesCold)
        do {
            return .success(try ApprovalPolicy(
                approvalsRequired: signers, eligibleRoles: [.signer], minimumFromRole: [.signer: signers],
                timeLockSeconds: from.temperature == .cold ? facts.settings.coldTimeLockSeconds : 0,
                expirySeconds: facts.settings.movementExpirySeconds))
        } catch {
            return .failure(MovementRefusal(.invalid, "the movement policy cannot be built: \(error.message)"))
        }
    }

    private static func shape(_ draft: MovementDraft, from: Wallet, to: Wallet?) -> MovementRefusal? {
        guard draft.amount.units > 0 else { return MovementRefusal(.invalid, "the amount must not be zero") }
        guard from.assets.contains(draft.asset) else { return MovementRefusal(.invalid, "wallet \(from.id) does not hold \(draft.asset)") }
        switch draft.kind {
        case .withdrawal:
            guard draft.toAddress != nil, draft.toWallet == nil else { return MovementRefusal(.invalid, "a withdrawal goes to an address, not a wallet") }
            if from.purpose == .customerPool && draft.ledgerPendingID == nil {
                return MovementRefusal(.invalid, "a withdrawal from the customer pool names the ledger's pending withdrawal it pays out")
            }
            return nil
        case .hotToCold, .coldToHot, .guaranteeTopUp:
            guard let to, draft.toAddress == nil else { return MovementRefusal(.invalid, "\(draft.kind.rawValue) goes to one of Kinko's wallets") }
            guard to.assets.contains(draft.asset) else { return MovementRefusal(.invalid, "wallet \(to.id) does not hold \(draft.asset)") }
            guard to.id != from.id else { return MovementRefusal(.invalid, "a movement needs two different wallets") }
            switch draft.kind {
            case .hotToCold where !(from.temperature == .hot && to.temperature == .cold && from.purpose == to.purpose),
                .coldToHot where !(from.temperature == .cold && to.temperature == .hot && from.purpose == to.purpose):
                return MovementRefusal(.invalid, "\(draft.kind.rawValue) moves between a \(draft.kind == .hotToCold ? "hot and a cold" : "cold and a hot") wallet of the same purpose")
            case .guaranteeTopUp where !(from.purpose == .ownFunds && to.purpose == .guarantee):
                return MovementRefusal(.invalid, "a guarantee top-up moves own funds into a guarantee wallet")
            default:
                return nil
            }
        }
    }

    private static func whitelisted(_ draft: MovementDraft, whitelist: [WhitelistEntry], now: TimestampNanoseconds) -> MovementRefusal? {
        let address = draft.toAddress ?? ""
        guard let entry = whitelist.first(where: { $0.asset == draft.asset && $0.address == address }) else {
            return MovementRefusal(.whitelist, "\(address) is not on the \(draft.asset) withdrawal whitelist")
        }
        guard entry.status == .active, let usableFrom = entry.usableFrom else {
            return MovementRefusal(.whitelist, "\(address) is waiting for approval to join the whitelist")
        }
        guard now >= usableFrom else {
            return MovementRefusal(.whitelist, "\(address) becomes usable at \(usableFrom.iso8601), \((usableFrom - now + 999_999_999) / 1_000_000_000) s from now")
        }
        return nil
    }

    /// Guarantee crypto must cover the hot customer holdings (PSA Art. 63-11-2): a movement out
    /// of a guarantee wallet, or from cold to hot, is refused when it would leave less
    /// guarantee crypto than hot customer coins.
    private static func guarantee(_ draft: MovementDraft, asset: Asset, from: Wallet, facts: CustodyFacts) -> MovementRefusal? {
        let leavesGuarantee = from.purpose == .guarantee
        let raisesHot = draft.kind == .coldToHot && from.purpose == .customerPool
        guard leavesGuarantee || raisesHot else { return nil }
        let figures = CustodyCheck.evaluate(facts).assets.first { $0.asset.code == asset.code }
        guard let figures, figures.problems.isEmpty else {
            return MovementRefusal(.guarantee, "guarantee cover of \(asset.code) cannot be assessed: \(figures?.problems.first ?? "no observations")")
        }
        let held = figures.guaranteeHeld.units - (leavesGuarantee ? min(draft.amount.units, figures.guaranteeHeld.units) : 0)
        let hot = figures.hot.units + (raisesHot ? draft.amount.units : 0)
        let required = facts.settings.guaranteeRequired(hot: hot)
        guard held >= required else {
            let against = facts.settings.guaranteePercentOfHot == 100 ? "" : " (\(facts.settings.guaranteePercentOfHot)% of them, \(asset.format(Amount(units: required))) \(asset.code), is required)"
            return MovementRefusal(.guarantee, "after moving \(asset.format(draft.amount)) \(asset.code) guarantee crypto would be \(asset.format(Amount(units: held))) \(asset.code) against \(asset.format(Amount(units: hot))) \(asset.code) hot customer coins\(against)")
        }
        return nil
    }

    /// Only movements that raise the hot share can break the cap: cold → hot, and anything
    /// leaving a cold customer wallet for outside.
    private static func hotCap(_ draft: MovementDraft, asset: Asset, from: Wallet, to: Wallet?, facts: CustodyFacts) -> MovementRefusal? {
        guard from.purpose == .customerPool, from.temperature == .cold, draft.kind == .coldToHot || draft.kind == .withdrawal else { return nil }
        let figures = CustodyCheck.evaluate(facts).assets.first { $0.asset.code == asset.code }
        guard let figures, figures.problems.isEmpty else {
            return MovementRefusal(.hotCap, "the hot share of \(asset.code) cannot be assessed: \(figures?.problems.first ?? "no observations")")
        }
        let hot = figures.hot.units + (draft.kind == .coldToHot ? draft.amount.units : 0)
        let total = figures.total.units - (draft.kind == .withdrawal ? draft.amount.units : 0)
        guard CustodyCheck.within(hot, of: total, limit: figures.limitBasisPoints) else {
            return MovementRefusal(.hotCap, "moving \(asset.format(draft.amount)) \(asset.code) would make hot \(asset.code) \(Share.percent(basisPoints: Share.basisPoints(hot, of: total) ?? 0)) of customer \(asset.code); the limit is \(Share.percent(basisPoints: UInt128(figures.limitBasisPoints)))")
        }
        return nil
    }
}
