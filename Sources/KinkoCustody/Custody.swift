import Foundation
import Crypto
public import KinkoCore
public import KinkoGovernance
public import KinkoLedger

/// Tells custody whether monitoring cleared a customer's pending withdrawal (the withdrawal
/// flow keeps the verdicts; custody only asks).
public protocol WithdrawalClearance: Sendable {
    func isCleared(_ pendingID: TransferID) async throws -> Bool
}

/// The custody service: wallets and vendors, observations, the 95%-cold and guarantee rules,
/// the daily segregation reconciliation, the withdrawal whitelist and movements under quorum.
public struct Custody: Sendable {
    public let governance: Governance
    public let ledger: Ledger
    public let store: any CustodyStore
    public let settings: CustodySettings
    public let clock: any WallClock
    /// Whether a customer's pending withdrawal was cleared by monitoring; without it, no
    /// withdrawal from the customer pool is filed or released (fail closed).
    public let clearance: (any WithdrawalClearance)?
    /// The regulatory settings in force, kept parsed between reads.
    let regulatoryCache = ParsedDocumentCache<RegulatorySettings>()

    public static let whitelistAction = "custody.whitelist.add"
    public static let movementAction = "custody.movement"
    /// A new withdrawal address needs one approval from compliance (who checks the counterparty)
    /// or a signer.
    public static let whitelistPolicy: ApprovalPolicy? = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance, .signer])
    /// Most observations one call may record.
    public static let observationsMax = 100_000

    public init(governance: Governance, ledger: Ledger, store: any CustodyStore, settings: CustodySettings = CustodySettings(),
                clock: any WallClock = SystemWallClock(), clearance: (any WithdrawalClearance)? = nil) {
        self.governance = governance
        self.ledger = ledger
        self.store = store
        self.settings = settings
        self.clock = clock
        self.clearance = clearance
    }

    /// The law-dated regulatory settings (hot share, guarantee, cut-off, whitelist wait).
    public var regulatory: AdoptedDocuments<RegulatorySettings> { AdoptedDocuments(governance: governance, cache: regulatoryCache) }

    /// The settings that apply at `time`: these, with the adopted regulatory figures in force
    /// then (none adopted: these as they are, which carry the shipped figures).
    public func settingsInForce(at time: TimestampNanoseconds) async throws -> CustodySettings {
        settings.applying(try await regulatory.current(), at: time)
    }

    /// The settings that apply on JST business day `day` (`YYYY-MM-DD`), as at its start.
    public func settingsInForce(day: String) async throws -> CustodySettings {
        try await settingsInForce(at: try TimestampNanoseconds.startOfDayJST(day, field: "day"))
    }

    /// The own-funds ledger account that bears network fees in `asset` (one per asset, created
    /// with the first wallet that holds it).
    public static func feeAccountID(asset: String) -> AccountID {
        let digest = Array(SHA256.hash(data: Array("kinko.own-funds:\(asset)".utf8)))
        return AccountID(digest.prefix(16).reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
    }

    // MARK: Vendors and wallets

    public func saveVendor(_ vendor: Vendor, by caller: Caller) async throws {
        guard (1...64).contains(vendor.name.utf8.count) else { throw KinkoError(.invalidInput, "a vendor name is 1–64 characters", field: "name") }
        if let date = vendor.noticeDate { try Vendor.validate(date: date) }
        if (vendor.noticeDate == nil) != (vendor.noticeReference == nil) {
            throw KinkoError(.invalidInput, "a notice needs both its date and its reference", field: "notice_reference")
        }
        let digest = Governance.digest(["name": .string(vendor.name), "date": .string(vendor.noticeDate ?? ""), "reference": .string(vendor.noticeReference ?? "")])
        let role = try await governance.authorize(caller, .custodyVendorsManage, digest: digest)
        try await store.saveVendor(vendor, audit: caller.event(.custodyVendorsManage, role: role, digest: digest, result: "ok",
                                                               details: ["vendor": vendor.name, "notice": vendor.hasNotice ? "on file" : "none"]))
    }

    /// Registers a wallet and opens its ledger accounts (one per asset, of the class its
    /// purpose requires).
    public func registerWallet(_ wallet: Wallet, by caller: Caller) async throws -> [String] {
        let digest = Governance.digest(["wallet": .string(wallet.id), "assets": .array(wallet.assets.map { .string($0) })])
        let role = try await governance.authorize(caller, .custodyWalletsManage, digest: digest)
        try Wallet.validate(id: wallet.id)
        guard !wallet.assets.isEmpty else { throw KinkoError(.invalidInput, "a wallet holds at least one asset", field: "assets") }
        if let repeated = Self.firstRepeated(wallet.assets) {
            throw KinkoError(.invalidInput, "\(repeated) is listed twice; list each asset once", field: "assets")
        }
        guard wallet.addresses.count <= Wallet.addressesMax else {
            throw KinkoError(.limitExceeded, "a wallet lists at most \(Wallet.addressesMax) addresses", field: "addresses")
        }
        for (index, address) in wallet.addresses.enumerated() where !WhitelistEntry.isWellFormed(address: address) {
            throw KinkoError(.invalidInput, "an address is 1–\(WhitelistEntry.addressLengthMax) printable ASCII characters without spaces",
                             field: "addresses[\(index)]")
        }
        if let repeated = Self.firstRepeated(wallet.addresses) {
            throw KinkoError(.invalidInput, "\(repeated) is listed twice; list each address once", field: "addresses")
        }
        for code in wallet.velocityLimits.keys.sorted() where !wallet.assets.contains(code) {
            throw KinkoError(.invalidInput, "a velocity limit for \(code), which the wallet does not hold", field: "velocity_limits")
        }
        var accounts: [Account] = []
        for code in wallet.assets {
            guard let asset = await ledger.asset(code: code) else { throw KinkoError(.assetNotFound, "unknown asset \(code)", field: "assets") }
            let limit: AccountFlags = .creditsMustNotExceedDebits
            accounts.append(Account(id: wallet.accountID(for: code), ledger: asset.ledger, code: wallet.purpose == .guarantee ? 400 : 200,
                                    accountClass: wallet.purpose.accountClass, flags: limit))
            accounts.append(Account(id: Self.feeAccountID(asset: code), ledger: asset.ledger, code: 300, accountClass: .ownFunds))
        }
        // All or nothing: everything that could refuse is checked before anything is written;
        // the ledger accounts come first (creating an identical account again is a no-op), the
        // wallet record last, so no wallet is ever on file without its accounts.
        if try await store.wallets().contains(where: { $0.id == wallet.id }) {
            throw KinkoError(.conflict, "a wallet \(wallet.id) already exists", field: "id")
        }
        guard let vendor = try await store.vendors().first(where: { $0.name == wallet.vendor }) else {
            throw KinkoError(.notFound, "no vendor \(wallet.vendor); register it first", field: "vendor")
        }
        for account in accounts {
            guard let (existing, _) = await ledger.account(account.id) else { continue }
            guard existing.ledger == account.ledger, existing.code == account.code, existing.accountClass == account.accountClass,
                  existing.flags == account.flags, existing.owner == account.owner, existing.userData64 == account.userData64 else {
                throw KinkoError(.conflict, "ledger account \(account.id) for wallet \(wallet.id) exists with other properties", field: "id")
            }
        }
        let results = try await ledger.createAccounts(accounts, by: caller)
        if let bad = results.firstIndex(where: { !$0.isSuccess }) {
            throw KinkoError(.conflict, "ledger account \(accounts[bad].id) for wallet \(wallet.id) could not be created: \(results[bad].name)")
        }
        var stored = wallet
        stored.createdAt = clock.now()
        try await store.insertWallet(stored, audit: caller.event(.custodyWalletsManage, role: role, digest: digest, result: "ok",
                                                                 details: ["wallet": wallet.id, "purpose": wallet.purpose.rawValue]))
        return vendor.hasNotice ? [] : ["wallet \(wallet.id): vendor \(wallet.vendor) has no advance notice to the regulator on file"]
    }

    /// The first value that appears twice in `values`, if any.
    static func firstRepeated(_ values: [String]) -> String? {
        var seen: Set<String> = []
        return values.first { !seen.insert($0).inserted }
    }

    public static let unfreezeAction = "custody.wallet.unfreeze"
    /// Roles that may freeze a wallet; lifting a freeze needs one more of them (not the asker).
    public static let freezeRoles: Set<Role> = [.admin, .finance, .treasurer, .administrator]

    /// Freezes a wallet at once (taking power away needs nobody else): a frozen wallet refuses
    /// every movement.
    public func freeze(_ walletID: String, reason: String, by caller: Caller) async throws {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(reason.count) else { throw KinkoError(.invalidInput, "a reason is 1–500 characters", field: "reason") }
        let digest = Governance.digest(["wallet": .string(walletID), "reason": .string(reason)])
        let role = try await governance.authorize(caller, .custodyWalletsFreeze, digest: digest)
        try await store.setFrozen(walletID, at: clock.now(), reason: reason, alongside: [], audit: caller.event(
            .custodyWalletsFreeze, role: role, digest: digest, result: "frozen", details: ["wallet": walletID, "reason": reason]))
    }

    /// Asks for a freeze to be lifted: someone else holding a role that may freeze approves,
    /// then `executeUnfreeze`.
    public func requestUnfreeze(_ walletID: String, by caller: Caller) async throws -> ApprovalRequest {
        let payload: CanonicalJSON = ["wallet": .string(walletID)]
        let role = try await governance.authorize(caller, .custodyWalletsFreeze, digest: Governance.digest(payload))
        guard let wallet = try await store.wallets().first(where: { $0.id == walletID }) else {
            throw KinkoError(.notFound, "no wallet \(walletID)", field: "wallet")
        }
        guard wallet.isFrozen else { throw KinkoError(.conflict, "wallet \(walletID) is not frozen", field: "wallet") }
        let policy = try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: Self.freezeRoles, expirySeconds: 3 * 86_400)
        return try await governance.submit(action: Self.unfreezeAction, payload: ["wallet": .string(walletID), "reason": .string(wallet.frozenReason ?? "")],
                                           policy: policy, by: caller, role: role, permission: .custodyWalletsFreeze, details: ["wallet": walletID])
    }

    /// Lifts an approved freeze; returns the wallet as it now stands.
    @discardableResult
    public func executeUnfreeze(request id: ApprovalRequestID, by caller: Caller) async throws -> Wallet {
        let request = try await governance.requireRequest(id)
        let role = try await governance.authorize(caller, .custodyWalletsFreeze, digest: request.digest)
        guard request.action == Self.unfreezeAction, case .object(let fields) = request.payload, case .string(let walletID)? = fields["wallet"] else {
            throw KinkoError(.invalidInput, "request \(id) is not an unfreeze", field: "request")
        }
        let evaluation = try await governance.requireApproved(id, "lifting the freeze of \(walletID)", by: caller, role: role, .custodyWalletsFreeze,
                                                              digest: request.digest)
        try await store.setFrozen(walletID, at: nil, reason: nil, alongside: [.executeRequest(id, revision: request.revision)], audit: caller.event(
            .custodyWalletsFreeze, role: role, digest: request.digest, result: "unfrozen",
            details: ["wallet": walletID, "request": id.description, "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        guard let wallet = try await store.wallets().first(where: { $0.id == walletID }) else {
            throw KinkoError(.storageCorrupted, "wallet \(walletID) vanished while its freeze was lifted")
        }
        return wallet
    }

    // MARK: Observations

    public func recordBalances(_ observations: [BalanceObservation], by caller: Caller) async throws {
        let role = try await governance.authorize(caller, .custodyObservationsRecord)
        guard (1...Self.observationsMax).contains(observations.count) else {
            throw KinkoError(.limitExceeded, "record 1–\(Self.observationsMax) observations at a time; got \(observations.count)", field: "observations")
        }
        let wallets = Dictionary(try await store.wallets().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, observation) in observations.enumerated() {
            guard let wallet = wallets[observation.wallet] else {
                throw KinkoError(.notFound, "no wallet \(observation.wallet)", field: "observations[\(index)].wallet")
            }
            guard wallet.assets.contains(observation.asset) else {
                throw KinkoError(.invalidInput, "wallet \(wallet.id) does not hold \(observation.asset)", field: "observations[\(index)].asset")
            }
            try TimestampNanoseconds.checkAccepted(observation.observedAt, field: "observations[\(index)].observed_at")
        }
        let digest = Governance.digest(.array(observations.map { o in
            ["wallet": .string(o.wallet), "asset": .string(o.asset), "amount": .string(o.amount.description), "observed_at": .string(String(o.observedAt))]
        }))
        let observations = observations.map { observation in
            var recorded = observation
            recorded.recordedBy = caller.name
            return recorded
        }
        try await store.recordBalances(observations, audit: caller.event(
            .custodyObservationsRecord, role: role, digest: digest, result: "ok", details: ["balances": String(observations.count)]))
    }

    public func recordPrices(_ observations: [PriceObservation], by caller: Caller) async throws {
        let role = try await governance.authorize(caller, .custodyObservationsRecord)
        guard (1...Self.observationsMax).contains(observations.count) else {
            throw KinkoError(.limitExceeded, "record 1–\(Self.observationsMax) prices at a time; got \(observations.count)", field: "observations")
        }
        for (index, observation) in observations.enumerated() {
            guard await ledger.asset(code: observation.asset) != nil else {
                throw KinkoError(.assetNotFound, "unknown asset \(observation.asset)", field: "observations[\(index)].asset")
            }
            try TimestampNanoseconds.checkAccepted(observation.observedAt, field: "observations[\(index)].observed_at")
        }
        let digest = Governance.digest(.array(observations.map { o in
            ["asset": .string(o.asset), "price": .string(o.price.description), "observed_at": .string(String(o.observedAt))]
        }))
        try await store.recordPrices(observations, audit: caller.event(
            .custodyObservationsRecord, role: role, digest: digest, result: "ok", details: ["prices": String(observations.count)]))
    }

    // MARK: Rules

    public func facts(at now: TimestampNanoseconds? = nil) async throws -> CustodyFacts {
        let now = now ?? clock.now()
        return CustodyFacts(
            assets: await ledger.assets, wallets: try await store.wallets(),
            vendors: Dictionary(try await store.vendors().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
            balances: try await store.latestBalances(asOf: now), prices: try await store.latestPrices(asOf: now),
            settings: try await settingsInForce(at: now), now: now)
    }

    public func check(by caller: Caller) async throws -> CustodyCheck {
        _ = try await governance.authorize(caller, .custodyRead)
        return CustodyCheck.evaluate(try await facts())
    }

    /// The same check for the server's own gauges (`/metrics`): no caller, nothing audited.
    public func checkForMetrics() async throws -> CustodyCheck {
        CustodyCheck.evaluate(try await facts())
    }

    public func rebalancingProposal(by caller: Caller) async throws -> [ProposedMovement] {
        _ = try await governance.authorize(caller, .custodyRead)
        return CustodyCheck.rebalance(try await facts())
    }

    // MARK: Whitelist

    /// Files an address for the withdrawal whitelist; it needs approval, then waits
    /// `whitelistWaitingSeconds` before it can be used.
    public func requestWhitelist(asset: String, address: String, label: String, by caller: Caller) async throws -> WhitelistEntry {
        let role = try await governance.authorize(caller, .custodyWhitelistRequest)
        // Addresses are printable ASCII on every chain Kinko knows; a control character (NUL
        // included) is refused here rather than by the database.
        guard WhitelistEntry.isWellFormed(address: address) else {
            throw KinkoError(.invalidInput, "an address is 1–\(WhitelistEntry.addressLengthMax) printable ASCII characters without spaces", field: "address")
        }
        guard label.utf8.count <= WhitelistEntry.labelLengthMax, !label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw KinkoError(.invalidInput, "a label is at most \(WhitelistEntry.labelLengthMax) bytes without control characters", field: "label")
        }
        guard await ledger.asset(code: asset)?.kind == .crypto else { throw KinkoError(.assetNotFound, "unknown crypto-asset \(asset)", field: "asset") }
        let payload: CanonicalJSON = ["asset": .string(asset), "address": .string(address), "label": .string(label)]
        let draft = try governance.draftRequest(action: Self.whitelistAction, payload: payload, policy: Self.whitelistPolicy, by: caller)
        let entry = WhitelistEntry(id: 0, asset: asset, address: address, label: label, status: .pending, requestID: draft.id,
                                   usableFrom: nil, createdAt: clock.now())
        // The request and the entry are filed together, or neither (a listed address files nothing).
        return try await store.insertWhitelistEntry(entry, request: draft, audit: caller.event(
            .custodyWhitelistRequest, role: role, digest: draft.digest, result: "pending", details: ["asset": asset, "action": Self.whitelistAction])).0
    }

    /// Activates an approved whitelist entry (exactly once); it is usable after the waiting period.
    public func activateWhitelist(_ entryID: UInt64, by caller: Caller) async throws -> WhitelistEntry {
        guard var entry = try await store.whitelist().first(where: { $0.id == entryID }) else {
            throw KinkoError(.notFound, "no whitelist entry \(entryID)", field: "entry")
        }
        let request = try await governance.requireRequest(entry.requestID)
        let role = try await governance.authorize(caller, .approvalsExecute, digest: request.digest)
        _ = try await governance.requireApproved(request.id, "whitelist entry \(entryID)", by: caller, role: role, .approvalsExecute, digest: request.digest)
        let now = clock.now()
        let usableFrom = now + (try await settingsInForce(at: now).whitelistWaitingSeconds) * 1_000_000_000
        guard try await store.activateWhitelistEntry(entryID, requestID: request.id, revision: request.revision, usableFrom: usableFrom, at: now,
                                                     audit: caller.event(.approvalsExecute, role: role, digest: request.digest, result: "ok",
                                                                         details: ["whitelist": String(entryID), "usable_from": usableFrom.iso8601]))
        else {
            throw KinkoError(.conflict, "whitelist entry \(entryID) was already activated")
        }
        entry.status = .active
        entry.usableFrom = usableFrom
        return entry
    }

    // MARK: Movements

    /// Checks a movement against every rule and files it for approval by its signers, or
    /// refuses it naming the rule and its figures (the refusal is audited).
    public func requestMovement(_ draft: MovementDraft, by caller: Caller) async throws -> Result<Movement, MovementRefusal> {
        guard let asset = await ledger.asset(code: draft.asset) else { throw KinkoError(.assetNotFound, "unknown asset \(draft.asset)", field: "asset") }
        let payload = draft.payload(asset: asset)
        let role = try await governance.authorize(caller, .custodyMovementsRequest, digest: Governance.digest(payload))
        switch try await rules(draft) {
        case .failure(let refusal):
            try await governance.auditRefusal(caller.event(
                .custodyMovementsRequest, role: role, digest: Governance.digest(payload), result: "refused: \(refusal.rule.rawValue)",
                details: ["reason": refusal.message]), by: caller)
            return .failure(refusal)
        case .success(let policy):
            let request = try await governance.submit(action: Self.movementAction, payload: payload, policy: policy, by: caller, role: role,
                                                      permission: .custodyMovementsRequest)
            let movement = Movement(id: 0, draft: draft, initiator: caller.principal, requestID: request.id, status: .awaitingApproval,
                                    createdAt: clock.now())
            return .success(try await store.insertMovement(movement, audit: caller.event(
                .custodyMovementsRequest, role: role, digest: request.digest, result: "awaiting_approval",
                details: ["request": request.id.description, "signers": String(policy.approvalsRequired)])))
        }
    }

    private func rules(_ draft: MovementDraft) async throws -> Result<ApprovalPolicy, MovementRefusal> {
        let facts = try await facts()
        if let pendingID = draft.ledgerPendingID {
            guard let pending = await ledger.pendingTransfer(pendingID) else {
                return .failure(MovementRefusal(.ledger, "ledger transfer \(pendingID) is not an open pending transfer"))
            }
            let wallet = Wallet.accountID(wallet: draft.fromWallet, asset: draft.asset)
            guard pending.transfer.creditAccountID == wallet, pending.transfer.amount == draft.amount.units else {
                return .failure(MovementRefusal(.ledger, "pending transfer \(pendingID) reserves \(pending.transfer.amount) units for account \(pending.transfer.creditAccountID), not \(draft.amount) for wallet \(draft.fromWallet)"))
            }
            guard let clearance else {
                return .failure(MovementRefusal(.monitoring, "no monitoring clearance is wired: a customer withdrawal cannot be filed"))
            }
            guard try await clearance.isCleared(pendingID) else {
                return .failure(MovementRefusal(.monitoring, "withdrawal \(pendingID) is not cleared by monitoring (held for review, blocked or unknown)"))
            }
        }
        let since = facts.now - min(facts.now, settings.velocityWindowSeconds * 1_000_000_000)
        let outflows = try await store.outflows(wallet: draft.fromWallet, asset: draft.asset, since: since)
        return MovementRules.check(draft, facts: facts, whitelist: try await store.whitelist(), outflows: outflows)
    }

    /// Releases an approved movement to the signer queue — once. The rules run again first
    /// (balances, velocity, the hot cap and frozen wallets may have changed since the request).
    public func release(_ movementID: UInt64, by caller: Caller) async throws -> Movement {
        var movement = try await requireMovement(movementID)
        let request = try await governance.requireRequest(movement.requestID)
        let role = try await governance.authorize(caller, .custodyMovementsRelease, digest: request.digest)
        guard movement.status == .awaitingApproval else { throw KinkoError(.conflict, "movement \(movementID) is \(movement.status.rawValue)") }
        let evaluation = try await governance.requireApproved(request.id, "movement \(movementID)", by: caller, role: role, .custodyMovementsRelease,
                                                              digest: request.digest)
        func refuse(_ message: String) async throws -> KinkoError {
            try await governance.refused(KinkoError(.approvalRefused, "movement \(movementID) cannot be released: \(message)"), by: caller, role: role,
                                         .custodyMovementsRelease, digest: request.digest, details: ["movement": String(movementID)])
        }
        if let pendingID = movement.draft.ledgerPendingID {
            guard let clearance, try await clearance.isCleared(pendingID) else {
                throw try await refuse("withdrawal \(pendingID) is not cleared by monitoring")
            }
        }
        // Its own outflow is already counted in the velocity window: check the others only.
        let recheck = movement.draft
        let facts = try await facts()
        let since = facts.now - min(facts.now, settings.velocityWindowSeconds * 1_000_000_000)
        let others = try await store.outflows(wallet: recheck.fromWallet, asset: recheck.asset, since: since)
        let othersOnly = movement.createdAt >= since ? Amount(units: others.units - min(others.units, movement.draft.amount.units)) : others
        if case .failure(let refusal) = MovementRules.check(recheck, facts: facts, whitelist: try await store.whitelist(), outflows: othersOnly) {
            throw try await refuse("\(refusal)")
        }
        let now = clock.now()
        guard try await store.releaseMovement(movementID, requestID: request.id, revision: request.revision, at: now, audit: caller.event(
            .custodyMovementsRelease, role: role, digest: request.digest, result: "released",
            details: ["movement": String(movementID), "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "movement \(movementID) was already released")
        }
        movement.status = .released
        movement.releasedAt = now
        return movement
    }

    /// What the exchange's signer should broadcast: released, not yet completed.
    public func queue(by caller: Caller) async throws -> [Movement] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.movements().filter { $0.status == .released }
    }

    /// Records the broadcast (transaction hash, network fee) and posts the movement to the
    /// ledger with ids derived from the movement, so a retry never posts twice.
    public func complete(_ movementID: UInt64, transactionHash: String, networkFee: Amount, by caller: Caller) async throws -> Movement {
        var movement = try await requireMovement(movementID)
        let digest = Governance.digest(["movement": .string(String(movementID)), "transaction_hash": .string(transactionHash), "fee": .string(networkFee.description)])
        let role = try await governance.authorize(caller, .custodyMovementsComplete, digest: digest)
        guard (1...128).contains(transactionHash.utf8.count) else { throw KinkoError(.invalidInput, "a transaction hash is 1–128 characters", field: "transaction_hash") }
        guard movement.status == .released else { throw KinkoError(.conflict, "movement \(movementID) is \(movement.status.rawValue), not released") }
        let results = try await ledger.createTransfers(try await postings(movement, fee: networkFee), by: caller)
        guard results.allSatisfy(\.isSuccess) else {
            throw KinkoError(.conflict, "the ledger refused movement \(movementID): \(results.map(\.name).joined(separator: ", "))")
        }
        let now = clock.now()
        guard try await store.completeMovement(movementID, transactionHash: transactionHash, networkFee: networkFee, at: now, audit: caller.event(
            .custodyMovementsComplete, role: role, digest: digest, result: "completed",
            details: ["movement": String(movementID), "transaction_hash": transactionHash]))
        else {
            throw KinkoError(.conflict, "movement \(movementID) was completed meanwhile")
        }
        movement.status = .completed
        movement.completedAt = now
        movement.transactionHash = transactionHash
        movement.networkFee = networkFee
        return movement
    }

    /// hot ↔ cold: `custody_transfer`; guarantee top-up: `guarantee_top_up`; a withdrawal from
    /// the customer pool posts its pending ledger withdrawal, one from own funds is `capital`;
    /// a network fee is borne by own funds (`network_fee`), linked with the movement.
    private func postings(_ movement: Movement, fee: Amount) async throws -> [Transfer] {
        let draft = movement.draft
        guard let asset = await ledger.asset(code: draft.asset) else { throw KinkoError(.assetNotFound, "unknown asset \(draft.asset)") }
        let ids = movement.ledgerTransferIDs
        let from = Wallet.accountID(wallet: draft.fromWallet, asset: draft.asset)
        let ownFunds = Self.feeAccountID(asset: draft.asset)
        var main: Transfer
        switch (draft.kind, draft.toWallet, draft.ledgerPendingID) {
        case (.hotToCold, let to?, _), (.coldToHot, let to?, _):
            main = Transfer(id: ids.main, debitAccountID: Wallet.accountID(wallet: to, asset: draft.asset), creditAccountID: from,
                            amount: draft.amount.units, ledger: asset.ledger, code: .custodyTransfer)
        case (.guaranteeTopUp, let to?, _):
            main = Transfer(id: ids.main, debitAccountID: Wallet.accountID(wallet: to, asset: draft.asset), creditAccountID: from,
                            amount: draft.amount.units, ledger: asset.ledger, code: .guaranteeTopUp)
        case (.withdrawal, _, let pendingID?):
            main = Transfer(id: ids.main, debitAccountID: AccountID(0), creditAccountID: AccountID(0), amount: Transfer.amountWholePending,
                            ledger: 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: pendingID)
        case (.withdrawal, _, nil):
            main = Transfer(id: ids.main, debitAccountID: ownFunds, creditAccountID: from, amount: draft.amount.units,
                            ledger: asset.ledger, code: .capital)
        default:
            throw KinkoError(.storageCorrupted, "movement \(movement.id) has no destination wallet")
        }
        guard !fee.isZero else { return [main] }
        main.flags.insert(.linked)
        return [main, Transfer(id: ids.fee, debitAccountID: ownFunds, creditAccountID: from, amount: fee.units,
                               ledger: asset.ledger, code: .networkFee)]
    }

    // MARK: Reconciliation

    /// Reconciles the JST business day `day` as of its cut-off and stores the result as the
    /// day's current one; an earlier run of the day is kept among its runs (a rerun reproduces
    /// it unless an observation made since changes what was known as of the cut-off). Each break
    /// raises an alert for the board.
    public func reconcile(day: String, by caller: Caller) async throws -> Reconciliation {
        let role = try await governance.authorize(caller, .custodyReconcile)
        let cutoff = try Reconciliation.cutoff(day: day, hourJST: try await settingsInForce(day: day).reconciliationCutoffHourJST)
        let now = clock.now()
        guard cutoff <= now else {
            throw KinkoError(.invalidInput, "the cut-off of \(day) (\(cutoff.iso8601)) has not passed yet", field: "day")
        }
        let digest = Governance.digest(["day": .string(day)])
        let inputs = try await reconciliationInputs(cutoff: cutoff)
        // Separate duties: whoever recorded a balance the day is checked against does not also
        // declare the day reconciled.
        let used = Set((inputs.wallets + inputs.reserveWallets).flatMap { wallet in wallet.assets.map { "\(wallet.id)/\($0)" } })
        if let own = inputs.observations.first(where: { $0.recordedBy == caller.name && used.contains("\($0.wallet)/\($0.asset)") }) {
            throw try await governance.refused(KinkoError(
                .forbidden, "separate duties: \(caller.name) recorded the balance of wallet \(own.wallet) (\(own.asset)) this reconciliation checks; "
                    + "someone else with custody.reconcile (another treasurer, or finance) must reconcile \(day)", field: "day"),
                by: caller, role: role, .custodyReconcile, digest: digest, details: ["day": day, "wallet": own.wallet])
        }
        let result = Reconciliation.run(day: day, cutoff: cutoff, inputs)
        let assets = Dictionary(await ledger.assets.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        let run = ReconciliationRun(day: day, computedAt: now, by: caller.name, breakCount: result.breaks.count, report: result.text(assets: assets))
        _ = try await store.saveReconciliation(result, run: run, audit: caller.event(
            .custodyReconcile, role: role, digest: digest, result: result.isClean ? "clean" : "\(result.breaks.count) breaks",
            details: ["day": day, "cutoff": cutoff.iso8601]))
        return result
    }

    public func reconciliationInputs(cutoff: TimestampNanoseconds) async throws -> Reconciliation.Inputs {
        let assets = await ledger.assets
        // Wallets registered after the cut-off were not there to reconcile: a rerun reproduces the day.
        let registered = try await store.wallets().filter { $0.createdAt <= cutoff }
        let wallets = registered.filter { $0.purpose == .customerPool }
        let reserveWallets = registered.filter { $0.purpose == .reserve }
        var walletAccounts: [AccountID: (wallet: String, asset: String)] = [:]
        for wallet in wallets + reserveWallets { for asset in wallet.assets { walletAccounts[wallet.accountID(for: asset)] = (wallet.id, asset) } }
        let summary = try await ledger.postedSummary(asOf: cutoff, accounts: Set(walletAccounts.keys))
        var holdings: [String: [String: Amount]] = [:]
        for (id, (wallet, asset)) in walletAccounts {
            holdings[wallet, default: [:]][asset] = Amount(units: summary.balances[id]?.netPosted(claim: false) ?? 0)
        }
        var owed: [String: Amount] = [:], held: [String: Amount] = [:], fund: [String: Amount] = [:]
        for asset in assets {
            let totals = summary.totals[asset.ledger] ?? [:]
            // What customers are owed includes deposits held in quarantine for them.
            var claims = totals[.customerLiability] ?? .init()
            if let quarantined = totals[.quarantine] {
                claims.debitsPosted.add(quarantined.debitsPosted)
                claims.creditsPosted.add(quarantined.creditsPosted)
            }
            owed[asset.code] = try claims.netAmount(claim: true, what: "\(asset.code) customer liabilities")
            held[asset.code] = try (totals[.customerCustodyHolding] ?? .init()).netAmount(claim: false, what: "\(asset.code) customer custody holdings")
            if let reserve = totals[.reserveFund] { fund[asset.code] = try reserve.netAmount(claim: true, what: "\(asset.code) reserve fund") }
        }
        return Reconciliation.Inputs(
            assets: assets, wallets: wallets, liabilities: owed, holdings: holdings, totalHoldings: held,
            observations: try await store.latestBalances(asOf: cutoff), observationAgeMaxSeconds: settings.balanceObservationAgeMaxSeconds,
            reserveWallets: reserveWallets, reserveFund: fund)
    }

    func requireMovement(_ id: UInt64) async throws -> Movement {
        guard let movement = try await store.movements().first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no movement \(id)", field: "movement")
        }
        return movement
    }
}
