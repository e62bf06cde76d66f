public import KinkoCore
public import KinkoGovernance
public import KinkoMonitoring

/// A market alert in monitoring's alert queue: the surveillance alert and the queue's alert.
public struct QueuedMarketAlert: Sendable, Equatable {
    public let surveillanceAlert: String
    public let alert: UInt64
}

/// How a market alert enters monitoring's work flow. Compliance works one queue: a market alert
/// becomes an alert there like the network scan's, keyed `market:` + its id (so it is queued
/// once), on the customer behind its first account, with one hit `market_` + the typology that
/// carries the explanation, every figure against its threshold, the accounts and their customer
/// ids, and the orders (`order:ID`) and trades (`trade:ID`) behind it as the hit's events. From
/// there it is dismissed, or joins a case with AML alerts, and the case's STR draft lists the
/// market accounts, the orders and trades, and the grounds.
public enum MarketAlertQueue {
    /// The queue key's prefix.
    public static let eventPrefix = "market:"
    /// The queue alert's rule name prefix (`market_spoofing`, `market_wash_trade`, …).
    public static let rulePrefix = MonitoringAlert.marketRulePrefix
    /// The longest customer number a stream's customer id carries.
    static let customerDigitsMax = 19

    /// The exchange's customer number in a stream's customer id: the id itself when it is all
    /// digits, or its digits after a one-letter prefix (marketsim's `C0001234` is customer 1234).
    /// Nil for anything else, and for 0 and numbers past `MonitoringEvent.customerMax`.
    public static func customerNumber(_ id: String) -> UInt64? {
        var digits = Substring(id)
        if let first = digits.first, first.isASCII, first.isLetter { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= customerDigitsMax, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = UInt64(digits), number > 0, number <= MonitoringEvent.customerMax
        else { return nil }
        return number
    }

    /// The queue's form of a market alert.
    public static func evaluation(_ alert: StoredSurveillanceAlert) -> Evaluation {
        let customerIDs = alert.customers ?? []
        var numbers: [UInt64] = []
        for id in customerIDs {
            if let number = customerNumber(id), !numbers.contains(number) { numbers.append(number) }
        }
        var values: [String: String] = [:]
        for figure in alert.figures { values[figure.name] = "\(figure.value) (threshold \(figure.threshold))" }
        values["surveillance_alert"] = alert.id
        values["typology"] = alert.typology
        values["market"] = alert.market
        values["accounts"] = alert.accounts.joined(separator: ",")
        values["customer_ids"] = customerIDs.joined(separator: ",")
        values["score"] = String(alert.score)
        values["start_ms"] = String(alert.start)
        values["end_ms"] = String(alert.end)
        let explanation = alert.explanation + (numbers.isEmpty ? " (no customer number is known for accounts \(alert.accounts.joined(separator: ", ")))" : "")
        let subject = numbers.first ?? 0
        let hit = RuleHit(rule: rulePrefix + alert.typology, score: 0, subject: subject, explanation: explanation, values: values,
                          events: alert.orders.map { "order:\($0)" } + alert.trades.map { "trade:\($0)" }, customers: numbers)
        return Evaluation(event: eventPrefix + alert.id, customer: subject, time: UInt64(max(alert.start, 0)) * 1_000_000, outcome: .review, hits: [hit],
                          scenarios: [], ruleSetVersion: alert.ruleSetVersion)
    }
}

extension Surveillance {
    /// Puts into monitoring's queue those of `alerts` (each id once) not yet there; one audit
    /// entry names them.
    func queue(_ alerts: [StoredSurveillanceAlert], role: Role, by caller: Caller) async throws -> [QueuedMarketAlert] {
        let present = try await monitoring.store.alertRefs(events: alerts.map { MarketAlertQueue.eventPrefix + $0.id })
        let missing = alerts.filter { present[MarketAlertQueue.eventPrefix + $0.id] == nil }
        guard !missing.isEmpty else { return [] }
        let raised = try await monitoring.store.recordScanAlerts(
            missing.map(MarketAlertQueue.evaluation), at: governance.clock.now(),
            audit: caller.event(.monitorIngest, role: role, digest: [], result: "\(missing.count) market alerts queued",
                                details: ["surveillance_alerts": missing.map(\.id).joined(separator: ",")]))
        return missing.compactMap { alert in
            raised[MarketAlertQueue.eventPrefix + alert.id].map { QueuedMarketAlert(surveillanceAlert: alert.id, alert: $0) }
        }
    }

    /// The alerts with their place in the queue filled in: the queue's alert, its status and case.
    func withQueueState(_ alerts: [StoredSurveillanceAlert]) async throws -> [StoredSurveillanceAlert] {
        let refs = try await monitoring.store.alertRefs(events: alerts.map { MarketAlertQueue.eventPrefix + $0.id })
        return alerts.map { alert in
            var alert = alert
            if let ref = refs[MarketAlertQueue.eventPrefix + alert.id] {
                alert.queueAlert = ref.id
                alert.status = ref.status.rawValue
                alert.caseID = ref.caseID
            }
            return alert
        }
    }
}
