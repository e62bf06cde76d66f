public import KinkoCore

/// The ledger's state machine: accounts and their balances, the index of transfer ids, the
/// pending transfers that are still open. Pure and synchronous — it never does I/O; the
/// `Ledger` actor prefetches what it needs from the store and persists what it produced.
///
/// Every change made while executing a batch is recorded in an undo log, so a failed linked
/// chain, a failed write or a concurrent writer can roll the batch back exactly.
public final class LedgerEngine {
    public let segregation: SegregationTable

    private(set) var assetsByLedger: [UInt32: Asset] = [:]
    private var accountIndex = IDTable()
    private(set) var accounts: [Account] = []
    private(set) var balances: [AccountBalance] = []
    /// Every stored transfer id → where it is stored. Built lazily: only writers and lookups
    /// by id need it.
    var transferLocations = IDTable()
    public private(set) var transferIndexBuilt = false
    var activePending: [UInt128: PendingTransfer] = [:]
    var expiryQueue = ExpiryQueue()
    /// Pending transfers posted, voided or expired since the last checkpoint (the store's
    /// `pending` table still shows them as they were at the checkpoint).
    var resolvedSinceCheckpoint: [UInt128: PendingStatus] = [:]
    /// Accounts a pending closing transfer (`closing_debit` / `closing_credit`) holds closed,
    /// by account index. Derived from the open pending transfers, so it needs no storage of its
    /// own: a checkpoint keeps every open pending transfer. (Accounts created `closed` carry
    /// the flag themselves.)
    private(set) var closedByPending = Set<Int32>()

    /// Changes since the last checkpoint, written at the next one.
    private var dirtyFlags: [Bool] = []
    private(set) var dirtyAccounts: [Int32] = []
    var dirtyPending: [UInt128: PendingTransfer] = [:]

    public private(set) var headSequence: UInt64 = 0
    public private(set) var checkpointSequence: UInt64 = 0
    public private(set) var lastTimestamp: TimestampNanoseconds = 0
    /// The latest timestamp of the transfers log (transfer and pulse batches, as stored): an
    /// imported transfer must come after it, so the log stays in time order for books as of a
    /// date. Known once the transfer index is built (or from replay).
    public private(set) var transferLogTimestamp: TimestampNanoseconds = 0
    /// What the open batch will make `transferLogTimestamp`, applied when it commits.
    var openBatchLogTimestamp: TimestampNanoseconds?

    var undoLog: [Undo] = []

    enum Undo {
        case balance(Int32, AccountBalance)
        case transferID(UInt128)
        case accountCreated
        case assetRegistered(UInt32)
        case pending(UInt128, active: PendingTransfer?, resolved: PendingStatus?, dirty: PendingTransfer?)
        case closed(Int32, Bool)
    }

    public init(segregation: SegregationTable = .standard) {
        self.segregation = segregation
    }

    // MARK: Loading

    /// Accounts a balance page holds.
    public static let balancePageAccounts = 256

    /// Loads the state as of a checkpoint. The batches after it are then replayed.
    public func load(_ snapshot: LedgerSnapshot) throws(KinkoError) {
        precondition(accounts.isEmpty && headSequence == 0, "load into a fresh engine only")
        for record in snapshot.definitions {
            switch record.kind {
            case .assets:
                for asset in try LedgerCodec.decodeAssets(record.body, count: record.count) { assetsByLedger[asset.ledger] = asset }
            case .accounts:
                let decoded = try LedgerCodec.decodeAccounts(record.body, count: record.count)
                accounts.reserveCapacity(accounts.count + decoded.count)
                for account in decoded {
                    accountIndex[account.id.rawValue] = UInt64(accounts.count)
                    accounts.append(account)
                    lastTimestamp = max(lastTimestamp, account.timestamp)
                }
            case .transfers, .pulse:
                throw KinkoError(.storageCorrupted, "batch \(record.sequence) is not a definition batch")
            }
        }
        balances = [AccountBalance](repeating: .zero, count: accounts.count)
        dirtyFlags = [Bool](repeating: false, count: accounts.count)
        for page in snapshot.balancePages {
            let decoded = try LedgerCodec.decodeBalances(page.bytes)
            let first = page.index * Self.balancePageAccounts
            guard page.index >= 0, decoded.count <= Self.balancePageAccounts, first + decoded.count <= accounts.count else {
                throw KinkoError(.storageCorrupted, "balance page \(page.index) holds accounts that do not exist")
            }
            balances.replaceSubrange(first..<first + decoded.count, with: decoded)
        }
        for pending in snapshot.activePending {
            activePending[pending.transfer.id.rawValue] = pending
            if let expiresAt = pending.expiresAt { expiryQueue.push(expiresAt, pending.transfer.id.rawValue) }
            let transfer = pending.transfer
            for (flag, id) in [(TransferFlags.closingDebit, transfer.debitAccountID), (.closingCredit, transfer.creditAccountID)]
            where transfer.flags.contains(flag) {
                guard let index = accountIndex(of: id) else {
                    throw KinkoError(.storageCorrupted, "pending transfer \(transfer.id) closes account \(id), which does not exist")
                }
                closedByPending.insert(index)
            }
        }
        headSequence = snapshot.checkpointSequence
        checkpointSequence = snapshot.checkpointSequence
        lastTimestamp = max(lastTimestamp, snapshot.checkpointTimestamp)
    }

    /// Adds the ids of stored batches to the transfer index (used once, before the first write).
    public func indexTransfers(of record: LedgerBatchRecord) throws(KinkoError) {
        if record.kind == .transfers || record.kind == .pulse { transferLogTimestamp = max(transferLogTimestamp, record.timestamp) }
        guard record.kind == .transfers else { return }
        try LedgerCodec.forEachTransferID(in: record) { id, slot in
            transferLocations[id] = TransferLocation(sequence: record.sequence, slot: slot).rawValue
        }
        for id in try LedgerCodec.decodeIDs(record.failed) { transferLocations[id] = TransferLocation.failed.rawValue }
    }

    public func markTransferIndexBuilt() { transferIndexBuilt = true }

    // MARK: Reading

    public var accountCount: Int { accounts.count }
    public var assets: [Asset] { assetsByLedger.values.sorted { $0.ledger < $1.ledger } }
    public func asset(ledger: UInt32) -> Asset? { assetsByLedger[ledger] }
    public func asset(code: String) -> Asset? { assetsByLedger.values.first { $0.code == code } }

    /// The account as it stands (with `closed` while a pending closing transfer holds it) and
    /// its balance.
    public func account(_ id: AccountID) -> (account: Account, balance: AccountBalance)? {
        guard id.rawValue != 0, let index = accountIndex[id.rawValue] else { return nil }
        return (account(at: Int32(index)), balances[Int(index)])
    }

    public func allAccounts() -> [(account: Account, balance: AccountBalance)] {
        guard !closedByPending.isEmpty else { return Array(zip(accounts, balances)) }
        return accounts.indices.map { (account(at: Int32($0)), balances[$0]) }
    }

    public func accounts(ledger: UInt32, accountClass: AccountClass) -> [Account] {
        accounts.filter { $0.ledger == ledger && $0.accountClass == accountClass }
    }

    public func location(of id: TransferID) -> TransferLocation? {
        guard id.rawValue != 0, let raw = transferLocations[id.rawValue], raw != TransferLocation.failed.rawValue else { return nil }
        return TransferLocation(rawValue: raw)
    }

    /// Marks ids as used up by a transient failure (from a stored batch, or as it happens).
    func markFailed(_ ids: [UInt128]) {
        for id in ids { insertTransferID(id, .failed) }
    }

    public func pendingTransfer(_ id: TransferID) -> PendingTransfer? { activePending[id.rawValue] }

    public var activePendingCount: Int { activePending.count }

    // MARK: Batch bookkeeping

    /// The timestamp of the next batch of `count` events: strictly after every earlier event.
    public func nextBatchTimestamp(now: TimestampNanoseconds, count: Int) -> TimestampNanoseconds {
        max(now, lastTimestamp + UInt64(max(count, 1)))
    }

    func beginBatch(sequence: UInt64, events: Int = 0) {
        precondition(sequence == headSequence + 1, "batch \(sequence) does not follow head \(headSequence)")
        precondition(undoLog.isEmpty, "a batch is already open")
        openBatchLogTimestamp = nil
        transferLocations.reserve(events)
    }

    /// Makes the executed batch part of the state (after the store made it durable).
    func commitBatch(sequence: UInt64, timestamp: TimestampNanoseconds) {
        headSequence = sequence
        lastTimestamp = max(lastTimestamp, timestamp)
        if let logged = openBatchLogTimestamp { transferLogTimestamp = max(transferLogTimestamp, logged) }
        openBatchLogTimestamp = nil
        undoLog.removeAll(keepingCapacity: true)
    }

    /// Undoes everything the open batch changed, newest change first.
    public func rollbackBatch() { rollback(to: 0) }

    /// The latest timestamp the ledger can hold, as in TigerBeetle (2⁶³ − 1 ns, in 2262): an
    /// imported event's, a query window's bound, a pending transfer's expiry (`overflows_timeout`).
    static let timestampMax = UInt64(Int64.max)

    /// The newest account's timestamp (accounts are stamped in creation order).
    var lastAccountTimestamp: TimestampNanoseconds { accounts.last?.timestamp ?? 0 }

    /// Whether an account was created at exactly this timestamp (accounts' timestamps rise
    /// strictly in creation order, imported ones included, so a binary search finds it).
    func accountTimestampExists(_ timestamp: TimestampNanoseconds) -> Bool {
        var low = 0, high = accounts.count
        while low < high {
            let middle = (low + high) / 2
            if accounts[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        return low < accounts.count && accounts[low].timestamp == timestamp
    }

    /// The batch-level checks of an imported (or not) event, in TigerBeetle's order: the first
    /// event decides whether the batch imports; an imported timestamp must be 1 … 2⁶³ − 1 and
    /// before the batch's own; any other event's must be 0.
    enum ImportCheck {
        case expected, notExpected, timestampMustBeZero, outOfRange, mustNotAdvance

        var transferResult: CreateTransferResult {
            switch self {
            case .expected: .importedEventExpected
            case .notExpected: .importedEventNotExpected
            case .timestampMustBeZero: .timestampMustBeZero
            case .outOfRange: .importedEventTimestampOutOfRange
            case .mustNotAdvance: .importedEventTimestampMustNotAdvance
            }
        }

        var accountResult: CreateAccountResult {
            switch self {
            case .expected: .importedEventExpected
            case .notExpected: .importedEventNotExpected
            case .timestampMustBeZero: .timestampMustBeZero
            case .outOfRange: .importedEventTimestampOutOfRange
            case .mustNotAdvance: .importedEventTimestampMustNotAdvance
            }
        }
    }

    static func importCheck(imported: Bool, batchImported: Bool, timestamp: TimestampNanoseconds,
                            batchTimestamp: TimestampNanoseconds) -> ImportCheck? {
        if imported != batchImported { return imported ? .notExpected : .expected }
        guard imported else { return timestamp == 0 ? nil : .timestampMustBeZero }
        if timestamp == 0 || timestamp > timestampMax { return .outOfRange }
        if timestamp >= batchTimestamp { return .mustNotAdvance }
        return nil
    }

    func rollback(to mark: Int) {
        while undoLog.count > mark {
            switch undoLog.removeLast() {
            case .balance(let index, let previous):
                balances[Int(index)] = previous
            case .transferID(let id):
                transferLocations[id] = nil
            case .accountCreated:
                let account = accounts.removeLast()
                balances.removeLast()
                accountIndex[account.id.rawValue] = nil
                if dirtyFlags.removeLast() { dirtyAccounts.removeAll { $0 == Int32(accounts.count) } }
            case .assetRegistered(let ledger):
                assetsByLedger[ledger] = nil
            case .closed(let index, let wasClosed):
                if wasClosed { closedByPending.insert(index) } else { closedByPending.remove(index) }
            case .pending(let id, let active, let resolved, let dirty):
                activePending[id] = active
                resolvedSinceCheckpoint[id] = resolved
                dirtyPending[id] = dirty
                // An expiry popped the heap entry; the restored pending needs it back.
                if let at = active?.expiresAt { expiryQueue.push(at, id) }
            }
        }
    }

    // MARK: Mutations used by the executors (each records its undo)

    @inline(__always)
    func setBalance(_ index: Int32, _ balance: AccountBalance) {
        undoLog.append(.balance(index, balances[Int(index)]))
        balances[Int(index)] = balance
        if !dirtyFlags[Int(index)] {
            dirtyFlags[Int(index)] = true
            dirtyAccounts.append(index)
        }
    }

    @inline(__always)
    func balance(at index: Int32) -> AccountBalance { balances[Int(index)] }

    @inline(__always)
    func accountIndex(of id: AccountID) -> Int32? {
        id.rawValue == 0 || id.rawValue == .max ? nil : accountIndex[id.rawValue].map { Int32(truncatingIfNeeded: $0) }
    }

    /// The account at `index`, with `closed` while a pending closing transfer holds it.
    @inline(__always)
    func account(at index: Int32) -> Account {
        guard !closedByPending.isEmpty, closedByPending.contains(index) else { return accounts[Int(index)] }
        var account = accounts[Int(index)]
        account.flags.insert(.closed)
        return account
    }

    /// Opens or closes an account for a pending closing transfer (created, or voided/expired).
    func setClosedByPending(_ index: Int32, _ closed: Bool) {
        undoLog.append(.closed(index, closedByPending.contains(index)))
        if closed { closedByPending.insert(index) } else { closedByPending.remove(index) }
    }

    func insertAccount(_ account: Account) {
        accountIndex[account.id.rawValue] = UInt64(accounts.count)
        accounts.append(account)
        balances.append(.zero)
        dirtyFlags.append(false)
        undoLog.append(.accountCreated)
    }

    func insertAsset(_ asset: Asset) {
        assetsByLedger[asset.ledger] = asset
        undoLog.append(.assetRegistered(asset.ledger))
    }

    @inline(__always)
    func insertTransferID(_ id: UInt128, _ location: TransferLocation) {
        transferLocations[id] = location.rawValue
        undoLog.append(.transferID(id))
    }

    func setPending(_ id: UInt128, active: PendingTransfer?, resolved: PendingStatus?, dirty: PendingTransfer) {
        undoLog.append(.pending(id, active: activePending[id], resolved: resolvedSinceCheckpoint[id], dirty: dirtyPending[id]))
        activePending[id] = active
        resolvedSinceCheckpoint[id] = resolved
        dirtyPending[id] = dirty
    }

    // MARK: Checkpoints

    /// What changed since the last checkpoint, for the store to write with this batch.
    func checkpointWrite(sequence: UInt64, timestamp: TimestampNanoseconds, records: [LedgerBatchRecord]) -> LedgerCheckpointWrite {
        let postings = self.postings(of: records)
        return LedgerCheckpointWrite(
            sequence: sequence,
            timestamp: timestamp,
            balancePages: Set(dirtyAccounts.map { Int($0) / Self.balancePageAccounts }).sorted().map { page in
                let first = page * Self.balancePageAccounts
                let end = min(first + Self.balancePageAccounts, balances.count)
                return BalancePage(index: page, bytes: LedgerCodec.encodeBalances(balances[first..<end]))
            },
            pending: Array(dirtyPending.values),
            postings: postings
        )
    }

    /// Per-account postings of these transfers batches, grouped by a counting sort over the
    /// dense account indexes (linear time), lists ordered by account id.
    func postings(of records: [LedgerBatchRecord]) -> [LedgerPostings.List] {
        var counts = [Int](repeating: 0, count: accounts.count + 1)
        func forEachSide(_ body: (Int, UInt64) -> Void) {
            for record in records where record.kind == .transfers {
                precondition(record.body.count == record.count * LedgerCodec.transferSize, "batch \(record.sequence) has a bad length")
                record.body.withUnsafeBytes { raw in
                    for slot in 0..<record.count {
                        let base = slot * LedgerCodec.transferSize
                        let location = TransferLocation(sequence: record.sequence, slot: slot).rawValue
                        for offset in [16, 32] {
                            let id = UInt128(littleEndian: raw.loadUnaligned(fromByteOffset: base + offset, as: UInt128.self))
                            guard let index = accountIndex(of: AccountID(id)) else {
                                preconditionFailure("stored transfer at \(location) names unknown account \(id)")
                            }
                            body(Int(index), location)
                        }
                    }
                }
            }
        }
        forEachSide { index, _ in counts[index + 1] += 1 }
        for index in 1..<counts.count { counts[index] += counts[index - 1] }
        var next = counts
        var locations = [UInt64](repeating: 0, count: counts[accounts.count])
        forEachSide { index, location in
            locations[next[index]] = location
            next[index] += 1
        }
        let touched = (0..<accounts.count).filter { counts[$0 + 1] > counts[$0] }
            .sorted { accounts[$0].id < accounts[$1].id }
        return touched.map { index in
            LedgerPostings.List(
                account: accounts[index].id.rawValue,
                locations: locations[counts[index]..<counts[index + 1]].map(TransferLocation.init(rawValue:)))
        }
    }

    /// Called once the checkpoint is durable: the store's tables now hold this state.
    func checkpointCommitted(sequence: UInt64) {
        for index in dirtyAccounts { dirtyFlags[Int(index)] = false }
        dirtyAccounts.removeAll(keepingCapacity: true)
        dirtyPending.removeAll(keepingCapacity: true)
        resolvedSinceCheckpoint.removeAll(keepingCapacity: true)
        checkpointSequence = sequence
    }

    /// The sequence the store last checkpointed may be ahead of ours when another process wrote
    /// it; ours then only moves forward.
    func observeCheckpoint(sequence: UInt64) {
        checkpointSequence = max(checkpointSequence, sequence)
    }

    /// Posted debits and credits summed per ledger and account class.
    func postedClassTotals() -> [UInt32: [AccountClass: PostedSummary.ClassTotal]] {
        var slots: [UInt32: [PostedSummary.ClassTotal]] = [:]
        var lastLedger: UInt32 = 0
        var current = [PostedSummary.ClassTotal](repeating: .init(), count: 16)
        for (account, balance) in zip(accounts, balances) {
            if account.ledger != lastLedger {
                if lastLedger != 0 { slots[lastLedger] = current }
                lastLedger = account.ledger
                current = slots[account.ledger] ?? [PostedSummary.ClassTotal](repeating: .init(), count: 16)
            }
            let slot = Int(account.accountClass.rawValue)
            current[slot].debitsPosted.add(balance.debitsPosted)
            current[slot].creditsPosted.add(balance.creditsPosted)
        }
        if lastLedger != 0 { slots[lastLedger] = current }
        var totals: [UInt32: [AccountClass: PostedSummary.ClassTotal]] = [:]
        for (ledger, values) in slots {
            for accountClass in AccountClass.allCases where values[Int(accountClass.rawValue)] != .init() {
                totals[ledger, default: [:]][accountClass] = values[Int(accountClass.rawValue)]
            }
        }
        return totals
    }

    // MARK: Invariants

    /// The four balance columns summed over every account of each ledger, exactly (no sum of
    /// balances the ledger accepted can overflow `WideSum`).
    public func ledgerTotals() -> [UInt32: LedgerTotals] {
        var totals: [UInt32: LedgerTotals] = [:]
        var lastLedger: UInt32 = 0
        var current = LedgerTotals()
        for (account, balance) in zip(accounts, balances) {
            if account.ledger != lastLedger {
                if lastLedger != 0 { totals[lastLedger] = current }
                lastLedger = account.ledger
                current = totals[account.ledger] ?? LedgerTotals()
            }
            current.add(balance)
        }
        if lastLedger != 0 { totals[lastLedger] = current }
        return totals
    }

    /// Per ledger, total debits equal total credits (posted and pending). Returns the ledgers
    /// that do not balance, with their totals.
    public func unbalancedLedgers() -> [(ledger: UInt32, totals: LedgerTotals)] {
        ledgerTotals().filter { !$0.value.isBalanced }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Accounts whose balance breaks its own limit flag (must never happen).
    public func accountsViolatingLimits() -> [AccountID] {
        zip(accounts, balances).compactMap { account, balance in
            if account.flags.contains(.debitsMustNotExceedCredits) {
                var debits = WideSum(balance.debitsPending)
                debits.add(balance.debitsPosted)
                if debits > WideSum(balance.creditsPosted) { return account.id }
            }
            if account.flags.contains(.creditsMustNotExceedDebits) {
                var credits = WideSum(balance.creditsPending)
                credits.add(balance.creditsPosted)
                if credits > WideSum(balance.debitsPosted) { return account.id }
            }
            return nil
        }
    }
}

/// One ledger's balances summed over its accounts. Debits equal credits, pending and posted
/// alike, in every consistent state.
public struct LedgerTotals: Sendable, Equatable {
    public var debitsPending = WideSum()
    public var debitsPosted = WideSum()
    public var creditsPending = WideSum()
    public var creditsPosted = WideSum()

    public init() {}

    mutating func add(_ balance: AccountBalance) {
        debitsPending.add(balance.debitsPending)
        debitsPosted.add(balance.debitsPosted)
        creditsPending.add(balance.creditsPending)
        creditsPosted.add(balance.creditsPosted)
    }

    public var isBalanced: Bool { debitsPending == creditsPending && debitsPosted == creditsPosted }

    /// What does not balance, with both figures: `debits posted 700 ≠ credits posted 767`.
    public var imbalance: String {
        var parts: [String] = []
        if debitsPosted != creditsPosted { parts.append("debits posted \(debitsPosted) ≠ credits posted \(creditsPosted)") }
        if debitsPending != creditsPending { parts.append("debits pending \(debitsPending) ≠ credits pending \(creditsPending)") }
        return parts.joined(separator: "; ")
    }
}

/// A min-heap of (expiry, pending id), earliest first. Entries are not removed when a pending
/// transfer is posted or voided (or its chain is rolled back); they are skipped when they
/// surface. Ties go by id, so the order in which a batch expires transfers does not depend on
/// the heap's history.
struct ExpiryQueue {
    private var heap: [(at: TimestampNanoseconds, id: UInt128)] = []

    @inline(__always)
    private static func before(_ a: (at: TimestampNanoseconds, id: UInt128), _ b: (at: TimestampNanoseconds, id: UInt128)) -> Bool {
        a.at < b.at || (a.at == b.at && a.id < b.id)
    }

    var isEmpty: Bool { heap.isEmpty }
    var first: (at: TimestampNanoseconds, id: UInt128)? { heap.first }

    mutating func push(_ at: TimestampNanoseconds, _ id: UInt128) {
        heap.append((at, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> (at: TimestampNanoseconds, id: UInt128)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.before(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
