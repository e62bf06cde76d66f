public import KinkoCore

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
    func evaluate(
        _ events: [(line: Int, event: MonitoringEvent)], batches: UInt64, rules: MonitoringRules, lists: Watchlists, listVersions: [String],
        jurisdictions: TravelRuleJurisdictions, store: any MonitoringStore,
        record: @Sendable (_ evaluations: [Evaluation], _ customers: [(UInt64, [UInt8])], _ ips: [(String, [UInt8])]) async throws -> [String: UInt64]?
    ) async throws -> (evaluations: [(line: Int, evaluation: Evaluation)], alerts: [String: UInt64])? {
        await acquire()
        defer { release() }
        let identity = [rules.version, jurisdictions.version] + listVersions
        let engine: MonitoringEngine
        if let current = self.engine, identity == self.identity, recordedThrough == batches, current.customersInMemory <= customersInMemoryMax {
            engine = current
            lastBatchReusedState = true
        } else {
            engine = MonitoringEngine(rules: rules, watchlists: lists, jurisdictions: jurisdictions, source: store)
            lastBatchReusedState = false
        }
        // Until the batch is stored, the engine's state is ahead of the database.
        self.engine = nil
        recordedThrough = nil
        let customers = events.flatMap { [$0.event.customer] + ($0.event.counterpartyCustomer.map { [$0] } ?? []) }
        let ips = events.compactMap(\.event.ip)
        let prefetched = try await store.prefetch(customers: customers, ips: ips)
        try engine.preload(customers: customers, states: prefetched.customers, ips: ips, ipStates: prefetched.ips, profiled: customers,
                           profiles: prefetched.profiles)
        var evaluations: [(line: Int, evaluation: Evaluation)] = []
        for (line, event) in events { evaluations.append((line, try engine.evaluate(event))) }
        let changes = engine.takeChanges()
        guard let alerts = try await record(evaluations.map(\.evaluation), changes.customers, changes.ips) else { return nil }
        self.engine = engine
        self.identity = identity
        recordedThrough = batches + 1
        return (evaluations, alerts)
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
