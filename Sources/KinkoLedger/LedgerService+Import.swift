import Crypto
public import KinkoCore
public import KinkoGovernance

/// Migrating another ledger's history (TigerBeetle's imported events), reviewed: one person
/// files the import (the file's digest, counts, time span and gross amounts per asset), a
/// second person from finance or compliance approves it, and then the same file, and only
/// that file, runs through the engine with its original timestamps. Moving a whole history of
/// customer value into the books is never one person's act.
extension LedgerService {
    public static let importAction = "ledger.import"
    /// One approval from finance or compliance (the initiator's does not count).
    public static let importPolicy = try? ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.finance, .compliance])
    /// The most events (accounts and transfers) one import request may carry: a longer history
    /// is migrated in several requests, each reviewed.
    public static let importEventsMax = 1_000_000

    /// What an import request shows its approver.
    public struct ImportSummary: Sendable, Equatable {
        /// SHA-256 (hex) of the events as the engine will store them (`importDigest`).
        public var digest: String
        public var accounts: Int
        public var transfers: Int
        /// The earliest and latest timestamps in the file.
        public var first: TimestampNanoseconds
        public var last: TimestampNanoseconds
        /// Per asset code: the transfers' amounts summed (gross, every transfer counted once).
        public var grossAmounts: [String: String]
    }

    /// The digest an import is approved under: SHA-256 over a tag, the two counts and the
    /// events in the engine's own record layout (every field, timestamps included).
    public static func importDigest(accounts: [Account], transfers: [Transfer]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("kinko.ledger.import.v1".utf8))
        for count in [accounts.count, transfers.count] { withUnsafeBytes(of: UInt64(count).littleEndian) { hasher.update(bufferPointer: $0) } }
        hasher.update(data: LedgerCodec.encode(accounts))
        hasher.update(data: LedgerCodec.encode(transfers))
        return Hex.encode(hasher.finalize())
    }

    /// Files an import for approval. Every event must carry `imported` and its own timestamp.
    public func requestImport(accounts: [Account], transfers: [Transfer], by caller: Caller) async throws -> (ApprovalRequest, ImportSummary) {
        let role = try await governance.authorize(caller, .ledgerTransfersCreate)
        let summary: ImportSummary
        do {
            summary = try await summarizeImport(accounts: accounts, transfers: transfers)
        } catch let error as KinkoError {
            throw try await governance.refused(error, by: caller, role: role, .ledgerTransfersCreate)
        }
        let payload: CanonicalJSON = [
            "digest": .string(summary.digest), "accounts": .string(String(summary.accounts)), "transfers": .string(String(summary.transfers)),
            "first": .string(summary.first.iso8601), "last": .string(summary.last.iso8601),
            "gross_amounts": .object(summary.grossAmounts.mapValues { .string($0) }),
        ]
        guard let policy = Self.importPolicy else { throw KinkoError(.storageCorrupted, "the import approval policy is malformed") }
        let request = try await governance.submit(action: Self.importAction, payload: payload, policy: policy, by: caller, role: role,
                                                  permission: .ledgerTransfersCreate, details: ["digest": summary.digest])
        return (request, summary)
    }

    /// Runs an approved import with the file it was approved for: accounts first, then
    /// transfers, in batches of the ledger's size, each as imported events. The request is
    /// marked executed once every event is created (or already was: a rerun after a failure
    /// continues where it stopped); otherwise the first refusals are audited and thrown, and
    /// the request stays open.
    public func executeImport(_ id: ApprovalRequestID, accounts: [Account], transfers: [Transfer], by caller: Caller) async throws
        -> ImportSummary
    {
        guard let request = try await governance.store.request(id), request.action == Self.importAction else {
            throw KinkoError(.notFound, "no ledger import request \(id)", field: "request")
        }
        let role = try await governance.authorize(caller, .approvalsExecute, digest: request.digest)
        guard request.status == .open else { throw KinkoError(.conflict, "request \(id) is \(request.status.rawValue)", field: "request") }
        let evaluation = try await governance.requireApproved(id, "import request \(id)", by: caller, role: role, .approvalsExecute,
                                                              digest: request.digest)
        let summary = try await summarizeImport(accounts: accounts, transfers: transfers)
        guard case .object(let fields) = request.payload, case .string(let approved)? = fields["digest"], approved == summary.digest else {
            throw try await governance.refused(
                KinkoError(.approvalRefused, "the file is not the one request \(id) approved (digest \(summary.digest))", field: "file"),
                by: caller, role: role, .approvalsExecute, digest: request.digest)
        }
        var refusals: [String] = []
        let size = ledger.limits.batchSizeMax
        for start in stride(from: 0, to: accounts.count, by: size) {
            let batch = Array(accounts[start..<min(start + size, accounts.count)])
            let results = try await ledger.createAccounts(batch, by: caller, permission: .approvalsExecute)
            for (offset, result) in results.enumerated() where !result.isSuccess {
                refusals.append("accounts[\(start + offset)] (\(batch[offset].id)): \(result.name)")
            }
        }
        for start in stride(from: 0, to: transfers.count, by: size) where refusals.isEmpty {
            let batch = Array(transfers[start..<min(start + size, transfers.count)])
            let results = try await ledger.createTransfers(batch, by: caller, permission: .approvalsExecute)
            for (offset, result) in results.enumerated() where !result.isSuccess {
                refusals.append("transfers[\(start + offset)] (\(batch[offset].id)): \(result.name)")
            }
        }
        guard refusals.isEmpty else {
            throw try await governance.refused(
                KinkoError(.conflict, "the ledger refused \(refusals.count) imported events: \(refusals.prefix(5).joined(separator: "; "))",
                           field: "file"),
                by: caller, role: role, .approvalsExecute, digest: request.digest, details: ["request": id.description])
        }
        guard try await governance.store.write(
            [.executeRequest(request.id, revision: request.revision)], at: governance.clock.now(),
            audit: caller.event(.approvalsExecute, role: role, digest: request.digest, result: "imported",
                                details: ["accounts": String(summary.accounts), "transfers": String(summary.transfers), "digest": summary.digest,
                                          "approvers": evaluation.counted.map(\.description).joined(separator: ",")]))
        else {
            throw KinkoError(.conflict, "import request \(id) was executed or cancelled meanwhile", field: "request")
        }
        return summary
    }

    /// The summary of a well-formed import file, or the first problem, naming the field.
    private func summarizeImport(accounts: [Account], transfers: [Transfer]) async throws -> ImportSummary {
        guard !(accounts.isEmpty && transfers.isEmpty) else { throw KinkoError(.invalidInput, "the import holds no events", field: "file") }
        guard accounts.count + transfers.count <= Self.importEventsMax else {
            throw KinkoError(.limitExceeded, "an import holds at most \(Self.importEventsMax) events; got \(accounts.count + transfers.count)",
                             field: "file")
        }
        for (index, account) in accounts.enumerated() {
            guard account.flags.contains(.imported) else {
                throw KinkoError(.invalidInput, "every imported account carries the imported flag", field: "accounts[\(index)].flags")
            }
            guard account.timestamp != 0 else {
                throw KinkoError(.invalidInput, "an imported account carries its original timestamp", field: "accounts[\(index)].timestamp")
            }
        }
        var sums: [UInt32: WideSum] = [:]
        for (index, transfer) in transfers.enumerated() {
            guard transfer.flags.contains(.imported) else {
                throw KinkoError(.invalidInput, "every imported transfer carries the imported flag", field: "transfers[\(index)].flags")
            }
            guard transfer.timestamp != 0 else {
                throw KinkoError(.invalidInput, "an imported transfer carries its original timestamp", field: "transfers[\(index)].timestamp")
            }
            sums[transfer.ledger, default: WideSum()].add(transfer.amount)
        }
        var gross: [String: String] = [:]
        for (ledgerNumber, sum) in sums {
            guard let asset = await ledger.asset(ledger: ledgerNumber) else {
                throw KinkoError(.invalidInput, "ledger \(ledgerNumber) carries no registered asset", field: "transfers.ledger")
            }
            gross[asset.code] = sum.narrowed.map { Amount(units: $0).decimalString(scale: asset.scale) } ?? "\(sum) units"
        }
        let times = accounts.map(\.timestamp) + transfers.map(\.timestamp)
        return ImportSummary(digest: Self.importDigest(accounts: accounts, transfers: transfers), accounts: accounts.count,
                             transfers: transfers.count, first: times.min() ?? 0, last: times.max() ?? 0, grossAmounts: gross)
    }
}
