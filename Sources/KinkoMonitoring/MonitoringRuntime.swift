public import KinkoCore
public import KinkoGovernance

/// The process's one monitoring engine, kept between batches with its rule set, watchlists,
/// travel-rule jurisdictions and the customer state it has read or written. Batches run one
/// at a time through it.
///
/// The engine is replaced as a whole when what it judges by changes (another rule set, list or
/// jurisdiction version). Its customer state is trusted only while it is the stored state: it
/// is forgotten when another process (or a failed batch) recorded or lost a batch since this
/// engine's last one, and when more than `customersInMemoryMax` customers are held. Before a
/// batch, the state and profiles of everyone the batch names are read asynchronously in one go
/// (`MonitoringStore.prefetch`); a storage error is an error, and
/// the batch stores nothing.
public actor MonitoringRuntime {
    /// Customers whose state one process keeps in memory between batches at most; past it the
    /// state is read again as batches need it.
    public let customersInMemoryMax: Int
    public static let customersInMemoryMaxDefault = 1_000_000

    private var engine: MonitoringEngine?
    /// What the engine judges by: rule-set version, list versions, jurisdictions version.
    private var identity: [String] = []
    /// The stored batch count right after this engine's last recorded batch.
    private var recordedThrough: UInt64?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(customersInMemoryMax: Int = MonitoringRuntime.customersInMemoryMaxDefault) {
        self.customersInMemoryMax = max(1, customersInMemoryMax)
    }

    /// What the last batch found: whether the engine (and its state) carried over from before.
    public private(set) var lastBatchReusedState = false

    /// Evaluates `events` (deduplicated, in order) with the engine for `rules`, `lists` and
    /// `jurisdictions`, and hands the verdicts and changed state to `record`, which stores them
    /// if no batch was recorded since `batches` was read (nil otherwise: nothing is kept).
    ///
    /// Only the bookkeeping runs on the actor; the batch itself (the prefetch, the evaluation
    /// with its synchronous state reads, `record`) runs on the calling task's executor, so a
    /// caller that prefers an executor of its own (`MonitoringStateSource.blockingReadsExecutor`)
    /// keeps blocking reads off Swift's cooperative threads.
    nonisolated func evaluate(
        _ events: [(line: Int, event: MonitoringEvent)], batches: UInt64, rules: MonitoringRules, lists: Watchlists, listVersions: [String],
        jurisdictions: TravelRuleJurisdictions, regulatory: RegulatorySettings = .standard, store: any MonitoringStore,
        record: @Sendable (_ evaluations: [Evaluation], _ customers: [(UInt64, [UInt8])], _ ips: [(String, [UInt8])]) async throws -> [String: UInt64]?
    ) async throws -> (evaluations: [(line: Int, evaluation: Evaluation)], alerts: [String: UInt64])? {
        let identity = [rules.version, jurisdictions.version, regulatory.version] + listVersions
        let checkedOut = await checkOut(identity: identity, batches: batches, rules: rules, lists: lists, jurisdictions: jurisdictions,
                                        regulatory: regulatory, store: store)
        let engine = checkedOut.engine
        do {
            let customers = events.flatMap { [$0.event.customer] + ($0.event.counterpartyCustomer.map { [$0] } ?? []) }
            let ips = events.compactMap(\.event.ip)
            let prefetched = try await store.prefetch(customers: customers, ips: ips)
            try engine.preload(customers: customers, states: prefetched.customers, ips: ips, ipStates: prefetched.ips, profiled: customers,
                               profiles: prefetched.profiles)
            var evaluations: [(line: Int, evaluation: Evaluation)] = []
            for (line, event) in events { evaluations.append((line, try engine.evaluate(event))) }
            let changes = engine.takeChanges()
            guard let alerts = try await record(evaluations.map(\.evaluation), changes.customers, changes.ips) else {
                await checkIn(nil, identity: identity, recordedThrough: nil)
                return nil
            }
            await checkIn(checkedOut, identity: identity, recordedThrough: batches + 1)
            return (evaluations, alerts)
        } catch {
            await checkIn(nil, identity: identity, recordedThrough: nil)
            throw error
        }
    }

    /// The engine of one batch, out of the runtime while the batch runs. Only the batch that
    /// holds the runtime's lock (`acquire`) has it, so it is never used from two places at once.
    struct CheckedOut: @unchecked Sendable {
        let engine: MonitoringEngine
    }

    /// Waits for the runtime, then hands out the engine to use: the kept one if it still
    /// judges by `identity` and holds the stored state, a new one otherwise. Until the batch is
    /// stored the engine's state is ahead of the database, so the runtime keeps none meanwhile.
    private func checkOut(identity: [String], batches: UInt64, rules: MonitoringRules, lists: Watchlists, jurisdictions: TravelRuleJurisdictions,
                          regulatory: RegulatorySettings, store: any MonitoringStore) async -> CheckedOut {
        await acquire()
        let engine: MonitoringEngine
        if let current = self.engine, identity == self.identity, recordedThrough == batches, current.customersInMemory <= customersInMemoryMax {
            engine = current
            lastBatchReusedState = true
        } else {
            engine = MonitoringEngine(rules: rules, watchlists: lists, jurisdictions: jurisdictions, regulatory: regulatory, source: store)
            lastBatchReusedState = false
        }
        self.engine = nil
        recordedThrough = nil
        return CheckedOut(engine: engine)
    }

    /// Takes the engine back after a stored batch (nil: the batch failed, its state is dropped)
    /// and lets the next batch in.
    private func checkIn(_ checkedOut: CheckedOut?, identity: [String], recordedThrough: UInt64?) {
        if let checkedOut {
            engine = checkedOut.engine
            self.identity = identity
            self.recordedThrough = recordedThrough
        }
        release()
    }

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
