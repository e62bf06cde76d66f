import Crypto
import Foundation
public import KinkoCore
import Synchronization
public import KinkoGovernance

/// A transfer parked by the controls: created pending, posted only once a second person
/// approves (record `ledger.parked`, keyed by the transfer id).
public struct ParkedTransfer: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case awaitingApproval = "awaiting_approval", posted, cancelled }

    public var transfer: String
    public var code: String
    public var ledger: UInt32
    public var debitAccount: String
    public var creditAccount: String
    public var amount: String
    public var initiator: String
    public var requestID: String
    public var status: Status
    /// The transfer that posted or voided it.
    public var resolvedBy: String?

    public static let collection = "ledger.parked"
    /// Keys sort like the ids: 39 digits, zero-padded.
    public static func key(_ id: TransferID) -> String {
        let digits = String(id.rawValue)
        return String(repeating: "0", count: 39 - digits.count) + digits
    }
}

/// The ledger as front ends see it: every read and write authorized here (refusals audited),
/// lists paged, and every transfer checked against the exchange's transfer controls
/// (`TransferControlPolicy`): maker-checker codes and fees above the schedule are parked for a
/// second person, a customer's value leaves only in a balanced chain, deposits must be
/// screened and withdrawals cleared, sweeps, reserve releases and guarantee releases stay
/// within their headroom.
public struct LedgerService: Sendable {
    public let ledger: Ledger
    public let governance: Governance
    /// Figures from custody, the reserve and the deposit and withdrawal flows; without them,
    /// every control that needs one refuses (`controls_unavailable`).
    public let facts: (any TransferControlFacts)?

    public static let parkedAction = "ledger.transfer.post"
    public static let pageDefault = 100
    public static let pageMax = 1_000
    /// Proposing or adopting a transfer-control policy needs a second person holding one of these.
    public static let policyApprovers: Set<Role> = [.finance, .compliance]

    public init(ledger: Ledger, governance: Governance, facts: (any TransferControlFacts)?) {
        self.ledger = ledger
        self.governance = governance
        self.facts = facts
    }

    /// The adopted document read last, parsed: each batch reads which version is in force, but
    /// parses its YAML only when it changed.
    private let policyCache = PolicyCache()

    final class PolicyCache: Sendable {
        private let last = Mutex<(policy: TransferControlPolicy, readAt: TimestampNanoseconds)?>(nil)

        /// The policy read less than `interval` ago.
        func fresh(at now: TimestampNanoseconds, within interval: UInt64) -> TransferControlPolicy? {
            last.withLock { cached in
                guard let cached, now >= cached.readAt, now - cached.readAt < interval else { return nil }
                return cached.policy
            }
        }

        func keep(_ policy: TransferControlPolicy, at time: TimestampNanoseconds) { last.withLock { $0 = (policy, time) } }

        func forget() { last.withLock { $0 = nil } }
    }

    var parked: RecordCollection<ParkedTransfer> { RecordCollection(ParkedTransfer.collection, store: governance.store) }

    public static func page(_ limit: Int?) throws(KinkoError) -> Int {
        let limit = limit ?? pageDefault
        guard (1...pageMax).contains(limit) else { throw KinkoError(.limitExceeded, "limit must be 1–\(pageMax); got \(limit)", field: "limit") }
        return limit
    }

    // MARK: The policy

    /// The transfer-control policy in force: the last adopted version, or the built-in default.
    ///
    /// Read from the database at most once per `policyRecheckNanoseconds` (a batch of transfers
    /// should not pay a query for a document that changes a few times a year): a version adopted
    /// in another process applies to this one's batches within that interval; in this process,
    /// adopting invalidates at once.
    public func policy() async throws -> TransferControlPolicy {
        let now = governance.clock.now()
        if let cached = policyCache.fresh(at: now, within: Self.policyRecheckNanoseconds) { return cached }
        let policy = try await policies.current() ?? .standard
        policyCache.keep(policy, at: now)
        return policy
    }

    public static let policyRecheckNanoseconds: UInt64 = 1_000_000_000

    /// The policy's versions: proposed by finance or compliance, adopted once another approves.
    public var policies: AdoptedDocuments<TransferControlPolicy> { AdoptedDocuments(governance: governance, cache: policyDocuments) }
    /// The adopted policy's text, parsed once per version.
    private let policyDocuments = ParsedDocumentCache<TransferControlPolicy>()

    public func adoptPolicy(version: String, by caller: Caller) async throws -> TransferControlPolicy {
        let adopted = try await policies.adopt(version: version, by: caller)
        policyCache.forget()
        return adopted
    }

    // MARK: Writing

    public func registerAssets(_ assets: [Asset], by caller: Caller) async throws {
        _ = try await governance.authorize(caller, .ledgerAssetsAdd)
        try await ledger.registerAssets(assets, by: caller)
    }

    /// Imported history moves customer value into the books at once, so it is not for one
    /// person posting at a front end: it goes through the reviewed import
    /// (`requestImport` / `executeImport`).
    static let importRefusal = "imported events (another ledger's history) are not accepted here: a migration goes through the reviewed import (kinko ledger import request, approved by a second person)"

    /// Creates accounts. Under the policy, a customer's accounts must not be able to overdraw.
    public func createAccounts(_ accounts: [Account], by caller: Caller) async throws -> [CreateAccountResult] {
        let role = try await governance.authorize(caller, .ledgerAccountsCreate)
        if let index = accounts.firstIndex(where: { $0.flags.contains(.imported) }) {
            throw try await governance.refused(KinkoError(.invalidInput, Self.importRefusal, field: "accounts[\(index)].flags"),
                                               by: caller, role: role, .ledgerAccountsCreate, details: ["account": accounts[index].id.description])
        }
        if try await policy().customerAccountsNoOverdraft {
            for (index, account) in accounts.enumerated()
            where [.customerLiability, .quarantine].contains(account.accountClass) && !account.flags.contains(.debitsMustNotExceedCredits) {
                throw try await governance.refused(
                    KinkoError(.invalidInput, "a customer's account must carry debits_must_not_exceed_credits (no overdraft; the transfer-control policy)",
                               field: "accounts[\(index)].flags"),
                    by: caller, role: role, .ledgerAccountsCreate, details: ["account": account.id.description])
            }
        }
        return try await ledger.createAccounts(accounts, by: caller)
    }

    /// Creates transfers under the controls; a parked transfer answers `pending_approval` and
    /// its approval request is filed (once, even across retries). `permission` is what the
    /// caller posts under: a front end posts under `ledger.transfers.create`; a domain flow
    /// (compliance deciding a quarantined deposit) under its own.
    public func createTransfers(_ events: [Transfer], by caller: Caller, permission: Permission = .ledgerTransfersCreate) async throws
        -> [CreateTransferResult]
    {
        let role = try await governance.authorize(caller, permission)
        if let index = events.firstIndex(where: { $0.flags.contains(.imported) }) {
            throw try await governance.refused(KinkoError(.invalidInput, Self.importRefusal, field: "events[\(index)].flags"),
                                               by: caller, role: role, permission, details: ["transfer": events[index].id.description])
        }
        let policy = try await policy()
        let review = TransferReview(policy: policy, facts: try await gather(for: events, policy: policy), factsAvailable: facts != nil)
        let (results, parkedIndexes) = try await ledger.createTransfers(events, by: caller, review: review, permission: permission)
        try await auditRefusals(events, results, by: caller, role: role, permission: permission)
        var answered = results
        for index in parkedIndexes.sorted() where results[index] == .ok || results[index] == .exists {
            try await fileApproval(for: events[index].id, policy: policy, by: caller, role: role, permission: permission)
            if results[index] == .ok { answered[index] = .pendingApproval }
        }
        return answered
    }

    /// The transfers of a batch at most listed by id in a refusal's audit entry.
    public static let refusalIDsAudited = 20

    /// One audit entry per batch in which the controls refused something: how many of each
    /// refusal and the first ids (the engine's own results, such as `exceeds_credits`, are
    /// answers to the client, not control refusals, and are not audited).
    private func auditRefusals(_ events: [Transfer], _ results: [CreateTransferResult], by caller: Caller, role: Role,
                               permission: Permission) async throws {
        var counts: [String: Int] = [:]
        var ids: [String] = []
        for (index, result) in results.enumerated() where result.isControlRefusal {
            counts[result.name, default: 0] += 1
            if ids.count < Self.refusalIDsAudited { ids.append(events[index].id.description) }
        }
        guard !counts.isEmpty else { return }
        let summary = counts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ",")
        try await governance.auditRefusal(caller.event(
            permission, role: role, digest: Governance.digest(.array(ids.map { .string($0) })), result: "refused",
            details: ["refusals": summary, "transfers": ids.joined(separator: ","), "batch": String(events.count)]), by: caller)
    }

    /// The parked record of a transfer (with its approval request), if it was parked.
    public func parkedTransfer(_ id: TransferID) async throws -> ParkedTransfer? {
        try await parked.get(ParkedTransfer.key(id))?.value
    }

    /// The facts this batch's controls need, and no more.
    private func gather(for events: [Transfer], policy: TransferControlPolicy) async throws -> TransferFacts {
        var gathered = TransferFacts()
        guard let facts else { return gathered }
        // One pass, no copies: most batches need no facts at all.
        var deposits: [TransferID] = [], posts: [TransferID] = []
        var capped = false
        for event in events {
            if event.flags.contains(.postPendingTransfer) {
                posts.append(event.pendingID)
            } else if !event.flags.resolvesPending {
                switch event.code {
                case .deposit: deposits.append(event.id)
                case .segregationSweep, .reserveRelease, .guaranteeRelease, .custodyTransfer: capped = true
                default: break
                }
            }
        }
        if policy.depositsScreenedOnly && !deposits.isEmpty { gathered.screenedDeposits = try await facts.depositScreenings(deposits) }
        if policy.withdrawalsTwoPhase && !posts.isEmpty { gathered.clearedWithdrawals = try await facts.withdrawalClearances(posts) }
        if capped { try await facts.headroom(into: &gathered) }
        return gathered
    }

    /// Files the approval request of a parked transfer with its record, unless filed already.
    private func fileApproval(for id: TransferID, policy: TransferControlPolicy, by caller: Caller, role: Role, permission: Permission) async throws {
        let key = ParkedTransfer.key(id)
        guard try await parked.get(key) == nil else { return }
        guard let pending = await ledger.pendingTransfer(id)?.transfer else { return }
        let asset = await ledger.asset(ledger: pending.ledger)
        let payload: CanonicalJSON = [
            "transfer": .string(pending.id.description), "code": .string(pending.code.name), "asset": .string(asset?.code ?? ""),
            "amount": .string(Amount(units: pending.amount).decimalString(scale: asset?.scale ?? 0)), "amount_units": .string(String(pending.amount)),
            "debit_account": .string(pending.debitAccountID.description), "credit_account": .string(pending.creditAccountID.description),
        ]
        let approval = try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: policy.approvers(for: pending.code),
                                          expirySeconds: min(policy.approvalExpirySeconds, ApprovalPolicy.expirySecondsMax))
        let record = ParkedTransfer(transfer: pending.id.description, code: pending.code.name, ledger: pending.ledger,
                                    debitAccount: pending.debitAccountID.description, creditAccount: pending.creditAccountID.description,
                                    amount: String(pending.amount), initiator: caller.principal.description, requestID: "",
                                    status: .awaitingApproval, resolvedBy: nil)
        let collection = parked
        do {
            _ = try await governance.submit(action: Self.parkedAction, payload: payload, policy: approval, by: caller,
                                            role: role, permission: permission,
                                            details: ["transfer": pending.id.description, "code": pending.code.name]) { requestID in
                var filed = record
                filed.requestID = requestID.description
                return [try collection.insert(key, filed, tag: ParkedTransfer.Status.awaitingApproval.rawValue)]
            }
        } catch let error as KinkoError where error.code == .conflict {
            // Another retry filed it meanwhile: one request per parked transfer.
            guard try await parked.get(key) != nil else { throw error }
        }
    }

    /// Posts a parked transfer whose approval is satisfied, exactly once; the headroom caps are
    /// checked again now.
    public func postApproved(_ requestID: ApprovalRequestID, by caller: Caller) async throws -> ParkedTransfer {
        let (request, entry) = try await parkedRequest(requestID)
        let role = try await governance.authorize(caller, .approvalsExecute, digest: request.digest)
        let evaluation = try await governance.requireApproved(request.id, "transfer \(entry.value.transfer)", by: caller, role: role, .approvalsExecute,
                                                              digest: request.digest)
        guard let pendingID = UInt128(entry.value.transfer) else { throw KinkoError(.storageCorrupted, "parked record \(entry.key) names no transfer") }
        var facts = TransferFacts()
        facts.approvedPendings = [pendingID]
        if let source = self.facts { try await source.headroom(into: &facts) }
        let post = Transfer(id: Self.derivedID("kinko.post-approved", pendingID), debitAccountID: AccountID(0), creditAccountID: AccountID(0),
                            amount: Transfer.amountWholePending, ledger: 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: TransferID(pendingID))
        let review = TransferReview(policy: try await policy(), facts: facts, factsAvailable: self.facts != nil)
        let result = try await ledger.createTransfers([post], by: caller, review: review, permission: .approvalsExecute).results[0]
        guard result == .ok || result == .exists else {
            throw try await governance.refused(KinkoError(.approvalRefused, "transfer \(pendingID) cannot post: \(result.name)"), by: caller, role: role,
                                               .approvalsExecute, digest: request.digest)
        }
        var posted = entry.value
        posted.status = .posted
        posted.resolvedBy = post.id.description
        guard try await governance.store.write(
            [.executeRequest(request.id, revision: request.revision), try parked.update(entry, to: posted, tag: ParkedTransfer.Status.posted.rawValue)],
            at: governance.clock.now(),
            audit: caller.event(.approvalsExecute, role: role, digest: request.digest, result: "posted",
                                details: ["transfer": entry.value.transfer, "post": post.id.description,
                                          "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "transfer \(pendingID) was posted or cancelled meanwhile")
        }
        return posted
    }

    /// Withdraws a parked transfer (its initiator, or anyone who may approve it): the pending
    /// transfer is voided and the request cancelled.
    public func cancelParked(_ requestID: ApprovalRequestID, by caller: Caller) async throws -> ParkedTransfer {
        let (request, entry) = try await parkedRequest(requestID)
        guard caller.principal.description == entry.value.initiator || !caller.roles.isDisjoint(with: request.policy.eligibleRoles) else {
            throw KinkoError(.forbidden, "only the initiator or an eligible approver may cancel transfer \(entry.value.transfer)")
        }
        guard let pendingID = UInt128(entry.value.transfer) else { throw KinkoError(.storageCorrupted, "parked record \(entry.key) names no transfer") }
        let void = Transfer(id: Self.derivedID("kinko.cancel-parked", pendingID), debitAccountID: AccountID(0), creditAccountID: AccountID(0),
                            amount: 0, ledger: 0, code: TransferCode(0), flags: .voidPendingTransfer, pendingID: TransferID(pendingID))
        let review = TransferReview(policy: try await policy(), facts: TransferFacts(), factsAvailable: facts != nil)
        let result = try await ledger.createTransfers([void], by: caller, review: review,
                                                      permission: caller.roles.contains(where: { PermissionTable.standard.allows($0, .ledgerTransfersCreate) })
                                                          ? .ledgerTransfersCreate : .approvalsApprove).results[0]
        guard [.ok, .exists, .pendingTransferExpired].contains(result) else {
            throw KinkoError(.conflict, "transfer \(pendingID) cannot be cancelled: \(result.name)")
        }
        var cancelled = entry.value
        cancelled.status = .cancelled
        cancelled.resolvedBy = void.id.description
        guard try await governance.store.write(
            [.cancelRequest(request.id), try parked.update(entry, to: cancelled, tag: ParkedTransfer.Status.cancelled.rawValue)],
            at: governance.clock.now(),
            audit: caller.selfEvent(.approvalsRevise, digest: request.digest, result: "cancelled", details: ["transfer": entry.value.transfer]))
        else {
            throw KinkoError(.conflict, "transfer \(pendingID) was posted or cancelled meanwhile")
        }
        return cancelled
    }

    private func parkedRequest(_ requestID: ApprovalRequestID) async throws -> (ApprovalRequest, RecordCollection<ParkedTransfer>.Entry) {
        guard let request = try await governance.store.request(requestID) else {
            throw KinkoError(.notFound, "no approval request \(requestID)", field: "request")
        }
        guard request.action == Self.parkedAction, case .object(let fields) = request.payload, case .string(let transfer)? = fields["transfer"],
            let id = UInt128(transfer)
        else {
            throw KinkoError(.invalidInput, "request \(requestID) is not a parked ledger transfer", field: "request")
        }
        guard let entry = try await parked.get(ParkedTransfer.key(TransferID(id))) else {
            throw KinkoError(.notFound, "no parked transfer \(transfer)", field: "request")
        }
        return (request, entry)
    }

    /// Parked transfers, oldest first, by status.
    public func parkedTransfers(status: ParkedTransfer.Status?, limit: Int?, by caller: Caller) async throws -> [ParkedTransfer] {
        _ = try await governance.authorize(caller, .ledgerRead)
        return try await parked.list(tag: status?.rawValue, limit: try Self.page(limit)).map(\.value)
    }

    /// An id derived from another, for the transfers Kinko posts itself (a retry posts the same).
    public static func derivedID(_ purpose: String, _ id: UInt128) -> TransferID {
        let digest = Array(SHA256.hash(data: Array("\(purpose):\(id)".utf8)))
        let value = digest.prefix(16).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        return TransferID(value == 0 || value == .max ? 1 : value)
    }
}
