public import KinkoCore
import Yams

public enum Outcome: String, Sendable, Comparable, CaseIterable, Codable {
    case clear, review, block

    public static func < (lhs: Outcome, rhs: Outcome) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The monitoring rule set: versioned YAML with rules (parameters and a score), graph
/// typologies over sliding windows, and scenarios that add the scores of their rules into an
/// outcome. A new version goes live only through a governance approval.
public struct MonitoringRules: Sendable, Equatable {
    public struct Structuring: Sendable, Equatable { public var thresholdJPY: UInt64; public var bandPercent: UInt64; public var windowHours: UInt64; public var count: Int; public var score: Int }
    public struct Velocity: Sendable, Equatable { public var windowHours: UInt64; public var count: Int; public var amountJPY: UInt64; public var score: Int }
    public struct RapidInOut: Sendable, Equatable { public var windowHours: UInt64; public var sharePercent: UInt64; public var minimumJPY: UInt64; public var score: Int }
    public struct SharedIP: Sendable, Equatable { public var windowDays: UInt64; public var distinctNames: Int; public var score: Int }
    public struct IncomeMismatch: Sendable, Equatable { public var windowDays: UInt64; public var incomePercent: UInt64; public var assetsPercent: UInt64; public var score: Int }
    public struct Fan: Sendable, Equatable {
        public var windowDays: UInt64; public var minimumCounterparties: Int; public var minimumAddresses: Int; public var settleDays: UInt64
        public var minimumHistoryDays: UInt64; public var score: Int
    }
    public struct Cycle: Sendable, Equatable { public var windowDays: UInt64; public var minimumLength: Int; public var maximumLength: Int; public var score: Int }
    public struct ScatterGather: Sendable, Equatable { public var windowDays: UInt64; public var minimumIntermediaries: Int; public var score: Int }
    public struct GatherScatter: Sendable, Equatable { public var windowDays: UInt64; public var minimumSources: Int; public var minimumBeneficiaries: Int; public var score: Int }
    public struct Scenario: Sendable, Equatable { public var name: String; public var rules: [String]; public var review: Int; public var block: Int }

    public var version: String
    public var structuring: Structuring
    public var velocity: Velocity
    public var rapidInOut: RapidInOut
    public var sharedIP: SharedIP
    public var loginAbroadScore: Int
    public var sanctionedAddressScore: Int
    public var stolenAddressScore: Int
    public var incomeMismatch: IncomeMismatch
    public var travelRuleScore: Int
    public var highRiskJurisdictions: Set<String>
    public var highRiskJurisdictionScore: Int
    public var privacyCoins: Set<String>
    public var privacyCoinScore: Int
    public var unhostedRiskScore: Int
    public var fanIn: Fan
    public var fanOut: Fan
    public var cycle: Cycle
    public var scatterGather: ScatterGather
    public var gatherScatter: GatherScatter
    public var scenarios: [Scenario]
    /// The adaptive network detectors (`NetworkScan`); nil in a rule set without them.
    public var network: NetworkSettings?
    public var yaml: String

    public static let ruleNames = ["structuring", "velocity", "rapid_in_out", "shared_ip", "login_abroad", "sanctioned_address", "stolen_address",
                                   "income_mismatch", "travel_rule", "unhosted_risk", "high_risk_jurisdiction", "privacy_coin", "fan_in", "fan_out", "cycle", "scatter_gather", "gather_scatter"]
    public static let typologies = ["fan_in", "fan_out", "cycle", "scatter_gather", "gather_scatter"]
    /// The longest window any rule may look back: the bound on per-customer history.
    public static let windowDaysMax: UInt64 = 400
    /// The largest count a rule may ask for: the events (and counterparties, and customers per
    /// IP address) kept per customer.
    public static let countMax = 256
    public static let cycleLengthMax = 12
    /// The longest window in the set, in nanoseconds: how far back per-customer state reaches.
    public var horizonNanoseconds: Int64 {
        let days = [sharedIP.windowDays, incomeMismatch.windowDays, fanIn.windowDays, fanOut.windowDays, cycle.windowDays, scatterGather.windowDays,
                    gatherScatter.windowDays, (structuring.windowHours + 23) / 24, (velocity.windowHours + 23) / 24, (rapidInOut.windowHours + 23) / 24].max() ?? 1
        return Int64(days) * 86_400_000_000_000
    }

    private struct Document: Decodable {
        struct Rules: Decodable {
            struct Structuring: Decodable { var threshold_jpy: UInt64; var band_percent: UInt64; var window_hours: UInt64; var count: Int; var score: Int }
            struct Velocity: Decodable { var window_hours: UInt64; var count: Int; var amount_jpy: UInt64; var score: Int }
            struct RapidInOut: Decodable { var window_hours: UInt64; var share_percent: UInt64; var minimum_jpy: UInt64; var score: Int }
            struct SharedIP: Decodable { var window_days: UInt64; var distinct_names: Int; var score: Int }
            struct Score: Decodable { var score: Int }
            struct Countries: Decodable { var countries: [String]; var score: Int }
            struct Assets: Decodable { var assets: [String]; var score: Int }
            struct Income: Decodable { var window_days: UInt64; var income_percent: UInt64; var assets_percent: UInt64; var score: Int }
            var structuring: Structuring
            var velocity: Velocity
            var rapid_in_out: RapidInOut
            var shared_ip: SharedIP
            var login_abroad: Score
            var sanctioned_address: Score
            var stolen_address: Score
            var income_mismatch: Income
            var travel_rule: Score
            var high_risk_jurisdiction: Countries
            var privacy_coin: Assets
            var unhosted_risk: Score
        }
        struct Typologies: Decodable {
            struct Fan: Decodable {
                var window_days: UInt64; var minimum_counterparties: Int; var minimum_addresses: Int; var settle_days: UInt64; var minimum_history_days: UInt64
                var score: Int
            }
            struct Cycle: Decodable { var window_days: UInt64; var minimum_length: Int; var maximum_length: Int; var score: Int }
            struct SG: Decodable { var window_days: UInt64; var minimum_intermediaries: Int; var score: Int }
            struct GS: Decodable { var window_days: UInt64; var minimum_sources: Int; var minimum_beneficiaries: Int; var score: Int }
            var fan_in: Fan
            var fan_out: Fan
            var cycle: Cycle
            var scatter_gather: SG
            var gather_scatter: GS
        }
        struct Scenario: Decodable { var name: String; var rules: [String]; var review: Int; var block: Int }
        struct Network: Decodable {
            struct Model: Decodable {
                var version: String; var seed: UInt64; var trained_on: String; var threshold: Double; var bias: Double; var weights: [String: Double]
            }
            var settle_multiplier: Double; var rotation_multiplier: Double?; var window_multiplier: Double; var alert_budget: Double; var structure_score: Double; var model: Model
        }
        var version: String
        var rules: Rules
        var typologies: Typologies
        var scenarios: [Scenario]
        var network: Network?
    }

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= 64 * 1024 else { throw KinkoError(.limitExceeded, "a rule set is at most 64 KiB", field: "rules") }
        let d: Document
        do {
            d = try YAMLDecoder().decode(Document.self, from: yaml)
        } catch let DecodingError.keyNotFound(key, context) {
            throw KinkoError(.invalidInput, "is required", field: (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))
        } catch let DecodingError.typeMismatch(_, context) {
            throw KinkoError(.invalidInput, "has the wrong type", field: context.codingPath.map(\.stringValue).joined(separator: "."))
        } catch {
            throw KinkoError(.invalidInput, "not a monitoring rule set: \(error)", field: "rules")
        }
        guard (1...32).contains(d.version.utf8.count) else { throw KinkoError(.invalidInput, "a version is 1–32 characters", field: "version") }
        let r = d.rules, t = d.typologies
        for (field, days) in [("rules.shared_ip.window_days", r.shared_ip.window_days), ("rules.income_mismatch.window_days", r.income_mismatch.window_days),
                              ("typologies.fan_in.window_days", t.fan_in.window_days), ("typologies.fan_out.window_days", t.fan_out.window_days),
                              ("typologies.cycle.window_days", t.cycle.window_days), ("typologies.scatter_gather.window_days", t.scatter_gather.window_days),
                              ("typologies.gather_scatter.window_days", t.gather_scatter.window_days),
                              ("rules.structuring.window_hours", (r.structuring.window_hours + 23) / 24), ("rules.velocity.window_hours", (r.velocity.window_hours + 23) / 24),
                              ("rules.rapid_in_out.window_hours", (r.rapid_in_out.window_hours + 23) / 24)]
        where !(1...Self.windowDaysMax).contains(days) {
            throw KinkoError(.invalidInput, "a window must be 1 hour to \(Self.windowDaysMax) days", field: field)
        }
        guard t.cycle.minimum_length >= 3, t.cycle.maximum_length <= Self.cycleLengthMax, t.cycle.minimum_length <= t.cycle.maximum_length else {
            throw KinkoError(.invalidInput, "cycles are 3–\(Self.cycleLengthMax) hops and the minimum is at most the maximum", field: "typologies.cycle.maximum_length")
        }
        for (field, count) in [("rules.structuring.count", r.structuring.count), ("rules.velocity.count", r.velocity.count),
                               ("typologies.fan_in.minimum_counterparties", t.fan_in.minimum_counterparties),
                               ("typologies.fan_out.minimum_counterparties", t.fan_out.minimum_counterparties),
                               ("typologies.fan_in.minimum_addresses", t.fan_in.minimum_addresses),
                               ("typologies.fan_out.minimum_addresses", t.fan_out.minimum_addresses),
                               ("typologies.scatter_gather.minimum_intermediaries", t.scatter_gather.minimum_intermediaries),
                               ("typologies.gather_scatter.minimum_sources", t.gather_scatter.minimum_sources),
                               ("typologies.gather_scatter.minimum_beneficiaries", t.gather_scatter.minimum_beneficiaries),
                               ("rules.shared_ip.distinct_names", r.shared_ip.distinct_names)]
        where !(2...Self.countMax).contains(count) {
            throw KinkoError(.invalidInput, "must be 2–\(Self.countMax) (per-customer history keeps at most \(Self.countMax) events)", field: field)
        }
        for (field, days) in [("typologies.fan_in.settle_days", t.fan_in.settle_days), ("typologies.fan_out.settle_days", t.fan_out.settle_days),
                              ("typologies.fan_in.minimum_history_days", t.fan_in.minimum_history_days),
                              ("typologies.fan_out.minimum_history_days", t.fan_out.minimum_history_days)]
        where days > Self.windowDaysMax {
            throw KinkoError(.invalidInput, "must be at most \(Self.windowDaysMax) days", field: field)
        }
        guard r.structuring.band_percent <= 100, r.rapid_in_out.share_percent <= 100 else {
            throw KinkoError(.invalidInput, "a percentage is at most 100", field: "rules.structuring.band_percent")
        }
        for (index, scenario) in d.scenarios.enumerated() {
            if let unknown = scenario.rules.first(where: { !Self.ruleNames.contains($0) }) {
                throw KinkoError(.invalidInput, "unknown rule \(unknown)", field: "scenarios[\(index)].rules")
            }
            guard scenario.review <= scenario.block else { throw KinkoError(.invalidInput, "review must not exceed block", field: "scenarios[\(index)].review") }
        }
        version = d.version
        structuring = Structuring(thresholdJPY: r.structuring.threshold_jpy, bandPercent: r.structuring.band_percent, windowHours: r.structuring.window_hours,
                                  count: r.structuring.count, score: r.structuring.score)
        velocity = Velocity(windowHours: r.velocity.window_hours, count: r.velocity.count, amountJPY: r.velocity.amount_jpy, score: r.velocity.score)
        rapidInOut = RapidInOut(windowHours: r.rapid_in_out.window_hours, sharePercent: r.rapid_in_out.share_percent, minimumJPY: r.rapid_in_out.minimum_jpy,
                                score: r.rapid_in_out.score)
        sharedIP = SharedIP(windowDays: r.shared_ip.window_days, distinctNames: r.shared_ip.distinct_names, score: r.shared_ip.score)
        loginAbroadScore = r.login_abroad.score
        sanctionedAddressScore = r.sanctioned_address.score
        stolenAddressScore = r.stolen_address.score
        incomeMismatch = IncomeMismatch(windowDays: r.income_mismatch.window_days, incomePercent: r.income_mismatch.income_percent,
                                        assetsPercent: r.income_mismatch.assets_percent, score: r.income_mismatch.score)
        travelRuleScore = r.travel_rule.score
        highRiskJurisdictions = Set(r.high_risk_jurisdiction.countries.map { $0.uppercased() })
        highRiskJurisdictionScore = r.high_risk_jurisdiction.score
        privacyCoins = Set(r.privacy_coin.assets.map { $0.uppercased() })
        privacyCoinScore = r.privacy_coin.score
        unhostedRiskScore = r.unhosted_risk.score
        fanIn = Fan(windowDays: t.fan_in.window_days, minimumCounterparties: t.fan_in.minimum_counterparties, minimumAddresses: t.fan_in.minimum_addresses,
                    settleDays: t.fan_in.settle_days,
                    minimumHistoryDays: t.fan_in.minimum_history_days, score: t.fan_in.score)
        fanOut = Fan(windowDays: t.fan_out.window_days, minimumCounterparties: t.fan_out.minimum_counterparties, minimumAddresses: t.fan_out.minimum_addresses,
                     settleDays: t.fan_out.settle_days,
                     minimumHistoryDays: t.fan_out.minimum_history_days, score: t.fan_out.score)
        cycle = Cycle(windowDays: t.cycle.window_days, minimumLength: t.cycle.minimum_length, maximumLength: t.cycle.maximum_length, score: t.cycle.score)
        scatterGather = ScatterGather(windowDays: t.scatter_gather.window_days, minimumIntermediaries: t.scatter_gather.minimum_intermediaries, score: t.scatter_gather.score)
        gatherScatter = GatherScatter(windowDays: t.gather_scatter.window_days, minimumSources: t.gather_scatter.minimum_sources,
                                      minimumBeneficiaries: t.gather_scatter.minimum_beneficiaries, score: t.gather_scatter.score)
        scenarios = d.scenarios.map { Scenario(name: $0.name, rules: $0.rules, review: $0.review, block: $0.block) }
        if let n = d.network {
            if let unknown = n.model.weights.keys.sorted().first(where: { !NetworkFeatures.names.contains($0) }) {
                throw KinkoError(.invalidInput, "unknown feature \(unknown); the features are \(NetworkFeatures.names.joined(separator: ", "))",
                                 field: "network.model.weights")
            }
            if let missing = NetworkFeatures.names.first(where: { n.model.weights[$0] == nil }) {
                throw KinkoError(.invalidInput, "is required", field: "network.model.weights.\(missing)")
            }
            let model = try NetworkModel(version: n.model.version, seed: n.model.seed, trainedOn: n.model.trained_on, threshold: n.model.threshold,
                                         bias: n.model.bias, weights: NetworkFeatures.names.map { n.model.weights[$0] ?? 0 })
            network = try NetworkSettings(settleMultiplier: n.settle_multiplier,
                                          rotationMultiplier: n.rotation_multiplier ?? NetworkSettings.rotationMultiplierDefault, windowMultiplier: n.window_multiplier, alertBudget: n.alert_budget,
                                          structureScore: n.structure_score, model: model)
        } else {
            network = nil
        }
        self.yaml = yaml
    }

    /// Kinko's default rule set: the FSA's red flags for exchanges (2019) and the five graph
    /// typologies. Thresholds are starting points for a Japanese exchange, not fitted to data.
    public static let defaultYAML = """
        version: "2026.3-default"
        rules:
          # Three or more deposits, withdrawals or transfers within 24 h, each within 10% below the
          # ¥2,000,000 threshold that triggers KYC on spot exchanges.
          structuring: {threshold_jpy: 2000000, band_percent: 10, window_hours: 24, count: 3, score: 40}
          # 50 or more money events, or ¥50m or more moved, within 24 h.
          velocity: {window_hours: 24, count: 50, amount_jpy: 50000000, score: 30}
          # Withdrawals taking out 80% or more of what came in within 48 h (inflows of at least ¥1m).
          rapid_in_out: {window_hours: 48, share_percent: 80, minimum_jpy: 1000000, score: 40}
          # One IP address used by customers with two or more different names within 30 days.
          shared_ip: {window_days: 30, distinct_names: 2, score: 30}
          # A customer living in Japan logging in from abroad.
          login_abroad: {score: 20}
          sanctioned_address: {score: 100}
          stolen_address: {score: 100}
          # Inflows within 30 days at or above the declared annual income and the declared assets.
          income_mismatch: {window_days: 30, income_percent: 100, assets_percent: 100, score: 30}
          # A withdrawal to a VASP in a travel-rule jurisdiction without complete IVMS101 data.
          travel_rule: {score: 100}
          # A withdrawal to or deposit from a VASP in a FATF "call for action" country.
          high_risk_jurisdiction: {countries: [KP, IR, MM], score: 60}
          # Deposits or withdrawals of anonymity-enhancing coins.
          privacy_coin: {assets: [XMR, ZEC, DASH], score: 30}
          # A withdrawal to an unhosted wallet without a counterparty risk assessment, or rated high.
          unhosted_risk: {score: 40}
        typologies:
          # Counted over counterparties met only once in the window: repeating, periodic relationships
          # (salaries, rent, a regular exchange) do not count.
          # A counterparty counts once the relationship is settle_days old without a second
          # transfer (or when it is the transfer being judged), and only for a customer Kinko has
          # watched for minimum_history_days (before that every relationship looks new).
          # External addresses count apart from customers, with a higher bar: crypto users
          # routinely deposit from and withdraw to a few addresses of their own.
          fan_in: {window_days: 365, minimum_counterparties: 4, minimum_addresses: 12, settle_days: 28, minimum_history_days: 90, score: 60}
          fan_out: {window_days: 365, minimum_counterparties: 4, minimum_addresses: 12, settle_days: 28, minimum_history_days: 90, score: 60}
          cycle: {window_days: 30, minimum_length: 3, maximum_length: 8, score: 60}
          # scatter-gather, gather-scatter and cycles run over transfers between customers.
          scatter_gather: {window_days: 30, minimum_intermediaries: 3, score: 60}
          gather_scatter: {window_days: 30, minimum_sources: 3, minimum_beneficiaries: 3, score: 60}
        scenarios:
          - {name: sanctions_and_travel_rule, rules: [sanctioned_address, stolen_address, travel_rule], review: 100, block: 100}
          - {name: behaviour, rules: [structuring, velocity, rapid_in_out, shared_ip, login_abroad, income_mismatch, unhosted_risk, high_risk_jurisdiction, privacy_coin],
             review: 30, block: 150}
          - {name: typologies, rules: [fan_in, fan_out, cycle, scatter_gather, gather_scatter], review: 60, block: 300}

        """ + defaultNetworkYAML

    /// The default rule set's `network:` section; `kinko monitor train` prints a rule set with
    /// this section replaced by the model it trained.
    public static let defaultNetworkYAML = """
        network:
        \(NetworkSettings.yamlComment)
          settle_multiplier: 4.0
          rotation_multiplier: 2.0
          window_multiplier: 20.0
          alert_budget: 2.0
          structure_score: 10.0
          model:
            version: "amlsim-dev-seed-1-rotation"
            seed: 1
            trained_on: "amlsim-dev, cold start; shrinkage 0.1; 8 ordinary fans per laundering fan; all features"
            threshold: 3.011863
            bias: 0.125539
            weights:
              log_counterparties: 0.205843
              log_other_direction: 0.019083
              log_span_in_own_gaps: 0.206229
              log_age_in_own_gaps: 0.443729
              log_novelty_burst: 0.298091
              cadence_variation: 0.104387
              new_counterparty_share: 0.022243
              linked_counterparty_share: 0.038474
              repeating_share: 0.019989
              inbound: 0.023383
              log_relationships: 0.287398
              one_off_share_of_activity: 0.072863
              log_activity_burst: 0.106758

        """
}
