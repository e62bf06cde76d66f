import Foundation
public import KinkoCore
public import KinkoGovernance
public import KinkoLedger
public import KinkoMonitoring

/// A screened deposit and what became of it (record `controls.deposits`, keyed by its ledger
/// transfer). The record is written before the transfer posts: the ledger's controls credit a
/// customer only for a deposit screened to that account.
public struct DepositRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Credited to the customer's available balance.
        case credited
        /// Credited to the customer's quarantine account: the source is sanctioned or stolen.
        case quarantined
        /// Compliance asked to release it to the customer; a second officer approves.
        case releaseRequested = "release_requested"
        /// Compliance asked to return it (send it back, or surrender it); a second officer approves.
        case returnRequested = "return_requested"
        case released
        case returned
    }

    public var transfer: String
    /// The account screening credited: the customer's liability or quarantine account.
    public var credited: String
    public var customerAccount: String
    public var wallet: String
    public var customer: String
    public var asset: String
    public var amount: String
    public var amountJPY: String
    public var address: String
    public var transactionHash: String?
    public var event: String
    public var verdict: String
    public var alert: String?
    public var rules: [String]
    public var status: Status
    public var recordedBy: String
    public var recordedAt: UInt64
    /// The parked transfer (and its approval) that carries out compliance's decision.
    public var decision: String?
    public var decisionRequest: String?
    public var notes: [String]

    public static let collection = "controls.deposits"
}

/// Deposits screened before they are credited: each is judged by monitoring (sanctioned and
/// stolen-address lists among the rules); one from a blocked source goes to the customer's
/// quarantine account, not their available balance, until compliance decides — release to the
/// customer or return — and a second compliance officer approves the decision.
public struct Deposits: Sendable {
    public let ledger: LedgerService
    public let monitoring: Monitoring

    public static let batchMax = 8_190
    public static let noteLengthMax = 2_000

    var governance: Governance { ledger.governance }
    var records: RecordCollection<DepositRecord> { RecordCollection(DepositRecord.collection, store: governance.store) }

    public struct Request: Sendable {
        public var id: TransferID
        public var account: AccountID
        public var wallet: AccountID
        public var amount: UInt128
        public var amountJPY: UInt64
        public var address: String
        public var transactionHash: String?

        public init(
            id: TransferID,
            account: AccountID,
            wallet: AccountID,
            amount: UInt128,
            amountJPY: UInt64,
            address: String,
            transactionHash: String? = nil
        ) {
            self.id = id
            self.account = account
            self.wallet = wallet
            self.amount = amount
            self.amountJPY = amountJPY
            self.address = address
            self.transactionHash = transactionHash
        }
    }

    /// The quarantine account of a customer account: derived from it, created on first use.
    public static func quarantineAccountID(for account: AccountID) -> AccountID {
        AccountID(LedgerService.derivedID("kinko.quarantine-account", account.rawValue).rawValue)
    }

    /// Screens and credits deposits; one record each, in order. A retry answers the records as
    /// they stand.
    public func record(_ requests: [Request], by caller: Caller) async throws -> [DepositRecord] {
        guard (1...Self.batchMax).contains(requests.count) else {
            throw KinkoError(.limitExceeded, "record 1–\(Self.batchMax) deposits at a time; got \(requests.count)", field: "deposits")
        }
        guard Set(requests.map(\.id)).count == requests.count else { throw KinkoError(.invalidInput, "a deposit id appears twice", field: "deposits") }
        let digest = Governance.digest(.array(requests.map { .string($0.id.description) }))
        let role = try await governance.authorize(caller, .depositsRecord, digest: digest)
        var known: [TransferID: DepositRecord] = [:]
        var fresh: [(Request, Account, Asset)] = []
        for (index, request) in requests.enumerated() {
            if let existing = try await records.get(ParkedTransfer.key(request.id)) {
                known[request.id] = existing.value
                continue
            }
            do {
                fresh.append(try await check(request))
            } catch let error as KinkoError {
                throw error.within("deposits[\(index)]")
            }
        }
        if !fresh.isEmpty {
            for record in try await screen(fresh, by: caller, role: role, digest: digest) { known[TransferID(UInt128(record.transfer) ?? 0)] = record }
        }
        return requests.compactMap { known[$0.id] }
    }

    private func check(_ request: Request) async throws -> (Request, Account, Asset) {
        guard request.amount > 0 else { throw KinkoError(.invalidInput, "must not be zero", field: "amount") }
        guard (1...128).contains(request.address.utf8.count), !request.address.contains(where: { $0.isWhitespace || $0 == "\u{0}" }) else {
            throw KinkoError(.invalidInput, "a source address is 1–128 characters without spaces", field: "address")
        }
        guard let (account, _) = await ledger.ledger.account(request.account), account.accountClass == .customerLiability,
            account.owner <= UInt128(MonitoringEvent.customerMax)
        else {
            throw KinkoError(.notFound, "no customer account \(request.account)", field: "account")
        }
        guard let (wallet, _) = await ledger.ledger.account(request.wallet), wallet.accountClass == .customerCustodyHolding,
            wallet.ledger == account.ledger
        else {
            throw KinkoError(.notFound, "no customer wallet account \(request.wallet) on the same ledger", field: "wallet")
        }
        guard let asset = await ledger.ledger.asset(ledger: account.ledger) else { throw KinkoError(.assetNotFound, "no asset for ledger \(account.ledger)") }
        return (request, account, asset)
    }

    private func screen(_ fresh: [(Request, Account, Asset)], by caller: Caller, role: Role, digest: [UInt8]) async throws -> [DepositRecord] {
        let now = governance.clock.now()
        let events = fresh.map { request, account, asset in
            MonitoringEvent(id: "deposit-\(request.id)", kind: .deposit, customer: UInt64(account.owner), time: now, asset: asset.code,
                            amount: Amount(units: request.amount), amountJPY: request.amountJPY, address: request.address)
        }
        let verdicts = try await monitoring.evaluate(events, by: caller)
        var records: [DepositRecord] = []
        var quarantines: [Account] = []
        for ((request, account, asset), verdict) in zip(fresh, verdicts) {
            let blocked = (verdict.outcome ?? .block) == .block
            let credited = blocked ? Self.quarantineAccountID(for: request.account) : request.account
            if blocked && !quarantines.contains(where: { $0.id == credited }) {
                quarantines.append(Account(id: credited, ledger: account.ledger, code: account.code, accountClass: .quarantine,
                                           flags: .debitsMustNotExceedCredits, owner: account.owner))
            }
            records.append(DepositRecord(
                transfer: request.id.description, credited: credited.description, customerAccount: request.account.description,
                wallet: request.wallet.description, customer: String(account.owner), asset: asset.code, amount: String(request.amount),
                amountJPY: String(request.amountJPY), address: request.address, transactionHash: request.transactionHash,
                event: verdict.event ?? "", verdict: (verdict.outcome ?? .block).rawValue, alert: verdict.alert.map(String.init), rules: verdict.rules,
                status: blocked ? .quarantined : .credited, recordedBy: caller.name, recordedAt: now, decision: nil, decisionRequest: nil, notes: []))
        }
        if !quarantines.isEmpty {
            let created = try await ledger.createAccounts(quarantines, by: caller)
            if let bad = created.firstIndex(where: { !$0.isSuccess }) {
                throw KinkoError(.ledgerRefused, "quarantine account \(quarantines[bad].id) could not be opened: \(created[bad].name)")
            }
        }
        let collection = self.records
        // Screened first: the ledger credits a customer only for a deposit screened to that account.
        _ = try await governance.store.write(try records.map { try collection.insert(ParkedTransfer.key(TransferID(UInt128($0.transfer) ?? 0)), $0, tag: $0.status.rawValue) },
                                             at: now, audit: caller.event(.depositsRecord, role: role, digest: digest, result: "screened",
                                                                          details: ["deposits": String(records.count),
                                                                                    "quarantined": String(records.count { $0.status == .quarantined })]))
        let transfers = zip(fresh, records).map { entry, record in
            Transfer(id: entry.0.id, debitAccountID: entry.0.wallet, creditAccountID: AccountID(UInt128(record.credited) ?? 0), amount: entry.0.amount,
                     ledger: entry.2.ledger, code: .deposit)
        }
        let results = try await ledger.createTransfers(transfers, by: caller, permission: .depositsRecord)
        if let bad = results.firstIndex(where: { !$0.isSuccess }) {
            throw KinkoError(.ledgerRefused, "the ledger refused deposit \(transfers[bad].id): \(results[bad].name)", field: "deposits[\(bad)]")
        }
        return records
    }

    // MARK: Compliance

    public enum Decision: String, Sendable { case release, `return` }

    /// A compliance officer decides a quarantined deposit: the transfer that carries it out is
    /// parked, and posts when a second compliance officer approves (`execute`).
    public func decide(_ id: TransferID, _ decision: Decision, note: String, by caller: Caller) async throws -> DepositRecord {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...Self.noteLengthMax).contains(note.count) else {
            throw KinkoError(.invalidInput, "a note is 1–\(Self.noteLengthMax) characters", field: "note")
        }
        let digest = Governance.digest(["transfer": .string(id.description), "decision": .string(decision.rawValue)])
        let role = try await governance.authorize(caller, .depositsDecide, digest: digest)
        guard let entry = try await records.get(ParkedTransfer.key(id)) else { throw KinkoError(.notFound, "no deposit \(id)", field: "id") }
        guard entry.value.status == .quarantined else {
            throw KinkoError(.conflict, "deposit \(id) is \(entry.value.status.rawValue), not quarantined", field: "id")
        }
        guard let quarantine = UInt128(entry.value.credited), let customer = UInt128(entry.value.customerAccount),
            let wallet = UInt128(entry.value.wallet), let amount = UInt128(entry.value.amount), let asset = await ledger.ledger.asset(code: entry.value.asset)
        else { throw KinkoError(.storageCorrupted, "deposit record \(id) does not read") }
        let transfer = Transfer(
            id: LedgerService.derivedID("kinko.quarantine-\(decision.rawValue)", id.rawValue), debitAccountID: AccountID(quarantine),
            creditAccountID: AccountID(decision == .release ? customer : wallet), amount: amount, ledger: asset.ledger,
            code: decision == .release ? .quarantineRelease : .quarantineReturn)
        let result = try await ledger.createTransfers([transfer], by: caller, permission: .depositsDecide)[0]
        guard result == .pendingApproval || result == .exists else {
            throw KinkoError(.ledgerRefused, "the ledger refused the \(decision.rawValue) of deposit \(id): \(result.name)")
        }
        guard let parked = try await ledger.parkedTransfer(transfer.id) else {
            throw KinkoError(.storageFailure, "the \(decision.rawValue) of deposit \(id) was not parked for approval")
        }
        var decided = entry.value
        decided.status = decision == .release ? .releaseRequested : .returnRequested
        decided.decision = transfer.id.description
        decided.decisionRequest = parked.requestID
        decided.notes.append("\(caller.name): \(note)")
        guard try await governance.store.write([try records.update(entry, to: decided, tag: decided.status.rawValue)], at: governance.clock.now(),
                                               audit: caller.event(.depositsDecide, role: role, digest: digest, result: decided.status.rawValue,
                                                                   details: ["transfer": id.description, "request": parked.requestID]))
        else {
            throw KinkoError(.conflict, "deposit \(id) changed meanwhile; read it again", field: "id")
        }
        return decided
    }

    /// Posts a decision a second compliance officer approved.
    public func execute(_ id: TransferID, by caller: Caller) async throws -> DepositRecord {
        guard let entry = try await records.get(ParkedTransfer.key(id)), let requestText = entry.value.decisionRequest, let request = UInt128(requestText),
            [.releaseRequested, .returnRequested].contains(entry.value.status)
        else {
            throw KinkoError(.conflict, "deposit \(id) has no decision waiting to be carried out", field: "id")
        }
        let digest = Governance.digest(["transfer": .string(id.description)])
        let role = try await governance.authorize(caller, .approvalsExecute, digest: digest)
        _ = try await ledger.postApproved(ApprovalRequestID(request), by: caller)
        var done = entry.value
        done.status = entry.value.status == .releaseRequested ? .released : .returned
        guard try await governance.store.write([try records.update(entry, to: done, tag: done.status.rawValue)], at: governance.clock.now(),
                                               audit: caller.event(.approvalsExecute, role: role, digest: digest, result: done.status.rawValue,
                                                                   details: ["transfer": id.description]))
        else {
            throw KinkoError(.conflict, "deposit \(id) changed meanwhile; read it again", field: "id")
        }
        return done
    }

    // MARK: Reading

    public func deposits(status: DepositRecord.Status?, after: TransferID?, limit: Int?, by caller: Caller) async throws -> [DepositRecord] {
        _ = try await governance.authorize(caller, .withdrawalsRead)
        return try await records.list(tag: status?.rawValue, after: after.map(ParkedTransfer.key), limit: try LedgerService.page(limit)).map(\.value)
    }

    public init(ledger: LedgerService, monitoring: Monitoring) {
        self.ledger = ledger
        self.monitoring = monitoring
    }
}
