import Foundation
import KinkoCore
import KinkoGovernance
import KinkoSurveillance

/// The market-surveillance part of the demo day: the default surveillance rule set and an insider
/// list (a listing of XYZ known inside the exchange, so XYZ/JPY is in blackout for staff and
/// their households), each proposed by compliance and approved by a second compliance officer;
/// the morning's XYZ/JPY order stream ingested by the operator (a market maker's quotes, ordinary
/// customers, and one customer who four times offers a large order two ticks behind the ask,
/// buys, and cancels the offer two seconds later); the scan's spoofing alert; and the matching
/// engine's pre-trade check refusing an employee and their spouse in the blackout.
enum DemoSurveillance {
    static let market = "XYZ/JPY"
    static let staff = "A-STAFF-01", spouse = "A-HOUSE-01", spoofer = "A-CUST-0099"

    static func run(_ surveillance: Surveillance, compliance: Caller, reviewer: (Caller, LocalSigningKey), exchange: Caller, clock: ManualWallClock) async throws {
        guard try await surveillance.alerts(limit: 1, by: compliance).isEmpty else {
            print("\nsurveillance: already run — kinko surveil alerts (as compliance)")
            return
        }
        let now = Int64(clock.now() / 1_000_000)
        if try await surveillance.ruleSets.currentVersion() == nil {
            let (rules, request) = try await surveillance.ruleSets.propose(yaml: SurveillanceRules.defaultYAML, by: compliance)
            try await DemoSigners.approve(request.id, governance: surveillance.governance, by: [reviewer])
            _ = try await surveillance.ruleSets.adopt(version: rules.version, by: compliance)
        }
        let list = InsiderList(version: "insiders-demo", preClearanceRequired: false, staff: [staff], households: [[spouse, staff]],
                               restricted: [.init(account: "A-ISSUER-01", market: market, from: now - 86_400_000, to: now + 2 * 86_400_000, reason: "issuer insider named by XYZ's issuer")],
                               blackouts: [Blackout(market: market, from: now - 6 * 3_600_000, to: now + 2 * 86_400_000,
                                                    reason: "AN-DEMO: XYZ to be listed on a major overseas exchange (known inside since this morning)")],
                               preClearances: [])
        if try await surveillance.insiderLists.currentVersion() == nil {
            let (_, request) = try await surveillance.insiderLists.propose(yaml: list.yaml, by: compliance)
            try await DemoSigners.approve(request.id, governance: surveillance.governance, by: [reviewer])
            _ = try await surveillance.insiderLists.adopt(version: list.version, by: compliance)
        }
        print("\nsurveillance: rule set and insider list \(list.version) in force (proposed by \(compliance.name), approved by \(reviewer.0.name)); \(market) in blackout for staff")

        let results = try await surveillance.ingest(ndjson: stream(endingAt: now - 60_000), by: exchange)
        let rejected = results.filter { $0.status == .rejected }
        print("ingested \(results.count) lines of the morning's \(market) stream, \(rejected.count) rejected")
        for line in rejected { print("  line \(line.line): \(line.field ?? "") \(line.message ?? "")") }
        let scan = try await surveillance.scan(by: exchange)
        print("scan: \(scan.orderEvents) order events, \(scan.trades) trades → \(scan.raised.count) alert(s)")
        for alert in try await surveillance.alerts(limit: 10, by: compliance) {
            print("  \(alert.id) \(alert.typology) \(alert.market) \(alert.accounts.joined(separator: ",")): \(alert.explanation)")
        }
        for account in [staff, spouse, spoofer] {
            let (decision, _) = try await surveillance.preTrade(PreTradeRequest(account: account, market: market, side: .buy, time: now), by: exchange)
            print("pre-trade check, \(account) buys \(market): " + (decision.allowed ? "allowed" : "refused (\(decision.reason?.rawValue ?? "")) — \(decision.detail)"))
        }
    }

    /// Two hours of XYZ/JPY ending at `end`: tick 0.01, lot 0.0001; the market maker quotes
    /// 12.49 / 12.51; customers bid; the spoofer's four repetitions ten minutes apart.
    static func stream(endingAt end: Int64) -> String {
        var lines = [#"{"record":"market","market":"XYZ/JPY","base":"XYZ","quote":"JPY","tick_size":"0.01","lot_size":"0.0001"}"#]
        let accounts = ["A-MM-01": "market_maker", staff: "employee", spouse: "customer", spoofer: "customer"]
            .merging((1...6).map { ("A-CUST-000\($0)", "customer") }, uniquingKeysWith: { first, _ in first })
        for (account, kind) in accounts.sorted(by: { $0.key < $1.key }) {
            lines.append(#"{"record":"account","account_id":"\#(account)","customer_id":"C-\#(account)","kind":"\#(kind)","opened_at":1700000000000}"#)
        }
        lines.append(#"{"record":"link","account_a":"\#(spouse)","account_b":"\#(staff)","link_kind":"device","value":"dev-demo-home"}"#)
        var order: Int64 = 0, trade: Int64 = 0
        let start = end - 2 * 3_600_000
        func new(_ time: Int64, _ account: String, _ side: String, _ type: String, _ price: String, _ quantity: String) -> Int64 {
            order += 1
            lines.append(#"{"record":"order","time":\#(time),"order_id":\#(order),"account_id":"\#(account)","market":"XYZ/JPY","side":"\#(side)","type":"\#(type)","price":"\#(price)","quantity":"\#(quantity)","event":"new","filled_quantity":"0.0000"}"#)
            return order
        }
        func event(_ time: Int64, _ id: Int64, _ account: String, _ side: String, _ type: String, _ price: String, _ quantity: String, _ kind: String, _ filled: String) {
            lines.append(#"{"record":"order","time":\#(time),"order_id":\#(id),"account_id":"\#(account)","market":"XYZ/JPY","side":"\#(side)","type":"\#(type)","price":"\#(price)","quantity":"\#(quantity)","event":"\#(kind)","filled_quantity":"\#(filled)"}"#)
        }
        _ = new(start, "A-MM-01", "buy", "limit", "12.49", "100000.0000")
        let ask = new(start, "A-MM-01", "sell", "limit", "12.51", "100000.0000")
        var askFilled = 0.0
        func buyAtAsk(_ time: Int64, _ account: String, _ quantity: Double) {
            let id = new(time, account, "buy", "market", "", String(format: "%.4f", quantity))
            event(time, id, account, "buy", "market", "", String(format: "%.4f", quantity), "fill", String(format: "%.4f", quantity))
            askFilled += quantity
            event(time, ask, "A-MM-01", "sell", "limit", "12.51", "100000.0000", "partial_fill", String(format: "%.4f", askFilled))
            trade += 1
            lines.append(#"{"record":"trade","time":\#(time),"trade_id":\#(trade),"market":"XYZ/JPY","price":"12.51","quantity":"\#(String(format: "%.4f", quantity))","buy_order_id":\#(id),"sell_order_id":\#(ask),"buy_account_id":"\#(account)","sell_account_id":"A-MM-01","aggressor":"buy"}"#)
        }
        for customer in 1...6 { _ = new(start + Int64(customer) * 1_000, "A-CUST-000\(customer)", "buy", "limit", "12.40", "800.0000") }
        buyAtAsk(start + 10_000, "A-CUST-0001", 100)
        for repetition in 1...4 {
            let at = start + Int64(repetition) * 600_000
            let large = new(at, spoofer, "sell", "limit", "12.53", "8000.0000")
            buyAtAsk(at + 1_000, spoofer, 40)
            event(at + 3_000, large, spoofer, "sell", "limit", "12.53", "8000.0000", "cancel", "0.0000")
        }
        return lines.joined(separator: "\n")
    }
}
