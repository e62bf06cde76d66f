import Foundation
public import KinkoCore
public import KinkoCustody
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring

/// A customer withdrawal and what monitoring and compliance decided about it (record
/// `controls.withdrawals`, keyed by its pending ledger transfer).
public struct WithdrawalRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Monitoring (or compliance) cleared it: it may be released.
        case cleared
        /// Monitoring asked for review: the pending transfer stays, with its timeout, until
        /// compliance clears or rejects it.
        case held
        /// Monitoring blocked it: the pending transfer was voided; clearing it takes two
        /// compliance officers.
        case blocked
        /// Compliance refused it: voided.
        case rejected
        /// Paid out: the pending transfer was posted.
        case released
        /// A blocked withdrawal two compliance officers cleared: a new pending transfer replaced it.
        case superseded
    }

    public struct Decision: Codable, Sendable, Equatable {
        public var by: String
        public var at: UInt64
        public var action: String
        public var note: String
    }

    public var transfer: String
    public var account: String
    public var wallet: String
    public var customer: String
    public var asset: String
    public var amount: String
    public var amountJPY: String
    public var address: String
    public var event: String
    public var verdict: String
    public var alert: String?
    public var rules: [String]
    public var status: Status
    public var requestedBy: String
    public var requestedAt: UInt64
    public var decisions: [Decision]
    /// The approval request that clears a blocked withdrawal, once filed.
    public var clearanceRequest: String?
    /// Superseded: the pending transfer that replaced this one.
    public var replacedBy: String?
    /// Released: the transfer that posted it.
    public var releasedAs: String?

    public static let collection = "controls.withdrawals"
}

/// The withdrawal verdicts, for whoever must ask whether a pending withdrawal may go (custody,
/// the ledger's controls).
public struct WithdrawalBook: WithdrawalClearance {
    let store: any RecordStore

    var records: RecordCollection<WithdrawalRecord> { RecordCollection(WithdrawalRecord.collection, store: store) }

    public func record(_ id: TransferID) async throws -> RecordCollection<WithdrawalRecord>.Entry? {
        try await records.get(ParkedTransfer.key(id))
    }

    public func isCleared(_ pendingID: TransferID) async throws -> Bool {
        try await record(pendingID)?.value.status == .cleared
    }

    public func clearances(_ ids: [TransferID]) async throws -> Set<UInt128> {
        var cleared: Set<UInt128> = []
        for id in Set(ids) where try await isCleared(id) { cleared.insert(id.rawValue) }
        return cleared
    }

    public init(store: any RecordStore) {
        self.store = store
    }
}

/// Withdrawals, two-phase end to end: the customer's balance is reserved by a pending ledger
/// transfer, monitoring's verdict is taken in the same flow, and the transfer posts (by a
/// release, or a custody movement under quorum) only once the withdrawal is cleared. `block`
/// voids it; `review` holds it for compliance; clearing a blocked one needs two compliance
/// officers.
public struct Withdrawals: Sendable {
    public let ledger: LedgerService
    public let monitoring: Monitoring
    public let book: WithdrawalBook

    public static let clearBlockedAction = "controls.withdrawal.clear"
    public static let timeoutSecondsDefault: UInt32 = 86_400
    public static let timeoutSecondsMax: UInt32 = 7 * 86_400
    public static let noteLengthMax = 2_000
    /// Clearing a blocked withdrawal: one more compliance officer (the one asking does not count).
    public static let clearBlockedPolicy = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance], expirySeconds: 3 * 86_400)

    var governance: Governance { ledger.governance }

    /// What the exchange's systems ask for.
    public struct Request: Sendable {
        public var id: TransferID
        public var account: AccountID
        public var wallet: AccountID
        public var amount: UInt128
        public var amountJPY: UInt64
        public var address: String
        public var vasp: String?
        public var vaspCountry: String?
        public var unhosted: Bool
        public var originator: TravelRuleParty?
        public var beneficiary: TravelRuleParty?
        public var counterpartyRisk: String?
        public var timeoutSeconds: UInt32

        public init(id: TransferID, account: AccountID, wallet: AccountID, amount: UInt128, amountJPY: UInt64, address: String,
                    vasp: String? = nil, vaspCountry: String? = nil, unhosted: Bool = false, originator: TravelRuleParty? = nil,
                    beneficiary: TravelRuleParty? = nil, counterpartyRisk: String? = nil, timeoutSeconds: UInt32 = Withdrawals.timeoutSecondsDefault) {
            self.id = id
            self.account = account
            self.wallet = wallet
            self.amount = amount
            self.amountJPY = amountJPY
            self.address = address
            self.vasp = vasp
            self.vaspCountry = vaspCountry
            self.unhosted = unhosted
            self.originator = originator
            self.beneficiary = beneficiary
            self.counterpartyRisk = counterpartyRisk
            self.timeoutSeconds = timeoutSeconds
        }
    }

    // MARK: Requesting

    /// Reserves the amount (a pending ledger withdrawal), takes monitoring's verdict, and
    /// records it. A retry with the same id answers the record as it stands.
    public func request(_ request: Request, by caller: Caller) async throws -> WithdrawalRecord {
        let digest = Governance.digest(["transfer": .string(request.id.description), "amount": .string(String(request.amount))])
        let role = try await governance.authorize(caller, .withdrawalsRequest, digest: digest)
        if let existing = try await book.record(request.id) { return existing.value }
        try Self.validate(request)
        let (account, asset) = try await accounts(of: request)
        let pending = Transfer(id: request.id, debitAccountID: request.account, creditAccountID: request.wallet, amount: request.amount,
                               ledger: asset.ledger, code: .withdrawal, flags: .pending, timeoutSeconds: request.timeoutSeconds)
        let result = try await ledger.createTransfers([pending], by: caller, permission: .withdrawalsRequest)[0]
        guard result == .ok || result == .exists else {
            throw KinkoError(.ledgerRefused, "the ledger refused withdrawal \(request.id): \(result.name)", field: "amount")
        }
        let event = MonitoringEvent(
            id: "withdrawal-\(request.id)", kind: .withdrawal, customer: UInt64(account.owner), time: governance.clock.now(), asset: asset.code,
            amount: Amount(units: request.amount), amountJPY: request.amountJPY, address: request.address, vasp: request.vasp,
            vaspCountry: request.vaspCountry, unhosted: request.unhosted, originator: request.originator, beneficiary: request.beneficiary,
            counterpartyRisk: request.counterpartyRisk)
        let verdict = try await monitoring.evaluate([event], by: caller)[0]
        let outcome = verdict.outcome ?? .block
        let status: WithdrawalRecord.Status = switch outcome {
        case .clear: .cleared
        case .review: .held
        case .block: .blocked
        }
        if status == .blocked { try await void(request.id, purpose: "kinko.withdrawal-blocked", by: caller, permission: .withdrawalsRequest) }
        let record = WithdrawalRecord(
            transfer: request.id.description, account: request.account.description, wallet: request.wallet.description,
            customer: String(account.owner), asset: asset.code, amount: String(request.amount), amountJPY: String(request.amountJPY),
            address: request.address, event: event.id, verdict: outcome.rawValue, alert: verdict.alert.map(String.init), rules: verdict.rules,
            status: status, requestedBy: caller.name, requestedAt: governance.clock.now(), decisions: [], clearanceRequest: nil,
            replacedBy: nil, releasedAs: nil)
        let stored = try await governance.store.write(
            [try book.records.insert(ParkedTransfer.key(request.id), record, tag: status.rawValue)], at: governance.clock.now(),
            audit: caller.event(.withdrawalsRequest, role: role, digest: digest, result: status.rawValue,
                                details: ["transfer": request.id.description, "verdict": outcome.rawValue, "alert": record.alert ?? ""]))
        if !stored, let existing = try await book.record(request.id) { return existing.value }
        return record
    }

    static func validate(_ request: Request) throws(KinkoError) {
        guard request.amount > 0 else { throw KinkoError(.invalidInput, "must not be zero", field: "amount") }
        guard (1...WhitelistEntry.addressLengthMax).contains(request.address.utf8.count),
            !request.address.contains(where: { $0.isWhitespace || $0 == "\u{0}" })
        else {
            throw KinkoError(.invalidInput, "an address is 1–\(WhitelistEntry.addressLengthMax) characters without spaces", field: "address")
        }
        guard (1...timeoutSecondsMax).contains(request.timeoutSeconds) else {
            throw KinkoError(.invalidInput, "a withdrawal is held 1 s to \(timeoutSecondsMax) s; got \(request.timeoutSeconds)", field: "timeout")
        }
    }

    private func accounts(of request: Request) async throws -> (Account, Asset) {
        guard let (account, _) = await ledger.ledger.account(request.account), account.accountClass == .customerLiability else {
            throw KinkoError(.notFound, "no customer account \(request.account)", field: "account")
        }
        guard let (wallet, _) = await ledger.ledger.account(request.wallet), wallet.accountClass == .customerCustodyHolding,
            wallet.ledger == account.ledger
        else {
            throw KinkoError(.notFound, "no customer wallet account \(request.wallet) on the same ledger", field: "wallet")
        }
        guard account.owner <= UInt128(MonitoringEvent.customerMax) else {
            throw KinkoError(.invalidInput, "the account's owner is not a customer number monitoring knows", field: "account")
        }
        guard let asset = await ledger.ledger.asset(ledger: account.ledger) else { throw KinkoError(.assetNotFound, "no asset for ledger \(account.ledger)") }
        return (account, asset)
    }

    private func void(_ id: TransferID, purpose: String, by caller: Caller, permission: Permission) async throws {
        let void = Transfer(id: LedgerService.derivedID(purpose, id.rawValue), debitAccountID: AccountID(0), creditAccountID: AccountID(0),
                            amount: 0, ledger: 0, code: TransferCode(0), flags: .voidPendingTransfer, pendingID: id)
        let result = try await ledger.createTransfers([void], by: caller, permission: permission)[0]
        guard [.ok, .exists, .pendingTransferExpired, .pendingTransferAlreadyVoided].contains(result) else {
            throw KinkoError(.ledgerRefused, "the ledger refused to void withdrawal \(id): \(result.name)")
        }
    }

    // MARK: Compliance

    public enum Decision: String, Sendable { case clear, reject }

    /// A compliance officer's decision. A held withdrawal is cleared or rejected at once; a
    /// blocked one is rejected at once, but clearing it files a request a second compliance
    /// officer must approve (then `executeClearance`).
    public func decide(_ id: TransferID, _ decision: Decision, note: String, by caller: Caller) async throws -> WithdrawalRecord {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...Self.noteLengthMax).contains(note.count) else {
            throw KinkoError(.invalidInput, "a note is 1–\(Self.noteLengthMax) characters", field: "note")
        }
        let digest = Governance.digest(["transfer": .string(id.description), "decision": .string(decision.rawValue)])
        let role = try await governance.authorize(caller, .withdrawalsDecide, digest: digest)
        guard let entry = try await book.record(id) else { throw KinkoError(.notFound, "no withdrawal \(id)", field: "id") }
        var record = entry.value
        record.decisions.append(.init(by: caller.name, at: governance.clock.now(), action: decision.rawValue, note: note))
        switch (record.status, decision) {
        case (.held, .clear):
            record.status = .cleared
        case (.held, .reject):
            try await void(id, purpose: "kinko.withdrawal-rejected", by: caller, permission: .withdrawalsDecide)
            record.status = .rejected
        case (.blocked, .reject):
            record.status = .rejected
        case (.blocked, .clear):
            guard record.clearanceRequest == nil else {
                throw KinkoError(.conflict, "clearing withdrawal \(id) waits for request \(record.clearanceRequest ?? "")", field: "id")
            }
            let records = book.records
            let payload: CanonicalJSON = ["transfer": .string(id.description), "customer": .string(record.customer), "asset": .string(record.asset),
                                          "amount_units": .string(record.amount), "address": .string(record.address),
                                          "rules": .array(record.rules.map { .string($0) }), "note": .string(note)]
            let pending = record
            let request = try await governance.submit(action: Self.clearBlockedAction, payload: payload, policy: Self.clearBlockedPolicy, by: caller,
                                                      role: role, permission: .withdrawalsDecide, details: ["transfer": id.description]) { requestID in
                var filed = pending
                filed.clearanceRequest = requestID.description
                return [try records.update(entry, to: filed, tag: filed.status.rawValue)]
            }
            record.clearanceRequest = request.id.description
            return record
        default:
            throw KinkoError(.conflict, "withdrawal \(id) is \(record.status.rawValue); a \(decision.rawValue) decision does not apply", field: "id")
        }
        guard try await governance.store.write([try book.records.update(entry, to: record, tag: record.status.rawValue)], at: governance.clock.now(),
                                               audit: caller.event(.withdrawalsDecide, role: role, digest: digest, result: record.status.rawValue,
                                                                   details: ["transfer": id.description, "note": note]))
        else {
            throw KinkoError(.conflict, "withdrawal \(id) changed meanwhile; read it again", field: "id")
        }
        return record
    }

    /// Carries out the approved clearing of a blocked withdrawal: a new pending transfer
    /// reserves the amount again and is cleared; the blocked record is superseded.
    public func executeClearance(_ id: TransferID, by caller: Caller) async throws -> WithdrawalRecord {
        guard let entry = try await book.record(id), entry.value.status == .blocked,
            let requestText = entry.value.clearanceRequest, let requestID = UInt128(requestText)
        else {
            throw KinkoError(.conflict, "withdrawal \(id) has no clearing request to execute", field: "id")
        }
        let request = try await governance.requireRequest(ApprovalRequestID(requestID))
        let role = try await governance.authorize(caller, .approvalsExecute, digest: request.digest)
        let evaluation = try await governance.requireApproved(request.id, "clearing withdrawal \(id)", by: caller, role: role, .approvalsExecute,
                                                              digest: request.digest)
        guard let amount = UInt128(entry.value.amount), let account = UInt128(entry.value.account), let wallet = UInt128(entry.value.wallet),
            let asset = await ledger.ledger.asset(code: entry.value.asset)
        else { throw KinkoError(.storageCorrupted, "withdrawal record \(id) does not read") }
        let replacement = LedgerService.derivedID("kinko.withdrawal-cleared", id.rawValue)
        let pending = Transfer(id: replacement, debitAccountID: AccountID(account), creditAccountID: AccountID(wallet), amount: amount,
                               ledger: asset.ledger, code: .withdrawal, flags: .pending, timeoutSeconds: Self.timeoutSecondsDefault)
        let result = try await ledger.createTransfers([pending], by: caller, permission: .approvalsExecute)[0]
        guard result == .ok || result == .exists else {
            throw KinkoError(.ledgerRefused, "the ledger refused to reserve withdrawal \(id) again: \(result.name)")
        }
        var old = entry.value
        old.status = .superseded
        old.replacedBy = replacement.description
        var cleared = entry.value
        cleared.transfer = replacement.description
        cleared.status = .cleared
        cleared.decisions.append(.init(by: caller.name, at: governance.clock.now(), action: "clear_blocked",
                                       note: "approved by \(evaluation.counted.map(\.description).joined(separator: ",")) (request \(request.id))"))
        guard try await governance.store.write(
            [.executeRequest(request.id, revision: request.revision), try book.records.update(entry, to: old, tag: old.status.rawValue),
             try book.records.insert(ParkedTransfer.key(replacement), cleared, tag: cleared.status.rawValue)],
            at: governance.clock.now(),
            audit: caller.event(.approvalsExecute, role: role, digest: request.digest, result: "cleared",
                                details: ["transfer": id.description, "replaced_by": replacement.description]))
        else {
            throw KinkoError(.conflict, "withdrawal \(id) was cleared meanwhile")
        }
        return cleared
    }

    /// Pays a cleared withdrawal out: posts its pending transfer (the exchange's signer sends the
    /// coins). A withdrawal paid through a custody movement posts when the movement completes.
    public func release(_ id: TransferID, by caller: Caller) async throws -> WithdrawalRecord {
        let digest = Governance.digest(["transfer": .string(id.description)])
        let role = try await governance.authorize(caller, .withdrawalsRelease, digest: digest)
        guard let entry = try await book.record(id) else { throw KinkoError(.notFound, "no withdrawal \(id)", field: "id") }
        guard entry.value.status == .cleared else {
            throw try await governance.refused(
                KinkoError(.approvalRefused, "withdrawal \(id) is \(entry.value.status.rawValue), not cleared: it may not be released", field: "id"),
                by: caller, role: role, .withdrawalsRelease, digest: digest, details: ["transfer": id.description])
        }
        let post = Transfer(id: LedgerService.derivedID("kinko.withdrawal-release", id.rawValue), debitAccountID: AccountID(0),
                            creditAccountID: AccountID(0), amount: Transfer.amountWholePending, ledger: 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: id)
        let result = try await ledger.createTransfers([post], by: caller, permission: .withdrawalsRelease)[0]
        guard result == .ok || result == .exists else {
            throw KinkoError(.ledgerRefused, "the ledger refused to post withdrawal \(id): \(result.name)", field: "id")
        }
        var released = entry.value
        released.status = .released
        released.releasedAs = post.id.description
        guard try await governance.store.write([try book.records.update(entry, to: released, tag: released.status.rawValue)], at: governance.clock.now(),
                                               audit: caller.event(.withdrawalsRelease, role: role, digest: digest, result: "released",
                                                                   details: ["transfer": id.description, "post": post.id.description]))
        else {
            throw KinkoError(.conflict, "withdrawal \(id) changed meanwhile; read it again", field: "id")
        }
        return released
    }

    // MARK: Reading

    public func withdrawal(_ id: TransferID, by caller: Caller) async throws -> WithdrawalRecord {
        _ = try await governance.authorize(caller, .withdrawalsRead)
        guard let entry = try await book.record(id) else { throw KinkoError(.notFound, "no withdrawal \(id)", field: "id") }
        return entry.value
    }

    public func withdrawals(status: WithdrawalRecord.Status?, after: TransferID?, limit: Int?, by caller: Caller) async throws -> [WithdrawalRecord] {
        _ = try await governance.authorize(caller, .withdrawalsRead)
        return try await book.records.list(tag: status?.rawValue, after: after.map(ParkedTransfer.key), limit: try LedgerService.page(limit)).map(\.value)
    }

    public init(ledger: LedgerService, monitoring: Monitoring, book: WithdrawalBook) {
        self.ledger = ledger
        self.monitoring = monitoring
        self.book = book
    }
}

extension KinkoError.Code {
    /// The ledger refused a transfer a flow needed; the message names the ledger's result.
    public static let ledgerRefused = Self(rawValue: "ledger_refused")
}
