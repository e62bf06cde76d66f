import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoStores
import Testing

@Suite("The network scan on stored transfers, on every database", .serialized)
struct NetworkScanStoreTests {
    static let day: TimestampNanoseconds = 86_400_000_000_000

    /// 60 customers each paying their neighbour every 5 days for 50 days (60 relationships that
    /// repeat: the settle window is learnt as 4 × 5 = 20 days), then customer 900 paying five
    /// customers it never paid before, once each, on five days in a row — all well before now.
    static func stream() -> String {
        let base = MonitoringEndToEndTests.start - 150 * day
        var lines: [String] = []
        func transfer(_ id: String, _ from: UInt64, _ to: UInt64, _ time: TimestampNanoseconds) {
            lines.append(#"{"id":"\#(id)","kind":"internal_transfer","customer":\#(from),"counterparty_customer":\#(to),"time":"\#(time.iso8601)","asset":"JPY","amount_jpy":50000}"#)
        }
        for step in UInt64(0)..<10 {
            for a in UInt64(1)...60 { transfer("b\(step)-\(a)", a, a % 60 + 1, base + step * 5 * day + a * 60_000_000_000) }
        }
        for n in UInt64(0)..<5 { transfer("f\(n)", 900, 901 + n, base + (60 + n) * day) }
        return lines.joined(separator: "\n")
    }

    /// The default rule set with room for every motif in a world of 66 customers.
    static func adoptGenerousBudget(_ w: MonitoringEndToEndTests.World) async throws {
        let yaml = MonitoringRules.defaultYAML.replacingOccurrences(of: "2026.3-default", with: "network-test")
            .replacingOccurrences(of: "alert_budget: 2.0", with: "alert_budget: 1000.0")
        let (_, request) = try await w.monitoring.ruleSets.propose(yaml: yaml, by: w.compliance)
        _ = try await w.f.approve(request.id, by: w.compliance2, key: w.compliance2Key)
        _ = try await w.monitoring.ruleSets.adopt(version: "network-test", by: w.compliance)
    }

    // Goal: transfers between customers are kept as they are evaluated; the scan reads them back
    // and raises the fan-out of customer 900 as one open alert naming the hub and its five
    // payees, their five transfers, the score and every feature; a second run, and a run by a
    // fresh Monitoring over the same database (a restart), raise nothing again; only the
    // operator may run it.
    @Test(arguments: Backend.configured) func theScanRaisesEachMotifOnce(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            try await Self.adoptGenerousBudget(w)
            let results = try await w.monitoring.ingest(ndjson: Self.stream(), by: w.exchange)
            #expect(results.count == 605 && results.allSatisfy { $0.status == .evaluated })
            let stored = try await w.f.stores.monitoring.customerTransfers(after: nil, limit: 1_000)
            #expect(stored.count == 605 && stored.first == CustomerTransfer(event: "b0-1", from: 1, to: 2, time: MonitoringEndToEndTests.start - 150 * Self.day + 60_000_000_000))
            let page = try await w.f.stores.monitoring.customerTransfers(after: (stored[599].time, stored[599].event), limit: 3)
            #expect(page == Array(stored[600..<603]))

            let refused = await #expect(throws: KinkoError.self) { try await w.monitoring.scanNetwork(by: w.compliance) }
            #expect(refused?.code == .forbidden)

            let first = try await w.monitoring.scanNetwork(by: w.exchange)
            #expect(first.transfers == 605 && first.ruleSetVersion == "network-test" && first.withinBudget == 1)
            #expect(first.settleDays.map { abs($0 - 20) / 20 < 0.035 } == true)
            let raised = try #require(first.raised.first)
            let id = raised.alert
            #expect(first.raised.count == 1 && raised.motif == "network:hub:900")
            let alert = try await w.monitoring.alert(id, by: w.auditor)
            #expect(alert.status == .open && alert.outcome == .review && alert.customer == 900 && alert.ruleSetVersion == "network-test")
            let hit = try #require(alert.hits.first)
            #expect(hit.rule == "network_fan_out" && hit.customers == [900, 901, 902, 903, 904, 905] && hit.events == ["f0", "f1", "f2", "f3", "f4"])
            #expect(hit.values["members"] == "6" && hit.values["score"] != nil && NetworkFeatures.names.allSatisfy { hit.values[$0] != nil })

            let second = try await w.monitoring.scanNetwork(by: w.exchange)
            #expect(second.withinBudget == 1 && second.raised.isEmpty)
            let restarted = Monitoring(governance: w.f.governance, store: w.f.stores.monitoring, clock: w.f.clock)
            #expect(try await restarted.scanNetwork(by: w.exchange).raised.isEmpty)
            let network = try await w.monitoring.alerts(status: nil, limit: 1_000, by: w.compliance).filter { $0.hits.contains { $0.rule.hasPrefix("network_") } }
            #expect(network.map(\.id) == [id])
        }
    }

    /// Customer 900 paying customers it never paid before, once each (`g<n>` to 901 + n), on
    /// days after the first five: the fan-out found by the first scan growing.
    static func moreStrangers(_ range: ClosedRange<UInt64>) -> String {
        let base = MonitoringEndToEndTests.start - 150 * day
        return range.map { n in
            #"{"id":"g\#(n)","kind":"internal_transfer","customer":900,"counterparty_customer":\#(901 + n),"time":"\#((base + (60 + n) * day).iso8601)","asset":"JPY","amount_jpy":50000}"#
        }.joined(separator: "\n")
    }

    // Goal: a motif that grows after it was alerted updates its alert rather than going
    // unseen. While the alert is open, the scan appends a hit naming the hub and only the new
    // payees and transfers (the first hit, the evidence first raised, is left as it was), once;
    // after the alert is dismissed, further growth is raised as a new alert keyed
    // `network:hub:900:after:<id>`, naming only what the dismissed alert did not; reruns and a
    // fresh Monitoring add nothing; each growth is audited.
    @Test(arguments: Backend.configured) func aMotifThatGrowsUpdatesItsAlert(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            try await Self.adoptGenerousBudget(w)
            _ = try await w.monitoring.ingest(ndjson: Self.stream(), by: w.exchange)
            let id = try #require(try await w.monitoring.scanNetwork(by: w.exchange).raised.first).alert
            let first = try await w.monitoring.alert(id, by: w.auditor).hits

            _ = try await w.monitoring.ingest(ndjson: Self.moreStrangers(5...6), by: w.exchange)
            let grew = try await w.monitoring.scanNetwork(by: w.exchange)
            #expect(grew.raised.isEmpty && grew.grown == [RaisedAlert(motif: "network:hub:900", alert: id)])
            let hits = try await w.monitoring.alert(id, by: w.auditor).hits
            #expect(hits.count == 2 && hits[0] == first[0])
            #expect(hits[1].rule == "network_fan_out" && hits[1].customers == [900, 906, 907] && hits[1].events == ["g5", "g6"])
            #expect(hits[1].values["new_members"] == "2" && hits[1].values["new_transfers"] == "2" && hits[1].values["members"] == "8")
            #expect(hits[1].explanation.hasPrefix("the motif grew since it was alerted: 2 more accounts, 2 more transfers"))
            // A scan that read the alert before this growth (a concurrent one) writes nothing.
            let stale = w.exchange.event(.monitorIngest, role: .operator, digest: [], result: "alert_grew")
            #expect(try await w.f.stores.monitoring.appendAlertHit(id, after: first, hit: hits[1], audit: stale) == false)
            let again = try await w.monitoring.scanNetwork(by: w.exchange)
            #expect(again.raised.isEmpty && again.grown.isEmpty)
            let restarted = Monitoring(governance: w.f.governance, store: w.f.stores.monitoring, clock: w.f.clock)
            #expect(try await restarted.scanNetwork(by: w.exchange).grown.isEmpty)
            #expect(try await w.monitoring.alert(id, by: w.auditor).hits.count == 2)

            #expect(try await w.monitoring.dismiss(id, reason: "payroll of a new shop", by: w.compliance) == .dismissed)
            #expect(try await w.monitoring.scanNetwork(by: w.exchange).raised.isEmpty)
            _ = try await w.monitoring.ingest(ndjson: Self.moreStrangers(7...7), by: w.exchange)
            let after = try await w.monitoring.scanNetwork(by: w.exchange)
            let next = try #require(after.raised.first)
            #expect(after.raised.count == 1 && after.grown.isEmpty && next.motif == "network:hub:900:after:\(id)" && next.alert > id)
            let raised = try await w.monitoring.alert(next.alert, by: w.auditor)
            #expect(raised.status == .open && raised.customer == 900 && raised.hits.count == 1)
            #expect(raised.hits[0].customers == [900, 908] && raised.hits[0].events == ["g7"] && raised.hits[0].values["members"] == "9")
            #expect(raised.hits[0].explanation.hasPrefix("the motif grew since alert \(id) was dismissed: 1 more accounts, 1 more transfers"))
            #expect(try await w.monitoring.alert(id, by: w.auditor).hits.count == 2)
            let last = try await w.monitoring.scanNetwork(by: w.exchange)
            #expect(last.raised.isEmpty && last.grown.isEmpty)

            let audit = try await w.f.governance.store.auditEntries(from: 0, limit: 100_000).map { try AuditEntry(bytes: $0.bytes).event }
            #expect(audit.filter { $0.result == "alert_grew" }.map(\.details) == [["alert": String(id), "motif": "network:hub:900", "accounts": "2", "transfers": "2",
                                                                                      "rule_set": "network-test"]])
        }
    }

    // Goal: what the console draws comes from the store: an alert's flows are the stored
    // transfers its hits name (unknown events have none), the alerts raised per JST day add up
    // to every alert, and names come only to those who may read customers' records — each read
    // at its limits.
    @Test(arguments: Backend.configured) func anAlertsFlowsAndTheDailyVolumeComeFromTheStore(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            try await Self.adoptGenerousBudget(w)
            _ = try await w.monitoring.ingest(ndjson: Self.stream(), by: w.exchange)
            let id = try #require(try await w.monitoring.scanNetwork(by: w.exchange).raised.first).alert
            let (alert, flows) = try await w.monitoring.alertFlows(id, by: w.auditor)
            #expect(alert.id == id && flows.map(\.event) == ["f0", "f1", "f2", "f3", "f4"])
            #expect(flows.allSatisfy { $0.from == 900 } && flows.map(\.to) == [901, 902, 903, 904, 905])
            #expect(try await w.f.stores.monitoring.customerTransfers(events: ["f4", "no-such-event", "b0-1"]).map(\.event).sorted() == ["b0-1", "f4"])
            #expect(try await w.f.stores.monitoring.customerTransfers(events: []).isEmpty)
            let missing = await #expect(throws: KinkoError.self) { try await w.monitoring.alertFlows(999_999, by: w.auditor) }
            #expect(missing?.code == .notFound)

            let all = try await w.monitoring.alerts(status: nil, limit: 1_000, by: w.compliance)
            let now = w.f.clock.now()
            let today = Int64((now / 1_000_000_000 + 32_400) / 86_400)
            let perDay = try await w.monitoring.alertsRaisedPerDay(days: 90, now: now, by: w.auditor)
            #expect(!all.isEmpty && perDay.values.reduce(0, +) == all.count && perDay.keys.allSatisfy { $0 > today - 90 && $0 <= today })
            // A window that ends before the alerts were raised counts none; one that starts after, too.
            #expect(try await w.monitoring.alertsRaisedPerDay(days: 1, now: now + 2 * Self.day, by: w.auditor).isEmpty)
            _ = try await w.monitoring.alertsRaisedPerDay(days: Monitoring.volumeDaysMax, now: now, by: w.auditor)
            for days in [0, Monitoring.volumeDaysMax + 1] {
                let refused = await #expect(throws: KinkoError.self) { try await w.monitoring.alertsRaisedPerDay(days: days, now: now, by: w.auditor) }
                #expect(refused?.field == "days")
            }

            let csv = "customer,name,country,declared_income_jpy,declared_assets_jpy\n900,Kobayashi Ken,JP,5000000,1000000\n"
            _ = try await w.monitoring.importProfiles(csv: csv, by: w.compliance)
            #expect(try await w.monitoring.customerNames([900, 901, 0, 900], by: w.auditor) == [900: "Kobayashi Ken"])
            _ = try await w.monitoring.customerNames(Array(1...UInt64(Monitoring.namesPerReadMax)), by: w.auditor)
            let tooMany = await #expect(throws: KinkoError.self) {
                try await w.monitoring.customerNames(Array(1...UInt64(Monitoring.namesPerReadMax + 1)), by: w.auditor)
            }
            #expect(tooMany?.field == "customers")
            let (treasurer, _) = try await w.f.person("kato.treasury", [.treasurer])
            let refused = await #expect(throws: KinkoError.self) { try await w.monitoring.customerNames([900], by: treasurer) }
            #expect(refused?.code == .forbidden)
        }
    }

    // Goal: with a rule set that has no network section the scan says so and raises nothing.
    @Test(arguments: Backend.configured) func aRuleSetWithoutNetworkSectionIsNamed(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            let base = MonitoringRules.defaultYAML.replacingOccurrences(of: "2026.3-default", with: "no-network")
            let yaml = String(base[..<base.range(of: "network:\n")!.lowerBound])
            let (_, request) = try await w.monitoring.ruleSets.propose(yaml: yaml, by: w.compliance)
            _ = try await w.f.approve(request.id, by: w.compliance2, key: w.compliance2Key)
            _ = try await w.monitoring.ruleSets.adopt(version: "no-network", by: w.compliance)
            let error = await #expect(throws: KinkoError.self) { try await w.monitoring.scanNetwork(by: w.exchange) }
            #expect(error?.code == .conflict && error?.field == "network")
        }
    }
}
