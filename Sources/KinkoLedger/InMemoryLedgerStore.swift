import Foundation
public import KinkoCore
public import KinkoGovernance

/// A `LedgerStore` in memory, with the same checkpoint semantics as the SQL stores. For tests,
/// benchmarks of the engine alone, and trying things out; nothing survives the process.
/// `@unchecked Sendable` because all state is behind one lock.
public final class InMemoryLedgerStore: LedgerStore, @unchecked Sendable {
    private let lock = NSLock()
    private var records: [LedgerBatchRecord] = []
    private var balancePages: [Int: BalancePage] = [:]
    private var pending: [UInt128: PendingTransfer] = [:]
    private var postings: [UInt128: [[TransferLocation]]] = [:]
    private var checkpoint: (sequence: UInt64, timestamp: TimestampNanoseconds) = (0, 0)
    private var auditEvents: [AuditEvent] = []

    /// The audit events appended with batches, in order.
    public var audit: [AuditEvent] { locked { auditEvents } }

    public init() {}

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public func loadSnapshot() async throws -> LedgerSnapshot {
        locked {
            LedgerSnapshot(
                definitions: records.prefix(Int(checkpoint.sequence)).filter { $0.kind == .assets || $0.kind == .accounts },
                balancePages: balancePages.values.sorted { $0.index < $1.index },
                activePending: pending.values.filter { $0.status == .pending }.sorted { $0.transfer.timestamp < $1.transfer.timestamp },
                checkpointSequence: checkpoint.sequence,
                checkpointTimestamp: checkpoint.timestamp)
        }
    }

    public func headSequence() async throws -> UInt64 { locked { UInt64(records.count) } }

    public func firstSequence(after timestamp: TimestampNanoseconds) async throws -> UInt64? {
        locked { records.first { ($0.kind == .transfers || $0.kind == .pulse) && $0.timestamp > timestamp }?.sequence }
    }

    public func batches(after sequence: UInt64, limit: Int) async throws -> [LedgerBatchRecord] {
        locked { Array(records.dropFirst(Int(sequence)).prefix(limit)) }
    }

    public func append(
        _ record: LedgerBatchRecord, accounts newAccounts: [Account], assets newAssets: [Asset], checkpoint write: LedgerCheckpointWrite?,
        audit: AuditEvent
    ) async throws -> LedgerAppendOutcome {
        locked {
            let head = UInt64(records.count)
            guard head + 1 == record.sequence else { return .stale(head: head) }
            let postingsToAdd = write.map { LedgerPostings.restrict($0.postings, above: checkpoint.sequence) }
            records.append(record)
            auditEvents.append(audit)
            if let write, let postingsToAdd {
                for page in write.balancePages { balancePages[page.index] = page }
                for entry in write.pending { pending[entry.transfer.id.rawValue] = entry }
                for list in postingsToAdd { postings[list.account, default: []].append(list.locations) }
                checkpoint = (write.sequence, write.timestamp)
            }
            return .appended
        }
    }

    public func transfers(at locations: [TransferLocation]) async throws -> [Transfer] {
        try locked {
            try locations.compactMap { location in
                let index = Int(location.sequence) - 1
                guard index >= 0, index < records.count, records[index].kind == .transfers,
                    location.slot < records[index].count
                else { return nil }
                return try LedgerCodec.decodeTransfer(records[index].body, slot: location.slot)
            }
        }
    }

    public func pendingStatuses(_ ids: [TransferID]) async throws -> [TransferID: PendingStatus] {
        locked {
            var result: [TransferID: PendingStatus] = [:]
            for id in ids { if let entry = pending[id.rawValue] { result[id] = entry.status } }
            return result
        }
    }

    public func postedLocations(account: AccountID, before: TransferLocation, limit: Int) async throws -> [TransferLocation] {
        locked {
            let lists = postings[account.rawValue] ?? []
            var found: [TransferLocation] = []
            for list in lists.reversed() {
                for location in list.reversed() where location < before {
                    guard found.count < limit else { return found }
                    found.append(location)
                }
            }
            return found
        }
    }

    /// Test hook: changes a checkpointed balance (by account order) behind the ledger's back.
    public func tamperBalance(ordinal: Int, _ change: (inout AccountBalance) -> Void) throws {
        try locked {
            let pageIndex = ordinal / LedgerEngine.balancePageAccounts
            guard let page = balancePages[pageIndex] else { throw KinkoError(.notFound, "no balance page \(pageIndex)") }
            var balances = try LedgerCodec.decodeBalances(page.bytes)
            change(&balances[ordinal % LedgerEngine.balancePageAccounts])
            balancePages[pageIndex] = BalancePage(index: pageIndex, bytes: LedgerCodec.encodeBalances(balances[...]))
        }
    }

    /// Test hook: replaces the stored body of a batch, as an attacker editing the file would.
    public func tamper(sequence: UInt64, _ change: (inout LedgerBatchRecord) -> Void) {
        locked { change(&records[Int(sequence) - 1]) }
    }
}
