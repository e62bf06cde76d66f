public import KinkoCore
public import KinkoGovernance
import Yams

/// The surveillance rule set: every detector's parameters, versioned and adopted under approval
/// like the monitoring rules. Sizes are multiples of the market's typical order, times are
/// milliseconds, shares are fractions; every parameter has a named range and a value outside it
/// is refused, naming `section.key`.
public struct SurveillanceRules: Sendable, Equatable {
    /// How a market's typical order is measured: each recently active account's median order
    /// notional, then the median over accounts (one vote per account, so the busiest algorithms
    /// cannot move it).
    public struct Typical: Sendable, Equatable {
        public var ordersPerAccount: Int
        public var activeMilliseconds: Int64
        public var recomputeEvery: Int
        public var warmUpOrders: Int
    }

    public struct Wash: Sendable, Equatable {
        /// An IP shared by more accounts than this (an office, a carrier's NAT) ties no one.
        public var ipSharersMax: Int
        /// Trades between the same owner's accounts further apart than this start a new episode.
        public var gapMilliseconds: Int64
        public var minimumTrades: Int
        /// Median relative deviation of the trade sizes from their median.
        public var sizeDispersionMax: Double
        /// Every account's |net| ÷ gross quantity over its trades with the owner's other accounts.
        public var netShareMax: Double
        public var tradesKept: Int
    }

    public struct Spoof: Sendable, Equatable {
        public var orderMinimumTypical: Double
        public var repetitionMinimumTypical: Double
        public var minimumTicksBehind: Int64
        public var genuineAfterMinMilliseconds: Int64
        public var genuineAfterMaxMilliseconds: Int64
        public var anchorMaxMilliseconds: Int64
        public var cancelMaxMilliseconds: Int64
        public var repetitionGroupMilliseconds: Int64
        public var episodeGapMilliseconds: Int64
        public var minimumRepetitions: Int
        public var standoutMinimum: Double
        public var quotePairMilliseconds: Int64
        public var layeringMinimumLevels: Int
    }

    public struct Insider: Sendable, Equatable {
        public var directionWindowMilliseconds: Int64
        public var unwindWindowMilliseconds: Int64
        public var minimumTypical: Double
        public var minimumFills: Int
        public var unwindShare: Double
        public var restrictedMinimumTypical: Double
        public var linkedMinimumTypical: Double
        public var linkedUnwindShare: Double
        public var householdAccountsMax: Int
        public var ownHistoryOrders: Int
        public var accountsMax: Int
        public var oneSidedShare: Double
        public var priorPositionMax: Double
    }

    public struct Pump: Sendable, Equatable {
        public var gridMilliseconds: Int64
        public var burstWindowMilliseconds: Int64
        public var participantMinimumTypical: Double
        public var baselineWindowMilliseconds: Int64
        public var baselineSamplesMin: Int
        public var minimumBuyers: Int
        public var burstMultiple: Double
        public var announcementExclusionMilliseconds: Int64
        public var directionWindowMilliseconds: Int64
        public var preWindowMilliseconds: Int64
        public var dumpWindowMilliseconds: Int64
        public var coordinatorMinimumTypical: Double
        public var dumpShare: Double
        public var householdAccountsMax: Int
        public var riseMinimumMultiple: Double
        public var premiumMinimumMultiple: Double
        /// A buyer is fresh when it had placed at most this many orders in the market before.
        public var freshPriorOrdersMax: Int
        /// A pump brings in outside and new accounts; a crowd of the market's regulars is not one.
        public var freshShareMin: Double
        public var accountsMax: Int
    }

    public struct MultiAccount: Sendable, Equatable {
        public var householdAccountsMax: Int
        public var sessionMilliseconds: Int64
        public var notionalRatioMax: Double
        public var minimumSessions: Int
        public var matchedShareMin: Double
        public var minimumAccounts: Int
        public var accountsMax: Int
        public var windowMilliseconds: Int64
        public var scanEveryMilliseconds: Int64
    }

    public var version: String
    public var sweepMilliseconds: Int64
    /// How long the scans over windows keep each market's orders and trades.
    public var historyMilliseconds: Int64
    /// Account kinds the detectors leave out (the exchange's contracted market makers).
    public var excludedKinds: Set<AccountKind>
    public var typical: Typical
    public var wash: Wash
    public var spoof: Spoof
    public var insider: Insider
    public var pump: Pump
    public var multiAccount: MultiAccount
    public var yaml: String

    public static let documentBytesMax = 64 * 1024
    /// The most accounts one alert names: a case a person can work (and the scoring rule's limit).
    public static let alertAccountsMax = 100
    /// The longest window any parameter may set: 30 days.
    public static let windowMillisecondsMax: Int64 = 30 * 86_400_000

    public init(yaml: String) throws(KinkoError) {
        guard yaml.utf8.count <= Self.documentBytesMax else {
            throw KinkoError(.limitExceeded, "a surveillance rule set is at most \(Self.documentBytesMax) bytes", field: "rules")
        }
        let loaded: Any?
        do { loaded = try Yams.load(yaml: yaml) } catch { throw KinkoError(.invalidInput, "not YAML: \(error)", field: "rules") }
        guard let root = loaded as? [String: Any] else { throw KinkoError(.invalidInput, "a surveillance rule set is a YAML mapping", field: "rules") }
        let reader = Reader(root: root)
        guard let version = root["version"] as? String, (1...32).contains(version.utf8.count) else {
            throw KinkoError(.invalidInput, "is required: 1–32 characters", field: "version")
        }
        self.version = version
        self.yaml = yaml
        sweepMilliseconds = try reader.milliseconds("engine", "sweep_ms", 1_000...3_600_000)
        historyMilliseconds = try reader.milliseconds("engine", "history_ms", 3_600_000...Self.windowMillisecondsMax)
        let kinds = (reader.section("engine")["excluded_kinds"] as? [String]) ?? []
        var excluded: Set<AccountKind> = []
        for kind in kinds {
            guard let parsed = AccountKind(rawValue: kind) else { throw KinkoError(.invalidInput, "\"\(kind)\" is not an account kind", field: "engine.excluded_kinds") }
            excluded.insert(parsed)
        }
        excludedKinds = excluded
        typical = Typical(ordersPerAccount: try reader.integer("typical", "orders_per_account", 1...1_000),
                          activeMilliseconds: try reader.milliseconds("typical", "active_ms", 60_000...Self.windowMillisecondsMax),
                          recomputeEvery: try reader.integer("typical", "recompute_every", 1...100_000),
                          warmUpOrders: try reader.integer("typical", "warm_up_orders", 1...100_000))
        wash = Wash(ipSharersMax: try reader.integer("wash_trade", "ip_sharers_max", 2...100_000),
                    gapMilliseconds: try reader.milliseconds("wash_trade", "gap_ms", 1_000...Self.windowMillisecondsMax),
                    minimumTrades: try reader.integer("wash_trade", "minimum_trades", 2...10_000),
                    sizeDispersionMax: try reader.fraction("wash_trade", "size_dispersion_max", 0...10),
                    netShareMax: try reader.fraction("wash_trade", "net_share_max", 0...1),
                    tradesKept: try reader.integer("wash_trade", "trades_kept", 10...100_000))
        spoof = Spoof(orderMinimumTypical: try reader.fraction("spoofing", "order_minimum_typical", 0.01...1_000),
                      repetitionMinimumTypical: try reader.fraction("spoofing", "repetition_minimum_typical", 0.01...1_000),
                      minimumTicksBehind: Int64(try reader.integer("spoofing", "minimum_ticks_behind", 0...1_000_000)),
                      genuineAfterMinMilliseconds: try reader.milliseconds("spoofing", "genuine_after_min_ms", 0...3_600_000),
                      genuineAfterMaxMilliseconds: try reader.milliseconds("spoofing", "genuine_after_max_ms", 1...3_600_000),
                      anchorMaxMilliseconds: try reader.milliseconds("spoofing", "anchor_max_ms", 1...3_600_000),
                      cancelMaxMilliseconds: try reader.milliseconds("spoofing", "cancel_max_ms", 1...3_600_000),
                      repetitionGroupMilliseconds: try reader.milliseconds("spoofing", "repetition_group_ms", 0...600_000),
                      episodeGapMilliseconds: try reader.milliseconds("spoofing", "episode_gap_ms", 1_000...Self.windowMillisecondsMax),
                      minimumRepetitions: try reader.integer("spoofing", "minimum_repetitions", 1...10_000),
                      standoutMinimum: try reader.fraction("spoofing", "standout_minimum", 1...1_000),
                      quotePairMilliseconds: try reader.milliseconds("spoofing", "quote_pair_ms", 0...60_000),
                      layeringMinimumLevels: try reader.integer("spoofing", "layering_minimum_levels", 2...100))
        guard spoof.genuineAfterMinMilliseconds < spoof.genuineAfterMaxMilliseconds else {
            throw KinkoError(.invalidInput, "must be above spoofing.genuine_after_min_ms", field: "spoofing.genuine_after_max_ms")
        }
        let day = Self.windowMillisecondsMax
        insider = Insider(directionWindowMilliseconds: try reader.milliseconds("insider_trading", "direction_window_ms", 1_000...86_400_000),
                          unwindWindowMilliseconds: try reader.milliseconds("insider_trading", "unwind_window_ms", 60_000...day),
                          minimumTypical: try reader.fraction("insider_trading", "minimum_typical", 0.01...10_000),
                          minimumFills: try reader.integer("insider_trading", "minimum_fills", 1...10_000),
                          unwindShare: try reader.fraction("insider_trading", "unwind_share", 0...10),
                          restrictedMinimumTypical: try reader.fraction("insider_trading", "restricted_minimum_typical", 0.01...10_000),
                          linkedMinimumTypical: try reader.fraction("insider_trading", "linked_minimum_typical", 0.01...10_000),
                          linkedUnwindShare: try reader.fraction("insider_trading", "linked_unwind_share", 0...10),
                          householdAccountsMax: try reader.integer("insider_trading", "household_accounts_max", 2...1_000),
                          ownHistoryOrders: try reader.integer("insider_trading", "own_history_orders", 1...10_000),
                          accountsMax: try reader.integer("insider_trading", "accounts_max", 1...100),
                          oneSidedShare: try reader.fraction("insider_trading", "one_sided_share", 0...1),
                          priorPositionMax: try reader.fraction("insider_trading", "prior_position_max", 0.01...10_000))
        pump = Pump(gridMilliseconds: try reader.milliseconds("pump_and_dump", "grid_ms", 1_000...3_600_000),
                    burstWindowMilliseconds: try reader.milliseconds("pump_and_dump", "burst_window_ms", 60_000...86_400_000),
                    participantMinimumTypical: try reader.fraction("pump_and_dump", "participant_minimum_typical", 0...10_000),
                    baselineWindowMilliseconds: try reader.milliseconds("pump_and_dump", "baseline_window_ms", 3_600_000...day),
                    baselineSamplesMin: try reader.integer("pump_and_dump", "baseline_samples_min", 1...100_000),
                    minimumBuyers: try reader.integer("pump_and_dump", "minimum_buyers", 2...10_000),
                    burstMultiple: try reader.fraction("pump_and_dump", "burst_multiple", 1...1_000),
                    announcementExclusionMilliseconds: try reader.milliseconds("pump_and_dump", "announcement_exclusion_ms", 0...day),
                    directionWindowMilliseconds: try reader.milliseconds("pump_and_dump", "direction_window_ms", 1_000...86_400_000),
                    preWindowMilliseconds: try reader.milliseconds("pump_and_dump", "pre_window_ms", 3_600_000...day),
                    dumpWindowMilliseconds: try reader.milliseconds("pump_and_dump", "dump_window_ms", 60_000...day),
                    coordinatorMinimumTypical: try reader.fraction("pump_and_dump", "coordinator_minimum_typical", 0.01...100_000),
                    dumpShare: try reader.fraction("pump_and_dump", "dump_share", 0...10),
                    householdAccountsMax: try reader.integer("pump_and_dump", "household_accounts_max", 2...1_000),
                    riseMinimumMultiple: try reader.fraction("pump_and_dump", "rise_minimum_multiple", 0...10_000),
                    premiumMinimumMultiple: try reader.fraction("pump_and_dump", "premium_minimum_multiple", 0...10_000),
                    freshPriorOrdersMax: try reader.integer("pump_and_dump", "fresh_prior_orders_max", 0...1_000),
                    freshShareMin: try reader.fraction("pump_and_dump", "fresh_share_min", 0...1),
                    accountsMax: try reader.integer("pump_and_dump", "accounts_max", 2...SurveillanceRules.alertAccountsMax))
        multiAccount = MultiAccount(householdAccountsMax: try reader.integer("multi_account", "household_accounts_max", 2...1_000),
                                    sessionMilliseconds: try reader.milliseconds("multi_account", "session_ms", 1_000...86_400_000),
                                    notionalRatioMax: try reader.fraction("multi_account", "notional_ratio_max", 1...100),
                                    minimumSessions: try reader.integer("multi_account", "minimum_sessions", 1...10_000),
                                    matchedShareMin: try reader.fraction("multi_account", "matched_share_min", 0...1),
                                    minimumAccounts: try reader.integer("multi_account", "minimum_accounts", 2...SurveillanceRules.alertAccountsMax),
                                    accountsMax: try reader.integer("multi_account", "accounts_max", 2...SurveillanceRules.alertAccountsMax),
                                    windowMilliseconds: try reader.milliseconds("multi_account", "window_ms", 86_400_000...day),
                                    scanEveryMilliseconds: try reader.milliseconds("multi_account", "scan_every_ms", 60_000...day))
        guard multiAccount.minimumAccounts <= multiAccount.accountsMax else {
            throw KinkoError(.invalidInput, "must be at most multi_account.accounts_max", field: "multi_account.minimum_accounts")
        }
    }

    /// Reads numbers out of the YAML tree, refusing a missing key, a non-number or a value
    /// outside the parameter's range, naming `section.key`.
    struct Reader {
        let root: [String: Any]

        func section(_ name: String) -> [String: Any] { root[name] as? [String: Any] ?? [:] }

        func value(_ section: String, _ key: String) throws(KinkoError) -> Double {
            let raw = self.section(section)[key]
            if let number = raw as? Int { return Double(number) }
            if let number = raw as? Double, number.isFinite { return number }
            if raw == nil { throw KinkoError(.invalidInput, "is required", field: "\(section).\(key)") }
            throw KinkoError(.invalidInput, "must be a number", field: "\(section).\(key)")
        }

        func fraction(_ section: String, _ key: String, _ range: ClosedRange<Double>) throws(KinkoError) -> Double {
            let number = try value(section, key)
            guard range.contains(number) else { throw KinkoError(.invalidInput, "must be \(range.lowerBound)–\(range.upperBound)", field: "\(section).\(key)") }
            return number
        }

        func integer(_ section: String, _ key: String, _ range: ClosedRange<Int>) throws(KinkoError) -> Int {
            let number = try value(section, key)
            guard number == number.rounded(), range.contains(Int(exactly: number) ?? Int.min) else {
                throw KinkoError(.invalidInput, "must be a whole number \(range.lowerBound)–\(range.upperBound)", field: "\(section).\(key)")
            }
            return Int(number)
        }

        func milliseconds(_ section: String, _ key: String, _ range: ClosedRange<Int64>) throws(KinkoError) -> Int64 {
            Int64(try integer(section, key, Int(range.lowerBound)...Int(range.upperBound)))
        }
    }
}

extension SurveillanceRules: VersionedDocument {
    public static let settingsKind = "surveil.rules"
    public static let adoptionAction = "surveil.rules.adopt"
    public static let proposePermission = Permission.monitorRulesPropose
    public static let readPermission = Permission.monitorRead
    public static let noun = "surveillance rule set"
    public static func adoptionPolicy() throws(KinkoError) -> ApprovalPolicy { try ApprovalPolicy(approvalsRequired: 1, eligibleRoles: [.compliance]) }
}
