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

    public init(motif: String, alert: UInt64) {
        self.motif = motif
        self.alert = alert
    }
}

/// What one run of the network scan did.
public struct NetworkScanResult: Sendable, Equatable {
    /// Transfers between customers read (every one stored, oldest first).
    public var transfers: Int
    public var candidates: Int
    /// Motifs within the budget over the whole history.
    public var withinBudget: Int
    /// Alerts this run raised, oldest id first (motifs already alerted are not raised again; a
    /// motif that grew after its alert was dismissed or closed is raised anew, keyed
    /// `<motif>:after:<that alert>`).
    public var raised: [RaisedAlert]
    /// Open alerts (or alerts in a case) this run extended with a hit naming the accounts and
    /// transfers their motif gained since, oldest id first.
    public var grown: [RaisedAlert]
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
        let chains = try await raisedChains(alerts.map(\.event))
        var fresh: [Evaluation] = [], growth: [(alert: MonitoringAlert, hit: RuleHit)] = []
        for motif in alerts {
            guard let chain = chains[motif.event], let last = chain.last else {
                fresh.append(motif)
                continue
            }
            guard let hit = Self.growth(of: motif, over: chain) else { continue }
            if last.status == .open || last.status == .inCase {
                growth.append((last, hit))
            } else {
                fresh.append(Evaluation(event: "\(motif.event):after:\(last.id)", customer: motif.customer, time: motif.time, outcome: .review, hits: [hit],
                                        scenarios: [], ruleSetVersion: rules.version))
            }
        }
        let raised = try await store.recordScanAlerts(
            fresh, at: now,
            audit: caller.event(.monitorIngest, role: role, digest: digest, result: "scanned",
                                details: ["transfers": String(read), "candidates": String(candidates.count), "within_budget": String(chosen.count),
                                          "rule_set": rules.version]))
        var grown: [RaisedAlert] = []
        for (alert, hit) in growth {
            let details = ["alert": String(alert.id), "motif": alert.event, "accounts": hit.values[Self.newMembersValue] ?? "0",
                           "transfers": hit.values[Self.newTransfersValue] ?? "0", "rule_set": rules.version]
            // Written only if the alert is as read (still open or in a case, no hit added since):
            // a concurrent scan that extended it first leaves this one nothing to add.
            if try await store.appendAlertHit(alert.id, after: alert.hits, hit: hit,
                                              audit: caller.event(.monitorIngest, role: role, digest: digest, result: "alert_grew", details: details)) {
                grown.append(RaisedAlert(motif: alert.event, alert: alert.id))
            }
        }
        return NetworkScanResult(transfers: read, candidates: candidates.count, withinBudget: chosen.count,
                                 raised: raised.map { RaisedAlert(motif: $0.key, alert: $0.value) }.sorted { $0.alert < $1.alert },
                                 grown: grown.sorted { $0.alert < $1.alert }, settleDays: scan.settleDays, windowDays: scan.windowDays, ruleSetVersion: rules.version)
    }

    /// The value names a growth hit adds: how many accounts and transfers the motif gained.
    public static let newMembersValue = "new_members"
    public static let newTransfersValue = "new_transfers"

    /// The alerts raised so far for each motif key, in order: the first keyed by the motif, each
    /// later one (raised when the motif grew after the one before was dismissed or closed) keyed
    /// `<motif>:after:<the one before>`.
    func raisedChains(_ keys: [String]) async throws -> [String: [MonitoringAlert]] {
        var chains: [String: [MonitoringAlert]] = [:]
        var lookups = Dictionary(keys.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })  // key to look up → motif
        while !lookups.isEmpty {
            let refs = try await store.alertRefs(events: Array(lookups.keys))
            var next: [String: String] = [:]
            for (lookup, motif) in lookups {
                guard let ref = refs[lookup] else { continue }
                guard let alert = try await store.alert(ref.id) else { throw KinkoError(.storageCorrupted, "alert \(ref.id) is listed but cannot be read") }
                chains[motif, default: []].append(alert)
                if alert.status == .dismissed || alert.status == .closed { next["\(motif):after:\(alert.id)"] = motif }
            }
            lookups = next
        }
        return chains
    }

    /// What `motif` (as found now) names that none of the alerts raised for it so far named: a
    /// hit on the same rule naming the hub (or first member) and the new accounts and transfers,
    /// with the motif's current score and features; nil when nothing is new.
    static func growth(of motif: Evaluation, over chain: [MonitoringAlert]) -> RuleHit? {
        guard let found = motif.hits.first, let last = chain.last else { return nil }
        let earlier = chain.flatMap(\.hits).filter { $0.rule.hasPrefix(networkRulePrefix) }
        let namedCustomers = Set(earlier.flatMap(\.customers)), namedEvents = Set(earlier.flatMap(\.events))
        let customers = found.customers.filter { !namedCustomers.contains($0) }, events = found.events.filter { !namedEvents.contains($0) }
        guard !customers.isEmpty || !events.isEmpty else { return nil }
        var values = found.values
        values[newMembersValue] = String(customers.count)
        values[newTransfersValue] = String(events.count)
        let since = switch last.status {
        case .dismissed: "since alert \(last.id) was dismissed"
        case .closed: "since alert \(last.id) was closed with its case"
        case .open, .inCase: "since it was alerted"
        }
        return RuleHit(rule: found.rule, score: 0, subject: found.subject,
                       explanation: "the motif grew \(since): \(customers.count) more accounts, \(events.count) more transfers (\(found.explanation))",
                       values: values, events: events, customers: [found.subject] + customers.filter { $0 != found.subject })
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
