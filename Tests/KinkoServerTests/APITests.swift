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
import KinkoReserve
import KinkoSurveillance
@testable import KinkoServer
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
        // By default /metrics shows how the server runs, not how the exchange stands.
        #expect(metrics.text.contains("kinko_ledger_accounts 6") && !metrics.text.contains("kinko_monitoring_alerts"))
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

    // Goal: TigerBeetle's queries over HTTP: an account's balances after each of its transfers
    // (history flag only; refused naming account_id otherwise) and transfers by filter.
    @Test func balanceHistoryAndTransferQueries() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        _ = try await f.deposit([("1", "11", "901", "5000"), ("5", "22", "902", "0.5")])
        let created = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: """
            {"accounts":[{"id":"23","asset":"JPY","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits","history"],"owner":"2"}]}
            """)
        #expect(created.status == .ok, "\(created.text)")
        let traded = try await f.call(.post, "/v1/ledger/transfers", as: .operator, ndjson: """
            {"id":"3","debit_account_id":"11","credit_account_id":"23","amount":"1200","asset":"JPY","code":"trade","flags":["linked"]}
            {"id":"6","debit_account_id":"22","credit_account_id":"12","amount":"0.0001","asset":"BTC","code":"trade"}
            """)
        #expect(traded.json["ok"] as? Int == 2, "\(traded.text)")
        let balances = try await f.call(.get, "/v1/ledger/accounts/23/balances", as: .auditor)
        let rows = try #require(balances.json["balances"] as? [[String: Any]], "\(balances.text)")
        #expect(rows.map { $0["transfer"] as? String } == ["3"])
        #expect(rows.first?["credits_posted"] as? String == "1200" && rows.first?["debits_posted"] as? String == "0")
        #expect(try await f.call(.get, "/v1/ledger/accounts/23/balances?side=debits", as: .auditor).json["balances"] as? [[String: Any]] != nil)
        let untracked = try await f.call(.get, "/v1/ledger/accounts/11/balances", as: .auditor)
        #expect(untracked.status == .badRequest && untracked.json["field"] as? String == "account_id")
        #expect(try await f.call(.get, "/v1/ledger/accounts/99/balances", as: .auditor).status == .notFound)
        let byCode = try await f.call(.get, "/v1/ledger/transfers?code=trade&asset=JPY", as: .auditor)
        #expect((byCode.json["transfers"] as? [[String: Any]])?.map { $0["id"] as? String } == ["3"], "\(byCode.text)")
        let newest = try await f.call(.get, "/v1/ledger/transfers?limit=1&reversed=true", as: .auditor)
        #expect((newest.json["transfers"] as? [[String: Any]])?.map { $0["id"] as? String } == ["6"])
        let window = try await f.call(.get, "/v1/ledger/transfers?from=2030-01-02&until=2030-01-01", as: .auditor)
        #expect(window.status == .badRequest && window.json["field"] as? String == "timestamp_min")
        #expect(try await f.call(.get, "/v1/ledger/transfers?code=gift", as: .auditor).json["field"] as? String == "code")
        #expect(try await f.call(.get, "/v1/ledger/transfers?asset=DOGE", as: .auditor).status == .notFound)
        #expect(try await f.call(.get, "/v1/ledger/transfers", as: .inspector).status == .ok)
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
        let (_, request) = try await monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: f.callers[.compliance]!)
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
        let (_, request) = try await f.services.monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.monitoring.ruleSets.adopt(version: "2026.3-default", by: compliance)

        let events = """
            {"id":"e1","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1abc"}
            {"id":"e2","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z"}
            """
        let ingested = try await f.call(.post, "/v1/monitoring/events", as: .operator, ndjson: events)
        let results = try #require(ingested.json["results"] as? [[String: Any]])
        #expect(results.map { $0["status"] as? String } == ["evaluated", "rejected"])
        #expect(results[0]["outcome"] as? String == "review" && results[0]["rules"] as? [String] == ["privacy_coin"])
        #expect(results[1]["message"] as? String == "line 2, field amount_jpy: is required")
        // A withdrawal to another exchange leaves its travel-rule message, read back per transfer
        // or per customer by readers of customers' records.
        let travel = #"{"id":"w9","kind":"withdrawal","customer":6,"time":"2026-11-22T00:01:00Z","asset":"BTC","amount_jpy":5000,"address":"bc1q","vasp":"Upbit","vasp_country":"KR","originator":{"name":"Ito Taro","account":"6","geographic_address":"Osaka"},"beneficiary":{"name":"Kim","account":"u-1"}}"#
        #expect(try await f.call(.post, "/v1/monitoring/events", as: .operator, ndjson: travel).status == .ok)
        let byEvent = try await f.call(.get, "/v1/monitoring/travel-rule-messages?event=w9", as: .compliance)
        let message = try #require((byEvent.json["messages"] as? [[String: Any]])?.first)
        #expect(message["direction"] as? String == "sent" && message["vasp"] as? String == "Upbit" && message["amount_jpy"] as? String == "5000")
        #expect(message["missing"] as? [String] == ["beneficiary.geographic_address|national_id|date_and_place_of_birth"])
        #expect(message["kept_until"] as? String == "2033-11-22" && (message["ivms101"] as? String)?.contains(#""primaryIdentifier":"Ito Taro""#) == true)
        let byCustomer = try await f.call(.get, "/v1/monitoring/travel-rule-messages?customer=6", as: .auditor)
        #expect((byCustomer.json["messages"] as? [[String: Any]])?.map { $0["event"] as? String } == ["w9"])
        #expect(try await f.call(.get, "/v1/monitoring/travel-rule-messages?event=e1", as: .compliance).status == .notFound)
        let neither = try await f.call(.get, "/v1/monitoring/travel-rule-messages", as: .compliance)
        #expect(neither.status == .badRequest && neither.json["field"] as? String == "event")
        #expect(try await f.call(.get, "/v1/monitoring/travel-rule-messages?event=w9", as: .treasurer).status == .forbidden)
        // The daily network scan: the operator runs it; nothing between customers yet, so nothing is raised.
        let scan = try await f.call(.post, "/v1/monitoring/network-scan", as: .operator)
        #expect(scan.status == .ok && scan.json["transfers"] as? Int == 0 && scan.json["within_budget"] as? Int == 0
                && scan.json["rule_set"] as? String == "2026.3-default" && (scan.json["raised"] as? [Any])?.isEmpty == true && (scan.json["grown"] as? [Any])?.isEmpty == true && scan.json["settle_days"] == nil)
        #expect(try await f.call(.post, "/v1/monitoring/network-scan", as: .compliance).status == .forbidden)
        let alertID = try #require(results[0]["alert"] as? String)
        let alert = try await f.call(.get, "/v1/monitoring/alerts/\(alertID)", as: .auditor)
        #expect(alert.json["rule_set_version"] as? String == "2026.3-default" && (alert.json["hits"] as? [[String: Any]])?.first?["rule"] as? String == "privacy_coin")
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
    // caller's roles may see, in Japanese (the default language).
    @Test func signInAndOverview() async throws {
        let f = try await ServerFixture()
        let anonymous = try await f.call(.get, "/console")
        #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/login")
        let login = try await f.call(.get, "/console/login")
        #expect(login.status == .ok && login.text.contains("<h1>サインイン</h1>") && !login.text.contains("Sign in"))
        let form = ServerFixture.consoleHeaders(cookie: nil)
        let refused = try await f.call(.post, "/console/login", json: "token=kinko_wrong", headers: form)
        #expect(refused.status == .unauthorized && refused.text.contains("トークンが無効です。"))
        let token = try #require(f.tokens[.admin])
        let signedIn = try await f.call(.post, "/console/login", json: "token=\(token)", headers: form)
        let setCookie = try #require(signedIn.headers[.setCookie])
        let attributes = Set(setCookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(signedIn.status == .seeOther && attributes == ["Path=/", "HttpOnly", "SameSite=Strict"], "\(setCookie)")
        #expect(setCookie.hasPrefix("kinko_session=kinko_s_") && !setCookie.contains(token), "the cookie is a session id, not the API token")
        let session = try await f.consoleSession(.admin)
        let overview = try await f.call(.get, "/console", headers: session.headers)
        #expect(overview.status == .ok && overview.text.contains("<h1>概要</h1>") && overview.text.contains("id=\"open-alerts\">0<"))
        #expect(overview.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
        let limited = try await f.call(.get, "/console", headers: try await f.consoleSession(.operator).headers)
        #expect(limited.status == .ok && !limited.text.contains("open-alerts") && limited.text.contains("operator.one (operator)"))
        for page in ["balances", "alerts", "approvals", "incidents", "audit"] {
            #expect(try await f.call(.get, "/console/\(page)", headers: session.headers).status == .ok, "\(page)")
        }
        let audit = try await f.call(.get, "/console/audit", headers: session.headers)
        #expect(audit.text.contains(">検証済</b>"))
    }

    // Goal: one language at a time. Japanese by default; the switch in the navigation (on the
    // sign-in page too) sets a cookie kept for a year and returns to the page it was used on,
    // never to another site; every page then reads in English; no page carries a pair marker.
    @Test func oneLanguageAtATimeWithASwitchThatIsRemembered() async throws {
        let f = try await ServerFixture()
        let session = try await f.consoleSession(.admin)
        let japanese = try await f.call(.get, "/console/alerts", headers: session.headers)
        #expect(japanese.text.contains(#"<html lang="ja">"#) && japanese.text.contains("<h1>アラート</h1>") && !japanese.text.contains("<h1>Alerts"))
        #expect(japanese.text.contains(#"<a id="language" href="/console/language?to=en&amp;back=%2Fconsole%2Falerts" lang="en" hreflang="en">English</a>"#))
        let switched = try await f.call(.get, "/console/language?to=en&back=%2Fconsole%2Falerts")
        let cookie = try #require(switched.headers[.setCookie])
        #expect(switched.status == .seeOther && switched.headers[.location] == "/console/alerts")
        #expect(cookie.hasPrefix("kinko_lang=en;") && cookie.contains("Max-Age=31536000") && cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"))
        for back in ["https%3A%2F%2Fevil.example", "%2F%2Fevil.example", "%2Fconsole%2F%2Fevil.example", ""] {
            #expect(try await f.call(.get, "/console/language?to=en&back=\(back)").headers[.location] == "/console", "\(back)")
        }
        #expect(try await f.call(.get, "/console/language?to=xx").headers[.setCookie]?.hasPrefix("kinko_lang=ja;") == true)

        var english = session.headers
        english[.cookie] = session.cookie + "; kinko_lang=en"
        let markers = #/[\x{E000}-\x{E002}]/#
        for page in ["", "/balances", "/alerts", "/approvals", "/incidents", "/audit", "/surveillance", "/reports"] {
            let ja = try await f.call(.get, "/console\(page)", headers: session.headers), en = try await f.call(.get, "/console\(page)", headers: english)
            #expect(ja.status == .ok && en.status == .ok && en.text.contains(#"<html lang="en">"#), "\(page) \(ja.status) \(en.status) \(en.headers)")
            #expect(ja.text.firstMatch(of: markers) == nil && en.text.firstMatch(of: markers) == nil, "\(page)")
            #expect(!en.text.contains("ログアウト") && en.text.contains(">Sign out</button>") && ja.text.contains(">ログアウト</button>"), "\(page)")
        }
        let overview = try await f.call(.get, "/console", headers: english)
        #expect(overview.text.contains("<h1>Overview</h1>") && overview.text.contains(#">日本語</a>"#) && !overview.text.contains("概要"))
        let login = try await f.call(.get, "/console/login", headers: ServerFixture.consoleHeaders(cookie: "kinko_lang=en"))
        #expect(login.text.contains("<h1>Sign in</h1>") && login.text.contains(#"<a id="language" href="/console/language?to=ja&amp;back=%2Fconsole%2Flogin""#))

        // The pair format: a lone or unfinished marker (only a user's text could hold one) is dropped.
        let pair = ConsoleLanguage.both("概要", "Overview")
        #expect(ConsoleLanguage.ja.localize("<h1>\(pair)</h1>") == "<h1>概要</h1>" && ConsoleLanguage.en.localize("<h1>\(pair)</h1>") == "<h1>Overview</h1>")
        #expect(ConsoleLanguage.en.localize("a\u{E001}b\u{E002}c") == "abc" && ConsoleLanguage.en.localize("x\u{E000}y") == "x")
        #expect(ConsoleLanguage.marked("[[はい|yes]] and [[いいえ|no]] [[x") == "\(ConsoleLanguage.both("はい", "yes")) and \(ConsoleLanguage.both("いいえ", "no")) [[x")
    }

    // Goal: the audit log is browsable: newest first, 50 a page with an "older" link, filters
    // on action, principal and result (at most 100 characters each, named when longer), and an
    // entry page with its fields and its inclusion proof against the latest signed checkpoint,
    // whose data reproduces the checkpoint's root; an entry number outside the log is named.
    @Test func theAuditLogIsBrowsableWithProofs() async throws {
        let f = try await ServerFixture()
        let session = try await f.consoleSession(.admin)
        // 60 refused writes (an auditor may not post transfers): each refusal is an audit entry.
        for _ in 0..<60 { _ = try await f.call(.post, "/v1/ledger/transfers", as: .auditor, json: #"{"transfers":[]}"#) }
        let checkpoints = try #require(try await f.call(.get, "/v1/audit/checkpoints", as: .auditor).json["checkpoints"] as? [[String: Any]])
        let size = try #require(Int(checkpoints.last?["size"] as? String ?? ""))
        let page = try await f.call(.get, "/console/audit", headers: session.headers)
        let indexes = page.text.matches(of: #/<tr class="audit-entry" data-index="(\d+)">/#).map { Int($0.output.1)! }
        #expect(page.status == .ok && indexes.count == Console.auditPageRows && indexes.first == size - 1 && indexes == indexes.sorted(by: >))
        let older = try #require(page.text.firstMatch(of: #/<a id="audit-older" href="([^"]+)">/#)).output.1
        #expect(older == "/console/audit?before=\(size - 50)")
        let next = try await f.call(.get, String(older), headers: session.headers)
        #expect(next.text.matches(of: #/<tr class="audit-entry" data-index="(\d+)">/#).first.map { Int($0.output.1)! } == size - 51 && next.text.contains(#"id="audit-newest""#))

        let filtered = try await f.call(.get, "/console/audit?principal=AUDITOR&result=forbidden&action=transfers", headers: session.headers)
        let rows = filtered.text.components(separatedBy: #"<tr class="audit-entry""#).dropFirst()
        // 30 of the 60 refusals are audited one by one (the refusal limiter's default window), all on this page.
        #expect(rows.count == 30 && rows.allSatisfy { $0.contains("<td>auditor.one</td>") && $0.contains("<td>forbidden</td>") })
        #expect(filtered.text.contains(#"<input name="principal" id="audit-principal" value="AUDITOR""#) && !filtered.text.contains("audit-older"))
        let filteredOlder = try await f.call(.get, "/console/audit?principal=auditor&before=\(size - 10)", headers: session.headers)
        #expect(filteredOlder.text.contains(#"<a id="audit-newest" href="/console/audit?principal=auditor">"#))
        #expect(filteredOlder.text.matches(of: #/<tr class="audit-entry" data-index="(\d+)">/#).first.map { Int($0.output.1)! } == size - 11)
        let none = try await f.call(.get, "/console/audit?action=no.such.action", headers: session.headers)
        #expect(none.text.contains(#"<p id="no-audit-entries">"#) && !none.text.contains(#"class="audit-entry""#))
        #expect(try await f.call(.get, "/console/audit?action=\(String(repeating: "a", count: 100))", headers: session.headers).status == .ok)
        let long = try await f.call(.get, "/console/audit?action=\(String(repeating: "a", count: 101))", headers: session.headers)
        #expect(long.status == .badRequest && long.text.contains(#"<p id="page-error" class=bad>action: at most 100 characters</p>"#))
        #expect(try await f.call(.get, "/console/audit?before=-1", headers: session.headers).status == .badRequest)

        let entry = try await f.call(.get, "/console/audit/entry?n=3", headers: session.headers)
        #expect(entry.status == .ok && entry.text.contains("<h1>監査記録 #3</h1>") && entry.text.contains(#"<b id="checkpoint-status" class=good>"#))
        #expect(entry.text.contains(#"<script src="/console/static/audit-proof.js"></script>"#))
        let proof = try #require(entry.text.firstMatch(of: #/<div id="audit-proof" data-entry="([0-9a-f]+)" data-index="3" data-size="(\d+)" data-root="([0-9a-f]+)" data-path="([0-9a-f,]*)"></div>/#))
        let (entryHex, proofSize, root, path) = (String(proof.output.1), Int(proof.output.2)!, String(proof.output.3), String(proof.output.4))
        #expect(proofSize == size)
        #expect(Merkle.verifyInclusion(leaf: Merkle.leafHash(try Hex.decode(entryHex, field: "entry")), index: 3, size: proofSize,
                                       proof: try path.split(separator: ",").map { try Hex.decode(String($0), field: "path") }, root: try Hex.decode(root, field: "root")))
        #expect(try await f.call(.get, "/console/audit/entry?n=\(size)", headers: session.headers).status == .badRequest)
        #expect(try await f.call(.get, "/console/audit/entry?n=x", headers: session.headers).status == .badRequest)
        let script = try await f.call(.get, "/console/static/audit-proof.js")
        #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8" && script.text.contains("kinkoCheckAuditProof"))
        #expect(try await f.call(.get, "/console/audit/entry?n=3", headers: try await f.consoleSession(.operator).headers).status == .forbidden)
    }

    // Attack (low): the cookie was the raw API token, signing out did not revoke it, it had no
    // Secure flag, /console/login took cross-site POSTs and a POST without Origin skipped the
    // check. Now: a server-side session ended at sign-out, Secure over TLS, CSRF tokens on
    // every form, and this console's Origin required on every POST.
    @Test func consoleSessionsAreServerSideAndGuarded() async throws {
        let f = try await ServerFixture()
        let session = try await f.consoleSession(.finance)
        let page = try await f.call(.get, "/console", headers: session.headers)
        #expect(page.text.contains(#"<form method="post" action="/console/actions/reconcile"><input type="hidden" name="csrf" value="\#(session.csrf)">"#))
        #expect(page.text.contains(#"action="/console/logout"><input type="hidden" name="csrf""#))
        // A form without the session's CSRF token, or with another session's, is refused.
        let noToken = try await f.call(.post, "/console/actions/reconcile", json: "day=2026-11-20", headers: session.headers)
        #expect(noToken.status == .forbidden && noToken.text.contains("CSRF"))
        let other = try await f.consoleSession(.finance)
        let wrongToken = try await f.call(.post, "/console/actions/reconcile", json: "day=2026-11-20&csrf=\(other.csrf)", headers: session.headers)
        #expect(wrongToken.status == .forbidden)
        // Origin: missing or foreign is refused, for actions and for sign-in.
        var noOrigin = session.headers
        noOrigin[.origin] = nil
        #expect(try await f.call(.post, "/console/actions/reconcile", json: session.form("day=2026-11-20"), headers: noOrigin).status == .forbidden)
        var foreign = ServerFixture.consoleHeaders(cookie: nil)
        foreign[.origin] = "https://evil.example"
        let crossSiteLogin = try await f.call(.post, "/console/login", json: "token=\(try #require(f.tokens[.admin]))", headers: foreign)
        #expect(crossSiteLogin.status == .forbidden && crossSiteLogin.headers[.setCookie] == nil)
        foreign[.origin] = nil
        #expect(try await f.call(.post, "/console/login", json: "token=\(try #require(f.tokens[.admin]))", headers: foreign).status == .forbidden)
        // The right token and Origin work.
        let done = try await f.call(.post, "/console/actions/reconcile", json: session.form("day=2026-11-20"), headers: session.headers)
        #expect(done.headers[.location]?.hasPrefix("/console?notice=") == true)
        // The API token is no cookie: the old kinko_token cookie signs nobody in.
        var oldCookie = ServerFixture.consoleHeaders(cookie: "kinko_token=\(try #require(f.tokens[.finance]))")
        oldCookie[.contentType] = nil
        #expect(try await f.call(.get, "/console", headers: oldCookie).headers[.location] == "/console/login")
        // Signing out ends the session on the server: replaying the cookie gets the sign-in page.
        let out = try await f.call(.post, "/console/logout", json: session.form(""), headers: session.headers)
        #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
        #expect(try await f.call(.get, "/console", headers: session.headers).headers[.location] == "/console/login")
        #expect(try await f.call(.get, "/console", headers: other.headers).status == .ok, "another session lives on")
        // Revoking the token ends its sessions too.
        let revokedToken = try await f.staff.hire("finance.temp", roles: [.finance])
        let temporary = try await f.consoleSession(token: revokedToken.token)
        #expect(try await f.call(.get, "/console", headers: temporary.headers).status == .ok)
        // The holder revokes their own token (from the CLI or the API).
        for record in try await f.services.governance.ownTokens(by: revokedToken.caller) {
            try await f.services.governance.revokeToken(record.id, by: revokedToken.caller)
        }
        #expect(try await f.call(.get, "/console", headers: temporary.headers).headers[.location] == "/console/login")
    }

    // Behind a TLS proxy the session cookie is Secure: always, or when a trusted proxy says so.
    @Test func sessionCookiesAreSecureOverTLS() async throws {
        let f = try await ServerFixture()
        let token = try #require(f.tokens[.admin])
        func cookie(_ change: (inout ServerSettings) -> Void, proto: String?) async throws -> String {
            var settings = ServerSettings()
            change(&settings)
            let app = Application(router: try KinkoHTTPServer(services: f.services, settings: settings).router())
            var headers = ServerFixture.consoleHeaders(cookie: nil)
            if let proto { headers[HTTPField.Name("X-Forwarded-Proto")!] = proto }
            let sent = headers
            return try await app.test(.router) { client in
                try await client.execute(uri: "/console/login", method: .post, headers: sent, body: ByteBuffer(string: "token=\(token)")) {
                    $0.headers[.setCookie] ?? ""
                }
            }
        }
        #expect(try await cookie({ $0.console.secureCookies = .always }, proto: nil).contains("; Secure"))
        #expect(try await !cookie({ _ in }, proto: "https").contains("Secure"), "an untrusted X-Forwarded-Proto is ignored")
        #expect(try await cookie({ $0.console.trustForwardedProto = true }, proto: "https").contains("; Secure"))
        #expect(try await !cookie({ $0.console.trustForwardedProto = true }, proto: "http").contains("Secure"))
        #expect(try await !cookie({ $0.console.secureCookies = .never; $0.console.trustForwardedProto = true }, proto: "https").contains("Secure"))
    }

    // Goal: the balances page reads like a statement: classes in words, customers by name (for
    // those who may read customers), wallets by their id, no 38-digit ids, amounts in units with
    // separators; an asset without accounts says so.
    @Test func balancesShowNamesUnitsAndSeparators() async throws {
        let f = try await ServerFixture()
        let compliance = try #require(f.callers[.compliance])
        _ = try await f.services.monitoring.importProfiles(csv: "customer,name,country,declared_income_jpy,declared_assets_jpy\n1,Sato Taro,JP,6000000,4000000\n",
                                                           by: compliance)
        _ = try await f.call(.post, "/v1/custody/vendors", as: .treasurer, json: #"{"name":"acme","notice_date":"2026-01-05","notice_reference":"FSA-2026-17"}"#)
        _ = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
            {"id":"jpy-trust-1","chain":"bank","temperature":"cold","purpose":"customer_pool","assets":["JPY"],"vendor":"acme","vendor_version":"1.0"}
            """)
        try await f.adoptMonitoring()
        try await f.deposit([("70", "11", Wallet.accountID(wallet: "jpy-trust-1", asset: "JPY").description, "1234567")])
        let page = try await f.call(.get, "/console/balances?asset=JPY", headers: try await f.console(.auditor).headers)
        #expect(page.status == .ok)
        #expect(page.text.contains("<td>顧客預り</td><td>Sato Taro (1)</td><td class=n>1,234,567 JPY</td>"))
        #expect(page.text.contains(">ウォレット jpy-trust-1</td><td>分別保管</td>"))
        #expect(page.text.firstMatch(of: #/>\d{21,}</#) == nil, "no raw id longer than 20 digits in a cell")
        // The treasurer may not read customers' records: the number only.
        let treasurer = try await f.call(.get, "/console/balances?asset=JPY", headers: try await f.console(.treasurer).headers)
        #expect(treasurer.text.contains("<td>1</td>") && !treasurer.text.contains("Sato"))
        let empty = try await f.call(.get, "/console/balances?asset=XRP", headers: try await f.console(.auditor).headers)
        #expect(empty.text.contains(#"<p id="no-balances">"#))
    }
}

@Suite("Web console actions", .serialized)
struct ConsoleActionTests {

    // Goal: balances page 100 accounts at a time with next and from-the-start links, and filter
    // by class (an unknown class is named; a class with no account says so).
    @Test func balancesFilterByClassAndPage() async throws {
        let f = try await ServerFixture()
        let accounts = (1...105).map { #"{"id":"\#(5_000 + $0)","asset":"JPY","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"\#($0)"}"# }
        let created = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: #"{"accounts":[\#(accounts.joined(separator: ","))]}"#)
        #expect(created.status == .ok, "\(created.status) \(created.text)")
        let session = try await f.console(.auditor)
        let rows = #/<tr><td title="(\d+)">/#
        let first = try await f.call(.get, "/console/balances?asset=JPY&class=customer_liability", headers: session.headers)
        let ids = first.text.matches(of: rows).map { String($0.output.1) }
        // The fixture's own customers 11 and 21 come first (by id), then 5001–5098.
        #expect(ids == ["11", "21"] + (5_001...5_098).map(String.init) && first.text.contains(#"<option value="customer_liability" selected>"#))
        #expect(first.text.contains(#"<a id="balances-next" href="/console/balances?asset=JPY&amp;class=customer_liability&amp;after=5098">"#))
        let second = try await f.call(.get, "/console/balances?asset=JPY&class=customer_liability&after=5098", headers: session.headers)
        #expect(second.text.matches(of: rows).map { String($0.output.1) } == (5_099...5_105).map(String.init) && !second.text.contains("balances-next"))
        #expect(second.text.contains("balances-first"))
        #expect(try await f.call(.get, "/console/balances?asset=JPY&class=quarantine", headers: session.headers).text.contains(#"<p id="no-balances">"#))
        let bad = try await f.call(.get, "/console/balances?asset=JPY&class=vault", headers: session.headers)
        #expect(bad.status == .badRequest && bad.text.contains("class: must be one of customer_liability"))
    }

    // Goal: the alert queue shows the open alerts by default, 50 a page oldest first with a
    // link to the next page and back to the start; a status filter shows the others; an
    // unknown status or page cursor is named.
    @Test func theAlertQueueFiltersAndPages() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        let lines = (1...55).map { #"{"id":"z\#($0)","kind":"deposit","customer":\#($0),"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1a\#($0)"}"# }
        let results = try await f.services.monitoring.ingest(ndjson: lines.joined(separator: "\n"), by: f.callers[.operator]!)
        let ids = results.compactMap(\.alert)
        #expect(ids.count == 55)
        _ = try await f.services.monitoring.dismiss(ids[0], reason: "own wallet", by: f.callers[.compliance]!)
        let session = try await f.console(.compliance)
        let rows = #/<tr id="alert-(\d+)">/#
        let first = try await f.call(.get, "/console/alerts", headers: session.headers)
        let shown = first.text.matches(of: rows).map { UInt64($0.output.1)! }
        #expect(shown == Array(ids[1...50]) && first.text.contains(#"<option value="open" selected>"#))
        #expect(first.text.contains(#"<a id="alerts-next" href="/console/alerts?status=open&amp;after=\#(ids[50])">"#) && !first.text.contains("alerts-first"))
        let second = try await f.call(.get, "/console/alerts?status=open&after=\(ids[50])", headers: session.headers)
        #expect(second.text.matches(of: rows).map { UInt64($0.output.1)! } == Array(ids[51...]) && !second.text.contains("alerts-next") && second.text.contains("alerts-first"))
        let dismissed = try await f.call(.get, "/console/alerts?status=dismissed", headers: session.headers)
        #expect(dismissed.text.matches(of: rows).map { UInt64($0.output.1)! } == [ids[0]])
        #expect(try await f.call(.get, "/console/alerts?status=closed", headers: session.headers).text.contains(#"<p id="no-alerts">"#))
        #expect(try await f.call(.get, "/console/alerts?status=all", headers: session.headers).text.matches(of: rows).count == 50)
        let bad = try await f.call(.get, "/console/alerts?status=pending", headers: session.headers)
        #expect(bad.status == .badRequest && bad.text.contains("status: must be all, open, in_case, dismissed, closed"))
        #expect(try await f.call(.get, "/console/alerts?after=-3", headers: session.headers).status == .badRequest)
    }

    // Goal: the other lists filter and page too: cases by status, 50 a page (the filter reads
    // on until the page is full); incidents by compensation; reports by kind; market alerts by
    // typology and market; every unknown filter value, or one past its limit, is named; an
    // empty view says so; the queue shows customers by name to those who may read them.
    @Test func everyListFiltersAndPages() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        _ = try await f.services.monitoring.importProfiles(csv: "customer,name,country,declared_income_jpy,declared_assets_jpy\n1,Sato Taro,JP,6000000,4000000\n",
                                                           by: f.callers[.compliance]!)
        let lines = (1...53).map { #"{"id":"z\#($0)","kind":"deposit","customer":\#($0),"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1a\#($0)"}"# }
        let ids = try await f.services.monitoring.ingest(ndjson: lines.joined(separator: "\n"), by: f.callers[.operator]!).compactMap(\.alert)
        #expect(ids.count == 53)
        let compliance = f.callers[.compliance]!
        var cases: [UInt64] = []
        for (n, id) in ids.enumerated() { cases.append(try await f.services.monitoring.openCase(title: "case \(n)", alerts: [id], assignee: nil, by: compliance).id) }
        for id in cases.prefix(2) { _ = try await f.services.monitoring.updateCase(id, .investigate, by: compliance) }
        let session = try await f.console(.compliance)
        let caseRows = #/<tr><td><a href="/console/case\?id=(\d+)">/#
        let all = try await f.call(.get, "/console/alerts?status=all", headers: session.headers)
        #expect(all.text.matches(of: caseRows).map { UInt64($0.output.1)! } == Array(cases[0..<50]))
        #expect(all.text.contains(#"id="cases-next" href="/console/alerts?status=all&amp;case_after=\#(cases[49])#cases""#))
        let rest = try await f.call(.get, "/console/alerts?status=all&case_after=\(cases[49])", headers: session.headers)
        #expect(rest.text.matches(of: caseRows).map { UInt64($0.output.1)! } == Array(cases[50...]) && rest.text.contains("cases-first") && !rest.text.contains("cases-next"))
        let investigating = try await f.call(.get, "/console/alerts?status=all&case_status=investigating", headers: session.headers)
        #expect(investigating.text.matches(of: caseRows).map { UInt64($0.output.1)! } == Array(cases[0..<2]))
        #expect(try await f.call(.get, "/console/alerts?case_status=closed", headers: session.headers).text.contains(#"<p id="no-cases">"#))
        let badCase = try await f.call(.get, "/console/alerts?case_status=shut", headers: session.headers)
        #expect(badCase.status == .badRequest && badCase.text.contains("case_status: must be one of open, investigating, closed"))
        #expect(all.text.contains("<td>Sato Taro (1)</td>") && all.text.contains("<td>2</td>"))
        #expect(try await f.call(.get, "/console/alerts?status=all", headers: try await f.console(.auditor).headers).text.contains("<td>Sato Taro (1)</td>"))

        let finance = try await f.console(.finance)
        #expect(try await f.call(.get, "/console/incidents", headers: finance.headers).text.contains(#"<p id="no-incidents">"#))
        let badIncidents = try await f.call(.get, "/console/incidents?status=lost", headers: finance.headers)
        #expect(badIncidents.status == .badRequest && badIncidents.text.contains("status: must be one of unpaid, paid"))
        #expect(try await f.call(.get, "/console/incidents?from=1", headers: finance.headers).status == .badRequest)

        let reports = try await f.call(.get, "/console/reports?kind=str", headers: session.headers)
        #expect(reports.status == .ok && reports.text.contains(#"<option value="str" selected>"#))
        #expect(try await f.call(.get, "/console/reports?kind=diary", headers: session.headers).status == .badRequest)

        let market = try await f.call(.get, "/console/surveillance?typology=spoofing&market=XYZ%2FJPY", headers: session.headers)
        #expect(market.status == .ok && market.text.contains(#"<option value="spoofing" selected>"#) && market.text.contains(#"value="XYZ/JPY""#))
        #expect(market.text.contains(#"<p id="no-market-alerts">該当するアラートはありません"#))
        let badTypology = try await f.call(.get, "/console/surveillance?typology=frontrunning", headers: session.headers)
        #expect(badTypology.status == .badRequest && badTypology.text.contains("typology: must be one of wash_trade"))
        let longMarket = String(repeating: "M", count: Console.marketFilterLengthMax)
        #expect(try await f.call(.get, "/console/surveillance?market=\(longMarket)", headers: session.headers).status == .ok)
        let tooLong = try await f.call(.get, "/console/surveillance?market=\(longMarket)M", headers: session.headers)
        #expect(tooLong.status == .badRequest && tooLong.text.contains("market: a market is at most 32 characters"))
        #expect(try await f.call(.get, "/console/surveillance?from=\(Surveillance.alertsOffsetMax + 1)", headers: session.headers).status == .badRequest)
    }

    // Goal: a case is a workspace: its alerts with why each fired, the notes, and the actions
    // (note, assign, add alerts, investigate, close with a disposition) as forms that go through
    // the same checks as the API, each outcome or refusal shown on the case (a refusal names
    // its field); the STR draft opens from it (audited); a closed case, or a reader without
    // the case permission, gets no forms.
    @Test func aCaseIsAWorkspace() async throws {
        let f = try await ServerFixture()
        try await f.adoptMonitoring()
        let results = try await f.services.monitoring.ingest(ndjson: """
            {"id":"e1","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1abc"}
            {"id":"e2","kind":"deposit","customer":6,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":20000,"address":"t1abd"}
            """, by: f.callers[.operator]!)
        let (first, second) = (try #require(results[0].alert), try #require(results[1].alert))
        let officer = try await f.console(.compliance)
        let opened = try await f.call(.post, "/console/actions/open-case", json: officer.form("alert=\(first)&title=ZEC+%3Cdeposits%3E"), headers: officer.headers)
        #expect(opened.status == .seeOther)
        let caseID = try #require(try await f.services.monitoring.cases(by: f.callers[.compliance]!).cases.last?.id)
        let list = try await f.call(.get, "/console/alerts", headers: officer.headers)
        #expect(list.text.contains(#"<a href="/console/case?id=\#(caseID)">ZEC &lt;deposits&gt;</a>"#))

        func act(_ fields: String) async throws -> String {
            let done = try await f.call(.post, "/console/actions/case?id=\(caseID)", json: officer.form(fields), headers: officer.headers)
            #expect(done.status == .seeOther)
            let location = try #require(done.headers[.location])
            #expect(location.hasPrefix("/console/case?id=\(caseID)&"))
            return try await f.call(.get, location, headers: officer.headers).text
        }
        #expect(try await act("action=note&note=Both+deposits+from+one+mixer").contains(#"<p id="notice" class=good>案件 \#(caseID) を更新しました (open)</p>"#))
        #expect(try await act("action=note&note=\(String(repeating: "x", count: MonitoringCase.noteLengthMax + 1))")
            .contains(#"<p id="error" class=bad>note: a note is 1–4000 characters</p>"#))
        #expect(try await act("action=add&alerts=\(second)").contains("(open)</p>"))
        #expect(try await act("action=add&alerts=x").contains(#"<p id="error" class=bad>alerts: &quot;x&quot; is not an alert id</p>"#))
        #expect(try await act("action=investigate").contains("(investigating)</p>"))
        #expect(try await act("action=dance").contains(#"<p id="error" class=bad>action: must be note, assign, add, investigate or close</p>"#))
        #expect(try await act("action=close&disposition=forgotten").contains("<p id=\"error\" class=bad>disposition: must be one of no_action"))

        let page = try await f.call(.get, "/console/case?id=\(caseID)", headers: officer.headers)
        #expect(page.text.contains(#"<b id="case-status">investigating</b>"#) && page.text.contains("compliance.one"))
        #expect(page.text.components(separatedBy: #"<tr class="case-alert">"#).count - 1 == 2 && page.text.contains(#"<a href="/console/alert?id=\#(second)">"#))
        #expect(page.text.contains("<p>Both deposits from one mixer</p>") && page.text.contains(#"id="close-case""#))
        let str = try await f.call(.get, "/console/case/str?id=\(caseID)", headers: officer.headers)
        #expect(str.status == .ok && str.text.contains("SUSPICIOUS TRANSACTION REPORT — DRAFT") && str.text.contains("Both deposits from one mixer"))

        let reader = try await f.call(.get, "/console/case?id=\(caseID)", headers: try await f.console(.auditor).headers)
        #expect(reader.status == .ok && !reader.text.contains("/console/actions/case"))
        #expect(try await act("action=close&disposition=no_action").contains("(closed)</p>"))
        let closed = try await f.call(.get, "/console/case?id=\(caseID)", headers: officer.headers)
        #expect(closed.text.contains(#"<b id="case-status">closed</b>"#) && closed.text.contains("処分 対応不要") && !closed.text.contains("/console/actions/case"))
        #expect(try await f.call(.get, "/console/case?id=999", headers: officer.headers).status == .notFound)
        #expect(try await f.call(.get, "/console/case?id=x", headers: officer.headers).status == .badRequest)
    }

    // Goal: the role decides which actions exist: compliance dismisses an alert from the
    // alerts page; an auditor sees no forms and a forged POST is refused and changes nothing;
    // a cross-site POST is refused outright.
    @Test func alertActionsFollowTheRole() async throws {
        let f = try await ServerFixture()
        let compliance = f.callers[.compliance]!
        let (_, request) = try await f.services.monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance)
        try await f.secondCompliance.approve(request.id, in: f.services.governance)
        _ = try await f.services.monitoring.ruleSets.adopt(version: "2026.3-default", by: compliance)
        let results = try await f.services.monitoring.ingest(ndjson: """
            {"id":"e1","kind":"deposit","customer":5,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":10000,"address":"t1abc"}
            {"id":"e2","kind":"deposit","customer":6,"time":"2026-11-22T00:00:00Z","asset":"ZEC","amount_jpy":20000,"address":"t1abd"}
            """, by: f.callers[.operator]!)
        let (first, second) = (try #require(results[0].alert), try #require(results[1].alert))

        let page = try await f.call(.get, "/console/alerts", headers: try await f.console(.compliance).headers)
        #expect(page.text.contains("action=\"/console/actions/dismiss-alert\"") && page.text.contains("action=\"/console/actions/open-case\""))
        // Each alert opens on its evidence: the rules that fired, their figures, the events.
        #expect(page.text.contains(#"<a href="/console/alert?id=\#(first)">"#))
        let detail = try await f.call(.get, "/console/alert?id=\(first)", headers: try await f.console(.compliance).headers)
        let stored = try await f.services.monitoring.alert(first, by: compliance)
        let words = try #require(Console.ruleLabels[stored.hits[0].rule]).ja
        #expect(detail.status == .ok && detail.text.contains(#"<section class="hit"><h2>\#(words) <code>\#(stored.hits[0].rule)</code> (+\#(stored.hits[0].score))</h2>"#))
        #expect(detail.text.contains("<code>\(stored.event)</code>") && detail.text.contains(" JST"))
        let auditorPage = try await f.call(.get, "/console/alerts", headers: try await f.console(.auditor).headers)
        #expect(auditorPage.status == .ok && !auditorPage.text.contains("<form class=\"inline\" method=\"post\" action=\"/console/actions"))

        let dismissed = try await f.call(.post, "/console/actions/dismiss-alert", json: try await f.console(.compliance).form("alert=\(first)&reason=own+wallet"), headers: try await f.console(.compliance).headers)
        #expect(dismissed.status == .seeOther && dismissed.headers[.location]?.hasPrefix("/console/alerts?notice=") == true)
        #expect(try await f.services.monitoring.alert(first, by: compliance).status == .dismissed)
        let shown = try await f.call(.get, dismissed.headers[.location]!, headers: try await f.console(.compliance).headers)
        #expect(shown.text.contains("<p id=\"notice\" class=good>アラート \(first) を却下しました</p>"))

        let forged = try await f.call(.post, "/console/actions/dismiss-alert", json: try await f.console(.auditor).form("alert=\(second)&reason=x"), headers: try await f.console(.auditor).headers)
        #expect(forged.status == .seeOther && forged.headers[.location]?.hasPrefix("/console/alerts?error=") == true)
        #expect(try await f.services.monitoring.alert(second, by: compliance).status == .open)
        let noReason = try await f.call(.post, "/console/actions/dismiss-alert", json: try await f.console(.compliance).form("alert=\(second)&reason="), headers: try await f.console(.compliance).headers)
        #expect(noReason.headers[.location]?.contains("error=") == true)

        var crossSite = try await f.console(.compliance).headers
        crossSite[.origin] = "https://evil.example"
        let refused = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=t", headers: crossSite)
        #expect(refused.status == .forbidden)
        let opened = try await f.call(.post, "/console/actions/open-case", json: try await f.console(.compliance).form("alert=\(second)&title=ZEC+deposits"), headers: try await f.console(.compliance).headers)
        #expect(opened.headers[.location]?.contains("notice=") == true)
        #expect(try await f.services.monitoring.cases(by: compliance).cases.map(\.title) == ["ZEC deposits"])
        let anonymous = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=t",
                                         headers: ServerFixture.consoleHeaders(cookie: nil))
        #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/console/login")
        let noOrigin = try await f.call(.post, "/console/actions/open-case", json: "alert=\(second)&title=t",
                                        headers: [.contentType: "application/x-www-form-urlencoded"])
        #expect(noOrigin.status == .forbidden, "a POST without Origin is refused before anything else")
    }

    // Goal: finance computes the requirement and reconciles from the overview; other roles get
    // no buttons; a bad day names the field.
    @Test func overviewActionsFollowTheRole() async throws {
        let f = try await ServerFixture()
        let finance = try await f.call(.get, "/console", headers: try await f.console(.finance).headers)
        #expect(finance.text.contains("id=\"compute-requirement\"") && finance.text.contains("id=\"reconcile\""))
        let auditor = try await f.call(.get, "/console", headers: try await f.console(.auditor).headers)
        #expect(!auditor.text.contains("id=\"compute-requirement\"") && !auditor.text.contains("id=\"reconcile\""))
        let noRules = try await f.call(.post, "/console/actions/compute-requirement", json: try await f.console(.finance).form(""), headers: try await f.console(.finance).headers)
        #expect(noRules.headers[.location]?.hasPrefix("/console?error=") == true)
        let badDay = try await f.call(.post, "/console/actions/reconcile", json: try await f.console(.finance).form("day=yesterday"), headers: try await f.console(.finance).headers)
        let location = try #require(badDay.headers[.location])
        #expect(location.hasPrefix("/console?error=day"))
        let reconciled = try await f.call(.post, "/console/actions/reconcile", json: try await f.console(.finance).form("day=2026-11-20"), headers: try await f.console(.finance).headers)
        #expect(reconciled.headers[.location]?.hasPrefix("/console?notice=") == true)
        #expect(try await f.services.custody.store.reconciliation(day: "2026-11-20") != nil)
        let overview = try await f.call(.get, "/console", headers: try await f.console(.finance).headers)
        #expect(overview.text.contains("<b id=\"last-reconciliation\" data-clean=\"true\">2026-11-20</b>"))
        #expect(overview.text.contains(#"<span id="hot-share-limit">5.00%</span>"#))  // the regulatory figure in force
        #expect(overview.text.contains(#"<a href="/console/reconciliation?day=2026-11-20" class="good">差異なし</a>"#))
    }

    // Goal: with a reconcile token the server reconciles each day once its cut-off passes,
    // and a day of the last week nobody reconciled; before the cut-off nothing is due; the
    // overview names a day left unreconciled; a token without custody.reconcile fails and is
    // counted, and the day stays missed (kinko_custody_unreconciled_days).
    @Test func theServerReconcilesEachDayAtItsCutoff() async throws {
        let cutoff = try Reconciliation.cutoff(day: "2026-12-03", hourJST: 17)
        let clock = ManualWallClock(cutoff - 3_600_000_000_000)  // 16:00 JST
        let f = try await ServerFixture(clock: clock)
        _ = try await f.call(.post, "/v1/custody/vendors", as: .treasurer, json: #"{"name":"acme","notice_date":"2026-01-05","notice_reference":"FSA-2026-17"}"#)
        let wallet = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
            {"id":"hot-1","chain":"bitcoin","temperature":"hot","purpose":"customer_pool","assets":["BTC"],"vendor":"acme","vendor_version":"1.0"}
            """)
        #expect(wallet.status == .created)
        var settings = ServerSettings()
        settings.reconcileToken = f.tokens[.finance]
        let server = KinkoHTTPServer(services: f.services, settings: settings)
        #expect(await server.runJob(.reconciliation))  // before the cut-off: nothing due
        #expect(try await f.services.custody.store.reconciliation(day: "2026-12-03") == nil)

        clock.advance(seconds: 7_200)  // 18:00 JST
        settings.reconcileToken = f.tokens[.compliance]
        let wrong = KinkoHTTPServer(services: f.services, settings: settings)
        #expect(await wrong.runJob(.reconciliation) == false)
        #expect(wrong.metricsText.contains(#"kinko_jobs_runs_total{job="reconciliation",result="failed"} 1"#))
        let overview = try await f.call(.get, "/console", headers: try await f.console(.auditor).headers)
        #expect(overview.text.contains(#"<p id="unreconciled" class=bad role="alert">"#) && overview.text.contains(#"<b class="unreconciled-day">2026-12-03</b>"#))

        #expect(await server.runJob(.reconciliation))
        let stored = try #require(try await f.services.custody.store.reconciliation(day: "2026-12-03"))
        let runs = try await f.services.custody.reconciliationRuns(day: "2026-12-03", by: f.callers[.auditor]!)
        #expect(stored.day == "2026-12-03" && runs.map(\.by) == [f.callers[.finance]!.name])
        #expect(server.metricsText.contains(#"kinko_jobs_runs_total{job="reconciliation",result="ok"} 1"#) && server.metricsText.contains("kinko_custody_unreconciled_days 0"))
        #expect(await server.runJob(.reconciliation))  // done: nothing due, no second run
        #expect(try await f.services.custody.reconciliationRuns(day: "2026-12-03", by: f.callers[.auditor]!).count == 1)
        let after = try await f.call(.get, "/console", headers: try await f.console(.auditor).headers)
        #expect(!after.text.contains("unreconciled"))
    }

    // Goal: a reconciliation with breaks is no success: the treasurer sees it in the alarm
    // colour with a link to the breaks, each listed with its asset, kind, size and cause; the
    // form offers the day whose 17:00 JST cut-off passed last.
    @Test func reconciliationBreaksAreShownAsSuch() async throws {
        // 16:00 JST on 3 December: the day's business happens before its 17:00 cut-off.
        let clock = ManualWallClock(try Reconciliation.cutoff(day: "2026-12-03", hourJST: 17) - 3_600_000_000_000)
        let f = try await ServerFixture(clock: clock)
        let session = try await f.console(.finance)
        // 0.1 BTC deposited into a customer-pool wallet nobody has observed: the day breaks.
        _ = try await f.call(.post, "/v1/custody/vendors", as: .treasurer, json: #"{"name":"acme","notice_date":"2026-01-05","notice_reference":"FSA-2026-17"}"#)
        let wallet = try await f.call(.post, "/v1/custody/wallets", as: .treasurer, json: """
            {"id":"hot-1","chain":"bitcoin","temperature":"hot","purpose":"customer_pool","assets":["BTC"],"vendor":"acme","vendor_version":"1.0"}
            """)
        #expect(wallet.status == .created)
        _ = try await f.call(.post, "/v1/ledger/accounts", as: .operator, json: """
            {"accounts":[{"id":"31","asset":"BTC","code":100,"class":"customer_liability","flags":["debits_must_not_exceed_credits"],"owner":"1"}]}
            """)
        try await f.adoptMonitoring()
        try await f.deposit([("50", "31", Wallet.accountID(wallet: "hot-1", asset: "BTC").description, "0.1")])
        let day = "2026-12-03"
        clock.advance(seconds: 7_200)
        let reconciled = try await f.call(.post, "/console/actions/reconcile", json: session.form("day=\(day)"), headers: session.headers)
        let location = try #require(reconciled.headers[.location])
        let query = URLComponents(string: location)?.queryItems ?? []
        #expect(location.hasPrefix("/console?warning=") && query.first { $0.name == "link" }?.value == "/console/reconciliation?day=\(day)")
        #expect(query.first { $0.name == "warning" }?.value.map { ConsoleLanguage.en.localize($0) }?.hasSuffix("1 breaks — unresolved") == true)
        let shown = try await f.call(.get, location, headers: session.headers)
        #expect(shown.text.contains(#"<p id="warning" class=bad role="alert">"#) && shown.text.contains(#"<a id="warning-link" href="/console/reconciliation?day=\#(day)">"#))
        let page = try await f.call(.get, "/console/reconciliation?day=\(day)", headers: session.headers)
        let stored = try #require(try await f.services.custody.store.reconciliation(day: day))
        #expect(page.status == .ok && !stored.isClean)
        #expect(page.text.contains(#"<b id="reconciliation-status" class=bad>"#))
        #expect(page.text.components(separatedBy: #"<tr class="break">"#).count - 1 == stored.breaks.count)
        // A rerun keeps the first run: both are listed, newest first, each with what it found.
        _ = try await f.call(.post, "/console/actions/reconcile", json: session.form("day=\(day)"), headers: session.headers)
        let rerun = try await f.call(.get, "/console/reconciliation?day=\(day)", headers: session.headers)
        #expect(rerun.text.components(separatedBy: #"<tr class="run" data-clean="false"><td>"#).dropFirst().map { String($0.prefix(1)) } == ["2", "1"])
        #expect(rerun.text.contains("<pre>Segregation reconciliation \(day)") && !page.text.contains("<td>2</td>"))
        // A link elsewhere is not offered.
        let foreign = try await f.call(.get, "/console?warning=x&link=https%3A%2F%2Fevil.example", headers: session.headers)
        #expect(!foreign.text.contains("evil.example"))
        #expect(try await f.call(.get, "/console/reconciliation?day=2026-13-01", headers: session.headers).status == .badRequest)

        // The default day: before 17:00 JST the day before, from 17:00 JST that day.
        let cutoff = try Reconciliation.cutoff(day: "2026-12-03", hourJST: 17)
        #expect(Console.lastCutoffDay(now: cutoff - 1, hourJST: 17) == "2026-12-02")
        #expect(Console.lastCutoffDay(now: cutoff, hourJST: 17) == "2026-12-03")
        #expect(Console.grouped("1234567.5") == "1,234,567.5" && Console.grouped("-1000") == "-1,000" && Console.grouped("999") == "999")
    }
}
