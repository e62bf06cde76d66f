import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
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

        let results = try await surveillance.ingest(ndjson: ExampleStream.spoofing(endingAt: now - 60_000, staff: staff, household: spouse, spoofer: spoofer,
                                                                                      customers: [spoofer: "C0001008"]), by: exchange)
        let rejected = results.filter { $0.status == .rejected }
        print("ingested \(results.count) lines of the morning's \(market) stream, \(rejected.count) rejected")
        for line in rejected { print("  line \(line.line): \(line.field ?? "") \(line.message ?? "")") }
        let scan = try await surveillance.scan(by: exchange)
        print("scan: \(scan.orderEvents) order events, \(scan.trades) trades → \(scan.raised.count) alert(s)")
        for alert in try await surveillance.alerts(limit: 10, by: compliance) {
            print("  \(alert.id) \(alert.typology) \(alert.market) \(alert.accounts.joined(separator: ",")): \(alert.explanation)")
        }
        // Market alerts join monitoring's queue; compliance works the spoofing alert as a case
        // with the customer behind the account (1008), and the case's STR draft names the orders.
        for queued in scan.queued {
            let record = try await surveillance.monitoring.openCase(title: "\(market) spoofing by \(spoofer)", alerts: [queued.alert], assignee: compliance.name,
                                                                    by: compliance)
            print("  queued as monitoring alert \(queued.alert); case \(record.id) opened by \(compliance.name) — kinko monitor str \(record.id) drafts its STR")
        }
        for account in [staff, spouse, spoofer] {
            let (decision, _) = try await surveillance.preTrade(PreTradeRequest(account: account, market: market, side: .buy, time: now), by: exchange)
            print("pre-trade check, \(account) buys \(market): " + (decision.allowed ? "allowed" : "refused (\(decision.reason?.rawValue ?? "")) — \(decision.detail)"))
        }
    }
}
