import Foundation
import KinkoCore
import KinkoMonitoring
import KinkoSurveillance
import Testing

@Suite("Market alerts in monitoring's queue")
struct MarketAlertQueueTests {
    // Goal: the customer behind a market account is the stream's customer id read as the
    // exchange's customer number, all digits or after a one-letter prefix, 1 to 2^63 - 1;
    // anything else names no customer.
    @Test func customerIDsReadAsCustomerNumbers() {
        #expect(MarketAlertQueue.customerNumber("C0001234") == 1234)
        #expect(MarketAlertQueue.customerNumber("1234") == 1234)
        #expect(MarketAlertQueue.customerNumber("9223372036854775807") == 9_223_372_036_854_775_807)
        #expect(MarketAlertQueue.customerNumber("C9223372036854775807") == 9_223_372_036_854_775_807)
        for unreadable in ["9223372036854775808", "C9223372036854775808", "C0000000", "0", "", "C", "CC12", "C-12", "C12x", "C 12", "１２", "C00000000000000000001"] {
            #expect(MarketAlertQueue.customerNumber(unreadable) == nil, "\(unreadable)")
        }
    }

    static func stored(customers: [String]?) throws -> StoredSurveillanceAlert {
        var object: [String: Any] = [
            "id": "5d2b1144bd54f3e8", "typology": "spoofing", "market": "XYZ/JPY", "accounts": ["A-1", "A-2", "A-3"], "start": 1_796_280_060_000,
            "end": 1_796_281_863_000, "score": 13.333, "explanation": "4 times: large orders behind the touch",
            "figures": [["name": "repetitions", "value": 4.0, "threshold": 3.0], ["name": "large_to_typical", "value": 10.1048, "threshold": 2.0]],
            "orders": [11, 10], "trades": [3], "ruleSetVersion": "surveil-2026-12-03", "raisedAt": 1_796_281_900_000_000_000, "status": "not_queued",
        ]
        if let customers { object["customers"] = customers }
        return try JSONDecoder().decode(StoredSurveillanceAlert.self, from: JSONSerialization.data(withJSONObject: object))
    }

    // Goal: a market alert enters the queue keyed by its id, on the first customer number its
    // accounts resolve to, with one hit that carries every figure against its threshold, the
    // accounts and customer ids, the window and the orders and trades as events; an STR draft of
    // a case holding it lists the market activity and no customer 0.
    @Test func aMarketAlertBecomesAQueueAlertAndAnSTRLine() throws {
        let evaluation = MarketAlertQueue.evaluation(try Self.stored(customers: ["C-unknown", "C0001008", "1008"]))
        #expect(evaluation.event == "market:5d2b1144bd54f3e8" && evaluation.customer == 1008 && evaluation.outcome == .review)
        #expect(evaluation.time == 1_796_280_060_000_000_000 && evaluation.ruleSetVersion == "surveil-2026-12-03")
        let hit = try #require(evaluation.hits.first)
        #expect(evaluation.hits.count == 1 && hit.rule == "market_spoofing" && hit.subject == 1008 && hit.customers == [1008])
        #expect(hit.events == ["order:11", "order:10", "trade:3"])
        #expect(hit.explanation == "4 times: large orders behind the touch")
        #expect(hit.values == [
            "repetitions": "4.0 (threshold 3.0)", "large_to_typical": "10.1048 (threshold 2.0)", "surveillance_alert": "5d2b1144bd54f3e8",
            "typology": "spoofing", "market": "XYZ/JPY", "accounts": "A-1,A-2,A-3", "customer_ids": "C-unknown,C0001008,1008", "score": "13.333",
            "start_ms": "1796280060000", "end_ms": "1796281863000",
        ])

        let alert = MonitoringAlert(id: 11, evaluation: evaluation, raisedAt: 1)
        let activity = try #require(alert.marketActivity)
        #expect(activity.surveillanceAlert == "5d2b1144bd54f3e8" && activity.typology == "spoofing" && activity.market == "XYZ/JPY")
        #expect(activity.window == "2026-12-03T06:41:00.000Z – 2026-12-03T07:11:03.000Z")
        #expect(activity.accounts.map(\.account) == ["A-1", "A-2", "A-3"] && activity.accounts.map(\.customerID) == ["C-unknown", "C0001008", "1008"])

        // Accounts no customer number is known for: customer 0, said in the explanation, no STR subject.
        let orphan = MarketAlertQueue.evaluation(try Self.stored(customers: nil))
        #expect(orphan.customer == 0 && orphan.hits[0].customers.isEmpty)
        #expect(orphan.hits[0].explanation == "4 times: large orders behind the touch (no customer number is known for accounts A-1, A-2, A-3)")
        let record = MonitoringCase(id: 2, title: "XYZ/JPY spoofing", status: .open, openedBy: "takahashi", openedAt: 1, alerts: [11, 12], notes: [])
        let draft = STRDraft(caseRecord: record, alerts: [alert, MonitoringAlert(id: 12, evaluation: orphan, raisedAt: 1)], profiles: [],
                             reportingEntity: "Kinko exchange", preparedBy: "takahashi", preparedAt: 1)
        #expect(draft.subjects == [1008])
        #expect(draft.marketActivity.map(\.alert) == [11, 12])
        #expect(draft.text.contains("  [alert 11, surveillance alert 5d2b1144bd54f3e8] spoofing on XYZ/JPY, 2026-12-03T06:41:00.000Z – 2026-12-03T07:11:03.000Z"))
        #expect(draft.text.contains("    accounts: A-1 (customer C-unknown), A-2 (customer C0001008), A-3 (customer 1008)"))
        #expect(draft.text.contains("Transactions: market:5d2b1144bd54f3e8, order:11, order:10, trade:3"))
        let json = try #require(draft.json["market_activity"] as? [[String: Any]])
        #expect(json.count == 2 && json[0]["alert"] as? UInt64 == 11 && json[0]["window"] as? String == activity.window)
    }
}
