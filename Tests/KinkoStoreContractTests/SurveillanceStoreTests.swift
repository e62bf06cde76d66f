import Foundation
import KinkoCore
import KinkoGovernance
import KinkoMonitoring
import KinkoStores
import KinkoSurveillance
import Testing

@Suite("Market surveillance on every database", .serialized)
struct SurveillanceStoreTests {
    static let now: Int64 = Int64(MonitoringEndToEndTests.start / 1_000_000)

    // Goal: nothing is scanned before compliance puts a rule set in force under approval; the
    // operator's stream is checked line by line (bad lines named, stored nowhere); the scan
    // raises the spoofing scheme once — again, and after a restart, nothing new; alerts are read
    // by compliance and auditors, not by the operator; the pre-trade check refuses staff in the
    // blackout of the insider list in force.
    @Test(arguments: Backend.configured) func theStreamIsKeptScannedOnceAndChecked(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            let surveillance = Surveillance(monitoring: w.monitoring)
            let stream = ExampleStream.spoofing(endingAt: Self.now - 60_000, staff: "S1", household: "H1", spoofer: "X1")
            let bad = [
                #"{"record":"order","time":1,"order_id":900,"account_id":"X1","market":"ABC/JPY","side":"buy","type":"limit","price":"1","quantity":"1","event":"new","filled_quantity":"0"}"#,
                #"{"record":"order","time":1,"order_id":901,"account_id":"X1","market":"XYZ/JPY","side":"buy","type":"limit","price":"12.345","quantity":"1","event":"new","filled_quantity":"0"}"#,
                #"{"record":"trade","time":1}"#,
                #"{"record":"quote"}"#,
            ]
            let refused = await #expect(throws: KinkoError.self) { try await surveillance.ingest(ndjson: stream, by: w.compliance) }
            #expect(refused?.code == .forbidden)
            let results = try await surveillance.ingest(ndjson: stream + "\n" + bad.joined(separator: "\n"), by: w.exchange)
            let lines = stream.split(separator: "\n").count
            #expect(results.filter { $0.status == .accepted }.count == lines)
            #expect(results.filter { $0.status == .rejected }.map { "\($0.line) \($0.field ?? "") \($0.message ?? "")" } == [
                "\(lines + 1) market market \"ABC/JPY\" is not in markets",
                "\(lines + 2) price a limit order's price must be a positive multiple of the tick size 0.01",
                "\(lines + 3) trade_id is required: a string or a number",
                "\(lines + 4) record must be one of account, announcement, link, market, order, restricted, trade",
            ])
            // The market is known now; defining it again the same way is fine, otherwise not.
            let again = try await surveillance.ingest(ndjson: #"{"record":"market","market":"XYZ/JPY","base":"XYZ","quote":"JPY","tick_size":"0.1","lot_size":"0.0001"}"#,
                                                      by: w.exchange)
            #expect(again.first?.message == "market XYZ/JPY is already defined with other increments")

            let early = await #expect(throws: KinkoError.self) { try await surveillance.scan(by: w.exchange) }
            #expect(early?.code == .notFound)
            let (rules, request) = try await surveillance.ruleSets.propose(yaml: SurveillanceRules.defaultYAML, by: w.compliance)
            let unapproved = await #expect(throws: KinkoError.self) { try await surveillance.ruleSets.adopt(version: rules.version, by: w.compliance) }
            #expect(unapproved?.code == .approvalRequired)
            _ = try await w.f.approve(request.id, by: w.compliance2, key: w.compliance2Key)
            _ = try await surveillance.ruleSets.adopt(version: rules.version, by: w.compliance)

            let first = try await surveillance.scan(by: w.exchange)
            #expect(first.orderEvents == 31 && first.trades == 5 && first.raised.count == 1)
            #expect(try await surveillance.scan(by: w.exchange).raised.isEmpty)
            #expect(try await Surveillance(monitoring: w.monitoring).scan(by: w.exchange).raised.isEmpty)
            let alerts = try await surveillance.alerts(by: w.auditor)
            #expect(alerts.map(\.typology) == ["spoofing"])
            let alert = try #require(alerts.first)
            #expect(alert.accounts == ["X1"] && alert.market == "XYZ/JPY" && alert.ruleSetVersion == rules.version)
            #expect(alert.figures.first { $0.name == "repetitions" }?.value == 4)
            #expect(try await surveillance.alert(alert.id, by: w.compliance) == alert)
            let operatorRead = await #expect(throws: KinkoError.self) { try await surveillance.alerts(by: w.exchange) }
            #expect(operatorRead?.code == .forbidden)

            let list = InsiderList(version: "insiders-test", preClearanceRequired: false, staff: ["S1"], households: [["H1", "S1"]], restricted: [],
                                   blackouts: [Blackout(market: "XYZ/JPY", from: Self.now - 1, to: Self.now + 1, reason: "AN1")], preClearances: [])
            let (_, listRequest) = try await surveillance.insiderLists.propose(yaml: list.yaml, by: w.compliance)
            _ = try await w.f.approve(listRequest.id, by: w.compliance2, key: w.compliance2Key)
            _ = try await surveillance.insiderLists.adopt(version: list.version, by: w.compliance)
            let (staff, version) = try await surveillance.preTrade(PreTradeRequest(account: "S1", market: "XYZ/JPY", side: .buy, time: Self.now), by: w.exchange)
            #expect(staff.reason == .blackout && version == "insiders-test")
            #expect(try await surveillance.preTrade(PreTradeRequest(account: "H1", market: "XYZ/JPY", side: .sell, time: Self.now + 1), by: w.exchange).decision.reason
                == .linkedToEmployeeInBlackout)
            #expect(try await surveillance.preTrade(PreTradeRequest(account: "X1", market: "XYZ/JPY", side: .buy, time: Self.now), by: w.exchange).decision.allowed)

            // Who knew what, when: reading an announcement not yet public is on the audit record.
            let news = [
                #"{"record":"announcement","announcement_id":"AN-PAST","market":"XYZ/JPY","kind":"partnership","known_from":\#(Self.now - 9_000_000),"published_at":\#(Self.now - 3_600_000),"description":"XYZ partners"}"#,
                #"{"record":"announcement","announcement_id":"AN-NEXT","market":"XYZ/JPY","kind":"listing_elsewhere","known_from":\#(Self.now - 60_000),"published_at":\#(Self.now + 86_400_000),"description":"XYZ to list abroad"}"#,
            ]
            #expect(try await surveillance.ingest(ndjson: news.joined(separator: "\n"), by: w.exchange).allSatisfy { $0.status == .accepted })
            let before = try await w.f.governance.auditEntries(from: 0, limit: nil, by: w.auditor).size
            let views = try await surveillance.announcements(by: w.compliance)
            #expect(views.map(\.announcement) == ["AN-NEXT", "AN-PAST"] && views.map(\.undisclosed) == [true, false])
            let log = try await w.f.governance.auditEntries(from: before, limit: nil, by: w.auditor).entries.map { String(decoding: $0.bytes, as: UTF8.self) }
            #expect(log.count == 1 && log.first?.contains("AN-NEXT") == true && log.first?.contains("takahashi.compliance") == true && log.first?.contains("AN-PAST") == false)
            // The scan reads the detectors' look-back (30 days here): a batch ingested 30 days ago is in, one second more and it is out.
            w.f.clock.advance(seconds: 30 * 86_400)
            #expect(try await surveillance.scan(by: w.exchange).orderEvents == 31)
            w.f.clock.advance(seconds: 1)
            #expect(try await surveillance.scan(by: w.exchange).orderEvents == 0)
        }
    }
    // Goal: market alerts join monitoring's queue once, on the customer behind the account; a
    // case holds them and its STR draft names the market activity and the orders; the market
    // alert shows where it stands in the queue; an alert a failed scan kept but did not queue
    // (stored, then the process died) is queued by the next scan.
    @Test(arguments: Backend.configured) func marketAlertsJoinTheAlertQueueCasesAndSTRs(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            let surveillance = Surveillance(monitoring: w.monitoring)
            let stream = ExampleStream.spoofing(endingAt: Self.now - 60_000, staff: "S1", household: "H1", spoofer: "X1", customers: ["X1": "C0001234"])
            #expect(try await surveillance.ingest(ndjson: stream, by: w.exchange).allSatisfy { $0.status == .accepted })
            let (rules, request) = try await surveillance.ruleSets.propose(yaml: SurveillanceRules.defaultYAML, by: w.compliance)
            _ = try await w.f.approve(request.id, by: w.compliance2, key: w.compliance2Key)
            _ = try await surveillance.ruleSets.adopt(version: rules.version, by: w.compliance)

            // The crash: the scan's alert kept, the process gone before it reached the queue.
            let dataset = try MarketDataset(lines: try stream.split(separator: "\n").map { try StreamLine.parse($0) })
            let found = SurveillanceEngine.run(dataset, rules: rules)
            #expect(found.count == 1)
            let kept = StoredSurveillanceAlert(try #require(found.first), dataset: dataset, ruleSetVersion: rules.version, raisedAt: w.f.clock.now())
            #expect(try await w.f.governance.store.write([try surveillance.alertRecords.insert(kept.id, kept, tag: kept.typology)], at: w.f.clock.now(),
                                                         audit: w.exchange.event(.monitorIngest, role: .operator, digest: [], result: "1 alerts")))
            #expect(try await surveillance.alert(kept.id, by: w.compliance).status == "not_queued")

            let scan = try await surveillance.scan(by: w.exchange)
            #expect(scan.raised.isEmpty && scan.queued.map(\.surveillanceAlert) == [kept.id])
            let queueID = try #require(scan.queued.first?.alert)
            #expect(try await surveillance.scan(by: w.exchange).queued.isEmpty)
            let queued = try await w.monitoring.alert(queueID, by: w.compliance)
            #expect(queued.event == "market:" + kept.id && queued.customer == 1234 && queued.status == .open && queued.ruleSetVersion == rules.version)
            #expect(queued.hits.map(\.rule) == ["market_spoofing"] && queued.hits[0].values["accounts"] == "X1" && queued.hits[0].values["customer_ids"] == "C0001234")
            #expect(queued.hits[0].events == kept.orders.map { "order:\($0)" } + kept.trades.map { "trade:\($0)" })
            var read = try await surveillance.alert(kept.id, by: w.auditor)
            #expect(read.status == "open" && read.queueAlert == queueID && read.caseID == nil && read.customers == ["C0001234"])

            let record = try await w.monitoring.openCase(title: "XYZ/JPY spoofing by X1", alerts: [queueID], assignee: w.compliance.name, by: w.compliance)
            read = try await surveillance.alert(kept.id, by: w.compliance)
            #expect(read.status == "in_case" && read.caseID == record.id)
            #expect(try await surveillance.alerts(by: w.compliance).map(\.status) == ["in_case"])
            let draft = try await w.monitoring.draftSTR(case: record.id, by: w.compliance)
            #expect(draft.subjects == [1234])
            #expect(draft.marketActivity.map(\.activity.surveillanceAlert) == [kept.id] && draft.marketActivity[0].activity.accounts.map(\.account) == ["X1"])
            #expect(draft.text.contains("Transactions: market:\(kept.id), " + kept.orders.map { "order:\($0)" }.joined(separator: ", ")))
        }
    }
    // Goal: an employee's pre-clearance request is decided by another compliance officer (never
    // the requester, never the operator), only for staff, for at most 5 days, never across a
    // blackout; the pre-trade check honours an approval for that market and side only; every
    // step and refusal is on the audit record; each person lists their own requests.
    @Test(arguments: Backend.configured) func preClearanceRequestsAreDecidedByAnotherOfficer(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await MonitoringEndToEndTests.world(harness, adopt: false)
            let surveillance = Surveillance(monitoring: w.monitoring)
            let now = Self.now, day: Int64 = 86_400_000
            let early = await #expect(throws: KinkoError.self) {
                try await surveillance.requestPreClearance(account: "S1", market: "ABC/JPY", side: "buy", from: now, to: now + day, reason: "rebalance", by: w.compliance)
            }
            #expect(early?.code == .notFound && early?.field == "insiders")
            let list = InsiderList(version: "insiders-pc", preClearanceRequired: true, staff: ["S1"], households: [], restricted: [],
                                   blackouts: [Blackout(market: "XYZ/JPY", from: now + day, to: now + 2 * day, reason: "AN9: XYZ listing")], preClearances: [])
            let (_, listRequest) = try await surveillance.insiderLists.propose(yaml: list.yaml, by: w.compliance)
            _ = try await w.f.approve(listRequest.id, by: w.compliance2, key: w.compliance2Key)
            _ = try await surveillance.insiderLists.adopt(version: list.version, by: w.compliance)
            let ask = PreTradeRequest(account: "S1", market: "ABC/JPY", side: .buy, time: now + 1)
            #expect(try await surveillance.preTrade(ask, by: w.exchange).decision.reason == .noPreClearance)

            func request(_ account: String, _ market: String, _ from: Int64, _ to: Int64, by caller: Caller) async throws -> PreClearanceRequest {
                try await surveillance.requestPreClearance(account: account, market: market, side: "buy", from: from, to: to, reason: "rebalance", by: caller)
            }
            let notStaff = await #expect(throws: KinkoError.self) { try await request("S9", "ABC/JPY", now, now + day, by: w.compliance) }
            #expect(notStaff?.field == "account")
            let tooLong = await #expect(throws: KinkoError.self) { try await request("S1", "ABC/JPY", now, now + 5 * day + 1, by: w.compliance) }
            #expect(tooLong?.code == .limitExceeded && tooLong?.field == "to")
            let extreme = await #expect(throws: KinkoError.self) { try await request("S1", "ABC/JPY", Int64.min, Int64.max, by: w.compliance) }
            #expect(extreme?.field == "from")
            let past = await #expect(throws: KinkoError.self) { try await request("S1", "ABC/JPY", now, MarketDataset.timeMax + 1, by: w.compliance) }
            #expect(past?.field == "to")
            let over = await #expect(throws: KinkoError.self) { try await request("S1", "ABC/JPY", now - 2 * day, now - day, by: w.compliance) }
            #expect(over?.field == "to")
            let badSide = await #expect(throws: KinkoError.self) {
                try await surveillance.requestPreClearance(account: "S1", market: "ABC/JPY", side: "short", from: now, to: now + day, reason: "x", by: w.compliance)
            }
            #expect(badSide?.field == "side")
            let first = try await request("S1", "ABC/JPY", now, now + 5 * day, by: w.compliance)
            #expect(first.id == 1 && first.status == .pending && first.requestedBy == w.compliance.name)

            let own = await #expect(throws: KinkoError.self) { try await surveillance.decidePreClearance(1, approve: true, note: nil, by: w.compliance) }
            #expect(own?.code == .forbidden)
            let engine = await #expect(throws: KinkoError.self) { try await surveillance.decidePreClearance(1, approve: true, note: nil, by: w.exchange) }
            #expect(engine?.code == .forbidden)
            let before = try await w.f.governance.auditEntries(from: 0, limit: nil, by: w.auditor).size
            let approved = try await surveillance.decidePreClearance(1, approve: true, note: "no deal in ABC", by: w.compliance2)
            #expect(approved.status == .approved && approved.decidedBy == w.compliance2.name && approved.decisionNote == "no deal in ABC")
            let log = try await w.f.governance.auditEntries(from: before, limit: nil, by: w.auditor).entries.map { String(decoding: $0.bytes, as: UTF8.self) }
            #expect(log.count == 1 && log[0].contains("surveil.preclearance.decide") && log[0].contains("approved"))
            let again = await #expect(throws: KinkoError.self) { try await surveillance.decidePreClearance(1, approve: false, note: "changed my mind", by: w.compliance2) }
            #expect(again?.code == .conflict)

            // A check that loads the list now honours it: that market and side, within the window.
            let fresh = Surveillance(monitoring: w.monitoring)
            #expect(try await fresh.preTrade(ask, by: w.exchange).decision.allowed)
            #expect(try await fresh.preTrade(PreTradeRequest(account: "S1", market: "ABC/JPY", side: .sell, time: now + 1), by: w.exchange).decision.reason == .noPreClearance)
            #expect(try await fresh.preTrade(PreTradeRequest(account: "S1", market: "ABC/JPY", side: .buy, time: now + 5 * day + 1), by: w.exchange).decision.reason
                == .noPreClearance)

            // Across a blackout: not approvable; a denial says why.
            let blocked = try await request("S1", "XYZ/JPY", now, now + day + 1, by: w.compliance)
            let lifted = await #expect(throws: KinkoError.self) { try await surveillance.decidePreClearance(blocked.id, approve: true, note: nil, by: w.compliance2) }
            #expect(lifted?.code == .conflict && lifted?.message.contains("blackout") == true)
            let silent = await #expect(throws: KinkoError.self) { try await surveillance.decidePreClearance(blocked.id, approve: false, note: nil, by: w.compliance2) }
            #expect(silent?.field == "note")
            #expect(try await surveillance.decidePreClearance(blocked.id, approve: false, note: "XYZ is in blackout from tomorrow", by: w.compliance2).status == .denied)

            #expect(try await surveillance.preClearanceRequests(by: w.compliance2).map(\.id) == [2, 1])
            #expect(try await surveillance.preClearanceRequests(status: .approved, by: w.auditor).map(\.id) == [1])
            #expect(try await surveillance.preClearanceRequests(by: w.exchange).isEmpty)
        }
    }
}
