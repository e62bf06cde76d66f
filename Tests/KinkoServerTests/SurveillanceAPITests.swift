import Foundation
import HTTPTypes
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoServer
import KinkoSurveillance
import Testing

/// The matching engine's pre-trade check over HTTP, under the insider list compliance adopted.
@Suite("Pre-trade check over HTTP")
struct SurveillanceAPITests {
    static let list = """
        version: insiders-test
        pre_clearance_required: false
        staff: ["A-STAFF"]
        households:
          - ["A-STAFF", "A-SPOUSE"]
        restricted:
          - {account: "A-DEAL", market: "XYZ/JPY", from: 1000, to: 2000, reason: "deal team for AN1"}
        blackouts:
          - {market: "KBT/JPY", from: 5000, to: 9000, reason: "AN2: listing elsewhere"}
        pre_clearances: []

        """

    @Test("refuses the restricted list and a blackout's staff and household, allows the rest, and names the list it used")
    func decisions() async throws {
        let f = try await ServerFixture()
        let before = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: #"{"account":"A-DEAL","market":"XYZ/JPY","side":"buy","time":1500}"#)
        #expect(before.status == .notFound)
        // Compliance proposes, a second compliance officer approves, then it is adopted.
        let compliance = try #require(f.callers[.compliance])
        let (_, request) = try await f.services.surveillance.insiderLists.propose(yaml: Self.list, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.surveillance.insiderLists.adopt(version: "insiders-test", by: compliance)

        func ask(_ account: String, _ market: String, _ time: Int) async throws -> [String: Any] {
            let answer = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator,
                                          json: #"{"account":"\#(account)","market":"\#(market)","side":"buy","time":\#(time)}"#)
            #expect(answer.status == .ok, "\(answer.text)")
            return answer.json
        }
        // Adoption is seen within the refresh period (the 404 above loaded nothing).
        let deal = try await ask("A-DEAL", "XYZ/JPY", 1500)
        #expect(deal["allowed"] as? Bool == false)
        #expect(deal["reason"] as? String == "restricted_list")
        #expect(deal["insider_list_version"] as? String == "insiders-test")
        #expect(try await ask("A-DEAL", "XYZ/JPY", 2001)["allowed"] as? Bool == true)
        #expect(try await ask("A-STAFF", "KBT/JPY", 5000)["reason"] as? String == "blackout")
        #expect(try await ask("A-SPOUSE", "KBT/JPY", 9000)["reason"] as? String == "linked_to_employee_in_blackout")
        #expect(try await ask("A-OTHER", "KBT/JPY", 6000)["allowed"] as? Bool == true)
    }

    @Test("the pre-trade check reuses a token looked up less than a second ago; every other operation looks it up each time")
    func reusedAuthenticationOnlyForThePreTradeCheck() async throws {
        let f = try await ServerFixture()
        let compliance = try #require(f.callers[.compliance]), engine = try #require(f.callers[.operator])
        let (_, request) = try await f.services.surveillance.insiderLists.propose(yaml: Self.list, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.surveillance.insiderLists.adopt(version: "insiders-test", by: compliance)
        let question = #"{"account":"A-OTHER","market":"KBT/JPY","side":"buy","time":6000}"#
        let looked = ContinuousClock.now
        #expect(try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: question).status == .ok)
        // The operator's token is revoked by another process (the CLI) over the same database.
        let elsewhere = Governance(store: f.services.governance.store, clock: f.services.governance.clock)
        let revokedAt = ContinuousClock.now
        for token in try await elsewhere.ownTokens(by: engine) where token.revokedAt == nil { try await elsewhere.revokeToken(token.id, by: engine) }
        let reused = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: question).status
        // (On a machine so loaded that the second passed meanwhile, the reuse has ended: nothing to check.)
        if ContinuousClock.now - looked < AuthenticationCache.lifetime { #expect(reused == .ok) }
        #expect(try await f.call(.post, "/v1/surveillance/scan", as: .operator).status == .unauthorized)
        try await Task.sleep(until: revokedAt + AuthenticationCache.lifetime + .milliseconds(50))
        #expect(try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: question).status == .unauthorized)
    }

    @Test("an employee asks for a pre-clearance over HTTP, another compliance officer approves it, the pre-trade check then allows that trade")
    func preClearanceOverHTTP() async throws {
        let f = try await ServerFixture()
        let compliance = try #require(f.callers[.compliance])
        let list = Self.list.replacingOccurrences(of: "pre_clearance_required: false", with: "pre_clearance_required: true")
        let (_, request) = try await f.services.surveillance.insiderLists.propose(yaml: list, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.surveillance.insiderLists.adopt(version: "insiders-test", by: compliance)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let ask = #"{"account":"A-STAFF","market":"BTC/JPY","side":"buy","time":\#(now + 60_000)}"#
        #expect(try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: ask).json["reason"] as? String == "no_pre_clearance")

        let body = #"{"account":"A-STAFF","market":"BTC/JPY","side":"buy","from":\#(now),"to":\#(now + 86_400_000),"reason":"savings plan"}"#
        let asked = try await f.call(.post, "/v1/surveillance/preclearances", as: .treasurer, json: body)
        #expect(asked.status == .created && asked.json["status"] as? String == "pending")
        let id = try #require(asked.json["id"] as? Int)
        let tooLong = try await f.call(.post, "/v1/surveillance/preclearances", as: .treasurer,
                                       json: #"{"account":"A-STAFF","market":"BTC/JPY","side":"buy","from":\#(now),"to":\#(now + 5 * 86_400_000 + 1),"reason":"x"}"#)
        #expect(tooLong.status == .badRequest && tooLong.json["code"] as? String == "limit_exceeded" && tooLong.json["field"] as? String == "to")
        #expect(try await f.call(.post, "/v1/surveillance/preclearances", as: .inspector, json: body).status == .forbidden)
        // The treasurer sees their own request; an operator sees none of theirs.
        #expect((try await f.call(.get, "/v1/surveillance/preclearances", as: .treasurer).json["requests"] as? [[String: Any]])?.count == 1)
        #expect((try await f.call(.get, "/v1/surveillance/preclearances", as: .operator).json["requests"] as? [[String: Any]])?.isEmpty == true)
        #expect(try await f.call(.post, "/v1/surveillance/preclearances/\(id)/decision", as: .treasurer, json: #"{"approve":true}"#).status == .forbidden)
        let denyWithoutReason = try await f.call(.post, "/v1/surveillance/preclearances/\(id)/decision", as: .compliance, json: #"{"approve":false}"#)
        #expect(denyWithoutReason.status == .badRequest && denyWithoutReason.json["field"] as? String == "note")
        let decided = try await f.call(.post, "/v1/surveillance/preclearances/\(id)/decision", as: .compliance, json: #"{"approve":true,"note":"ok"}"#)
        #expect(decided.status == .ok && decided.json["status"] as? String == "approved" && decided.json["decided_by"] as? String == compliance.name)
        // The check re-reads approvals within a second.
        try await Task.sleep(for: Surveillance.insiderListRefresh + .milliseconds(50))
        #expect(try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: ask).json["allowed"] as? Bool == true)
        let pending = try await f.call(.get, "/v1/surveillance/preclearances?status=pending", as: .inspector)
        #expect(pending.status == .ok && (pending.json["requests"] as? [[String: Any]])?.isEmpty == true)
    }

    @Test("only the operator's service token may ask; a bad side is named")
    func permissionsAndInput() async throws {
        let f = try await ServerFixture()
        let forbidden = try await f.call(.post, "/v1/surveillance/pretrade", as: .compliance, json: #"{"account":"A","market":"XYZ/JPY","side":"buy"}"#)
        #expect(forbidden.status == .forbidden)
        let bad = try await f.call(.post, "/v1/surveillance/pretrade", as: .operator, json: #"{"account":"A","market":"XYZ/JPY","side":"short"}"#)
        #expect(bad.status == .badRequest)
    }
}

@Suite("Surveillance stream over HTTP")
struct SurveillanceStreamAPITests {
    /// A server with the default surveillance rule set in force (proposed by compliance, approved
    /// by a second officer) and the spoofing example stream to ingest.
    static func withRules() async throws -> (ServerFixture, Caller, String) {
        let f = try await ServerFixture()
        let compliance = try #require(f.callers[.compliance])
        let (rules, request) = try await f.services.surveillance.ruleSets.propose(yaml: SurveillanceRules.defaultYAML, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.surveillance.ruleSets.adopt(version: rules.version, by: compliance)
        return (f, compliance, ExampleStream.spoofing(endingAt: 1_772_500_000_000, staff: "S1", household: "H1", spoofer: "X1"))
    }

    @Test("the operator posts the stream and scans; compliance reads the spoofing alert with its figures and its place in the alert queue, in the API and the console with its replay")
    func streamScanAndRead() async throws {
        let (f, _, stream) = try await SurveillanceStreamAPITests.withRules()
        let posted = try await f.call(.post, "/v1/surveillance/events", as: .operator, ndjson: stream + "\n" + #"{"record":"order"}"#)
        #expect(posted.status == .ok)
        let results = try #require(posted.json["results"] as? [[String: Any]])
        #expect(results.filter { $0["status"] as? String == "accepted" }.count == stream.split(separator: "\n").count)
        #expect(results.last?["field"] as? String == "time")
        let scan = try await f.call(.post, "/v1/surveillance/scan", as: .operator)
        #expect(scan.status == .ok && (scan.json["raised"] as? [String])?.count == 1)
        let queued = try #require((scan.json["queued"] as? [[String: Any]])?.first)
        let queueID = try #require(queued["alert"] as? Int)
        let list = try await f.call(.get, "/v1/surveillance/alerts?typology=spoofing", as: .compliance)
        let alert = try #require((list.json["alerts"] as? [[String: Any]])?.first)
        #expect(alert["accounts"] as? [String] == ["X1"] && alert["customers"] as? [String] == ["C-X1"])
        #expect(queued["surveillance_alert"] as? String == alert["id"] as? String && alert["queue_alert"] as? Int == queueID && alert["status"] as? String == "open")
        // In monitoring's queue: the spoofing rule, on no customer (C-X1 is no customer number).
        let inQueue = try await f.call(.get, "/v1/monitoring/alerts/\(queueID)", as: .compliance)
        #expect(inQueue.status == .ok && inQueue.json["event"] as? String == "market:\(alert["id"] as? String ?? "")")
        #expect((inQueue.json["hits"] as? [[String: Any]])?.first?["rule"] as? String == "market_spoofing")
        let one = try await f.call(.get, "/v1/surveillance/alerts/\(alert["id"] as? String ?? "")", as: .auditor)
        #expect(one.status == .ok && (one.json["figures"] as? [[String: Any]])?.contains { $0["name"] as? String == "repetitions" } == true)
        #expect(try await f.call(.get, "/v1/surveillance/alerts", as: .operator).status == .forbidden)

        // The console: the queue links to the alert, whose page has the figures and the replay.
        let headers = try await f.console(.compliance).headers
        let queue = try await f.call(.get, "/console/surveillance", headers: headers)
        #expect(queue.status == .ok && queue.text.contains("/console/surveillance/alert?id=\(alert["id"] as? String ?? "")"))
        let page = try await f.call(.get, "/console/surveillance/alert?id=\(alert["id"] as? String ?? "")", headers: headers)
        #expect(page.status == .ok)
        #expect(page.text.contains("<svg") && page.text.contains(#"aria-label="spoofing on XYZ/JPY"#))
        // Four lures, each drawn as a bar ending in a cross (cancelled).
        #expect(page.text.components(separatedBy: #"class="flagged-order""#).count - 1 == 4)
        #expect(page.text.contains("repetitions"))
        #expect(page.text.contains(#"<p id="queue-state" data-status="open">"#) && page.text.contains("/console/alerts#alert-\(queueID)"))
        // The queue's alert page: the market rule, its figures, the orders, a link to the replay.
        let queuePage = try await f.call(.get, "/console/alert?id=\(queueID)", headers: headers)
        #expect(queuePage.status == .ok && queuePage.text.contains("<h2>相場: 見せ玉 <code>market_spoofing</code> (+0)</h2>")
                && queuePage.text.contains(#"<td title="repetitions">repetitions</td><td>4.0 (threshold 3.0)</td>"#))
        #expect(queuePage.text.contains(#"<a id="market-replay-link" href="/console/surveillance/alert?id=\#(alert["id"] as? String ?? "")">"#))
        #expect(queuePage.text.contains("order:"))
        #expect(try await f.call(.get, "/console/alert?id=999999", headers: headers).status == .notFound)
        #expect(try await f.call(.get, "/console/alert?id=x", headers: headers).status == .badRequest)
        let alertsPage = try await f.call(.get, "/console/alerts", headers: headers)
        #expect(alertsPage.text.contains(#"<a class="market-alert-link" href="/console/surveillance/alert?id=\#(alert["id"] as? String ?? "")">"#))
        let unknown = try await f.call(.get, "/console/surveillance/alert?id=nothing", headers: headers)
        #expect(unknown.status == .notFound)
        #expect(try await f.call(.get, "/v1/surveillance/alerts/nothing", as: .compliance).status == .notFound)
    }
}

@Suite("Scheduled scans")
struct ScheduledScanTests {
    @Test("the server runs the surveillance scan as the jobs token's principal, counts each run, and a token without monitor.ingest fails and is counted")
    func scheduledSurveillanceScan() async throws {
        let (f, compliance, stream) = try await SurveillanceStreamAPITests.withRules()
        _ = try await f.services.surveillance.ingest(ndjson: stream, by: try #require(f.callers[.operator]))

        var settings = ServerSettings()
        settings.jobsToken = f.tokens[.operator]
        let server = KinkoHTTPServer(services: f.services, settings: settings)
        #expect(await server.runJob(.surveillanceScan))
        #expect(try await f.services.surveillance.alerts(by: compliance).map(\.typology) == ["spoofing"])
        #expect(server.metricsText.contains(#"kinko_jobs_runs_total{job="surveillance_scan",result="ok"} 1"#))
        #expect(server.metricsText.contains(#"kinko_jobs_last_success_seconds{job="surveillance_scan"}"#))

        settings.jobsToken = f.tokens[.compliance]
        let wrong = KinkoHTTPServer(services: f.services, settings: settings)
        #expect(await wrong.runJob(.surveillanceScan) == false)
        #expect(wrong.metricsText.contains(#"kinko_jobs_runs_total{job="surveillance_scan",result="failed"} 1"#))
        settings.jobsToken = "kinko_not-a-token"
        #expect(await KinkoHTTPServer(services: f.services, settings: settings).runJob(.networkScan) == false)
    }
}
