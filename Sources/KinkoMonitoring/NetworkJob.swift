public import KinkoCore
public import KinkoGovernance

/// A transfer between two customers as monitoring stored it: what the network scan reads back.
public struct CustomerTransfer: Sendable, Equatable {
    public var event: String
    public var from: UInt64
    public var to: UInt64
    public var time: TimestampNanoseconds

    public init(event: String, from: UInt64, to: UInt64, time: TimestampNanoseconds) {
        self.event = event
        self.from = from
        self.to = to
        self.time = time
    }
}

/// An alert the network scan raised, and the motif (its key) it was raised for.
public struct RaisedAlert: Sendable, Equatable {
    public var motif: String
    public var alert: UInt64
}

/// What one run of the network scan did.
public struct NetworkScanResult: Sendable, Equatable {
    /// Transfers between customers read (every one stored, oldest first).
    public var transfers: Int
    public var candidates: Int
    /// Motifs within the budget over the whole history.
    public var withinBudget: Int
    /// Alerts this run raised, oldest id first (motifs already alerted are not raised again).
    public var raised: [RaisedAlert]
    public var settleDays: Double?
    public var windowDays: Double?
    public var ruleSetVersion: String
}

extension Monitoring {
    /// Transfers read from storage per page.
    public static let networkScanPage = 50_000
    /// The most transfers one run reads: past it the run is refused (the scan would hold more
    /// relationships than one process should).
    public static let networkScanTransfersMax = 50_000_000
    /// The rule name of a network alert's hit: `network_` + the typology.
    public static let networkRulePrefix = "network_"

    /// Runs the network detectors over every stored transfer between customers, as they stand
    /// now, and raises an alert for each motif within the rule set's alert budget that has none
    /// yet. The scan is rebuilt from the stored transfers on every run, so a restart, another
    /// process or a second run changes nothing: the same history gives the same motifs and an
    /// alerted motif (by its key: the hub, a scatter-gather's source and beneficiary, a ring's
    /// members) is never raised twice. Relationships that have not waited long enough by now
    /// keep waiting (`NetworkScan.advance(to:)`), unlike a backtest, which settles them at its
    /// end. Run it daily (`kinko monitor network-scan`); it needs `monitor.ingest`.
    public func scanNetwork(by caller: Caller) async throws -> NetworkScanResult {
        let now = clock.now()
        let digest = Governance.digest(.string("network-scan"))
        let role = try await governance.authorize(caller, .monitorIngest, digest: digest)
        guard let rules = try await ruleSets.current() else {
            throw KinkoError(.conflict, "no monitoring rule set is adopted yet: propose one (kinko monitor rules propose) and have it approved")
        }
        guard let settings = rules.network else {
            throw KinkoError(.conflict, "the rule set in force (\(rules.version)) has no network section: adopt one that has", field: "network")
        }
        let scan = NetworkScan(settings: settings)
        var candidates: [NetworkCandidate] = []
        var read = 0
        var cursor: (time: TimestampNanoseconds, event: String)?
        while true {
            let page = try await store.customerTransfers(after: cursor, limit: Self.networkScanPage)
            read += page.count
            guard read <= Self.networkScanTransfersMax else {
                throw KinkoError(.limitExceeded, "more than \(Self.networkScanTransfersMax) transfers between customers are stored; one scan reads at most that many",
                                 field: "transfers")
            }
            for transfer in page { candidates += scan.observe(from: transfer.from, to: transfer.to, time: transfer.time, event: transfer.event) }
            guard let last = page.last, page.count == Self.networkScanPage else { break }
            cursor = (last.time, last.event)
        }
        if now > scan.latestTime { candidates += scan.advance(to: now) }
        let chosen = NetworkBudget.select(candidates, budget: settings.alertBudget, activeAccounts: scan.activeAccounts,
                                          months: scan.months(through: max(now, scan.latestTime)))
        let alerts = chosen.map { Self.alertEvaluation($0, ruleSetVersion: rules.version) }
        let raised = try await store.recordScanAlerts(
            alerts, at: now,
            audit: caller.event(.monitorIngest, role: role, digest: digest, result: "scanned",
                                details: ["transfers": String(read), "candidates": String(candidates.count), "within_budget": String(chosen.count),
                                          "rule_set": rules.version]))
        return NetworkScanResult(transfers: read, candidates: candidates.count, withinBudget: chosen.count,
                                 raised: raised.map { RaisedAlert(motif: $0.key, alert: $0.value) }.sorted { $0.alert < $1.alert }, settleDays: scan.settleDays,
                                 windowDays: scan.windowDays, ruleSetVersion: rules.version)
    }

    /// A motif as an alert: keyed by the motif (`network:` + its key), on its hub (or first
    /// member), with one hit naming the typology, its accounts and transfers, its score and
    /// (for fans) every feature of the model.
    static func alertEvaluation(_ motif: NetworkCandidate, ruleSetVersion: String) -> Evaluation {
        var values = ["score": String(NetworkModel.rounded(motif.score)), "members": String(motif.members.count)]
        for (name, value) in zip(NetworkFeatures.names, motif.features) { values[name] = String(NetworkModel.rounded(value)) }
        let explanation = switch motif.typology {
        case "cycle": "a ring of \(motif.members.count) customers paying each other once, in a chain that returns to its start"
        case "scatter_gather": "one source paying \(motif.members.count - 2) intermediaries who each paid one beneficiary, every leg one-off"
        case "gather_scatter": "a hub receiving from and paying on to one-off counterparties around the same time"
        default: "a hub with \(motif.members.count - 1) one-off counterparties, unusual for its own history (score \(NetworkModel.rounded(motif.score)))"
        }
        let subject = motif.hub ?? motif.members[0]
        let hit = RuleHit(rule: networkRulePrefix + motif.typology, score: 0, subject: subject, explanation: explanation, values: values,
                          events: motif.events, customers: motif.members)
        return Evaluation(event: "network:" + motif.key, customer: subject, time: motif.time, outcome: .review, hits: [hit], scenarios: [],
                          ruleSetVersion: ruleSetVersion)
    }
}
