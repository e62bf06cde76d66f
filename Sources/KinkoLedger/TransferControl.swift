import Foundation
public import KinkoCore
public import KinkoGovernance
import Yams

/// The exchange's transfer controls: a versioned YAML document adopted under approval (kind
/// `transfer-control`). It says which transfer codes need maker-checker and who may approve
/// them, how a customer's value may leave their account, the published fee schedule, and that
/// deposits are screened and withdrawals two-phase. `LedgerService` applies it to every
/// transfer a front end posts.
public struct TransferControlPolicy: Sendable, Equatable {
    public struct MakerChecker: Sendable, Equatable {
        public var codes: Set<TransferCode>
        /// Roles whose holders may approve (never the one who posted the transfer).
        public var approvers: Set<Role>
    }

    /// A fee may be up to `ratePPM` millionths of the customer's trade legs in the same asset
    /// within its linked chain, and a fee with no trade leg at most `flatMax` (in the asset's
    /// units, as a decimal). A larger fee is parked for approval.
    public struct FeeLine: Sendable, Equatable {
        public var ratePPM: UInt64
        public var flatMax: String
        /// `flatMax` read at the common scales once (a fee is checked per event).
        private var flatMaxByScale: [UInt128?]

        public init(ratePPM: UInt64, flatMax: String) {
            self.ratePPM = ratePPM
            self.flatMax = flatMax
            flatMaxByScale = (0...Amount.scaleMax).map { scale in try? Amount(decimal: flatMax, scale: scale).units }
        }

        /// The flat maximum in units of an asset with `scale` decimals (0 when it cannot be
        /// written at that scale).
        public func flatMaxUnits(scale: UInt8) -> UInt128 {
            Int(scale) < flatMaxByScale.count ? flatMaxByScale[Int(scale)] ?? 0 : 0
        }
    }

    public var version: String
    public var rules: [MakerChecker]
    public var feeApprovers: Set<Role>
    public var approvalExpirySeconds: UInt64
    public var tradeNeedsCounterLeg: Bool
    /// Customer liability (and quarantine) accounts carry `debits_must_not_exceed_credits`: a
    /// customer's claim never goes below zero, so no trade can pay out value nobody holds.
    public var customerAccountsNoOverdraft: Bool
    public var depositsScreenedOnly: Bool
    public var withdrawalsTwoPhase: Bool
    public var fees: [String: FeeLine]
    /// The document as adopted, verbatim.
    public var yaml: String

    public static let kind = "transfer-control"
    public static let yamlLengthMax = 64 * 1024
    public static let expiryHoursMax: UInt64 = 30 * 24
    public static let ratePPMMax: UInt64 = 1_000_000

    /// Every code some rule makes maker-checker (kept, not recomputed: the review asks per event).
    public private(set) var makerCheckerCodes: Set<TransferCode> = []

    /// The roles that approve a parked transfer of `code` (a fee: `feeApprovers`).
    public func approvers(for code: TransferCode) -> Set<Role> {
        rules.first { $0.codes.contains(code) }?.approvers ?? feeApprovers
    }

    public func feeLine(asset: String) -> FeeLine? { fees[asset] ?? fees["default"] }

    private struct Document: Decodable {
        struct Rule: Decodable { var codes: [String]; var approvers: [String] }
        struct MakerChecker: Decodable { var expiry_hours: UInt64; var rules: [Rule]; var fee_above_schedule_approvers: [String] }
        struct CustomerDebits: Decodable { var trade_needs_counter_leg: Bool }
        struct CustomerAccounts: Decodable { var no_overdraft: Bool }
        struct Deposits: Decodable { var screened_only: Bool }
        struct Withdrawals: Decodable { var two_phase: Bool }
        struct Fee: Decodable { var rate_ppm: UInt64; var flat_max: String }
        var version: String
        var maker_checker: MakerChecker
        var customer_debits: CustomerDebits
        var customer_accounts: CustomerAccounts
        var deposits: Deposits
        var withdrawals: Withdrawals
        var fee_schedule: [String: Fee]
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= Self.yamlLengthMax else {
            throw KinkoError(.limitExceeded, "a transfer-control policy is at most \(Self.yamlLengthMax) bytes", field: "yaml")
        }
        let document: Document
        do {
            document = try YAMLDecoder().decode(Document.self, from: yaml)
        } catch {
            throw KinkoError(.invalidInput, "the transfer-control policy does not read: \(error)", field: "yaml")
        }
        guard (1...64).contains(document.version.utf8.count) else {
            throw KinkoError(.invalidInput, "a version is 1–64 characters", field: "version")
        }
        guard (1...Self.expiryHoursMax).contains(document.maker_checker.expiry_hours) else {
            throw KinkoError(.invalidInput, "expiry_hours must be 1–\(Self.expiryHoursMax)", field: "maker_checker.expiry_hours")
        }
        var rules: [MakerChecker] = []
        var seen: Set<TransferCode> = []
        for (index, rule) in document.maker_checker.rules.enumerated() {
            let field = "maker_checker.rules[\(index)]"
            var codes: Set<TransferCode> = []
            for name in rule.codes {
                guard let code = TransferCode.all.first(where: { $0.name == name }) else {
                    throw KinkoError(.invalidInput, "unknown transfer code \"\(name)\"", field: "\(field).codes")
                }
                guard ![.deposit, .withdrawal, .trade, .fee].contains(code) else {
                    throw KinkoError(.invalidInput, "\(name) has controls of its own and is not maker-checker", field: "\(field).codes")
                }
                guard seen.insert(code).inserted else { throw KinkoError(.invalidInput, "\(name) appears in two rules", field: "\(field).codes") }
                codes.insert(code)
            }
            rules.append(MakerChecker(codes: codes, approvers: try Self.roles(rule.approvers, field: "\(field).approvers")))
        }
        var fees: [String: FeeLine] = [:]
        for (asset, fee) in document.fee_schedule {
            guard fee.rate_ppm <= Self.ratePPMMax else {
                throw KinkoError(.invalidInput, "rate_ppm is at most \(Self.ratePPMMax)", field: "fee_schedule.\(asset).rate_ppm")
            }
            do throws(KinkoError) {
                // Read at the scale it is written in; the asset's own scale applies when used.
                let places = fee.flat_max.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
                _ = try Amount(decimal: fee.flat_max, scale: UInt8(min(places, Int(Amount.scaleMax))))
            } catch {
                throw KinkoError(error.code, "flat_max: \(error.message)", field: "fee_schedule.\(asset).flat_max")
            }
            fees[asset] = FeeLine(ratePPM: fee.rate_ppm, flatMax: fee.flat_max)
        }
        guard fees["default"] != nil else { throw KinkoError(.invalidInput, "the fee schedule needs a default line", field: "fee_schedule.default") }
        version = document.version
        self.rules = rules
        feeApprovers = try Self.roles(document.maker_checker.fee_above_schedule_approvers, field: "maker_checker.fee_above_schedule_approvers")
        approvalExpirySeconds = document.maker_checker.expiry_hours * 3_600
        tradeNeedsCounterLeg = document.customer_debits.trade_needs_counter_leg
        customerAccountsNoOverdraft = document.customer_accounts.no_overdraft
        depositsScreenedOnly = document.deposits.screened_only
        withdrawalsTwoPhase = document.withdrawals.two_phase
        self.fees = fees
        self.yaml = yaml
        makerCheckerCodes = rules.reduce(into: []) { $0.formUnion($1.codes) }
    }

    private static func roles(_ names: [String], field: String) throws(KinkoError) -> Set<Role> {
        var roles: Set<Role> = []
        for name in names {
            do { roles.insert(try Role(parsing: name)) } catch { throw KinkoError(error.code, error.message, field: field) }
        }
        guard !roles.isEmpty else { throw KinkoError(.invalidInput, "name at least one approving role", field: field) }
        guard roles.isDisjoint(with: [.admin, .auditor, .inspector, .operator]) else {
            throw KinkoError(.invalidInput, "admins, auditors, inspectors and operators approve no transfer", field: field)
        }
        return roles
    }

    /// The policy in force until one is adopted: every control on.
    public static let defaultYAML = """
        version: "2026.1-default"
        # Transfers of these codes are created pending and post only when a second person, holding
        # one of the approving roles and other than the one who posted them, approves.
        maker_checker:
          expiry_hours: 72
          rules:
            - codes: [segregation_sweep, custody_transfer, guarantee_top_up, guarantee_release]
              approvers: [finance, treasurer]
            - codes: [reserve_funding, reserve_release, reserve_draw, insurance_claim, insurance_settlement, own_funds_compensation, compensation]
              approvers: [finance, compliance]
            - codes: [incident_loss, correction]
              approvers: [finance, compliance]
            - codes: [quarantine_release, quarantine_return]
              approvers: [compliance]
          fee_above_schedule_approvers: [finance, compliance]
        # A trade leg debiting a customer posts only in a linked chain that pays the same customer
        # back in another asset (from another customer or the market).
        customer_debits:
          trade_needs_counter_leg: true
        # Customer accounts are opened with debits_must_not_exceed_credits: no overdraft.
        customer_accounts:
          no_overdraft: true
        # Deposits to customers are credited only through screening (sanctions, stolen coins).
        deposits:
          screened_only: true
        # Withdrawals are two-phase: pending first, posted once the monitoring verdict clears them.
        withdrawals:
          two_phase: true
        # The published fee schedule, per asset (default for the rest).
        fee_schedule:
          default: {rate_ppm: 3000, flat_max: "0"}
          JPY: {rate_ppm: 3000, flat_max: "1000"}
          BTC: {rate_ppm: 3000, flat_max: "0.0005"}
          ETH: {rate_ppm: 3000, flat_max: "0.005"}
          XRP: {rate_ppm: 3000, flat_max: "1"}
        """

    public static let standard: TransferControlPolicy = {
        // The built-in document is part of the program and is covered by a test.
        guard let policy = try? TransferControlPolicy(yaml: defaultYAML) else { preconditionFailure("the built-in transfer-control policy does not read") }
        return policy
    }()
}

/// What the controls need to know from outside the ledger for one batch, gathered by
/// `LedgerService` from `TransferControlFacts` before the batch runs.
public struct TransferFacts: Sendable {
    /// Deposits screened by the deposit flow: transfer id → the account screening chose.
    public var screenedDeposits: [UInt128: AccountID] = [:]
    /// Pending withdrawals monitoring (or compliance) cleared.
    public var clearedWithdrawals: Set<UInt128> = []
    /// Per ledger: how much may still be swept out of the customer pool — the smaller of the
    /// books' surplus (pending sweeps taken off) and `sweepProven`.
    public var sweepHeadroom: [UInt32: UInt128] = [:]
    /// Per ledger: the surplus the latest reconciliation proved the wallets hold.
    public var sweepProven: [UInt32: UInt128] = [:]
    /// Per ledger: how much of the reserve fund may be released.
    public var reserveHeadroom: [UInt32: UInt128] = [:]
    /// Per ledger: guarantee crypto above what the hot customer holdings require.
    public var guaranteeHeadroom: [UInt32: UInt128] = [:]
    /// Guarantee crypto required per hot unit, in percent (the regulatory setting in force; the
    /// law's 100 by default): a cold-to-hot transfer of x takes ⌈x × percent / 100⌉ of headroom.
    public var guaranteePercentOfHot: UInt64 = 100
    /// Customer custody accounts of hot wallets.
    public var hotAccounts: Set<AccountID> = []
    /// Pending transfers whose post a satisfied approval covers (posting them now).
    public var approvedPendings: Set<UInt128> = []

    public init() {}
}

/// Figures the controls need from custody, the reserve and the withdrawal and deposit flows
/// (implemented above the ledger, which cannot see those modules).
public protocol TransferControlFacts: Sendable {
    func depositScreenings(_ ids: [TransferID]) async throws -> [UInt128: AccountID]
    func withdrawalClearances(_ pendingIDs: [TransferID]) async throws -> Set<UInt128>
    /// Sweep, reserve and guarantee headroom and the hot accounts.
    func headroom(into facts: inout TransferFacts) async throws
}

/// The controls applied to one batch, inside the ledger with its accounts at hand. Pure: the
/// same events, accounts, policy and facts give the same outcome, so a retry of a parked
/// transfer is rewritten the same way and answers `exists`.
public struct TransferReview: Sendable {
    public let policy: TransferControlPolicy
    public let facts: TransferFacts
    /// The facts were gathered (a `TransferControlFacts` is wired); without them every check
    /// that needs one refuses with `controls_unavailable`.
    public let factsAvailable: Bool

    public struct Outcome: Sendable {
        /// The events as they run: parked ones made pending, with the approval expiry as timeout.
        public var events: [Transfer]
        public var refusals: [Int: CreateTransferResult]
        public var parked: Set<Int>
    }

    /// What the review needs of the ledger: the engine itself, read directly (the review runs
    /// per event on the hot path; closures and whole-account copies cost as much as the check).
    struct View {
        let engine: LedgerEngine

        func account(_ id: AccountID) -> Account? {
            engine.accountIndex(of: id).map { engine.account(at: $0) }
        }

        func pending(_ id: TransferID) -> Transfer? { engine.pendingTransfer(id)?.transfer }
        func asset(_ ledger: UInt32) -> Asset? { engine.asset(ledger: ledger) }
    }

    func review(_ events: [Transfer], view: View) -> Outcome {
        var outcome = Outcome(events: events, refusals: [:], parked: [])
        var inBatch: [UInt128: Transfer] = [:]
        for event in events where event.flags.contains(.pending) { inBatch[event.id.rawValue] = event }
        var used = Headroom()
        var start = 0
        while start < events.count {
            var end = start
            while end < events.count - 1 && events[end].flags.contains(.linked) { end += 1 }
            let chain = start...end
            for index in chain {
                let event = events[index]
                if event.flags.resolvesPending {
                    let pending = view.pending(event.pendingID) ?? inBatch[event.pendingID.rawValue]
                    if let refusal = reviewPost(event, pending: pending, view: view, used: &used) { outcome.refusals[index] = refusal }
                    continue
                }
                switch reviewFresh(event, index: index, chain: events[chain], view: view, used: &used) {
                case .pass: break
                case .refuse(let refusal): outcome.refusals[index] = refusal
                case .park:
                    var parked = event
                    if !parked.flags.contains(.pending) {
                        parked.flags.insert(.pending)
                        parked.timeoutSeconds = UInt32(clamping: policy.approvalExpirySeconds)
                    }
                    outcome.events[index] = parked
                    outcome.parked.insert(index)
                }
            }
            start = end + 1
        }
        return outcome
    }

    enum Verdict { case pass, park, refuse(CreateTransferResult) }

    /// Headroom used by earlier events of the batch, per ledger.
    struct Headroom {
        var sweep: [UInt32: UInt128] = [:]
        var reserve: [UInt32: UInt128] = [:]
        var guarantee: [UInt32: UInt128] = [:]
    }

    /// Accounts are looked up only for the codes whose control needs them (the engine looks
    /// them up again anyway; a missing account is the engine's answer to give).
    private func reviewFresh(_ t: Transfer, index: Int, chain: ArraySlice<Transfer>, view: View, used: inout Headroom) -> Verdict {
        switch t.code {
        case .deposit where policy.depositsScreenedOnly:
            guard let credit = view.account(t.creditAccountID), credit.accountClass == .customerLiability || credit.accountClass == .quarantine else {
                return .pass
            }
            guard factsAvailable else { return .refuse(.controlsUnavailable) }
            return facts.screenedDeposits[t.id.rawValue] == t.creditAccountID ? .pass : .refuse(.depositNotScreened)
        case .withdrawal:
            return policy.withdrawalsTwoPhase && !t.flags.contains(.pending) ? .refuse(.withdrawalMustBePending) : .pass
        case .trade:
            // The counter-leg rule runs in the engine when the chain closes, with the accounts
            // the legs resolved anyway (`LedgerEngine.executeTransfers(tradesNeedCounterLeg:)`).
            return .pass
        case .fee:
            guard let debit = view.account(t.debitAccountID), debit.accountClass == .customerLiability else { return .pass }
            return t.amount <= feeAllowed(t, customer: debit, chain: chain, view: view) ? .pass : .park
        default:
            guard policy.makerCheckerCodes.contains(t.code) else { return .pass }
            guard let debit = view.account(t.debitAccountID), let credit = view.account(t.creditAccountID) else { return .pass }
            if let refusal = checkHeadroom(t, debit: debit, credit: credit, amount: t.amount, used: &used) { return .refuse(refusal) }
            return .park
        }
    }

    private func reviewPost(_ t: Transfer, pending: Transfer?, view: View, used: inout Headroom) -> CreateTransferResult? {
        guard t.flags.contains(.postPendingTransfer), let pending else { return nil }
        if pending.code == .withdrawal && policy.withdrawalsTwoPhase {
            guard factsAvailable else { return .controlsUnavailable }
            return facts.clearedWithdrawals.contains(pending.id.rawValue) ? nil : .withdrawalNotCleared
        }
        let controlled = policy.makerCheckerCodes.contains(pending.code) || pending.code == .fee
        guard controlled else { return nil }
        guard facts.approvedPendings.contains(pending.id.rawValue) else { return .approvalRequired }
        guard let debit = view.account(pending.debitAccountID), let credit = view.account(pending.creditAccountID) else { return nil }
        let amount = min(t.amount, pending.amount)
        return checkHeadroom(pending, debit: debit, credit: credit, amount: amount, used: &used, reserved: pending.amount)
    }

    /// Sweeps out of the customer pool, reserve releases, guarantee releases and cold-to-hot
    /// transfers stay within what the figures allow (at park time and again at post time). When
    /// posting, `reserved` is what the pending transfer itself already holds back from the books'
    /// figures (a parked sweep or guarantee release is counted as pending), so it is given back.
    private func checkHeadroom(_ t: Transfer, debit: Account, credit: Account, amount: UInt128, used: inout Headroom,
                               reserved: UInt128 = 0) -> CreateTransferResult? {
        func take(_ limit: [UInt32: UInt128], _ spent: inout [UInt32: UInt128], _ refusal: CreateTransferResult, giveBack: UInt128 = 0,
                  cap: UInt128 = .max, charged: UInt128? = nil) -> CreateTransferResult? {
            guard factsAvailable, let counted = limit[t.ledger] else { return .controlsUnavailable }
            let (sum, overflow) = counted.addingReportingOverflow(giveBack)
            let available = min(overflow ? .max : sum, cap)
            let already = spent[t.ledger, default: 0]
            let charge = charged ?? amount
            guard already <= available, charge <= available - already else { return refusal }
            spent[t.ledger] = already + charge
            return nil
        }
        switch t.code {
        case .segregationSweep where debit.accountClass == .ownHolding && credit.accountClass == .customerCustodyHolding:
            return take(facts.sweepHeadroom, &used.sweep, .exceedsSweepHeadroom, giveBack: reserved, cap: facts.sweepProven[t.ledger] ?? 0)
        case .reserveRelease:
            return take(facts.reserveHeadroom, &used.reserve, .exceedsReserveHeadroom)
        case .guaranteeRelease:
            return take(facts.guaranteeHeadroom, &used.guarantee, .exceedsGuaranteeHeadroom, giveBack: reserved)
        case .custodyTransfer where credit.accountClass == .customerCustodyHolding && facts.hotAccounts.contains(debit.id)
            && !facts.hotAccounts.contains(credit.id):
            // More hot coins need ⌈x × percent / 100⌉ more guarantee crypto (saturating).
            return take(facts.guaranteeHeadroom, &used.guarantee, .exceedsGuaranteeHeadroom, charged: amount.percentRoundedUp(facts.guaranteePercentOfHot))
        default:
            return nil
        }
    }

    /// The largest fee the schedule allows: the rate of the customer's trade legs in the fee's
    /// asset within the chain (rounded up), and at least the flat maximum.
    private func feeAllowed(_ fee: Transfer, customer: Account, chain: ArraySlice<Transfer>, view: View) -> UInt128 {
        guard let asset = view.asset(fee.ledger), let line = policy.feeLine(asset: asset.code) else { return 0 }
        let flat = line.flatMaxUnits(scale: asset.scale)
        var base = WideSum()
        for leg in chain where leg.code == .trade && leg.ledger == fee.ledger {
            let debitOwner = view.account(leg.debitAccountID).map { $0.accountClass == .customerLiability && $0.owner == customer.owner } ?? false
            let creditOwner = view.account(leg.creditAccountID).map { $0.accountClass == .customerLiability && $0.owner == customer.owner } ?? false
            if debitOwner || creditOwner { base.add(leg.amount) }
        }
        guard let baseUnits = base.narrowed else { return .max }
        let product = baseUnits.multipliedFullWidth(by: UInt128(line.ratePPM))
        guard product.high < 1_000_000 else { return .max }
        let (quotient, remainder) = UInt128(1_000_000).dividingFullWidth((product.high, product.low))
        let byRate = remainder == 0 ? quotient : quotient + 1
        return max(byRate, flat)
    }

    public init(policy: TransferControlPolicy, facts: TransferFacts, factsAvailable: Bool) {
        self.policy = policy
        self.facts = facts
        self.factsAvailable = factsAvailable
    }
}

/// The policy is proposed by finance or compliance and adopted once another of them approves.
extension TransferControlPolicy: VersionedDocument {
    public static var settingsKind: String { kind }
    public static var adoptionAction: String { Governance.settingsAction(kind) }
    public static let proposePermission = Permission.ledgerPolicyPropose
    public static let readPermission = Permission.ledgerRead
    public static let noun = "transfer-control policy"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy {
        try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: LedgerService.policyApprovers)
    }
}
