import Crypto
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger

/// The liability reserve and what it is for: the requirement from the adopted rule set, the
/// reserve fund, insurance, incidents, compensation and insolvency distribution.
public struct Reserve: Sendable {
    public let governance: Governance
    public let ledger: Ledger
    public let custody: Custody
    public let store: any ReserveStore
    public let clock: any WallClock

    public static let fundAction = "reserve.fund"
    public static let planAction = "reserve.compensation"
    /// Funding or releasing the reserve needs one approval by another finance officer or compliance.
    public static let fundPolicy = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.finance, .compliance])
    /// A compensation plan needs finance and compliance (the initiator does not count).
    public static let planPolicy = try? ApprovalPolicy(approvalsRequired: 2, eligibleRoles: [.finance, .compliance],
                                                       minimumFromRole: [.finance: 1, .compliance: 1], expirySeconds: 3 * 86_400)

    public init(governance: Governance, ledger: Ledger, custody: Custody, store: any ReserveStore, clock: any WallClock = SystemWallClock()) {
        self.governance = governance
        self.ledger = ledger
        self.custody = custody
        self.store = store
        self.clock = clock
    }

    static func derivedID(_ text: String) -> AccountID {
        AccountID(SHA256.hash(data: Array(text.utf8)).prefix(16).reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
    }

    /// The reserve fund's ledger account for an asset (class reserve fund, apart from own funds).
    public static func reserveFundAccountID(asset: String) -> AccountID { derivedID("kinko.reserve-fund:\(asset)") }
    public static func compensationPayableAccountID(asset: String) -> AccountID { derivedID("kinko.compensation-payable:\(asset)") }
    public static func insuranceReceivableAccountID(asset: String) -> AccountID { derivedID("kinko.insurance-receivable:\(asset)") }

    /// Opens the reserve's accounts for an asset (idempotent).
    public func ensureAccounts(asset code: String, by caller: Caller) async throws {
        guard let asset = await ledger.asset(code: code) else { throw KinkoError(.assetNotFound, "unknown asset \(code)", field: "asset") }
        let accounts = [
            Account(id: Self.reserveFundAccountID(asset: code), ledger: asset.ledger, code: 500, accountClass: .reserveFund, flags: .debitsMustNotExceedCredits),
            Account(id: Self.compensationPayableAccountID(asset: code), ledger: asset.ledger, code: 800, accountClass: .compensationPayable,
                    flags: .debitsMustNotExceedCredits),
            Account(id: Self.insuranceReceivableAccountID(asset: code), ledger: asset.ledger, code: 700, accountClass: .insuranceReceivable),
            Account(id: Custody.feeAccountID(asset: code), ledger: asset.ledger, code: 300, accountClass: .ownFunds),
        ]
        let results = try await ledger.createAccounts(accounts, by: caller)
        if let bad = results.firstIndex(where: { !$0.isSuccess }) {
            throw KinkoError(.conflict, "reserve account \(accounts[bad].id) could not be opened: \(results[bad].name)")
        }
    }

    /// What the reserve fund holds in an asset.
    public func funded(asset: String = "JPY") async -> Amount {
        Amount(units: await ledger.account(Self.reserveFundAccountID(asset: asset))?.balance.netPosted(claim: true) ?? 0)
    }

    // MARK: Rule sets

    /// The reserve's rule sets: proposed by finance or compliance, adopted once another of them
    /// approves; the latest adopted one sizes the requirement.
    public var ruleSets: AdoptedDocuments<RuleSet> { AdoptedDocuments(governance: governance) }

    // MARK: Trading volume

    /// Aggregates the JPY legs of trades posted since the last refresh into daily volumes per
    /// category (`user_data_32` of the trade: 0 spot, 1 margin, 2 derivatives).
    public func refreshVolumes(by caller: Caller) async throws -> Int {
        let role = try await governance.authorize(caller, .reserveVolumesRecord)
        guard let jpy = await ledger.asset(code: "JPY") else { return 0 }
        let start = try await store.volumeWatermark()
        var totals: [String: [String: UInt128]] = [:]
        var last = start
        var scanned = 0
        while true {
            let page = try await ledger.batches(after: last)
            guard !page.isEmpty else { break }
            for record in page {
                last = record.sequence
                guard record.kind == .transfers else { continue }
                for transfer in try LedgerCodec.decodeTransfers(record.body, count: record.count)
                where transfer.ledger == jpy.ledger && transfer.code == .trade {
                    totals[Self.category(transfer.userData32), default: [:]][JST.day(of: transfer.timestamp), default: 0] += transfer.amount
                    scanned += 1
                }
            }
        }
        let rows = totals.flatMap { category, days in days.map { VolumeRow(day: $0.key, category: category, amount: Amount(units: $0.value)) } }
            .sorted { ($0.day, $0.category) < ($1.day, $1.category) }
        guard last > start else { return 0 }
        let digest = Governance.digest(["from": .string(String(start)), "to": .string(String(last))])
        guard try await store.addLedgerVolumes(rows, from: start, to: last, audit: caller.event(
            .reserveVolumesRecord, role: role, digest: digest, result: "ok", details: ["trades": String(scanned), "through_batch": String(last)]))
        else {
            throw KinkoError(.conflict, "volumes were refreshed meanwhile; run again")
        }
        return scanned
    }

    public static let categories = ["spot", "margin", "derivatives"]

    static func category(_ code: UInt32) -> String { code < categories.count ? categories[Int(code)] : "other" }

    public func importVolumes(_ rows: [VolumeRow], by caller: Caller) async throws {
        let role = try await governance.authorize(caller, .reserveVolumesRecord)
        for (index, row) in rows.enumerated() { _ = try CalendarDay.parse(row.day, field: "volumes[\(index)].day") }
        let digest = Governance.digest(.array(rows.map { ["day": .string($0.day), "category": .string($0.category), "amount": .string($0.amount.description)] }))
        try await store.importVolumes(rows, audit: caller.event(.reserveVolumesRecord, role: role, digest: digest, result: "imported",
                                                                details: ["rows": String(rows.count)]))
    }

    // MARK: Insurance

    public func addPolicy(_ policy: InsurancePolicy, by caller: Caller) async throws -> InsurancePolicy {
        let role = try await governance.authorize(caller, .reserveInsuranceManage)
        guard !policy.insurer.isEmpty, !policy.coverage.isEmpty else {
            throw KinkoError(.invalidInput, "a policy names its insurer and at least one covered loss type", field: "coverage")
        }
        for (field, day) in [("starts", policy.starts), ("ends", policy.ends)] { _ = try CalendarDay.parse(day, field: field) }
        guard policy.starts <= policy.ends else { throw KinkoError(.invalidInput, "the policy ends before it starts", field: "ends") }
        let digest = Governance.digest(["insurer": .string(policy.insurer), "limit": .string(policy.limit.description), "starts": .string(policy.starts)])
        return try await store.insertPolicy(policy, audit: caller.event(.reserveInsuranceManage, role: role, digest: digest, result: "ok",
                                                                         details: ["insurer": policy.insurer]))
    }

    // MARK: The requirement

    /// Computes the requirement under the adopted rule set, stores it with what the fund holds,
    /// and raises an alert when the fund is short.
    public func compute(by caller: Caller) async throws -> (requirement: Requirement, funded: Amount) {
        let role = try await governance.authorize(caller, .reserveCompute)
        guard let rules = try await ruleSets.current() else {
            throw KinkoError(.notFound, "no rule set is adopted: propose one (kinko reserve rules propose) and have it approved")
        }
        let check = CustodyCheck.evaluate(try await custody.facts())
        let problems = check.assets.flatMap(\.problems) + check.totalProblems
        guard problems.isEmpty else {
            throw KinkoError(.invalidInput, "customer crypto cannot be valued: \(problems.first ?? "")", field: "observations")
        }
        let hot = try Amount.sum(check.assets.compactMap(\.hotJPY))
        let cold = try (check.totalJPY ?? .zero).subtracting(min(hot, check.totalJPY ?? .zero))
        let losses = try await store.incidents().map { PastLoss(incident: $0.id, lostAt: $0.lostAt, amountJPY: $0.lossJPY, valuation: $0.valuation) }
        let requirement = try Requirement.compute(rules, RequirementInputs(
            volumes: try await store.volumes(), coldJPY: cold, hotJPY: hot, losses: losses, policies: try await store.policies(), now: clock.now()))
        let funded = await funded()
        let digest = Governance.digest(["version": .string(rules.version), "required": .string(requirement.required.description)])
        try await store.saveRequirement(requirement, funded: funded, audit: caller.event(
            .reserveCompute, role: role, digest: digest, result: funded >= requirement.required ? "adequate" : "short",
            details: ["required": requirement.required.description, "funded": funded.description, "rules": rules.version]))
        if funded < requirement.required {
            try await store.raiseAlert(kind: "reserve_shortfall", subject: "reserve \(JST.day(of: clock.now()))",
                                       message: "the reserve fund holds ¥\(funded), ¥\(try requirement.required.subtracting(funded)) short of the required ¥\(requirement.required)",
                                       at: clock.now())
        }
        return (requirement, funded)
    }

    // MARK: Funding and release

    /// Asks to move yen from own funds into the reserve fund (or back, `release`).
    public func requestFunding(_ amount: Amount, release: Bool, by caller: Caller) async throws -> ApprovalRequest {
        guard !amount.isZero else { throw KinkoError(.invalidInput, "the amount must not be zero", field: "amount") }
        let payload: CanonicalJSON = ["direction": .string(release ? "release" : "funding"), "amount": .string(amount.description), "asset": "JPY"]
        let role = try await governance.authorize(caller, .reserveFundRequest, digest: Governance.digest(payload))
        if release { try await checkRelease(amount, by: caller, role: role, .reserveFundRequest, digest: Governance.digest(payload)) }
        try await ensureAccounts(asset: "JPY", by: caller)
        return try await governance.submit(action: Self.fundAction, payload: payload, policy: Self.fundPolicy, by: caller, role: role,
                                           permission: .reserveFundRequest)
    }

    /// Posts an approved funding or release (exactly once: the ledger transfer's id is derived
    /// from the request, and the request is marked executed after it).
    public func executeFunding(_ id: ApprovalRequestID, by caller: Caller) async throws -> Amount {
        guard let request = try await governance.store.request(id), request.action == Self.fundAction else {
            throw KinkoError(.notFound, "no reserve fund request \(id)", field: "request")
        }
        let role = try await governance.authorize(caller, .approvalsExecute, digest: request.digest)
        guard request.status == .open else { throw KinkoError(.conflict, "request \(id) is \(request.status.rawValue)") }
        _ = try await governance.requireApproved(id, "reserve fund request \(id)", by: caller, role: role,
                                                 .approvalsExecute, digest: request.digest)
        guard case .object(let fields) = request.payload, case .string(let direction)? = fields["direction"],
            case .string(let text)? = fields["amount"], let units = UInt128(text), let jpy = await ledger.asset(code: "JPY")
        else { throw KinkoError(.storageCorrupted, "request \(id) has a malformed payload") }
        let release = direction == "release"
        if release { try await checkRelease(Amount(units: units), by: caller, role: role, .approvalsExecute, digest: request.digest) }
        let reserve = Self.reserveFundAccountID(asset: "JPY"), own = Custody.feeAccountID(asset: "JPY")
        let code: TransferCode = release ? .reserveRelease : .reserveFunding
        var transfers = [Transfer(id: TransferID(Self.derivedID("kinko.reserve-fund-request:\(id)").rawValue),
                                  debitAccountID: release ? reserve : own, creditAccountID: release ? own : reserve,
                                  amount: units, ledger: jpy.ledger, code: code)]
        // The cash moves with the fund: from the exchange's own yen account into the reserve's
        // (or back), linked, when both are registered; without a reserve account the fund stands
        // unbacked, and the day's reconciliation says so.
        if let (reserveAccount, ownAccount) = try await cashAccounts() {
            transfers[0].flags.insert(.linked)
            transfers.append(Transfer(id: TransferID(Self.derivedID("kinko.reserve-fund-request-cash:\(id)").rawValue),
                                      debitAccountID: release ? ownAccount : reserveAccount, creditAccountID: release ? reserveAccount : ownAccount,
                                      amount: units, ledger: jpy.ledger, code: code))
        }
        let result = try await ledger.createTransfers(transfers, by: caller)
        guard result.allSatisfy(\.isSuccess) else { throw KinkoError(.conflict, "the ledger refused the reserve \(direction): \(result.map(\.name))") }
        _ = try await store.markExecuted(id, revision: request.revision, at: clock.now(), audit: caller.event(
            .approvalsExecute, role: role, digest: request.digest, result: "ok", details: ["reserve": direction, "amount": text]))
        return await funded()
    }

    /// The reserve's yen account and the exchange's own, the first of each by id (wallets of
    /// purpose `reserve` and `own_funds` holding JPY), or nil unless both are registered; a
    /// frozen one stops the funding.
    func cashAccounts() async throws -> (reserve: AccountID, own: AccountID)? {
        let wallets = try await custody.store.wallets().filter { $0.assets.contains("JPY") }.sorted { $0.id < $1.id }
        guard let reserveWallet = wallets.first(where: { $0.purpose == .reserve }), let ownWallet = wallets.first(where: { $0.purpose == .ownFunds }) else {
            return nil
        }
        if let frozen = [reserveWallet, ownWallet].first(where: { $0.frozenAt != nil }) {
            throw KinkoError(.conflict, "account \(frozen.id) is frozen (\(frozen.frozenReason ?? "no reason given")): the reserve's cash cannot move", field: "request")
        }
        return (reserveWallet.accountID(for: "JPY"), ownWallet.accountID(for: "JPY"))
    }

    /// How much of the reserve fund may be released: what is funded above the last computed
    /// requirement (zero before any requirement was computed).
    public func releaseHeadroom() async throws -> Amount {
        guard let requirement = try await store.latestRequirement() else { return .zero }
        let fund = await funded()
        return fund > requirement.required ? try fund.subtracting(requirement.required) : .zero
    }

    /// A release that would leave the fund below the current requirement is refused.
    private func checkRelease(_ amount: Amount, by caller: Caller, role: Role, _ permission: Permission, digest: [UInt8]) async throws {
        let headroom = try await releaseHeadroom()
        guard amount <= headroom else {
            let required = try await store.latestRequirement()?.required.description ?? "not computed yet"
            throw try await governance.refused(
                KinkoError(.approvalRefused, "releasing ¥\(amount) would leave the reserve fund (¥\(await funded())) below the requirement (¥\(required)); at most ¥\(headroom) may be released",
                           field: "amount"), by: caller, role: role, permission, digest: digest)
        }
    }

    // MARK: Incidents

    /// Declares an incident: the affected wallets freeze at once, and every customer's holding of
    /// each lost asset at the time of the loss is snapshotted.
    public func declare(lossType: String, losses: [IncidentLoss], lostAt: TimestampNanoseconds, detectedAt: TimestampNanoseconds,
                        by caller: Caller) async throws -> Incident {
        _ = try await governance.authorize(caller, .incidentDeclare)
        guard !losses.isEmpty, !lossType.isEmpty else { throw KinkoError(.invalidInput, "an incident names its loss type and what was lost", field: "losses") }
        try TimestampNanoseconds.checkAccepted(lostAt, field: "lost_at")
        try TimestampNanoseconds.checkAccepted(detectedAt, field: "detected_at")
        guard lostAt <= detectedAt, detectedAt <= clock.now() else {
            throw KinkoError(.invalidInput, "the loss must come before its detection, and both before now", field: "detected_at")
        }
        let wallets = Dictionary(try await custody.store.wallets().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, loss) in losses.enumerated() {
            guard let wallet = wallets[loss.wallet], wallet.assets.contains(loss.asset), !loss.amount.isZero else {
                throw KinkoError(.invalidInput, "wallet \(loss.wallet) does not hold \(loss.asset), or the amount is zero", field: "losses[\(index)]")
            }
        }
        let payload: CanonicalJSON = ["loss_type": .string(lossType), "losses": .array(losses.map {
            ["wallet": .string($0.wallet), "asset": .string($0.asset), "amount": .string($0.amount.description)]
        }), "lost_at": .string(String(lostAt))]
        let role = try await governance.authorize(caller, .incidentDeclare, digest: Governance.digest(payload))
        let declaredAt = clock.now()
        let facts = try await custody.facts(at: declaredAt)
        var lossJPY = Amount.zero
        var valuations: [String] = []
        var entitlements: [String: [Entitlement]] = [:]
        for code in Set(losses.map(\.asset)).sorted() {
            guard let asset = await ledger.asset(code: code) else { throw KinkoError(.assetNotFound, "unknown asset \(code)", field: "losses") }
            let lost = try Amount.sum(losses.filter { $0.asset == code }.map(\.amount))
            // The loss is valued at the latest price observed, fresh or not: a stale price is a
            // better estimate than none, and the reserve's requirement counts this loss (a loss
            // counted as ¥0 would understate it exactly when it matters). Which price, and how
            // old, goes on the audit record. With no price ever observed nothing is declared.
            guard let observation = facts.latestPrice(code) else {
                throw KinkoError(.conflict, "no JPY price was ever observed for \(code), so the loss cannot be valued: record one (kinko custody prices) and declare again; "
                                 + "freeze the wallet meanwhile (kinko custody freeze)", field: "losses")
            }
            lossJPY = try lossJPY.adding(try lost.jpyValue(of: asset, at: observation.price, rounding: .up))
            let stale = (try? facts.freshPrice(code).get()) == nil
            let age = Self.age(seconds: (declaredAt - min(declaredAt, observation.observedAt)) / 1_000_000_000)
            valuations.append("\(code) ¥\(observation.price) observed \(observation.observedAt.iso8601), \(age) before declaration\(stale ? " (stale)" : "")")
            let customers = await ledger.accounts(ledger: asset.ledger, accountClass: .customerLiability)
            let summary = try await ledger.postedSummary(asOf: lostAt, accounts: Set(customers.map(\.id)))
            entitlements[code] = customers.map { account in
                Entitlement(account: account.id, owner: account.owner, amount: Amount(units: summary.balances[account.id]?.netPosted(claim: true) ?? 0))
            }
        }
        let incident = try await store.insertIncident(
            Incident(id: 0, lossType: lossType, losses: losses, lostAt: lostAt, detectedAt: detectedAt, declaredAt: declaredAt,
                     declaredBy: caller.principal, lossJPY: lossJPY, valuation: valuations.joined(separator: "; ")),
            entitlements: entitlements,
            audit: caller.event(.incidentDeclare, role: role, digest: Governance.digest(payload), result: "declared",
                                details: ["wallets": Set(losses.map(\.wallet)).sorted().joined(separator: ","), "loss_jpy": lossJPY.description,
                                          "valued": valuations.joined(separator: "; ")]))
        for wallet in Set(losses.map(\.wallet)).sorted() where wallets[wallet]?.isFrozen == false {
            try await custody.freeze(wallet, reason: "incident \(incident.id)", by: caller)
        }
        return incident
    }
}

/// A reserve rule set is adopted with one approval by another finance officer or compliance (an
/// admin manages people, not money, and approves neither).
extension RuleSet: VersionedDocument {
    public static let settingsKind = "reserve.rules"
    public static let adoptionAction = "reserve.rules.adopt"
    public static let proposePermission = Permission.reserveRulesPropose
    public static let readPermission = Permission.reserveRead
    public static let noun = "reserve rule set"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.finance, .compliance]) }
}

extension Reserve {
    /// How old a price was, for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
    static func age(seconds: UInt64) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3_600: "\(seconds / 60) min"
        case ..<86_400: "\(seconds / 3_600) h \(seconds % 3_600 / 60) min"
        default: "\(seconds / 86_400) d \(seconds % 86_400 / 3_600) h"
        }
    }
}
