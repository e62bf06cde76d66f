import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoServer
import Testing

@Suite("HTTP API: operations, auth and problems", .serialized)
struct APITests {
    // Goal: probes answer without a token; /metrics is Prometheus text with request figures.
    @Test func probesAndMetrics() async throws {
        let f = try await ServerFixture()
        let health = try await f.call(.get, "/healthz")
        #expect(health.status == .ok && health.text == "ok\n")
        #expect(try await f.call(.get, "/readyz").status == .ok)
        _ = try await f.call(.get, "/v1/whoami", as: .auditor)
        let metrics = try await f.call(.get, "/metrics")
        #expect(metrics.status == .ok)
        #expect(metrics.text.contains("kinko_http_requests_total{operation=\"whoAmI\",status=\"200\"} 1"))
        #expect(metrics.text.contains("# TYPE kinko_http_request_duration_seconds histogram"))
        #expect(metrics.text.contains("kinko_ledger_accounts 6") && metrics.text.contains("kinko_monitoring_alerts{status=\"open\"} 0"))
    }

    // Goal: 401 without a token or with a wrong one (with WWW-Authenticate), 403 for a role
    // without the permission; both are RFC 9457 problems with a stable code and a request id.
    @Test func authenticationAndAuthorization() async throws {
        let f = try await ServerFixture()
        let missing = try await f.call(.get, "/v1/whoami")
        #expect(missing.status == .unauthorized && missing.json["code"] as? String == "unauthenticated")
        #expect(missing.headers[.wwwAuthenticate] == "Bearer" && missing.headers[.contentType] == "application/problem+json")
        #expect((missing.json["request_id"] as? String)?.isEmpty == false && missing.json["status"] as? Int == 401)
        #expect(try await f.call(.get, "/v1/whoami", token: "kinko_nonsense").status == .unauthorized)
        let me = try await f.call(.get, "/v1/whoami", as: .compliance)
        #expect(me.status == .ok && me.json["name"] as? String == "compliance.one" && me.json["roles"] as? [String] == ["compliance"])
        let forbidden = try await f.call(.post, "/v1/ledger/transfers", as: .auditor, json: #"{"transfers":[{"id":"1"}]}"#)
        #expect(forbidden.status == .forbidden && forbidden.json["code"] as? String == "forbidden")
        #expect(try await f.call(.get, "/v1/monitoring/alerts", as: .operator).status == .forbidden)
        #expect(try await f.call(.get, "/v1/governance/principals", as: .operator).status == .forbidden)
        let unknown = try await f.call(.get, "/v1/nowhere", as: .admin)
        #expect(unknown.status == .notFound && unknown.headers[.contentType] == "application/problem+json")
    }

    // Goal: deposits are credited only through screening; transfers post as JSON or NDJSON
    // with one result per line, the controls naming what they refuse (an unscreened deposit, a
    // lone trade leg); bad input names the record and field and posts nothing; lookups and
    // history work.
    @Test func ledgerOperations() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        let screened = try await f.deposit([("1", "11", "901", "5000"), ("5", "22", "902", "0.5")])
        #expect((screened["deposits"] as? [[String: Any]])?.map { $0["status"] as? String } == ["credited", "credited"])
        let funded = try await f.call(.post, "/v1/ledger/transfers", as: .operator, json: """
            {"transfers":[{"id":"9","debit_account_id":"901","credit_account_id":"11","amount":"5000","asset":"JPY","code":"deposit"},
                          {"id":"2","debit_account_id":"11","credit_account_id":"21","amount":"1","asset":"JPY","code":"trade"}]}
            """)
        #expect(funded.status == .ok && funded.json["ok"] as? Int == 0 && funded.json["failed"] as? Int == 2)
        #expect((funded.json["results"] as? [[String: Any]])?.map { $0["result"] as? String } == ["deposit_not_screened", "trade_counter_leg_missing"])
        let ndjson = try await f.call(.post, "/v1/ledger/transfers", as: .operator, ndjson: """
            {"id":"3","debit_account_id":"11","credit_account_id":"21","amount":"1200","asset":"JPY","code":"trade","flags":["linked"]}
            {"id":"6","debit_account_id":"22","credit_account_id":"12","amount":"0.0001","asset":"BTC","code":"trade"}
            """)
        #expect(ndjson.status == .ok && ndjson.json["ok"] as? Int == 2)
        let bad = try await f.call(.post, "/v1/ledger/transfers", as: .operator, json: """
            {"transfers":[{"id":"4","debit_account_id":"11","credit_account_id":"21","amount":"1.5","asset":"JPY","code":"trade"}]}
            """)
        #expect(bad.status == .badRequest && bad.json["field"] as? String == "transfers[0].amount")
        #expect(try await f.call(.get, "/v1/ledger/transfers/4", as: .auditor).status == .notFound)
        let malformed = try await f.call(.post, "/v1/ledger/transfers", as: .operator, json: #"{"transfers": "no"}"#)
        #expect(malformed.status == .badRequest && malformed.json["code"] as? String == "invalid_input")

        let transfer = try await f.call(.get, "/v1/ledger/transfers/3", as: .auditor)
        #expect(transfer.json["amount"] as? String == "1200" && transfer.json["code"] as? String == "trade" && transfer.json["asset"] as? String == "JPY")
        let account = try await f.call(.get, "/v1/ledger/accounts/11", as: .inspector)
        #expect(account.json["balance"] as? String == "3800" && account.json["class"] as? String == "customer_liability")
        #expect(try await f.call(.get, "/v1/ledger/accounts/13", as: .inspector).status == .notFound)
        let history = try await f.call(.get, "/v1/ledger/accounts/11/transfers?limit=1", as: .auditor)
        let first = try #require((history.json["transfers"] as? [[String: Any]])?.first)
        #expect(first["id"] as? String == "3")
        let cursor = try #require(history.json["next_before"] as? String)
        let older = try await f.call(.get, "/v1/ledger/accounts/11/transfers?limit=1&before=\(cursor)", as: .auditor)
        #expect((older.json["transfers"] as? [[String: Any]])?.first?["id"] as? String == "1")

        let page = try await f.call(.get, "/v1/ledger/balances?asset=JPY&limit=2", as: .auditor)
        #expect((page.json["accounts"] as? [[String: Any]])?.map { $0["id"] as? String } == ["11", "21"] && page.json["next_after"] as? String == "21")
        let rest = try await f.call(.get, "/v1/ledger/balances?asset=JPY&limit=2&after=21", as: .auditor)
        #expect((rest.json["accounts"] as? [[String: Any]])?.map { $0["id"] as? String } == ["901"] && rest.json["next_after"] == nil)
        #expect(try await f.call(.get, "/v1/ledger/balances?asset=DOGE", as: .auditor).status == .notFound)
        #expect(try await f.call(.get, "/v1/ledger/assets", as: .auditor).json["assets"].map { ($0 as? [Any])?.count } == 4)

        let created = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: """
            {"accounts":[{"id":"31","asset":"JPY","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"3"},
                         {"id":"32","asset":"JPY","code":100,"class":"nonsense"}]}
            """)
        #expect(created.status == .badRequest && created.json["field"] as? String == "accounts[1].class")
        #expect(try await f.call(.get, "/v1/ledger/accounts/31", as: .auditor).status == .notFound, "nothing is created when a line is bad")
    }

    // Goal: page sizes hold at 1,000 and fail at 1,001; bodies over 8 MiB get 413.
    @Test func limits() async throws {
        let f = try await ServerFixture()
        #expect(try await f.call(.get, "/v1/ledger/balances?limit=1000", as: .auditor).status == .ok)
        let over = try await f.call(.get, "/v1/ledger/balances?limit=1001", as: .auditor)
        #expect(over.status == .badRequest && over.json["field"] as? String == "limit")
        #expect(try await f.call(.get, "/v1/ledger/balances?limit=0", as: .auditor).status == .badRequest)
        let big = String(repeating: " ", count: KinkoHTTPServer.maxBodyBytes + 1)
        let tooLarge = try await f.call(.post, "/v1/ledger/transfers", as: .operator, ndjson: big)
        #expect(tooLarge.status == .contentTooLarge && tooLarge.json["code"] as? String == "body_too_large")
        let atLimit = try await f.call(.post, "/v1/ledger/transfers", as: .operator, ndjson: String(repeating: " ", count: KinkoHTTPServer.maxBodyBytes))
        #expect(atLimit.status == .badRequest && atLimit.json["field"] as? String == "transfers", "at the limit the body is read (and found empty)")
    }

    // Goal: governance and audit through the API — an approval signed over HTTP counts.
    @Test func approvalsAndAudit() async throws {
        let f = try await ServerFixture()
        let monitoring = f.services.monitoring
        let (_, request) = try await monitoring.proposeRules(yaml: MonitoringRules.defaultYAML, by: f.callers[.compliance]!)
        let approver = f.secondCompliance
        let key = try #require(approver.key)
        let publicKey = try key.publicKey()
        let open = try await f.call(.get, "/v1/governance/approvals", as: .signer)
        let listed = try #require((open.json["requests"] as? [[String: Any]])?.first)
        #expect(listed["action"] as? String == "monitor.rules.adopt" && listed["satisfied"] as? Bool == false)
        let digest = try #require(listed["digest"] as? String)
        #expect(digest == Hex.encode(request.digest))
        let wrong = try await f.call(.post, "/v1/governance/approvals/\(request.id)/signatures", token: approver.token,
                                     json: #"{"key_id":"\#(SignerKey.id(of: publicKey))","signature":"\#(Hex.encode(try key.sign([1, 2, 3])))"}"#)
        #expect(wrong.status == .conflict || wrong.status == .badRequest)
        let byAdmin = try await f.call(.post, "/v1/governance/approvals/\(request.id)/signatures", as: .admin,
                                       json: #"{"key_id":"\#(SignerKey.id(of: publicKey))","signature":"\#(Hex.encode(try key.sign(request.digest)))"}"#)
        #expect(byAdmin.status == .conflict && (byAdmin.json["detail"] as? String)?.contains("needs one of: compliance") == true)
        let signed = try await f.call(.post, "/v1/governance/approvals/\(request.id)/signatures", token: approver.token,
                                      json: #"{"key_id":"\#(SignerKey.id(of: publicKey))","signature":"\#(Hex.encode(try key.sign(request.digest)))"}"#)
        #expect(signed.status == .ok && signed.json["satisfied"] as? Bool == true && signed.json["approvals"] as? [String] == ["compliance.two"])
        let principals = try await f.call(.get, "/v1/governance/principals", as: .admin)
        #expect((principals.json["principals"] as? [Any])?.count == Role.allCases.count + 3)
        let verify = try await f.call(.get, "/v1/audit/verify", as: .auditor)
        #expect(verify.status == .ok && verify.json["ok"] as? Bool == true && verify.json["problems"] as? [String] == [])
        let entries = try await f.call(.get, "/v1/audit/entries?from=0&limit=3", as: .inspector)
        #expect((entries.json["entries"] as? [[String: Any]])?.count == 3 && (entries.json["size"] as? Int ?? 0) > 3)
        #expect(try await f.call(.get, "/v1/audit/entries", as: .operator).status == .forbidden)
    }

    // Goal: monitoring end to end over HTTP — events in, alerts, a case, an STR draft.
    @Test func monitoringOperations() async throws {
        let f = try await ServerFixture()
        let compliance = f.callers[.compliance]!
        let (_, request) = try await f.services.monitoring.proposeRules(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.monitoring.adoptRules(version: "2026.1-default", by: compliance)

        let events = """
            {"id":"e1","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1abc"}
            {"id":"e2","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z"}
            """
        let ingested = try await f.call(.post, "/v1/monitoring/events", as: .operator, ndjson: events)
        let results = try #require(ingested.json["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["evaluated", "rejected"])
        #expect(results[0]["outcome"] as? String == "review" && results[0]["rules"] as? [String] == ["privacy_coin"])
        #expect(results[1]["message"] as? String == "line 2, field amount_jpy: is required")
        let alertID = try #require(results[0]["alert"] as? String)
        let alert = try await f.call(.get, "/v1/monitoring/alerts/\(alertID)", as: .auditor)
        #expect(alert.json["rule_set_version"] as? String == "2026.1-default" && (alert.json["hits"] as? [[String: Any]])?.first?["rule"] as? String == "privacy_coin")
        #expect(try await f.call(.get, "/v1/monitoring/alerts/99", as: .auditor).status == .notFound)
        let opened = try await f.call(.post, "/v1/monitoring/cases", as: .compliance, json: #"{"title":"ZEC deposit","alerts":["\#(alertID)"]}"#)
        #expect(opened.status == .created && opened.json["status"] as? String == "open")
        let caseID = try #require(opened.json["id"] as? String)
        let noAssignee = try await f.call(.post, "/v1/monitoring/cases/\(caseID)/actions", as: .compliance, json: #"{"action":"assign"}"#)
        #expect(noAssignee.status == .badRequest && noAssignee.json["field"] as? String == "assignee")
        #expect(try await f.call(.post, "/v1/monitoring/cases/\(caseID)/actions", as: .compliance,
                                 json: #"{"action":"assign","assignee":"compliance.one"}"#).status == .ok)
        #expect(try await f.call(.post, "/v1/monitoring/cases/\(caseID)/actions", as: .compliance,
                                 json: #"{"action":"note","note":"Own wallet, documented."}"#).json["notes"].map { ($0 as? [Any])?.count } == 1)
        let str = try await f.call(.get, "/v1/monitoring/cases/\(caseID)/str", as: .compliance)
        #expect(str.status == .ok && str.json["subjects"] as? [String] == ["5"] && (str.json["text"] as? String)?.contains("ZEC") == true)
        let closed = try await f.call(.post, "/v1/monitoring/cases/\(caseID)/actions", as: .compliance, json: #"{"action":"close","disposition":"no_action"}"#)
        #expect(closed.json["status"] as? String == "closed" && closed.json["disposition"] as? String == "no_action")
        let badAction = try await f.call(.post, "/v1/monitoring/cases/\(caseID)/actions", as: .compliance, json: #"{"action":"explode"}"#)
        #expect(badAction.status == .badRequest)
        #expect((try await f.call(.get, "/v1/monitoring/cases", as: .inspector).json["cases"] as? [Any])?.count == 1)
        let fetched = try await f.call(.get, "/v1/monitoring/cases/\(caseID)", as: .auditor)
        #expect(fetched.status == .ok && fetched.json["title"] as? String == "ZEC deposit" && fetched.json["alerts"] as? [String] == [alertID])
        #expect(try await f.call(.get, "/v1/monitoring/cases/999", as: .auditor).status == .notFound)
        #expect(try await f.call(.get, "/v1/monitoring/cases/\(caseID)", as: .operator).status == .forbidden)
        let dismissed = try await f.call(.post, "/v1/monitoring/alerts/\(alertID)/dismiss", as: .compliance, json: #"{"reason":"x"}"#)
        #expect(dismissed.status == .conflict, "a closed alert cannot be dismissed")
    }

    // Goal: custody, reserve and incident reads; a missing rule set is a clear 404.
    @Test func custodyReserveAndIncidentReads() async throws {
        let f = try await ServerFixture()
        #expect((try await f.call(.get, "/v1/custody/wallets", as: .auditor).json["wallets"] as? [Any])?.isEmpty == true)
        let check = try await f.call(.get, "/v1/custody/check", as: .auditor)
        #expect(check.status == .ok && check.json["passed"] != nil)
        #expect(try await f.call(.get, "/v1/custody/movements", as: .auditor).status == .ok)
        let missing = try await f.call(.get, "/v1/custody/reconciliations/2026-11-21", as: .auditor)
        #expect(missing.status == .notFound && missing.json["field"] as? String == "day")
        #expect(try await f.call(.get, "/v1/custody/reconciliations/yesterday", as: .auditor).status == .badRequest)
        #expect((try await f.call(.get, "/v1/reserve/adequacy", as: .auditor).json["points"] as? [Any])?.isEmpty == true)
        let noRules = try await f.call(.post, "/v1/reserve/requirement", as: .finance)
        #expect(noRules.status == .notFound && (noRules.json["detail"] as? String)?.contains("no rule set") == true)
        #expect(try await f.call(.post, "/v1/reserve/requirement", as: .auditor).status == .forbidden)
        #expect((try await f.call(.get, "/v1/incidents", as: .auditor).json["incidents"] as? [Any])?.isEmpty == true)
    }
}

@Suite("Web console", .serialized)
struct ConsoleTests {
    // Goal: the console needs a sign-in; a bad token is refused; the overview shows what the
    // caller's roles may see, in Japanese and English.
    @Test func signInAndOverview() async throws {
        let f = try await ServerFixture()
        let anonymous = try await f.call(.get, "/console")
        #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/login")
        let login = try await f.call(.get, "/console/login")
        #expect(login.status == .ok && login.text.contains("サインイン / Sign in"))
        var form = HTTPFields()
        form[.contentType] = "application/x-www-form-urlencoded"
        let refused = try await f.call(.post, "/console/login", json: "token=kinko_wrong", headers: form)
        #expect(refused.status == .unauthorized && refused.text.contains("The token is not valid"))
        let token = try #require(f.tokens[.admin])
        let signedIn = try await f.call(.post, "/console/login", json: "token=\(token)", headers: form)
        #expect(signedIn.status == .seeOther && signedIn.headers[.setCookie]?.contains("HttpOnly; SameSite=Strict") == true)
        var cookie = HTTPFields()
        cookie[.cookie] = "kinko_token=\(token)"
        let overview = try await f.call(.get, "/console", headers: cookie)
        #expect(overview.status == .ok && overview.text.contains("概要 / Overview") && overview.text.contains("id=\"open-alerts\">0<"))
        #expect(overview.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
        var operatorCookie = HTTPFields()
        operatorCookie[.cookie] = "kinko_token=\(f.tokens[.operator]!)"
        let limited = try await f.call(.get, "/console", headers: operatorCookie)
        #expect(limited.status == .ok && !limited.text.contains("open-alerts") && limited.text.contains("operator.one (operator)"))
        for page in ["balances", "alerts", "approvals", "incidents", "audit"] {
            #expect(try await f.call(.get, "/console/\(page)", headers: cookie).status == .ok, "\(page)")
        }
        let audit = try await f.call(.get, "/console/audit", headers: cookie)
        #expect(audit.text.contains("検証済 / verified"))
    }
}

@Suite("Web console actions", .serialized)
struct ConsoleActionTests {
    static func cookie(_ f: ServerFixture, _ role: Role) -> HTTPFields {
        var fields = HTTPFields()
        fields[.cookie] = "kinko_token=\(f.tokens[role]!)"
        fields[.contentType] = "application/x-www-form-urlencoded"
        return fields
    }

    // Goal: the role decides which actions exist: compliance dismisses an alert from the
    // alerts page; an auditor sees no forms and a forged POST is refused and changes nothing;
    // a cross-site POST is refused outright.
    @Test func alertActionsFollowTheRole() async throws {
        let f = try await ServerFixture()
        let compliance = f.callers[.compliance]!
        let (_, request) = try await f.services.monitoring.proposeRules(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.monitoring.adoptRules(version: "2026.1-default", by: compliance)
        let results = try await f.services.monitoring.ingest(ndjson: """
            {"id":"e1","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1abc"}
            {"id":"e2","kind":"deposit","customer":6,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":20000,"address":"t1abd"}
            """, by: f.callers[.operator]!)
        let (first, second) = (try #require(results[0].alert), try #require(results[1].alert))

        let page = try await f.call(.get, "/console/alerts", headers: Self.cookie(f, .compliance))
        #expect(page.text.contains("action=\"/console/actions/dismiss-alert\"") && page.text.contains("action=\"/console/actions/open-case\""))
        let auditorPage = try await f.call(.get, "/console/alerts", headers: Self.cookie(f, .auditor))
        #expect(auditorPage.status == .ok && !auditorPage.text.contains("<form class=\"inline\" method=\"post\" action=\"/console/actions"))

        let dismissed = try await f.call(.post, "/console/actions/dismiss-alert", json: "alert=\(first)&reason=own+wallet", headers: Self.cookie(f, .compliance))
        #expect(dismissed.status == .seeOther && dismissed.headers[.location]?.hasPrefix("/console/alerts?notice=") == true)
        #expect(try await f.services.monitoring.alert(first, by: compliance).status == .dismissed)
        let shown = try await f.call(.get, dismissed.headers[.location]!, headers: Self.cookie(f, .compliance))
        #expect(shown.text.contains("<p id=\"notice\" class=good>アラート \(first) を却下 / alert \(first) dismissed</p>"))

        let forged = try await f.call(.post, "/console/actions/dismiss-alert", json: "alert=\(second)&reason=x", headers: Self.cookie(f, .auditor))
        #expect(forged.status == .seeOther && forged.headers[.location]?.hasPrefix("/console/alerts?error=") == true)
        #expect(try await f.services.monitoring.alert(second, by: compliance).status == .open)
        let noReason = try await f.call(.post, "/console/actions/dismiss-alert", json: "alert=\(second)&reason=", headers: Self.cookie(f, .compliance))
        #expect(noReason.headers[.location]?.contains("error=") == true)

        var crossSite = Self.cookie(f, .compliance)
        crossSite[.origin] = "https://evil.example"
        let refused = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=t", headers: crossSite)
        #expect(refused.status == .forbidden)
        let opened = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=ZEC+deposits", headers: Self.cookie(f, .compliance))
        #expect(opened.headers[.location]?.contains("notice=") == true)
        #expect(try await f.services.monitoring.cases(by: compliance).map(\.title) == ["ZEC deposits"])
        let anonymous = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=t",
                                         headers: [.contentType: "application/x-www-form-urlencoded"])
        #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/login")
    }

    // Goal: finance computes the requirement and reconciles from the overview; other roles get
    // no buttons; a bad day names the field.
    @Test func overviewActionsFollowTheRole() async throws {
        let f = try await ServerFixture()
        let finance = try await f.call(.get, "/console", headers: Self.cookie(f, .finance))
        #expect(finance.text.contains("id=\"compute-requirement\"") && finance.text.contains("id=\"reconcile\""))
        let auditor = try await f.call(.get, "/console", headers: Self.cookie(f, .auditor))
        #expect(!auditor.text.contains("id=\"compute-requirement\"") && !auditor.text.contains("id=\"reconcile\""))
        let noRules = try await f.call(.post, "/console/actions/compute-requirement", json: "", headers: Self.cookie(f, .finance))
        #expect(noRules.headers[.location]?.hasPrefix("/console?error=") == true)
        let badDay = try await f.call(.post, "/console/actions/reconcile", json: "day=yesterday", headers: Self.cookie(f, .finance))
        let location = try #require(badDay.headers[.location])
        #expect(location.hasPrefix("/console?error=day"))
        let reconciled = try await f.call(.post, "/console/actions/reconcile", json: "day=2026-11-20", headers: Self.cookie(f, .finance))
        #expect(reconciled.headers[.location]?.hasPrefix("/console?notice=") == true)
        #expect(try await f.services.custody.store.reconciliation(day: "2026-11-20") != nil)
        let overview = try await f.call(.get, "/console", headers: Self.cookie(f, .finance))
        #expect(overview.text.contains("<b id=\"last-reconciliation\" data-clean=\"true\">2026-11-20</b>"))
    }
}
