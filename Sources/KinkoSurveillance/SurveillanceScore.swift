import Foundation
public import KinkoCore

/// A planted, labelled instance of market abuse (a data set's `labels` file: ground truth that
/// only scoring reads, never a detector).
public struct LabelledInstance: Sendable, Equatable {
    public let id: String
    public let typology: SurveillanceTypology
    public let market: String
    public let accounts: Set<String>
    public let start: Milliseconds
    public let end: Milliseconds

    public init(id: String, typology: SurveillanceTypology, market: String, accounts: Set<String>, start: Milliseconds, end: Milliseconds) {
        self.id = id
        self.typology = typology
        self.market = market
        self.accounts = accounts
        self.start = start
        self.end = end
    }

    public static func read(_ text: String) throws(KinkoError) -> [LabelledInstance] {
        let table = try CSVTable(text, name: "labels")
        let columns = try ["instance_id", "typology", "market", "accounts", "start", "end"].map { (name: String) throws(KinkoError) in try table.column(name) }
        var out: [LabelledInstance] = []
        for row in table.rows {
            guard let typology = SurveillanceTypology(rawValue: row[columns[1]]) else {
                throw KinkoError(.invalidInput, "labels line \(row.line): unknown typology \"\(row[columns[1]])\"", field: "labels.typology")
            }
            guard let start = Int64(row[columns[4]]), let end = Int64(row[columns[5]]) else {
                throw KinkoError(.invalidInput, "labels line \(row.line): start and end must be integers (ms)", field: "labels.start")
            }
            out.append(LabelledInstance(id: row[columns[0]], typology: typology, market: row[columns[2]],
                                        accounts: Set(row[columns[3]].split(separator: ";").map(String.init)), start: start, end: end))
        }
        return out
    }
}

/// Alerts scored against labelled instances under marketsim's rule (its `score.py`): an instance
/// is found when one alert of its family names at least half its accounts and overlaps its window
/// padded by an hour, on its market (multi-account: any market); an alert is correct when it
/// overlaps an instance of its family that way and names at least one of its accounts. Alerts
/// naming more than 100 accounts are wrong and find nothing.
public struct SurveillanceScore: Sendable, Equatable {
    public static let paddingMilliseconds: Milliseconds = 3_600_000
    public static let accountsPerAlertMax = 100

    public struct Line: Sendable, Equatable {
        public var instances = 0
        public var found = 0
        public var alerts = 0
        public var correctAlerts = 0

        public init(instances: Int = 0, found: Int = 0, alerts: Int = 0, correctAlerts: Int = 0) {
            self.instances = instances
            self.found = found
            self.alerts = alerts
            self.correctAlerts = correctAlerts
        }
        public var recall: Double? { instances == 0 ? nil : Self.fourPlaces(Double(found) / Double(instances)) }
        public var precision: Double? { alerts == 0 ? nil : Self.fourPlaces(Double(correctAlerts) / Double(alerts)) }
        static func fourPlaces(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

        public var json: [String: Any] {
            ["instances": instances, "found": found, "recall": recall ?? NSNull(), "alerts": alerts, "correct_alerts": correctAlerts, "precision": precision ?? NSNull()]
        }
    }

    /// One scored alert in the scorer's terms (names, not numbers).
    public struct ScoredAlert: Sendable {
        public let typology: SurveillanceTypology
        public let market: String
        public let accounts: Set<String>
        public let start: Milliseconds
        public let end: Milliseconds
        public init(typology: SurveillanceTypology, market: String, accounts: Set<String>, start: Milliseconds, end: Milliseconds) {
            self.typology = typology
            self.market = market
            self.accounts = accounts
            self.start = start
            self.end = end
        }
    }

    public var all = Line()
    public var perTypology: [SurveillanceTypology: Line] = [:]
    public var perFamily: [SurveillanceTypology: Line] = [:]
    /// The ids of the instances no alert found.
    public var missed: [String] = []

    public init(instances: [LabelledInstance], alerts: [ScoredAlert]) {
        var found: Set<String> = []
        var correct: [Bool] = []
        for alert in alerts {
            var ok = false
            if alert.accounts.count <= Self.accountsPerAlertMax {
                for instance in instances where Self.overlaps(alert, instance) {
                    let shared = alert.accounts.intersection(instance.accounts).count
                    if shared >= 1 { ok = true }
                    if 2 * shared >= instance.accounts.count { found.insert(instance.id) }
                }
            }
            correct.append(ok)
        }
        all = Line(instances: instances.count, found: found.count, alerts: alerts.count, correctAlerts: correct.filter { $0 }.count)
        for typology in SurveillanceTypology.allCases {
            let mine = instances.filter { $0.typology == typology }
            let raised = zip(alerts, correct).filter { $0.0.typology == typology }
            perTypology[typology] = Line(instances: mine.count, found: mine.filter { found.contains($0.id) }.count,
                                         alerts: raised.count, correctAlerts: raised.filter(\.1).count)
        }
        for family in SurveillanceTypology.families {
            let mine = instances.filter { $0.typology.family == family }
            let raised = zip(alerts, correct).filter { $0.0.typology.family == family }
            perFamily[family] = Line(instances: mine.count, found: mine.filter { found.contains($0.id) }.count,
                                     alerts: raised.count, correctAlerts: raised.filter(\.1).count)
        }
        missed = instances.filter { !found.contains($0.id) }.map(\.id)
    }

    static func overlaps(_ alert: ScoredAlert, _ instance: LabelledInstance) -> Bool {
        guard alert.typology.family == instance.typology.family else { return false }
        if instance.typology.family != .multiAccount, alert.market != instance.market { return false }
        return alert.start <= instance.end + paddingMilliseconds && alert.end >= instance.start - paddingMilliseconds
    }

    public var json: [String: Any] {
        [
            "instance_recall": all.recall ?? NSNull(), "alert_precision": all.precision ?? NSNull(), "instances": all.instances,
            "instances_found": all.found, "alerts": all.alerts, "correct_alerts": all.correctAlerts,
            "per_typology": Dictionary(uniqueKeysWithValues: perTypology.map { ($0.key.rawValue, $0.value.json) }),
            "per_family": Dictionary(uniqueKeysWithValues: perFamily.map { ($0.key.rawValue, $0.value.json) }),
            "missed": missed,
        ]
    }
}
