public import KinkoCore
public import KinkoGovernance

/// One rule that fired: its score, the values that made it fire, the events and the customers
/// involved. `subject` is the customer the pattern centres on (the hub of a fan-in, say).
public struct RuleHit: Sendable, Equatable, Codable {
    public var rule: String
    public var score: Int
    public var subject: UInt64
    public var explanation: String
    public var values: [String: String]
    public var events: [String]
    public var customers: [UInt64]

    public init(rule: String, score: Int, subject: UInt64, explanation: String, values: [String: String], events: [String], customers: [UInt64]) {
        self.rule = rule
        self.score = score
        self.subject = subject
        self.explanation = explanation
        self.values = values
        self.events = events
        self.customers = customers
    }
}

public struct ScenarioScore: Sendable, Equatable, Codable {
    public var name: String
    public var score: Int
    public var outcome: Outcome

    public init(name: String, score: Int, outcome: Outcome) {
        self.name = name
        self.score = score
        self.outcome = outcome
    }
}

/// The verdict on one event: the outcome, what fired, and the rule-set version that judged it.
public struct Evaluation: Sendable, Equatable {
    public var event: String
    public var customer: UInt64
    /// The receiving customer of a transfer between two customers (what the network scan reads
    /// back from storage); nil for every other event.
    public var counterparty: UInt64? = nil
    public var time: TimestampNanoseconds
    public var outcome: Outcome
    public var hits: [RuleHit]
    public var scenarios: [ScenarioScore]
    public var ruleSetVersion: String

    public init(event: String, customer: UInt64, counterparty: UInt64? = nil, time: TimestampNanoseconds, outcome: Outcome, hits: [RuleHit],
                scenarios: [ScenarioScore], ruleSetVersion: String) {
        self.event = event
        self.customer = customer
        self.counterparty = counterparty
        self.time = time
        self.outcome = outcome
        self.hits = hits
        self.scenarios = scenarios
        self.ruleSetVersion = ruleSetVersion
    }

    /// Every account the hits name, the event's customer first.
    public var customers: [UInt64] {
        var seen: Set<UInt64> = [customer]
        var result = [customer]
        for id in hits.flatMap(\.customers) where seen.insert(id).inserted { result.append(id) }
        return result
    }

    public var events: [String] {
        var seen: Set<String> = [event]
        var result = [event]
        for id in hits.flatMap(\.events) where seen.insert(id).inserted { result.append(id) }
        return result
    }
}

/// Where an engine finds state it does not hold yet: saved customer and IP state, profiles.
/// These reads are synchronous (the engine asks in the middle of a graph search); a source
/// whose reads wait on the network names the executor to evaluate on, so that the wait
/// blocks a thread of its own instead of one of Swift's few cooperative threads.
public protocol MonitoringStateSource: Sendable {
    func customerState(_ customer: UInt64) throws -> [UInt8]?
    func ipState(_ ip: String) throws -> [UInt8]?
    func profile(_ customer: UInt64) throws -> CustomerProfile?
    /// Where batches are evaluated; nil for the default (reads that do not wait for long).
    var blockingReadsExecutor: (any TaskExecutor)? { get }
}

extension MonitoringStateSource {
    public var blockingReadsExecutor: (any TaskExecutor)? { nil }
}

/// Evaluates events one at a time against a rule set, keeping bounded per-customer state. Not
/// thread-safe: one engine serves one stream (the SQLite service runs it inside an actor).
public final class MonitoringEngine {
    public let rules: MonitoringRules
    public var watchlists: Watchlists
    public var jurisdictions: TravelRuleJurisdictions
    /// The law-dated regulatory settings: the travel rule's threshold at each event's time.
    public let regulatory: RegulatorySettings
    private let source: (any MonitoringStateSource)?
    var states: [UInt64: CustomerState] = [:]
    private var ips: [String: IPState] = [:]
    private var profiles: [UInt64: CustomerProfile?] = [:]
    /// Customers and IPs a prefetch found nothing stored for: no synchronous read asks again.
    private var absentCustomers: Set<UInt64> = []
    private var absentIPs: Set<String> = []
    var dirtyCustomers: Set<UInt64> = []
    private var dirtyIPs: Set<String> = []

    /// The most nodes one cycle search visits.
    public static let cycleSearchNodesMax = 10_000
    static let addressBit: UInt64 = 1 << 63
    static let nanosecondsPerHour: UInt64 = 3_600_000_000_000
    static let nanosecondsPerDay: UInt64 = 86_400_000_000_000

    let recentHorizon: UInt64
    let edgeHorizon: UInt64

    public init(rules: MonitoringRules, watchlists: Watchlists = Watchlists(), jurisdictions: TravelRuleJurisdictions = .designatedByFSA,
                regulatory: RegulatorySettings = .standard, profiles: [CustomerProfile] = [], source: (any MonitoringStateSource)? = nil) {
        self.rules = rules
        self.watchlists = watchlists
        self.jurisdictions = jurisdictions
        self.regulatory = regulatory
        self.source = source
        for profile in profiles { self.profiles[profile.customer] = profile }
        recentHorizon = max(rules.structuring.windowHours, rules.velocity.windowHours, rules.rapidInOut.windowHours) * Self.nanosecondsPerHour
        edgeHorizon = max(rules.fanIn.windowDays, rules.fanOut.windowDays, rules.cycle.windowDays, rules.scatterGather.windowDays,
                          rules.gatherScatter.windowDays) * Self.nanosecondsPerDay
    }

    /// Takes in what a batch will read, fetched ahead asynchronously (as the ledger prefetches
    /// accounts): the stored state of `customers` and `ips` not already in memory, and the
    /// profiles of `profiled` (the profile cache is replaced: profiles change by import, not by
    /// events, so they are read afresh for every batch). What was looked up and not found is
    /// remembered as absent. Only graph searches reaching beyond the batch still read on demand.
    public func preload(customers: [UInt64], states stored: [UInt64: [UInt8]], ips: [String], ipStates: [String: [UInt8]],
                        profiled: [UInt64], profiles found: [CustomerProfile]) throws {
        for customer in customers where states[customer] == nil {
            if let bytes = stored[customer] { states[customer] = try CustomerState(decoding: bytes) } else { absentCustomers.insert(customer) }
        }
        for ip in ips where self.ips[ip] == nil {
            if let bytes = ipStates[ip] { self.ips[ip] = try IPState(decoding: bytes) } else { absentIPs.insert(ip) }
        }
        profiles.removeAll(keepingCapacity: true)
        for customer in profiled { profiles[customer] = .some(nil) }
        for profile in found { profiles[profile.customer] = profile }
    }

    public func setProfile(_ profile: CustomerProfile) {
        profiles[profile.customer] = profile
    }

    public var customersInMemory: Int { states.count }

    public func state(of customer: UInt64) -> CustomerState? { states[customer] }

    /// Total approximate bytes of per-customer state held in memory.
    public var approximateStateBytes: Int { states.values.reduce(0) { $0 + $1.approximateBytes } }

    /// Customer and IP state changed since the last call, encoded for saving.
    public func takeChanges() -> (customers: [(UInt64, [UInt8])], ips: [(String, [UInt8])]) {
        defer {
            dirtyCustomers.removeAll()
            dirtyIPs.removeAll()
        }
        return (dirtyCustomers.sorted().compactMap { id in states[id].map { (id, $0.encoded()) } },
                dirtyIPs.sorted().compactMap { ip in ips[ip].map { (ip, $0.encoded()) } })
    }

    public static func addressKey(_ address: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in address.lowercased().utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash | addressBit
    }

    // MARK: State

    /// Takes a customer's state out of the table (so changing it copies nothing); put it back after.
    func take(_ customer: UInt64, at time: TimestampNanoseconds) throws -> CustomerState {
        if let state = states.removeValue(forKey: customer) { return state }
        if !absentCustomers.contains(customer), let bytes = try source?.customerState(customer) { return try CustomerState(decoding: bytes) }
        return CustomerState(firstSeen: time)
    }

    /// A customer's state for reading (graph searches); nil when Kinko has never seen them. A
    /// read that fails, or state that does not decode, is an error: a verdict must never rest
    /// on state the engine could not see.
    func peek(_ customer: UInt64) throws -> CustomerState? {
        if let state = states[customer] { return state }
        guard customer & Self.addressBit == 0, !absentCustomers.contains(customer), let bytes = try source?.customerState(customer) else { return nil }
        let state = try CustomerState(decoding: bytes)
        states[customer] = state
        return state
    }

    private func profile(_ customer: UInt64) throws -> CustomerProfile? {
        if let cached = profiles[customer] { return cached }
        let loaded = try source?.profile(customer)
        profiles[customer] = .some(loaded)
        return loaded
    }

    // MARK: Evaluation

    /// Judges one event and remembers it.
    public func evaluate(_ event: MonitoringEvent) throws -> Evaluation {
        var hits: [RuleHit] = []
        let now = event.time
        var state = try take(event.customer, at: now)
        state.firstSeen = min(state.firstSeen, now)
        state.lastSeen = max(state.lastSeen, now)
        state.prune(now: now, recentHorizon: recentHorizon, dailyHorizonDays: UInt32(rules.incomeMismatch.windowDays), edgeHorizon: edgeHorizon)

        switch event.kind {
        case .login:
            try evaluateLogin(event, into: &hits)
        case .deposit, .withdrawal, .internalTransfer, .trade:
            let flow: RecentEvent.Flow = event.kind == .deposit ? .inflow : event.kind == .trade ? .trade : .outflow
            state.recent.append(RecentEvent(time: now, flow: flow, amountJPY: event.amountJPY, id: event.id))
            if flow == .inflow { Self.addInflow(&state, event.amountJPY, at: now) }
            structuring(event, state, into: &hits)
            velocity(event, state, into: &hits)
            if flow == .outflow { rapidInOut(event, state, into: &hits) }
            if flow == .inflow { try incomeMismatch(event, state, into: &hits) }
            addressChecks(event, into: &hits)
            if event.kind == .withdrawal {
                travelRule(event, into: &hits)
            } else if event.kind == .deposit, event.vasp != nil || event.vaspCountry != nil {
                // From another exchange: the sender must have passed on the originator's and the
                // beneficiary's data; until it has, the credit is held.
                checkTravelRuleData(event, into: &hits)
            }
        }
        states[event.customer] = state
        dirtyCustomers.insert(event.customer)
        try relationships(event, into: &hits)
        return verdict(event, hits)
    }

    private func verdict(_ event: MonitoringEvent, _ hits: [RuleHit]) -> Evaluation {
        var best: [String: Int] = [:]
        for hit in hits { best[hit.rule] = max(best[hit.rule] ?? 0, hit.score) }
        var outcome = Outcome.clear
        var scenarios: [ScenarioScore] = []
        for scenario in rules.scenarios {
            let score = scenario.rules.reduce(0) { $0 + (best[$1] ?? 0) }
            guard score > 0 else { continue }
            let result: Outcome = score >= scenario.block ? .block : score >= scenario.review ? .review : .clear
            scenarios.append(ScenarioScore(name: scenario.name, score: score, outcome: result))
            outcome = max(outcome, result)
        }
        var evaluation = Evaluation(event: event.id, customer: event.customer, time: event.time, outcome: outcome, hits: hits, scenarios: scenarios,
                                    ruleSetVersion: rules.version)
        if event.kind == .internalTransfer, let receiver = event.counterpartyCustomer, receiver != event.customer { evaluation.counterparty = receiver }
        return evaluation
    }

    static func addInflow(_ state: inout CustomerState, _ jpy: UInt64, at time: TimestampNanoseconds) {
        let day = UInt32(time / nanosecondsPerDay)
        if let index = state.dailyInflow.lastIndex(where: { $0.day == day }) {
            state.dailyInflow[index].jpy = Self.sum(state.dailyInflow[index].jpy, jpy)
        } else {
            state.dailyInflow.append((day, jpy))
            state.dailyInflow.sort { $0.day < $1.day }
        }
    }

    /// A yen sum that stops at `UInt64.max` instead of wrapping: a total that large is over
    /// every threshold, which is what the rules ask.
    static func sum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : total
    }

    static func jpy(_ value: UInt64) -> String {
        var digits = Array(String(value))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return "¥" + String(digits)
    }

    static func cut(_ now: TimestampNanoseconds, _ span: UInt64) -> TimestampNanoseconds { now >= span ? now - span : 0 }

    // MARK: Behaviour rules

    private func structuring(_ event: MonitoringEvent, _ state: CustomerState, into hits: inout [RuleHit]) {
        let rule = rules.structuring
        let floor = rule.thresholdJPY - rule.thresholdJPY * rule.bandPercent / 100
        func inBand(_ jpy: UInt64) -> Bool { jpy >= floor && jpy < rule.thresholdJPY }
        // Trades count with deposits and withdrawals: the ¥2,000,000 spot-purchase threshold is
        // dodged by splitting purchases as much as by splitting transfers (the FSA's red flag).
        guard inBand(event.amountJPY) else { return }
        let since = Self.cut(event.time, rule.windowHours * Self.nanosecondsPerHour)
        func isSplit(_ recent: RecentEvent) -> Bool { recent.time >= since && inBand(recent.amountJPY) }
        var count = 0
        for recent in state.recent where isSplit(recent) { count += 1 }
        guard count == rule.count else { return }
        hits.append(RuleHit(rule: "structuring", score: rule.score, subject: event.customer,
                            explanation: "\(count) transfers within \(rule.windowHours) h each just below the \(Self.jpy(rule.thresholdJPY)) threshold",
                            values: ["count": String(count), "threshold_jpy": String(rule.thresholdJPY), "band_floor_jpy": String(floor),
                                     "window_hours": String(rule.windowHours)],
                            events: state.recent.filter(isSplit).map(\.id), customers: [event.customer]))
    }

    private func velocity(_ event: MonitoringEvent, _ state: CustomerState, into hits: inout [RuleHit]) {
        let rule = rules.velocity
        let since = Self.cut(event.time, rule.windowHours * Self.nanosecondsPerHour)
        var count = 0
        var total: UInt64 = 0
        for recent in state.recent where recent.time >= since {
            count += 1
            total = Self.sum(total, recent.amountJPY)
        }
        let before = total - min(total, event.amountJPY)
        let countCrossed = count == rule.count
        let amountCrossed = total >= rule.amountJPY && before < rule.amountJPY
        guard countCrossed || amountCrossed else { return }
        hits.append(RuleHit(rule: "velocity", score: rule.score, subject: event.customer,
                            explanation: countCrossed ? "\(count) money events within \(rule.windowHours) h"
                                : "\(Self.jpy(total)) moved within \(rule.windowHours) h",
                            values: ["count": String(count), "count_limit": String(rule.count), "amount_jpy": String(total),
                                     "amount_limit_jpy": String(rule.amountJPY), "window_hours": String(rule.windowHours)],
                            events: state.recent.filter { $0.time >= since }.suffix(32).map(\.id), customers: [event.customer]))
    }

    private func rapidInOut(_ event: MonitoringEvent, _ state: CustomerState, into hits: inout [RuleHit]) {
        let rule = rules.rapidInOut
        let since = Self.cut(event.time, rule.windowHours * Self.nanosecondsPerHour)
        var totalIn: UInt64 = 0
        var totalOut: UInt64 = 0
        for recent in state.recent where recent.time >= since {
            switch recent.flow {
            case .inflow: totalIn = Self.sum(totalIn, recent.amountJPY)
            case .outflow: totalOut = Self.sum(totalOut, recent.amountJPY)
            case .trade: break
            }
        }
        guard totalIn >= rule.minimumJPY else { return }
        let before = totalOut - min(totalOut, event.amountJPY)
        let reached = { (out: UInt64) in out.multipliedFullWidth(by: 100) >= totalIn.multipliedFullWidth(by: rule.sharePercent) }
        guard reached(totalOut), !reached(before) else { return }
        hits.append(RuleHit(rule: "rapid_in_out", score: rule.score, subject: event.customer,
                            explanation: "\(Self.jpy(totalOut)) out of \(Self.jpy(totalIn)) received left within \(rule.windowHours) h",
                            values: ["inflow_jpy": String(totalIn), "outflow_jpy": String(totalOut), "share_percent": String(rule.sharePercent),
                                     "window_hours": String(rule.windowHours)],
                            events: state.recent.filter { $0.time >= since && $0.flow == .inflow }.map(\.id)
                                + state.recent.filter { $0.time >= since && $0.flow == .outflow }.map(\.id),
                            customers: [event.customer]))
    }

    private func incomeMismatch(_ event: MonitoringEvent, _ state: CustomerState, into hits: inout [RuleHit]) throws {
        let rule = rules.incomeMismatch
        guard let profile = try profile(event.customer) else { return }
        let today = UInt32(event.time / Self.nanosecondsPerDay)
        let total = state.dailyInflow.filter { $0.day + UInt32(rule.windowDays) > today }.reduce(UInt64(0)) { $0 &+ $1.jpy }
        let before = total - min(total, event.amountJPY)
        let incomeLimit = profile.declaredIncomeJPY.multipliedReportingOverflow(by: rule.incomePercent).partialValue / 100
        let assetsLimit = profile.declaredAssetsJPY.multipliedReportingOverflow(by: rule.assetsPercent).partialValue / 100
        let limit = max(incomeLimit, assetsLimit)
        guard total >= limit, before < limit else { return }
        hits.append(RuleHit(rule: "income_mismatch", score: rule.score, subject: event.customer,
                            explanation: "\(Self.jpy(total)) received within \(rule.windowDays) days against a declared income of \(Self.jpy(profile.declaredIncomeJPY)) and assets of \(Self.jpy(profile.declaredAssetsJPY))",
                            values: ["inflow_jpy": String(total), "declared_income_jpy": String(profile.declaredIncomeJPY),
                                     "declared_assets_jpy": String(profile.declaredAssetsJPY), "window_days": String(rule.windowDays)],
                            events: [event.id], customers: [event.customer]))
    }

    private func evaluateLogin(_ event: MonitoringEvent, into hits: inout [RuleHit]) throws {
        let profile = try profile(event.customer)
        if let profile, profile.country == "JP", let country = event.country?.uppercased(), country != "JP" {
            hits.append(RuleHit(rule: "login_abroad", score: rules.loginAbroadScore, subject: event.customer,
                                explanation: "a customer living in Japan logged in from \(country)",
                                values: ["home_country": profile.country, "login_country": country, "ip": event.ip ?? ""],
                                events: [event.id], customers: [event.customer]))
        }
        guard let ip = event.ip else { return }
        let rule = rules.sharedIP
        var state = try ips[ip] ?? (absentIPs.contains(ip) ? nil : source?.ipState(ip).map { try IPState(decoding: $0) }) ?? IPState()
        let before = Set(try state.logins.map { try name(of: $0.customer) })
        state.record(customer: event.customer, time: event.time, horizon: rule.windowDays * Self.nanosecondsPerDay)
        ips[ip] = state
        dirtyIPs.insert(ip)
        let names = Set(try state.logins.map { try name(of: $0.customer) })
        guard names.count >= rule.distinctNames, before.count < rule.distinctNames else { return }
        hits.append(RuleHit(rule: "shared_ip", score: rule.score, subject: event.customer,
                            explanation: "IP address \(ip) used by \(names.count) customers with different names within \(rule.windowDays) days",
                            values: ["ip": ip, "distinct_names": String(names.count), "window_days": String(rule.windowDays)],
                            events: [event.id], customers: state.logins.map(\.customer)))
    }

    /// The customer's name for `shared_ip`; a customer without a profile counts as a name of their own.
    private func name(of customer: UInt64) throws -> String {
        try profile(customer)?.name.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ") ?? "#\(customer)"
    }

    private func addressChecks(_ event: MonitoringEvent, into hits: inout [RuleHit]) {
        if let asset = event.asset?.uppercased(), rules.privacyCoins.contains(asset), event.kind == .deposit || event.kind == .withdrawal {
            hits.append(RuleHit(rule: "privacy_coin", score: rules.privacyCoinScore, subject: event.customer,
                                explanation: "\(event.kind == .deposit ? "deposit" : "withdrawal") of the anonymity-enhancing coin \(asset)",
                                values: ["asset": asset], events: [event.id], customers: [event.customer]))
        }
        if let country = event.vaspCountry, rules.highRiskJurisdictions.contains(country) {
            hits.append(RuleHit(rule: "high_risk_jurisdiction", score: rules.highRiskJurisdictionScore, subject: event.customer,
                                explanation: "counterparty VASP \(event.vasp ?? "?") is in \(country), a high-risk jurisdiction",
                                values: ["vasp": event.vasp ?? "", "vasp_country": country], events: [event.id], customers: [event.customer]))
        }
        guard let address = event.address else { return }
        for kind in AddressListKind.allCases {
            guard let list = watchlists.match(kind, asset: event.asset, address: address) else { continue }
            hits.append(RuleHit(rule: kind.rule, score: kind == .sanctioned ? rules.sanctionedAddressScore : rules.stolenAddressScore,
                                subject: event.customer,
                                explanation: "\(event.kind == .deposit ? "deposit from" : "withdrawal to") \(address), on the \(kind.rawValue) \(list.asset) list version \(list.version)",
                                values: ["address": address.lowercased(), "asset": list.asset, "list": kind.rawValue, "list_version": list.version],
                                events: [event.id], customers: [event.customer]))
        }
    }

    private func travelRule(_ event: MonitoringEvent, into hits: inout [RuleHit]) {
        if event.unhosted {
            let risk = event.counterpartyRisk
            guard risk == nil || risk == "high" else { return }
            hits.append(RuleHit(rule: "unhosted_risk", score: rules.unhostedRiskScore, subject: event.customer,
                                explanation: risk == nil ? "withdrawal to an unhosted wallet without a counterparty risk assessment"
                                    : "withdrawal to an unhosted wallet assessed as high risk",
                                values: ["address": event.address ?? "", "counterparty_risk": risk ?? "missing"], events: [event.id], customers: [event.customer]))
            return
        }
        checkTravelRuleData(event, into: &hits)
    }

    /// The travel rule's threshold at `time` (0: every transfer).
    public func travelRuleThresholdJPY(at time: TimestampNanoseconds) -> UInt64 {
        regulatory.entry(RegulatorySettings.travelRuleThreshold, at: time)?.value ?? 0
    }

    /// A transfer to or from another exchange at or above the threshold in force: the exchange
    /// and its country must be named, and, where the country applies the travel rule, the
    /// originator's and beneficiary's IVMS101 data must be complete.
    private func checkTravelRuleData(_ event: MonitoringEvent, into hits: inout [RuleHit]) {
        let threshold = travelRuleThresholdJPY(at: event.time)
        guard event.amountJPY >= threshold else { return }
        var missing: [String] = []
        if event.vasp == nil { missing.append("vasp") }
        guard let country = event.vaspCountry else {
            missing.append("vasp_country")
            return travelRuleHit(event, missing: missing, country: nil, threshold: threshold, into: &hits)
        }
        guard jurisdictions.applies(to: country, at: event.time) else { return }
        missing += TravelRule.missingFields(event.originator, role: "originator") + TravelRule.missingFields(event.beneficiary, role: "beneficiary")
        guard !missing.isEmpty else { return }
        travelRuleHit(event, missing: missing, country: country, threshold: threshold, into: &hits)
    }

    private func travelRuleHit(_ event: MonitoringEvent, missing: [String], country: String?, threshold: UInt64, into hits: inout [RuleHit]) {
        let incoming = event.kind == .deposit
        let counterparty = "\(event.vasp ?? "an unnamed VASP")\(country.map { " in \($0)" } ?? "")"
        let what = incoming ? "deposit from \(counterparty)" : "withdrawal to \(counterparty)"
        let held = incoming ? "the credit is held until it is supplied" : "release is blocked until it is supplied"
        hits.append(RuleHit(rule: "travel_rule", score: rules.travelRuleScore, subject: event.customer,
                            explanation: "\(what) lacks travel-rule data: \(missing.map(TravelRule.describe).joined(separator: "; ")); \(held)",
                            values: ["missing": missing.joined(separator: ","), "vasp": event.vasp ?? "", "vasp_country": country ?? "",
                                     "jurisdictions_version": jurisdictions.version, "direction": incoming ? "incoming" : "outgoing",
                                     "threshold_jpy": String(threshold), "regulatory_version": regulatory.version],
                            events: [event.id], customers: [event.customer]))
    }
}
