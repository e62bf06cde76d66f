public import KinkoCore
public import KinkoGovernance

/// The ledger service: the single writer in this process. It executes batches on the
/// in-memory `LedgerEngine`, makes them durable in a `LedgerStore` before answering, and
/// answers lookups. Several processes may share one store: a batch that loses the race to
/// append is rolled back, the winner's batches are replayed, and the batch is executed again.
public actor Ledger {
    public struct Limits: Sendable {
        /// Most events in one batch (TigerBeetle's message limit for 128-byte events).
        public var batchSizeMax = 8190
        /// Most transfers one history page may return.
        public var historyPageSizeMax = 1000
        /// Batches between checkpoints of balances, pending statuses and postings.
        public var checkpointIntervalBatches: UInt64 = 64
        /// Batches read per round trip when replaying or indexing.
        public var replayPageBatches = 16
        /// Attempts to append one batch when other writers keep winning the race.
        public var appendAttemptsMax = 100

        public init() {}
    }

    public nonisolated let limits: Limits
    private let store: any LedgerStore
    private let clock: any WallClock
    private let engine: LedgerEngine
    /// Transfers batches since our last checkpoint, kept for the postings index it will write.
    private var recentRecords: [LedgerBatchRecord] = []
    /// One batch at a time: a batch is open in the engine from execution until its append
    /// returns, across an `await`, so callers queue here (first come, first served).
    private var exclusive = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private init(store: any LedgerStore, clock: any WallClock, engine: LedgerEngine, limits: Limits) {
        self.store = store
        self.clock = clock
        self.engine = engine
        self.limits = limits
    }

    /// How `open` treats a ledger that fails its open-time check.
    public enum OpenMode: Sendable {
        /// Refuse to open it (`storage_corrupted`, naming what failed).
        case normal
        /// Open it anyway, read-only: every write is refused, reads and `verify` work, so the
        /// data can be inspected and exported.
        case inspection
    }

    /// Opens the ledger: loads the last checkpoint, replays the batches after it and runs the
    /// cheap invariant check (debits equal credits on every ledger, no account past its limit).
    /// If that fails, the full check runs to name the account at fault, and opening is refused
    /// unless `mode` is `.inspection`.
    public static func open(
        store: any LedgerStore, clock: any WallClock = SystemWallClock(),
        segregation: SegregationTable = .standard, limits: Limits = Limits(), mode: OpenMode = .normal
    ) async throws -> Ledger {
        let engine = LedgerEngine(segregation: segregation)
        try engine.load(try await store.loadSnapshot())
        let ledger = Ledger(store: store, clock: clock, engine: engine, limits: limits)
        switch mode {
        case .normal:
            do {
                try await ledger.catchUp()
            } catch let error as KinkoError where error.code == .storageCorrupted {
                throw KinkoError(
                    .storageCorrupted,
                    "refusing to open the ledger: \(error.message). Nothing was changed; the ledger can still be opened read-only for inspection and export")
            }
        case .inspection:
            let problems = try await ledger.catchUpForInspection()
            if !problems.isEmpty {
                await ledger.setReadOnly("the ledger does not replay (\(problems.joined(separator: "; "))) and is open read-only for inspection")
                return ledger
            }
        }
        try await ledger.checkOnOpen(mode: mode)
        return ledger
    }

    private func setReadOnly(_ reason: String) { readOnlyReason = reason }

    /// `catchUp`, applying batches that do not replay as stored; returns what did not replay.
    private func catchUpForInspection() async throws -> [String] {
        var problems: [String] = []
        while true {
            let records = try await store.batches(after: engine.headSequence, limit: limits.replayPageBatches)
            guard !records.isEmpty else { return problems }
            for record in records {
                if let problem = try LedgerReplay.applyForInspection(record, to: engine) { problems.append(problem) }
                remember(record)
            }
        }
    }

    /// Why this ledger is read-only (it failed its open-time check and was opened for
    /// inspection), or nil.
    public private(set) var readOnlyReason: String?

    private func checkOnOpen(mode: OpenMode) async throws {
        guard !engine.unbalancedLedgers().isEmpty || !engine.accountsViolatingLimits().isEmpty else { return }
        let report = try await verify(full: true)
        let detail = report.problems.joined(separator: "; ")
        switch mode {
        case .normal:
            throw KinkoError(
                .storageCorrupted,
                "refusing to open the ledger: \(detail). Nothing was changed; the ledger can still be opened read-only for inspection and export")
        case .inspection:
            readOnlyReason = "the ledger failed its open-time check (\(detail)) and is open read-only for inspection"
        }
    }

    // MARK: Writing

    /// Registers assets, one ledger each (idempotent for identical assets).
    public func registerAssets(_ assets: [Asset], by caller: Caller) async throws {
        let role = try caller.role(for: .ledgerAssetsAdd)
        try await write(caller: caller, role: role, permission: .ledgerAssetsAdd) { sequence, timestamp in
            let added = try engine.executeAssets(assets, sequence: sequence)
            let record = LedgerBatchRecord(
                sequence: sequence, kind: .assets, timestamp: timestamp, count: added.count,
                body: LedgerCodec.encode(added), expired: [])
            return (added.isEmpty ? nil : record, [], added, ())
        }
    }

    /// Creates accounts; one result per event, in order. `permission` is what the caller acts
    /// under: creating accounts, or executing an approved import (`governance.approvals.execute`).
    public func createAccounts(_ events: [Account], by caller: Caller, permission: Permission = .ledgerAccountsCreate) async throws
        -> [CreateAccountResult]
    {
        let role = try caller.role(for: permission)
        try checkBatchSize(events.count)
        // An imported account must come after the log's transfers, which the index knows.
        let imported = events.first?.flags.contains(.imported) ?? false
        if imported { try await buildTransferIndex() }
        return try await write(caller: caller, role: role, permission: permission, eventCount: events.count) { sequence, timestamp in
            let (results, accepted) = engine.executeAccounts(events, sequence: sequence, timestamp: timestamp)
            // An imported batch is stored at its accounts' own time.
            let record = LedgerBatchRecord(
                sequence: sequence, kind: .accounts, timestamp: imported ? accepted.last?.timestamp ?? timestamp : timestamp, count: accepted.count,
                body: LedgerCodec.encode(accepted), expired: [])
            return (accepted.isEmpty ? nil : record, accepted, [], results)
        }
    }

    /// Creates transfers; one result per event, in order. Durable before it returns. This is
    /// the engine's own semantics (TigerBeetle's, with the segregation table); front ends post
    /// through `LedgerService`, which adds the exchange's transfer controls.
    public func createTransfers(_ events: [Transfer], by caller: Caller, permission: Permission = .ledgerTransfersCreate) async throws
        -> [CreateTransferResult]
    {
        try await createTransfers(events, by: caller, permission: permission, prepare: nil).results
    }

    /// Creates transfers under `review` (the exchange's controls, run here with the accounts at
    /// hand): parked events run as pending transfers, refused ones fail with their control
    /// result. Returns the results and the indexes of the parked events.
    /// `permission` is what the caller acts under: posting (`ledger.transfers.create`), or
    /// executing an approved request (`governance.approvals.execute`) for `LedgerService`.
    public func createTransfers(_ events: [Transfer], by caller: Caller, review: TransferReview,
                                permission: Permission = .ledgerTransfersCreate) async throws
        -> (results: [CreateTransferResult], parked: Set<Int>)
    {
        let view = TransferReview.View(engine: engine)
        return try await createTransfers(events, by: caller, permission: permission, tradesNeedCounterLeg: review.policy.tradeNeedsCounterLeg) {
            review.review($0, view: view)
        }
    }

    private func createTransfers(
        _ events: [Transfer], by caller: Caller, permission: Permission = .ledgerTransfersCreate, tradesNeedCounterLeg: Bool = false,
        prepare: (([Transfer]) -> TransferReview.Outcome)?
    ) async throws -> (results: [CreateTransferResult], parked: Set<Int>) {
        let role = try caller.role(for: permission)
        try checkBatchSize(events.count)
        try await buildTransferIndex()
        return try await write(caller: caller, role: role, permission: permission, eventCount: events.count) { sequence, timestamp, prefetch in
            // Reviewed inside the batch (after the lock, on every attempt), so the accounts and
            // pendings it reads are the ones the batch runs against.
            let prepared = prepare?(events) ?? TransferReview.Outcome(events: events, refusals: [:], parked: [])
            let outcome = engine.executeTransfers(prepared.events, sequence: sequence, timestamp: timestamp, prefetch: prefetch,
                                                  refusals: prepared.refusals, tradesNeedCounterLeg: tradesNeedCounterLeg)
            // An imported batch is stored at its transfers' own time, keeping the log in time order.
            let record = LedgerBatchRecord(
                sequence: sequence, kind: .transfers, timestamp: outcome.importedTimestamp ?? timestamp, count: outcome.accepted.count,
                body: LedgerCodec.encode(outcome.accepted), expired: LedgerCodec.encodeIDs(outcome.expired),
                failed: LedgerCodec.encodeIDs(outcome.failed), history: LedgerCodec.encodeHistory(outcome.history))
            let empty = outcome.accepted.isEmpty && outcome.expired.isEmpty && outcome.failed.isEmpty
            return (empty ? nil : record, [], [], (outcome.results, prepared.parked))
        } prefetching: {
            try await prefetch(for: events)
        }
    }

    /// Expires pending transfers whose timeout has passed, without any other event.
    /// Returns the ids that expired.
    @discardableResult
    public func pulse(by caller: Caller) async throws -> [TransferID] {
        let role = try caller.role(for: .ledgerPulse)
        return try await write(caller: caller, role: role, permission: .ledgerPulse) { sequence, timestamp in
            let expired = engine.executePulse(sequence: sequence, timestamp: timestamp)
            let record = LedgerBatchRecord(
                sequence: sequence, kind: .pulse, timestamp: timestamp, count: 0, body: [],
                expired: LedgerCodec.encodeIDs(expired))
            return (expired.isEmpty ? nil : record, [], [], expired.map(TransferID.init))
        }
    }

    private func checkBatchSize(_ count: Int) throws {
        guard count <= limits.batchSizeMax else {
            throw KinkoError(
                .limitExceeded, "a batch holds at most \(limits.batchSizeMax) events; got \(count)", field: "events")
        }
    }

    private typealias Execution<Result> = (record: LedgerBatchRecord?, accounts: [Account], assets: [Asset], result: Result)

    private func write<Result: Sendable>(
        caller: Caller, role: Role, permission: Permission, eventCount: Int = 0,
        _ execute: (UInt64, TimestampNanoseconds) throws -> Execution<Result>
    ) async throws -> Result {
        try await write(caller: caller, role: role, permission: permission, eventCount: eventCount,
                        { sequence, timestamp, _ in try execute(sequence, timestamp) }, prefetching: { LedgerPrefetch() })
    }

    /// Executes, appends if the store's head is still ours, and commits; on a lost race rolls
    /// back, replays the winner's batches and tries again. On a storage error the batch is
    /// rolled back and the error is thrown: memory never runs ahead of the store.
    private func write<Result: Sendable>(
        caller: Caller, role: Role, permission: Permission, eventCount: Int,
        _ execute: (UInt64, TimestampNanoseconds, LedgerPrefetch) throws -> Execution<Result>,
        prefetching: () async throws -> LedgerPrefetch
    ) async throws -> Result {
        if let readOnlyReason { throw KinkoError(.storageCorrupted, "refusing to write: \(readOnlyReason)") }
        await acquire()
        defer { release() }
        for _ in 0..<limits.appendAttemptsMax {
            let prefetch = try await prefetching()
            let sequence = engine.headSequence + 1
            let timestamp = engine.nextBatchTimestamp(now: clock.now(), count: eventCount)
            let execution = try execute(sequence, timestamp, prefetch)
            guard let record = execution.record else {
                engine.rollbackBatch()
                return execution.result
            }
            let checkpoint = sequence - engine.checkpointSequence >= limits.checkpointIntervalBatches
                ? engine.checkpointWrite(sequence: sequence, timestamp: timestamp, records: recentRecords + [record]) : nil
            let audit = caller.event(
                permission, role: role, digest: record.digest, result: Self.summary(execution.result),
                details: ["batch": String(sequence), "events": String(eventCount), "stored": String(record.count)])
            let outcome: LedgerAppendOutcome
            do {
                outcome = try await store.append(
                    record, accounts: execution.accounts, assets: execution.assets, checkpoint: checkpoint, audit: audit)
            } catch {
                engine.rollbackBatch()
                throw error
            }
            switch outcome {
            case .appended:
                engine.commitBatch(sequence: sequence, timestamp: timestamp)
                remember(record)
                if checkpoint != nil {
                    engine.checkpointCommitted(sequence: sequence)
                    recentRecords.removeAll()
                }
                return execution.result
            case .stale:
                engine.rollbackBatch()
                try await catchUp()
            }
        }
        throw KinkoError(.storageFailure, "gave up appending after \(limits.appendAttemptsMax) lost races with other writers")
    }

    /// `8189 ok` or `8000 ok, 189 exceeds_credits`: the result an audit entry records.
    private static func summary(_ result: some Sendable) -> String {
        let names: [String]
        switch result {
        case let results as [CreateTransferResult]: names = results.map(\.name)
        case let (results, parked) as ([CreateTransferResult], Set<Int>):
            names = results.enumerated().map { parked.contains($0.offset) && $0.element == .ok ? CreateTransferResult.pendingApproval.name : $0.element.name }
        case let results as [CreateAccountResult]: names = results.map(\.name)
        case let expired as [TransferID]: return "\(expired.count) expired"
        default: return "ok"
        }
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    private func prefetch(for events: [Transfer]) async throws -> LedgerPrefetch {
        let locations = engine.transferIDsToPrefetch(events)
        guard !locations.isEmpty else { return LedgerPrefetch() }
        let transfers = try await store.transfers(at: locations)
        var prefetch = LedgerPrefetch()
        for transfer in transfers { prefetch.transfers[transfer.id.rawValue] = transfer }
        let pendingIDs = engine.pendingStatusesToPrefetch(transfers)
        if !pendingIDs.isEmpty {
            for (id, status) in try await store.pendingStatuses(pendingIDs) { prefetch.pendingStatuses[id.rawValue] = status }
        }
        return prefetch
    }

    // MARK: Serialising

    private func acquire() async {
        guard exclusive else {
            exclusive = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            exclusive = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` with no batch open and no other writer or catch-up in between.
    private func exclusively<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    // MARK: Replay

    /// Applies batches other processes stored since this ledger last looked (one query when
    /// there are none). A long-running reader calls it before answering.
    public func refresh() async throws {
        try await exclusively { try await catchUp() }
    }

    /// Replays every stored batch after our head (written by another process, or after the
    /// checkpoint we loaded).
    private func catchUp() async throws {
        while true {
            let records = try await store.batches(after: engine.headSequence, limit: limits.replayPageBatches)
            guard !records.isEmpty else { return }
            for record in records {
                try LedgerReplay.apply(record, to: engine)
                remember(record)
            }
        }
    }

    private func remember(_ record: LedgerBatchRecord) {
        if record.kind == .transfers && record.sequence > engine.checkpointSequence { recentRecords.append(record) }
    }

    /// Builds the id → location index of every stored transfer (once, before the first write
    /// or lookup by id).
    private func buildTransferIndex() async throws {
        guard !engine.transferIndexBuilt else { return }
        var after: UInt64 = 0
        while after < engine.headSequence {
            let records = try await store.batches(after: after, limit: limits.replayPageBatches)
            guard let last = records.last else { break }
            for record in records where record.sequence <= engine.headSequence {
                try engine.indexTransfers(of: record)
            }
            after = last.sequence
        }
        engine.markTransferIndexBuilt()
    }

    // MARK: Reading

    public var assets: [Asset] { engine.assets }
    /// The last batch applied and the number of accounts (for gauges).
    public var statistics: (batches: UInt64, accounts: Int) { (engine.headSequence, engine.accountCount) }
    public var headSequence: UInt64 { engine.headSequence }
    public var accountCount: Int { engine.accountCount }

    public func asset(code: String) -> Asset? { engine.asset(code: code) }
    public func asset(ledger: UInt32) -> Asset? { engine.asset(ledger: ledger) }

    public func account(_ id: AccountID) -> (account: Account, balance: AccountBalance)? { engine.account(id) }

    public func accounts(where predicate: (Account) -> Bool = { _ in true }) -> [(account: Account, balance: AccountBalance)] {
        engine.allAccounts().filter { predicate($0.account) }
    }

    /// The accounts of one ledger and class (without copying every other account).
    public func accounts(ledger: UInt32, accountClass: AccountClass) -> [Account] {
        engine.accounts(ledger: ledger, accountClass: accountClass)
    }

    /// The open (not yet posted, voided or expired) pending transfer with this id.
    public func pendingTransfer(_ id: TransferID) -> PendingTransfer? { engine.pendingTransfer(id) }

    /// A stored transfer by id.
    public func transfer(_ id: TransferID) async throws -> Transfer? {
        try await exclusively {
            try await buildTransferIndex()
            guard let location = engine.location(of: id) else { return nil }
            return try await store.transfers(at: [location]).first
        }
    }

    /// Stored batches after `sequence`, up to our head, at most `replayPageBatches` at a time:
    /// the log itself, for aggregations that read it (trading volume).
    public func batches(after sequence: UInt64) async throws -> [LedgerBatchRecord] {
        try await store.batches(after: sequence, limit: limits.replayPageBatches).filter { $0.sequence <= engine.headSequence }
    }

    /// Stored transfers by id, in the order asked; ids not stored are left out (TigerBeetle's
    /// `lookup_transfers`). At most `batchSizeMax` ids.
    public func lookupTransfers(_ ids: [TransferID]) async throws -> [Transfer] {
        try checkBatchSize(ids.count)
        return try await exclusively {
            try await buildTransferIndex()
            let locations = ids.compactMap { engine.location(of: $0) }
            return try await store.transfers(at: locations)
        }
    }

    /// Posted totals per ledger and account class, and the posted balances of chosen accounts,
    /// as they stood at `timestamp`: today's figures with the posted effect of every later
    /// transfer taken back. Linear in the number of accounts plus the transfers after `timestamp`.
    public func postedSummary(asOf timestamp: TimestampNanoseconds, accounts chosen: Set<AccountID>) async throws -> PostedSummary {
        try await exclusively { try await postedSummaryUnlocked(asOf: timestamp, accounts: chosen) }
    }

    private func postedSummaryUnlocked(asOf timestamp: TimestampNanoseconds, accounts chosen: Set<AccountID>) async throws -> PostedSummary {
        var summary = PostedSummary(totals: engine.postedClassTotals(), balances: [:])
        let later = try await postedAfter(timestamp)
        for (id, undo) in later {
            guard let account = engine.account(id)?.account else {
                throw KinkoError(.storageCorrupted, "a transfer names account \(id), which does not exist")
            }
            let undone = summary.totals[account.ledger, default: [:]][account.accountClass, default: .init()].debitsPosted.subtract(undo.debits)
                && summary.totals[account.ledger, default: [:]][account.accountClass, default: .init()].creditsPosted.subtract(undo.credits)
            guard undone else { throw KinkoError(.storageCorrupted, "transfers after \(timestamp.iso8601) exceed the balances of account \(id)") }
        }
        for id in chosen {
            guard let (account, balance) = engine.account(id), account.timestamp <= timestamp else { continue }
            summary.balances[id] = try Self.rewound(balance, by: later[id], account: id)
        }
        return summary
    }

    /// Every account matching `predicate` that existed at `timestamp`, with its posted balance
    /// as it stood then (pending amounts are not part of a past balance: they are left zero).
    /// Exact to the unit: today's balances with every later posted transfer taken back.
    public func postedBalances(asOf timestamp: TimestampNanoseconds, where predicate: (Account) -> Bool = { _ in true }) async throws
        -> [(account: Account, balance: AccountBalance)]
    {
        try await exclusively {
            let later = try await postedAfter(timestamp)
            // The engine's own arrays (no copy of every account first).
            let (accounts, balances) = (engine.accounts, engine.balances)
            var result: [(account: Account, balance: AccountBalance)] = []
            result.reserveCapacity(accounts.count)  // reserved, not touched: only what is kept is written
            for index in accounts.indices where accounts[index].timestamp <= timestamp && predicate(accounts[index]) {
                let account = accounts[index]
                result.append((account, try Self.rewound(balances[index], by: later.isEmpty ? nil : later[account.id], account: account.id)))
            }
            return result
        }
    }

    private static func rewound(_ balance: AccountBalance, by undo: (debits: UInt128, credits: UInt128)?, account: AccountID) throws(KinkoError)
        -> AccountBalance
    {
        guard let undo else { return AccountBalance(debitsPosted: balance.debitsPosted, creditsPosted: balance.creditsPosted) }
        guard balance.debitsPosted >= undo.debits, balance.creditsPosted >= undo.credits else {
            throw KinkoError(.storageCorrupted, "the transfers posted to account \(account) since exceed its balance")
        }
        return AccountBalance(debitsPosted: balance.debitsPosted - undo.debits, creditsPosted: balance.creditsPosted - undo.credits)
    }

    /// What was posted to each account by transfers stamped after `timestamp` (up to our head):
    /// the part of today's posted balances a past balance does not have. One account's sum never
    /// exceeds its posted balance, so it fits where that balance does.
    private func postedAfter(_ timestamp: TimestampNanoseconds) async throws -> [AccountID: (debits: UInt128, credits: UInt128)] {
        var later: [AccountID: (debits: UInt128, credits: UInt128)] = [:]
        guard timestamp < engine.lastTimestamp, var after = try await store.firstSequence(after: timestamp).map({ $0 - 1 }) else {
            return later
        }
        let head = engine.headSequence
        while after < head {
            let records = try await store.batches(after: after, limit: limits.replayPageBatches)
            guard let last = records.last else { break }
            for record in records where record.kind == .transfers && record.sequence <= head {
                for transfer in try LedgerCodec.decodeTransfers(record.body, count: record.count)
                where transfer.timestamp > timestamp && !transfer.flags.contains(.pending) && !transfer.flags.contains(.voidPendingTransfer) {
                    let debit = later[transfer.debitAccountID, default: (0, 0)].debits.addingReportingOverflow(transfer.amount)
                    let credit = later[transfer.creditAccountID, default: (0, 0)].credits.addingReportingOverflow(transfer.amount)
                    guard !debit.overflow, !credit.overflow else {
                        throw KinkoError(.storageCorrupted, "transfers after \(timestamp.iso8601) sum past what an account can hold")
                    }
                    later[transfer.debitAccountID, default: (0, 0)].debits = debit.partialValue
                    later[transfer.creditAccountID, default: (0, 0)].credits = credit.partialValue
                }
            }
            after = last.sequence
        }
        return later
    }

    /// The first batch stamped after `timestamp`, if any (for reading the log from a date on).
    public func firstSequence(after timestamp: TimestampNanoseconds) async throws -> UInt64? {
        try await store.firstSequence(after: timestamp)
    }

    /// Where the log stood at `timestamp`: the location just past the last transfer stamped at or
    /// before it, for reading history as of then (`history(before:)` takes it as its ceiling).
    public func location(asOf timestamp: TimestampNanoseconds) async throws -> TransferLocation {
        guard timestamp < engine.lastTimestamp, let first = try await store.firstSequence(after: timestamp) else { return .end }
        guard let record = try await store.batches(after: first - 1, limit: 1).first, record.sequence == first, record.kind == .transfers else {
            return TransferLocation(sequence: first, slot: 0)
        }
        // The batch's events are stamped up to its timestamp, one nanosecond apart: those at or
        // before `timestamp` belong to the past.
        let transfers = try LedgerCodec.decodeTransfers(record.body, count: record.count)
        return TransferLocation(sequence: first, slot: transfers.prefix { $0.timestamp <= timestamp }.count)
    }

    public struct HistoryPage: Sendable {
        public var transfers: [(location: TransferLocation, transfer: Transfer)]
        /// Pass as `before` to get the next (older) page; nil when this was the last.
        public var next: TransferLocation?
    }

    /// The account's transfers, newest first, strictly before `before`, at most `limit`.
    public func history(of account: AccountID, before: TransferLocation = .end, limit: Int) async throws -> HistoryPage {
        try await exclusively { try await historyUnlocked(of: account, before: before, limit: limit) }
    }

    private func historyUnlocked(of account: AccountID, before: TransferLocation, limit: Int) async throws -> HistoryPage {
        guard (1...limits.historyPageSizeMax).contains(limit) else {
            throw KinkoError(.limitExceeded, "page size must be 1–\(limits.historyPageSizeMax); got \(limit)", field: "limit")
        }
        var found: [(location: TransferLocation, transfer: Transfer)] = []
        // Batches after our checkpoint are scanned; older ones come from the postings index.
        let boundary = TransferLocation(sequence: engine.checkpointSequence + 1, slot: 0)
        if before > boundary {
            var tail: [LedgerBatchRecord] = []
            var after = engine.checkpointSequence
            while true {
                let page = try await store.batches(after: after, limit: limits.replayPageBatches)
                guard let last = page.last else { break }
                tail.append(contentsOf: page.filter { $0.kind == .transfers })
                after = last.sequence
            }
            for record in tail.reversed() where found.count < limit {
                try LedgerCodec.forEachTransfer(in: record, touching: account, newestFirst: true) { slot, transfer in
                    let location = TransferLocation(sequence: record.sequence, slot: slot)
                    guard location < before, found.count < limit else { return }
                    found.append((location, transfer))
                }
            }
        }
        if found.count < limit {
            let ceiling = min(before, boundary)
            let locations = try await store.postedLocations(account: account, before: ceiling, limit: limit - found.count)
            let transfers = try await store.transfers(at: locations)
            guard transfers.count == locations.count else {
                throw KinkoError(.storageCorrupted, "the postings of account \(account) name transfers that are not stored")
            }
            found.append(contentsOf: zip(locations, transfers).map { ($0, $1) })
        }
        return HistoryPage(transfers: found, next: found.count == limit ? found.last?.location : nil)
    }

    // MARK: Queries (TigerBeetle's get_account_transfers, query_accounts, query_transfers)

    /// An account's transfers that match `filter` (empty for an invalid filter), oldest first or,
    /// with `reversed`, newest first; at most `limit` and `LedgerQuery.resultsMax`. Walks the
    /// account's history from the newest transfer back to the window's start.
    public func accountTransfers(_ filter: AccountFilter) async throws -> [Transfer] {
        guard filter.isValid else { return [] }
        return try await exclusively { try await accountTransfersUnlocked(filter).map(\.transfer) }
    }

    private func accountTransfersUnlocked(_ filter: AccountFilter) async throws -> [(location: TransferLocation, transfer: Transfer)] {
        var newestFirst: [(location: TransferLocation, transfer: Transfer)] = []
        let wanted = Int(min(UInt64(filter.limit), UInt64(LedgerQuery.resultsMax)))
        var cursor = TransferLocation.end
        paging: while true {
            let page = try await historyUnlocked(of: filter.accountID, before: cursor, limit: limits.historyPageSizeMax)
            for entry in page.transfers {
                if entry.transfer.timestamp < filter.timestampMin { break paging }
                if filter.matches(entry.transfer) { newestFirst.append(entry) }
                if filter.reversed && newestFirst.count == wanted { break paging }
            }
            guard let next = page.next else { break }
            cursor = next
        }
        return LedgerQuery.select(newestFirst.reversed(), limit: filter.limit, reversed: filter.reversed) { _ in true }
    }

    /// An account's balances as they stood right after each of its transfers that match
    /// `filter` (TigerBeetle's `get_account_balances`), in the transfers' order. Only an account
    /// with the `history` flag has them: for any other (or an invalid filter) the answer is empty.
    public func accountBalances(_ filter: AccountFilter) async throws -> [AccountBalanceAt] {
        guard filter.isValid, let account = engine.account(filter.accountID)?.account, account.flags.contains(.history) else { return [] }
        return try await exclusively {
            let found = try await accountTransfersUnlocked(filter)
            // The entries of each batch the transfers are in, by slot and side.
            func key(_ slot: Int, _ side: AccountHistoryEntry.Side) -> Int { slot * 2 + (side == .debit ? 0 : 1) }
            var balances: [UInt64: [Int: AccountBalance]] = [:]
            for sequence in Set(found.map(\.location.sequence)) {
                guard let record = try await store.batches(after: sequence - 1, limit: 1).first, record.sequence == sequence else {
                    throw KinkoError(.storageCorrupted, "batch \(sequence) holds a transfer of account \(account.id) but is not stored")
                }
                balances[sequence] = Dictionary(try LedgerCodec.decodeHistory(record.history).map { (key($0.slot, $0.side), $0.balance) }) { first, _ in first }
            }
            return try found.map { location, transfer in
                let side: AccountHistoryEntry.Side = transfer.debitAccountID == account.id ? .debit : .credit
                guard let balance = balances[location.sequence]?[key(location.slot, side)] else {
                    throw KinkoError(.storageCorrupted, "batch \(location.sequence) has no balances of account \(account.id) after transfer \(transfer.id)")
                }
                return AccountBalanceAt(timestamp: transfer.timestamp, transfer: transfer.id, balance: balance)
            }
        }
    }

    /// Accounts that match `filter`, in creation (timestamp) order or newest first.
    public func queryAccounts(_ filter: QueryFilter) -> [(account: Account, balance: AccountBalance)] {
        guard filter.isValid else { return [] }
        return LedgerQuery.select(engine.allAccounts(), limit: filter.limit, reversed: filter.reversed) { filter.matches($0.account) }
    }

    /// Transfers that match `filter`, oldest first or newest first. Reads the log from the
    /// window's start: meant for audits and reports, not for a hot path.
    public func queryTransfers(_ filter: QueryFilter) async throws -> [Transfer] {
        guard filter.isValid else { return [] }
        return try await exclusively {
            var inWindow: [Transfer] = []
            let wanted = Int(min(UInt64(filter.limit), UInt64(LedgerQuery.resultsMax)))
            var after = (filter.timestampMin == 0 ? 1 : try await store.firstSequence(after: filter.timestampMin - 1) ?? engine.headSequence + 1) - 1
            scanning: while after < engine.headSequence {
                let records = try await store.batches(after: after, limit: limits.replayPageBatches)
                guard let last = records.last else { break }
                for record in records where record.kind == .transfers {
                    for transfer in try LedgerCodec.decodeTransfers(record.body, count: record.count) {
                        if filter.timestampMax != 0 && transfer.timestamp > filter.timestampMax { break scanning }
                        if filter.matches(transfer) { inWindow.append(transfer) }
                        if !filter.reversed && inWindow.count == wanted { break scanning }
                    }
                }
                after = last.sequence
            }
            return LedgerQuery.select(inWindow, limit: filter.limit, reversed: filter.reversed) { _ in true }
        }
    }

    // MARK: Verification

    public struct Verification: Sendable {
        public var full: Bool
        public var accounts: Int
        public var batches: UInt64
        public var transfers: Int
        public var problems: [String]
        public var isValid: Bool { problems.isEmpty }
    }

    /// The cheap check (debits equal credits per ledger, no limit broken) and, with `full`,
    /// a replay of every stored batch from the beginning compared account by account.
    public func verify(full: Bool) async throws -> Verification {
        try await exclusively { try await verifyUnlocked(full: full) }
    }

    private func verifyUnlocked(full: Bool) async throws -> Verification {
        // Account-level findings (from the full check) come first: they name what to fix.
        var problems: [String] = []
        var transfers = 0
        if full {
            let replayed = LedgerEngine(segregation: engine.segregation)
            var after: UInt64 = 0
            do {
                while after < engine.headSequence {
                    let records = try await store.batches(after: after, limit: limits.replayPageBatches)
                    guard let last = records.last else { break }
                    for record in records where record.sequence <= engine.headSequence {
                        try LedgerReplay.apply(record, to: replayed)
                        if record.kind == .transfers { transfers += record.count }
                    }
                    after = last.sequence
                }
                problems.append(contentsOf: LedgerReplay.differences(expected: replayed, stored: engine))
            } catch let error as KinkoError {
                problems.append(error.message)
            }
        }
        for (ledger, totals) in engine.unbalancedLedgers() {
            let code = engine.asset(ledger: ledger)?.code ?? "?"
            problems.append("ledger \(ledger) (\(code)): total debits differ from total credits: \(totals.imbalance)")
        }
        for id in engine.accountsViolatingLimits() {
            problems.append("account \(id): balance breaks its limit flag")
        }
        return Verification(full: full, accounts: engine.accountCount, batches: engine.headSequence, transfers: transfers, problems: problems)
    }
}
