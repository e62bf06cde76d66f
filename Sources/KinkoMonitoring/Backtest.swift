import Foundation
public import KinkoCore

/// What a replay of history under a rule set raised.
public struct BacktestSummary: Sendable, Codable, Equatable {
    public var ruleSetVersion: String
    public var events: Int
    public var outcomes: [String: Int]
    /// Events each rule fired on.
    public var rules: [String: Int]
    public var alerts: [BacktestAlert]

    enum CodingKeys: String, CodingKey {
        case ruleSetVersion = "rule_set_version", events, outcomes, rules, alerts
    }
}

public struct BacktestAlert: Sendable, Codable, Equatable {
    public var event: String
    public var customer: UInt64
    public var outcome: String
    public var rules: [String]
}

/// Replays events through a fresh engine. Nothing is stored: a backtest shows what a rule set
/// would have done before anyone adopts it.
public enum Backtest {
    public static let alertsListedMax = 1_000

    public static func replay(_ events: [MonitoringEvent], rules: MonitoringRules, watchlists: Watchlists = Watchlists(),
                              jurisdictions: TravelRuleJurisdictions = .designatedByFSA, profiles: [CustomerProfile] = []) throws -> BacktestSummary {
        let engine = MonitoringEngine(rules: rules, watchlists: watchlists, jurisdictions: jurisdictions, profiles: profiles)
        var summary = BacktestSummary(ruleSetVersion: rules.version, events: 0, outcomes: [:], rules: [:], alerts: [])
        for event in events.sorted(by: { $0.time < $1.time }) {
            let evaluation = try engine.evaluate(event)
            summary.events += 1
            summary.outcomes[evaluation.outcome.rawValue, default: 0] += 1
            for rule in Set(evaluation.hits.map(\.rule)) { summary.rules[rule, default: 0] += 1 }
            if evaluation.outcome != .clear && summary.alerts.count < alertsListedMax {
                summary.alerts.append(BacktestAlert(event: event.id, customer: event.customer, outcome: evaluation.outcome.rawValue,
                                                    rules: evaluation.hits.map(\.rule)))
            }
        }
        return summary
    }
}

/// IBM AMLSim's output layout (transactions, accounts, alert_accounts): bank transfers with
/// planted typology instances. Accounts become customers and transfers internal transfers.
public struct AMLSimData: Sendable {
    public struct Transfer: Sendable {
        public var id: UInt64
        public var from: UInt64
        public var to: UInt64
        public var cents: UInt64
        public var time: TimestampNanoseconds
        public var alert: Int

        public init(id: UInt64, from: UInt64, to: UInt64, cents: UInt64, time: TimestampNanoseconds, alert: Int) {
            self.id = id
            self.from = from
            self.to = to
            self.cents = cents
            self.time = time
            self.alert = alert
        }
    }

    public var transfers: [Transfer] = []
    public var profiles: [CustomerProfile] = []
    /// Planted instance → (typology, member accounts).
    public var instances: [Int: (typology: String, members: Set<UInt64>)] = [:]

    /// Yen per US dollar for thresholds (AMLSim amounts are dollars).
    public static let yenPerDollar: UInt64 = 150

    public init(transfers: [Transfer], instances: [Int: (typology: String, members: Set<UInt64>)], profiles: [CustomerProfile] = []) {
        self.transfers = transfers
        self.instances = instances
        self.profiles = profiles
    }

    public init(transactions: String, accounts: String, alertAccounts: String) throws(KinkoError) {
        let tx = try CSVTable(transactions, name: "transactions.csv")
        let (id, orig, bene, amount, stamp, alert) = (try tx.column("tran_id"), try tx.column("orig_acct"), try tx.column("bene_acct"),
                                                       try tx.column("base_amt"), try tx.column("tran_timestamp"), try tx.column("alert_id"))
        var times: [String: TimestampNanoseconds] = [:]
        for row in tx.rows {
            let line = row.line
            guard let transferID = UInt64(row[id]), let from = UInt64(row[orig]), let to = UInt64(row[bene]), let alertID = Int(row[alert]) else {
                throw KinkoError(.invalidInput, "transactions.csv line \(line): ids must be whole numbers", field: "transactions")
            }
            let cents: UInt64
            do { cents = UInt64(try Amount(decimal: row[amount], scale: 2).units) } catch {
                throw KinkoError(.invalidInput, "transactions.csv line \(line): \(error.message)", field: "base_amt")
            }
            let time: TimestampNanoseconds
            if let known = times[row[stamp]] {
                time = known
            } else {
                time = try TimestampNanoseconds(parsing: row[stamp], field: "tran_timestamp")
                times[row[stamp]] = time
            }
            transfers.append(Transfer(id: transferID, from: from, to: to, cents: cents, time: time, alert: alertID))
        }
        let accountRows = try CSVTable(accounts, name: "accounts.csv")
        let (acct, first, last, deposit, country) = (try accountRows.column("acct_id"), accountRows.position(of: "first_name"), accountRows.position(of: "last_name"),
                                                     accountRows.position(of: "initial_deposit"), accountRows.position(of: "country"))
        for row in accountRows.rows {
            guard let customer = UInt64(row[acct]) else { throw KinkoError(.invalidInput, "accounts.csv line \(row.line): acct_id must be a whole number", field: "acct_id") }
            let name = [first, last].compactMap { $0.map { row[$0] } }.joined(separator: " ")
            let assets = deposit.flatMap { Double(row[$0]) }.map { UInt64(max(0, $0)) * Self.yenPerDollar } ?? 0
            profiles.append(CustomerProfile(customer: customer, name: name.isEmpty ? "C_\(customer)" : name,
                                            country: country.map { row[$0] } ?? "US", declaredIncomeJPY: 0, declaredAssetsJPY: assets))
        }
        let members = try CSVTable(alertAccounts, name: "alert_accounts.csv")
        let (alertColumn, typeColumn, memberColumn) = (try members.column("alert_id"), try members.column("alert_type"), try members.column("acct_id"))
        for row in members.rows {
            guard let alertID = Int(row[alertColumn]), let member = UInt64(row[memberColumn]) else {
                throw KinkoError(.invalidInput, "alert_accounts.csv line \(row.line): ids must be whole numbers", field: "alert_accounts")
            }
            instances[alertID, default: (row[typeColumn], [])].members.insert(member)
        }
    }

    public var events: [MonitoringEvent] {
        transfers.map { transfer in
            MonitoringEvent(id: String(transfer.id), kind: .internalTransfer, customer: transfer.from, time: transfer.time, asset: "USD",
                            amount: Amount(units: UInt128(transfer.cents)), amountJPY: transfer.cents * Self.yenPerDollar / 100,
                            counterpartyCustomer: transfer.to)
        }
    }
}

/// Precision and recall of the typology rules against AMLSim's planted instances.
public struct AMLSimReport: Sendable, Codable, Equatable {
    public struct Typology: Sendable, Codable, Equatable {
        public var instances: Int
        public var instancesFound: Int
        public var instanceRecall: Double
        public var sarTransactions: Int
        public var transactionRecall: Double
        public var alerts: Int
        public var transactionPrecision: Double
        public var accountPrecision: Double

        enum CodingKeys: String, CodingKey {
            case instances, instancesFound = "instances_found", instanceRecall = "instance_recall", sarTransactions = "sar_transactions"
            case transactionRecall = "transaction_recall", alerts, transactionPrecision = "transaction_precision", accountPrecision = "account_precision"
        }
    }

    public var ruleSetVersion: String
    public var transactions: Int
    public var sarTransactions: Int
    public var instances: Int
    public var instancesFound: Int
    public var instanceRecall: Double
    public var transactionPrecision: Double
    public var transactionRecall: Double
    public var accountPrecision: Double
    public var accountRecall: Double
    public var typologyAlerts: Int
    /// Events each non-typology rule fired on (none are labelled in AMLSim).
    public var otherRules: [String: Int]
    public var perTypology: [String: Typology]
    /// The network detectors, when the rule set has them.
    public var network: NetworkReport?
    /// The network detectors on transformed copies of the data.
    public var perturbations: [Perturbation]?

    public struct Perturbation: Sendable, Codable, Equatable {
        public var name: String
        public var instanceRecall: Double
        /// Instance recall under the perturbation minus the recall on the data as it is.
        public var change: Double
        public var accountPrecision: Double
        /// The account precision the perturbation should leave (`AMLSimPerturbation.expectedPrecision`).
        public var expectedAccountPrecision: Double
        /// Account precision under the perturbation minus the expected.
        public var precisionChange: Double
        public var alerts: Int

        public init(name: String, instanceRecall: Double, change: Double, accountPrecision: Double, expectedAccountPrecision: Double, alerts: Int) {
            self.name = name
            self.instanceRecall = instanceRecall
            self.change = change
            self.accountPrecision = accountPrecision
            self.expectedAccountPrecision = expectedAccountPrecision
            self.precisionChange = AMLSimReport.fourPlaces(accountPrecision - expectedAccountPrecision)
            self.alerts = alerts
        }

        enum CodingKeys: String, CodingKey {
            case name, instanceRecall = "instance_recall", change, accountPrecision = "account_precision"
            case expectedAccountPrecision = "expected_account_precision", precisionChange = "precision_change", alerts
        }
    }

    enum CodingKeys: String, CodingKey {
        case ruleSetVersion = "rule_set_version", transactions, sarTransactions = "sar_transactions", instances, instancesFound = "instances_found"
        case instanceRecall = "instance_recall", transactionPrecision = "transaction_precision", transactionRecall = "transaction_recall"
        case accountPrecision = "account_precision", accountRecall = "account_recall", typologyAlerts = "typology_alerts", otherRules = "other_rules"
        case perTypology = "per_typology", network, perturbations
    }

    static func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : fourPlaces(Double(part) / Double(whole)) }

    /// A figure as the reports print it: four decimal places.
    static func fourPlaces(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    /// Replays the data through a fresh engine and scores the typology hits. An instance counts as
    /// found when one hit covers at least half of its member accounts.
    public static func run(_ data: AMLSimData, rules: MonitoringRules) throws -> AMLSimReport {
        let engine = MonitoringEngine(rules: rules, profiles: data.profiles)
        var hits: [RuleHit] = []
        var other: [String: Int] = [:]
        for event in data.events {
            let evaluation = try engine.evaluate(event)
            for hit in evaluation.hits {
                if MonitoringRules.typologies.contains(hit.rule) { hits.append(hit) } else { other[hit.rule, default: 0] += 1 }
            }
        }
        let sar = Dictionary(data.transfers.filter { $0.alert >= 0 }.map { (String($0.id), $0.alert) }, uniquingKeysWith: { first, _ in first })
        let members = data.instances.values.reduce(into: Set<UInt64>()) { $0.formUnion($1.members) }
        func flagged(_ hits: [RuleHit]) -> (events: Set<String>, accounts: Set<UInt64>) {
            (Set(hits.flatMap(\.events)), Set(hits.flatMap(\.customers)))
        }
        func found(_ instance: Set<UInt64>, by hits: [RuleHit]) -> Bool {
            hits.contains { hit in hit.customers.reduce(0) { $0 + (instance.contains($1) ? 1 : 0) } * 2 >= instance.count }
        }
        let all = flagged(hits)
        var perTypology: [String: Typology] = [:]
        for typology in MonitoringRules.typologies {
            let instances = data.instances.filter { $0.value.typology == typology }
            let own = hits.filter { $0.rule == typology }
            let ownFlagged = flagged(own)
            let sarOfType = Set(sar.filter { instances[$0.value] != nil }.keys)
            let foundCount = instances.values.count { found($0.members, by: hits) }
            perTypology[typology] = Typology(
                instances: instances.count, instancesFound: foundCount, instanceRecall: ratio(foundCount, instances.count),
                sarTransactions: sarOfType.count, transactionRecall: ratio(sarOfType.intersection(all.events).count, sarOfType.count),
                alerts: own.count, transactionPrecision: ratio(ownFlagged.events.count { sar[$0] != nil }, ownFlagged.events.count),
                accountPrecision: ratio(ownFlagged.accounts.count { members.contains($0) }, ownFlagged.accounts.count))
        }
        let foundTotal = data.instances.values.count { found($0.members, by: hits) }
        return AMLSimReport(
            ruleSetVersion: rules.version, transactions: data.transfers.count, sarTransactions: sar.count, instances: data.instances.count,
            instancesFound: foundTotal, instanceRecall: ratio(foundTotal, data.instances.count),
            transactionPrecision: ratio(all.events.count { sar[$0] != nil }, all.events.count),
            transactionRecall: ratio(all.events.count { sar[$0] != nil }, sar.count),
            accountPrecision: ratio(all.accounts.count { members.contains($0) }, all.accounts.count),
            accountRecall: ratio(all.accounts.count { members.contains($0) }, members.count),
            typologyAlerts: hits.count, otherRules: other, perTypology: perTypology, network: nil, perturbations: nil)
    }

    public var text: String {
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        var lines = [
            "AMLSim backtest — rule set \(ruleSetVersion): \(transactions) transfers, \(sarTransactions) planted (SAR), \(instances) instances",
            "instances found \(instancesFound)/\(instances) (recall \(percent(instanceRecall)))",
            "transactions: precision \(percent(transactionPrecision)), recall \(percent(transactionRecall))",
            "accounts: precision \(percent(accountPrecision)), recall \(percent(accountRecall)); \(typologyAlerts) typology hits",
            "",
            "typology         instances  found  recall  SAR tx  tx recall  hits  tx precision  account precision",
        ]
        for (name, t) in perTypology.sorted(by: { $0.key < $1.key }) {
            lines.append(name.padding(toLength: 17, withPad: " ", startingAt: 0)
                + String(t.instances).leftPadded(9) + String(t.instancesFound).leftPadded(7) + percent(t.instanceRecall).leftPadded(8)
                + String(t.sarTransactions).leftPadded(8) + percent(t.transactionRecall).leftPadded(11) + String(t.alerts).leftPadded(6)
                + percent(t.transactionPrecision).leftPadded(14) + percent(t.accountPrecision).leftPadded(19))
        }
        if !otherRules.isEmpty {
            lines.append("")
            lines.append("other rules (not labelled in AMLSim): " + otherRules.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let network {
            lines.append("")
            lines.append(network.text)
        }
        if let perturbations, !perturbations.isEmpty {
            lines.append("")
            lines.append("perturbation      recall  change  account precision  expected  change  alerts")
            for p in perturbations {
                lines.append(p.name.padding(toLength: 16, withPad: " ", startingAt: 0) + percent(p.instanceRecall).leftPadded(8)
                    + String(format: "%+.3f", p.change).leftPadded(8) + percent(p.accountPrecision).leftPadded(19) + percent(p.expectedAccountPrecision).leftPadded(10)
                    + String(format: "%+.3f", p.precisionChange).leftPadded(8) + String(p.alerts).leftPadded(8))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
