import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoReports
import KinkoSQLite

/// The monitoring part of the demo day: the default rule set proposed by compliance and
/// approved by a second compliance officer, KYC profiles and an OFAC-style ETH list approved
/// the same way, a batch of the day's other events evaluated (a split deposit, money sent
/// round three customers, logins, a malformed line), and the sanctions alert of the blocked withdrawal worked through a case to
/// an STR draft and closed.
enum DemoMonitoring {
    static let sanctionedETH = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"

    /// The default rule set proposed by compliance and approved by a second compliance officer,
    /// KYC profiles, and the OFAC ETH list (proposed, approved, activated).
    static func goLive(_ monitoring: Monitoring, compliance: Caller, reviewer: (Caller, LocalSigningKey)) async throws {
        guard try await monitoring.ruleSets.versions(by: compliance).isEmpty else { return }
        let (rules, request) = try await monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await DemoSigners.approve(request.id, governance: monitoring.governance, by: [reviewer])
        _ = try await monitoring.ruleSets.adopt(version: rules.version, by: compliance)
        let csv = "customer,name,country,declared_income_jpy,declared_assets_jpy\n"
            + DemoBook.customers.map { "\($0.id),\($0.name) Taro,JP,6000000,4000000" }.joined(separator: "\n")
        _ = try await monitoring.importProfiles(csv: csv, by: compliance)
        let ofac = try AddressList(kind: .sanctioned, asset: "ETH", version: "ofac-sdn-2026-11-14", text: sanctionedETH + "\n")
        let listRequest = try await monitoring.proposeList(ofac, by: compliance)
        try await DemoSigners.approve(listRequest.id, governance: monitoring.governance, by: [reviewer])
        try await monitoring.activateList(ofac, request: listRequest.id, by: compliance)
        print("\nmonitoring: rule set \(rules.version) live (proposed by \(compliance.name), approved by \(reviewer.0.name)); \(DemoBook.customers.count) KYC profiles; OFAC ETH list with 1 address (approved by \(reviewer.0.name) too)")
    }

    /// The day's other events (logins, trades, a deposit split under ¥2,000,000 three times,
    /// a cycle of transfers between three customers, a malformed line), and the sanctions alert of the blocked withdrawal worked to an STR.
    static func run(_ monitoring: Monitoring, reports: Reports, compliance: Caller, reviewer: (Caller, LocalSigningKey), exchange: Caller,
                    clock: ManualWallClock) async throws {
        guard try await monitoring.cases(limit: 1, by: compliance).cases.isEmpty else {
            print("\nmonitoring: already worked — kinko monitor alerts / kinko monitor cases (as compliance)")
            return
        }
        let start = clock.now() - 3 * 3_600_000_000_000  // the day's events, evaluated as they came in
        func at(_ minutes: UInt64) -> String { (start + minutes * 60_000_000_000).iso8601 }
        let events = [
            #"{"id":"demo-login-1","kind":"login","customer":1001,"time":"\#(at(1))","ip":"203.0.113.7","country":"JP"}"#,
            #"{"id":"demo-trade-1","kind":"trade","customer":1002,"time":"\#(at(2))","asset":"BTC","amount_jpy":450000}"#,
            #"{"id":"demo-dep-1","kind":"deposit","customer":1005,"time":"\#(at(3))","asset":"JPY","amount_jpy":1950000}"#,
            // Money sent round three customers who never paid each other before: a cycle.
            #"{"id":"demo-ring-1","kind":"internal_transfer","customer":1002,"counterparty_customer":1003,"time":"\#(at(20))","asset":"JPY","amount_jpy":800000}"#,
            #"{"id":"demo-ring-2","kind":"internal_transfer","customer":1003,"counterparty_customer":1004,"time":"\#(at(26))","asset":"JPY","amount_jpy":790000}"#,
            #"{"id":"demo-ring-3","kind":"internal_transfer","customer":1004,"counterparty_customer":1002,"time":"\#(at(33))","asset":"JPY","amount_jpy":780000}"#,
            #"{"id":"demo-dep-2","kind":"deposit","customer":1005,"time":"\#(at(40))","asset":"JPY","amount_jpy":1980000}"#,
            #"{"id":"demo-dep-3","kind":"deposit","customer":1005,"time":"\#(at(95))","asset":"JPY","amount_jpy":1900000}"#,
            #"{"id":"demo-login-2","kind":"login","customer":1006,"time":"\#(at(100))","ip":"198.51.100.23","country":"SG"}"#,
            #"{"id":"demo-bad-1","kind":"withdrawal","customer":1007,"time":"\#(at(111))","asset":"BTC","amount_jpy":"lots","address":"bc1qdemo"}"#,
        ].joined(separator: "\n")
        let results = try await monitoring.ingest(ndjson: events, by: exchange)
        print("ingested \(results.count) lines:")
        for r in results {
            let verdict = r.status == .rejected ? "rejected — \(r.message ?? "")" : "\(r.outcome?.rawValue ?? "-")\(r.rules.isEmpty ? "" : " (\(r.rules.joined(separator: ", ")))")\(r.alert.map { " → alert \($0)" } ?? "")"
            print("  line \(r.line) \(r.event ?? "?"): \(verdict)")
        }
        guard let sanctionsAlert = try await monitoring.alerts(status: .open, limit: 1_000, by: compliance)
            .first(where: { $0.hits.contains { $0.rule == "sanctioned_address" } && $0.event.hasPrefix("withdrawal-") })?.id
        else { return }
        print("\n" + (try await monitoring.alert(sanctionsAlert, by: compliance)).text)

        clock.advance(seconds: 600)
        let opened = try await monitoring.openCase(title: "Withdrawal to an OFAC-listed ETH address", alerts: [sanctionsAlert], assignee: reviewer.0.name,
                                                   by: compliance)
        _ = try await monitoring.updateCase(opened.id, .investigate, by: reviewer.0)
        _ = try await monitoring.updateCase(opened.id, .note("Withdrawal held before broadcast; the address is on OFAC's SDN list. Customer contacted."), by: reviewer.0)
        let draft = try await monitoring.draftSTR(case: opened.id, by: reviewer.0)
        print("\ncase \(opened.id) opened by \(compliance.name), assigned to \(reviewer.0.name); STR draft:\n")
        print(draft.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        // The STR in the FIU's form: generated by the reviewer, approved by the officer who
        // opened the case, filed through e-Gov (the reference recorded), and only then closed.
        let period = ReportPeriod.caseRecord(opened.id)
        let str = try await reports.generate(.str, period, by: reviewer.0)
        _ = try await reports.approve(.str, period, by: compliance)
        let filed = try await reports.file(case: opened.id, reference: "JAFIC-DEMO-\(opened.id)", by: reviewer.0)
        print("\nSTR of case \(opened.id): generated by \(reviewer.0.name) (SHA-256 \(str.record.sha256.prefix(16))…), approved by \(compliance.name), filed as \(filed.filing?.reference ?? "") — kinko report show str --case \(opened.id) --format html --lang ja")
        _ = try await monitoring.updateCase(opened.id, .close(.strFiled), by: reviewer.0)
        print("case \(opened.id) closed: str_filed — the alert is resolved; the other alerts (structuring, the quarantined deposit, income checks) wait in the queue (kinko monitor alerts --status open)")
    }
}
