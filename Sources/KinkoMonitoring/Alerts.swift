import Foundation
public import KinkoCore

public enum AlertStatus: String, Sendable, CaseIterable {
    /// Waiting in the queue.
    case open
    /// Part of a case.
    case inCase = "in_case"
    /// Looked at and closed: no further action.
    case dismissed
    /// Closed with its case.
    case closed
}

/// Where one alert stands: its id, status and case (what a scan that raised it reads back).
public struct AlertRef: Sendable, Equatable {
    public var id: UInt64
    public var status: AlertStatus
    public var caseID: UInt64?

    public init(id: UInt64, status: AlertStatus, caseID: UInt64?) {
        self.id = id
        self.status = status
        self.caseID = caseID
    }
}

/// An alert: one event whose outcome was review or block, with every rule that fired, the
/// values that made it fire, the events and customers involved, and the rule-set version.
public struct MonitoringAlert: Sendable, Equatable {
    public var id: UInt64
    public var event: String
    public var customer: UInt64
    public var time: TimestampNanoseconds
    public var outcome: Outcome
    public var ruleSetVersion: String
    public var hits: [RuleHit]
    public var scenarios: [ScenarioScore]
    public var status: AlertStatus
    public var caseID: UInt64?
    public var raisedAt: TimestampNanoseconds

    public init(id: UInt64, evaluation: Evaluation, raisedAt: TimestampNanoseconds) {
        self.id = id
        event = evaluation.event
        customer = evaluation.customer
        time = evaluation.time
        outcome = evaluation.outcome
        ruleSetVersion = evaluation.ruleSetVersion
        hits = evaluation.hits
        scenarios = evaluation.scenarios
        status = .open
        caseID = nil
        self.raisedAt = raisedAt
    }

    public var customers: [UInt64] {
        var seen: Set<UInt64> = [customer]
        return [customer] + hits.flatMap(\.customers).filter { seen.insert($0).inserted }
    }

    public var events: [String] {
        var seen: Set<String> = [event]
        return [event] + hits.flatMap(\.events).filter { seen.insert($0).inserted }
    }

    /// The alert as JSON-ready values (`kinko monitor alerts show --json`, case files, STRs).
    public var json: [String: Any] {
        [
            "id": id, "event": event, "customer": customer, "time": time.iso8601, "outcome": outcome.rawValue, "rule_set_version": ruleSetVersion,
            "status": status.rawValue, "case": caseID.map { $0 as Any } ?? NSNull(), "raised_at": raisedAt.iso8601,
            "scenarios": scenarios.map { ["name": $0.name, "score": $0.score, "outcome": $0.outcome.rawValue] as [String: Any] },
            "hits": hits.map { hit in
                ["rule": hit.rule, "score": hit.score, "subject": hit.subject, "explanation": hit.explanation, "values": hit.values,
                 "events": hit.events, "customers": hit.customers] as [String: Any]
            },
        ]
    }

    public var text: String {
        var lines = ["alert \(id) — \(outcome.rawValue.uppercased()) — event \(event) of customer \(customer) at \(time.iso8601)",
                     "rule set \(ruleSetVersion); status \(status.rawValue)\(caseID.map { " (case \($0))" } ?? "")"]
        for scenario in scenarios { lines.append("  scenario \(scenario.name): score \(scenario.score) → \(scenario.outcome.rawValue)") }
        for hit in hits {
            lines.append("  • \(hit.rule) (+\(hit.score)): \(hit.explanation)")
            lines.append("    values: " + hit.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            lines.append("    events: " + hit.events.prefix(20).joined(separator: ", ") + (hit.events.count > 20 ? " … (\(hit.events.count))" : ""))
            if hit.customers.count > 1 { lines.append("    customers: " + hit.customers.map(String.init).joined(separator: ", ")) }
        }
        return lines.joined(separator: "\n")
    }

    public init(
        id: UInt64,
        event: String,
        customer: UInt64,
        time: TimestampNanoseconds,
        outcome: Outcome,
        ruleSetVersion: String,
        hits: [RuleHit],
        scenarios: [ScenarioScore],
        status: AlertStatus,
        caseID: UInt64? = nil,
        raisedAt: TimestampNanoseconds
    ) {
        self.id = id
        self.event = event
        self.customer = customer
        self.time = time
        self.outcome = outcome
        self.ruleSetVersion = ruleSetVersion
        self.hits = hits
        self.scenarios = scenarios
        self.status = status
        self.caseID = caseID
        self.raisedAt = raisedAt
    }
}

extension MonitoringAlert {
    /// The rule-name prefix of a market-surveillance alert in the queue (`market_spoofing`, …).
    public static let marketRulePrefix = "market_"

    /// What a market-surveillance alert names besides customers: its market, typology, window
    /// and accounts with the customer id the order stream gave each.
    public struct MarketActivity: Sendable, Equatable {
        public var surveillanceAlert: String
        public var typology: String
        public var market: String
        public var window: String
        public var accounts: [Account]

        /// A market account and the customer id the order stream gave it ("" where none).
        public struct Account: Sendable, Equatable {
            public var account: String
            public var customerID: String
        }

        public var json: [String: Any] {
            ["surveillance_alert": surveillanceAlert, "typology": typology, "market": market, "window": window,
             "accounts": accounts.map { ["account": $0.account, "customer_id": $0.customerID] }]
        }
    }

    /// A time in milliseconds since the epoch as ISO 8601 UTC; "?" when missing or negative.
    static func utc(_ milliseconds: String?) -> String {
        guard let milliseconds, let value = UInt64(milliseconds), value <= UInt64.max / 1_000_000 else { return "?" }
        return (value * 1_000_000).iso8601
    }

    /// The market activity of a market-surveillance alert; nil for every other alert.
    public var marketActivity: MarketActivity? {
        guard let hit = hits.first(where: { $0.rule.hasPrefix(Self.marketRulePrefix) }) else { return nil }
        let accounts = (hit.values["accounts"] ?? "").split(separator: ",").map(String.init)
        let customers = (hit.values["customer_ids"] ?? "").split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return MarketActivity(surveillanceAlert: hit.values["surveillance_alert"] ?? "", typology: hit.values["typology"] ?? "",
                              market: hit.values["market"] ?? "", window: "\(Self.utc(hit.values["start_ms"])) – \(Self.utc(hit.values["end_ms"]))",
                              accounts: accounts.enumerated().map { .init(account: $0.element, customerID: $0.offset < customers.count ? customers[$0.offset] : "") })
    }
}

public enum CaseStatus: String, Sendable, CaseIterable {
    case open, investigating, closed
}

/// How a case ended.
public enum CaseDisposition: String, Sendable, CaseIterable {
    /// Nothing suspicious after review.
    case noAction = "no_action"
    /// Suspicious: an STR was filed with the FSA.
    case strFiled = "str_filed"
    /// The customer relationship was ended.
    case accountClosed = "account_closed"
    /// Handed to law enforcement.
    case referred
}

/// Stored as JSON with the keys `at`, `author` and `text` (both stores, `MonitoringRecordJSON`).
public struct CaseNote: Sendable, Equatable, Codable {
    public var at: TimestampNanoseconds
    public var author: String
    public var text: String

    public init(at: TimestampNanoseconds, author: String, text: String) {
        self.at = at
        self.author = author
        self.text = text
    }
}

/// A case groups alerts about the same conduct for one investigation.
public struct MonitoringCase: Sendable, Equatable {
    public var id: UInt64
    public var title: String
    public var assignee: String?
    public var status: CaseStatus
    public var disposition: CaseDisposition?
    public var openedBy: String
    public var openedAt: TimestampNanoseconds
    public var closedAt: TimestampNanoseconds?
    public var alerts: [UInt64]
    public var notes: [CaseNote]

    public static let titleLengthMax = 200
    public static let noteLengthMax = 4_000
    public static let alertsMax = 1_000

    /// Alert ids as people type them: `3, 4,5` (at least one).
    public static func alertIDs(_ text: String) throws(KinkoError) -> [UInt64] {
        var ids: [UInt64] = []
        for part in text.split(separator: ",") {
            guard let id = UInt64(part.trimmingCharacters(in: .whitespaces)) else {
                throw KinkoError(.invalidInput, "\"\(part)\" is not an alert id", field: "alerts")
            }
            ids.append(id)
        }
        guard !ids.isEmpty else { throw KinkoError(.invalidInput, "name at least one alert", field: "alerts") }
        return ids
    }

    public var text: String {
        var lines = ["case \(id): \(title)", "status \(status.rawValue)\(disposition.map { " (\($0.rawValue))" } ?? ""); assignee \(assignee ?? "-"); opened by \(openedBy) at \(openedAt.iso8601)\(closedAt.map { "; closed \($0.iso8601)" } ?? "")",
                     "alerts: " + alerts.map(String.init).joined(separator: ", ")]
        for note in notes { lines.append("  [\(note.at.iso8601)] \(note.author): \(note.text)") }
        return lines.joined(separator: "\n")
    }

    public init(
        id: UInt64,
        title: String,
        assignee: String? = nil,
        status: CaseStatus,
        disposition: CaseDisposition? = nil,
        openedBy: String,
        openedAt: TimestampNanoseconds,
        closedAt: TimestampNanoseconds? = nil,
        alerts: [UInt64],
        notes: [CaseNote]
    ) {
        self.id = id
        self.title = title
        self.assignee = assignee
        self.status = status
        self.disposition = disposition
        self.openedBy = openedBy
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.alerts = alerts
        self.notes = notes
    }
}

/// One market alert's activity in an STR draft.
public struct MarketAlertActivity: Sendable, Equatable {
    public var alert: UInt64
    public var activity: MonitoringAlert.MarketActivity
}

/// A suspicious transaction report draft (疑わしい取引の届出) for filing through e-Gov: the
/// reporting entity, the subjects, the transactions, the grounds (the rules that fired and the
/// analyst's notes). Kinko drafts; a compliance officer reviews and files.
public struct STRDraft: Sendable {
    public var caseRecord: MonitoringCase
    public var alerts: [MonitoringAlert]
    public var profiles: [CustomerProfile]
    public var reportingEntity: String
    public var preparedBy: String
    public var preparedAt: TimestampNanoseconds

    /// The customers the alerts name (a market alert whose accounts no customer number is
    /// known for names customer 0, which is no subject).
    public var subjects: [UInt64] {
        var seen: Set<UInt64> = [0]
        return alerts.flatMap(\.customers).filter { seen.insert($0).inserted }
    }

    /// The market activity behind the case's market-surveillance alerts.
    public var marketActivity: [MarketAlertActivity] {
        alerts.compactMap { alert in alert.marketActivity.map { MarketAlertActivity(alert: alert.id, activity: $0) } }
    }

    public var json: [String: Any] {
        let byCustomer = Dictionary(profiles.map { ($0.customer, $0) }, uniquingKeysWith: { first, _ in first })
        return [
            "format": "kinko-str-draft/1",
            "status": "draft",
            "reporting_entity": reportingEntity,
            "prepared_by": preparedBy,
            "prepared_at": preparedAt.iso8601,
            "case": ["id": caseRecord.id, "title": caseRecord.title, "assignee": caseRecord.assignee ?? NSNull(), "status": caseRecord.status.rawValue] as [String: Any],
            "subjects": subjects.map { id -> [String: Any] in
                guard let profile = byCustomer[id] else { return ["customer": id] }
                return ["customer": id, "name": profile.name, "country": profile.country, "declared_income_jpy": profile.declaredIncomeJPY,
                        "declared_assets_jpy": profile.declaredAssetsJPY]
            },
            "transactions": alerts.flatMap(\.events).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
            "market_activity": marketActivity.map { $0.activity.json.merging(["alert": $0.alert]) { first, _ in first } },
            "grounds": alerts.flatMap { alert in
                alert.hits.map { ["alert": alert.id, "rule": $0.rule, "explanation": $0.explanation, "rule_set_version": alert.ruleSetVersion] as [String: Any] }
            },
            "analyst_notes": caseRecord.notes.map { ["at": $0.at.iso8601, "author": $0.author, "text": $0.text] },
        ]
    }

    public var text: String {
        let byCustomer = Dictionary(profiles.map { ($0.customer, $0) }, uniquingKeysWith: { first, _ in first })
        var lines = [
            "SUSPICIOUS TRANSACTION REPORT — DRAFT (疑わしい取引の届出・案)",
            "Reporting entity: \(reportingEntity)",
            "Prepared by \(preparedBy) at \(preparedAt.iso8601) from case \(caseRecord.id) (\(caseRecord.title))",
            "",
            "Subjects:",
        ]
        for id in subjects {
            if let profile = byCustomer[id] {
                lines.append("  customer \(id): \(profile.name), \(profile.country); declared income \(MonitoringEngine.jpy(profile.declaredIncomeJPY)), assets \(MonitoringEngine.jpy(profile.declaredAssetsJPY))")
            } else {
                lines.append("  customer \(id): no KYC profile on file")
            }
        }
        if !marketActivity.isEmpty {
            lines.append("")
            lines.append("Market activity:")
            for item in marketActivity {
                let activity = item.activity
                lines.append("  [alert \(item.alert), surveillance alert \(activity.surveillanceAlert)] \(activity.typology) on \(activity.market), \(activity.window)")
                lines.append("    accounts: " + activity.accounts.map { "\($0.account) (customer \($0.customerID.isEmpty ? "unknown" : $0.customerID))" }.joined(separator: ", "))
            }
        }
        lines.append("")
        lines.append("Grounds for suspicion:")
        for alert in alerts {
            for hit in alert.hits { lines.append("  • [alert \(alert.id), rule set \(alert.ruleSetVersion)] \(hit.explanation)") }
        }
        lines.append("")
        lines.append("Transactions: " + alerts.flatMap(\.events).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", "))
        if !caseRecord.notes.isEmpty {
            lines.append("")
            lines.append("Analyst notes:")
            for note in caseRecord.notes { lines.append("  \(note.at.iso8601) \(note.author): \(note.text)") }
        }
        return lines.joined(separator: "\n")
    }

    public init(
        caseRecord: MonitoringCase,
        alerts: [MonitoringAlert],
        profiles: [CustomerProfile],
        reportingEntity: String,
        preparedBy: String,
        preparedAt: TimestampNanoseconds
    ) {
        self.caseRecord = caseRecord
        self.alerts = alerts
        self.profiles = profiles
        self.reportingEntity = reportingEntity
        self.preparedBy = preparedBy
        self.preparedAt = preparedAt
    }
}
