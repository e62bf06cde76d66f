import Foundation
import KinkoCore
import Hummingbird
import KinkoCustody
import KinkoMonitoring
import KinkoReserve
import KinkoSurveillance
@testable import KinkoServer
import Testing

/// The console renders from Mustache templates: every one parses, and a user string is
/// escaped wherever it lands, in text or in an attribute.
@Suite struct ConsoleTemplateTests {
    static let markup = #"<script>alert("x")</script>&"#
    static let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"

    @Test func everyTemplateParses() throws {
        _ = try ConsoleTemplates.library.get()
        for name in ConsoleTemplates.sources.keys { #expect(throws: Never.self, "\(name)") { _ = try ConsoleTemplates.render(name, [:]) } }
        #expect(ConsoleTemplates.sources.count == 18)
    }

    @Test func userStringsAreEscapedInEveryPlace() throws {
        let m = Self.markup
        let pages: [(String, [String: Any])] = [
            ("alerts", ["csrf": "c", "hasAlerts": true, "statuses": [["value": m, "label": m, "selected": true]], "next": m, "first": m, "alerts": [["id": 1, "outcome": m, "event": m, "customer": 7, "status": m, "why": m, "canDismiss": true, "canOpen": true,
                                                "marketAlert": m]],
                        "hasCases": true, "alertStatus": m, "caseStatuses": [["value": m, "label": m, "selected": true]], "casesNext": m, "casesFirst": m,
                        "cases": [["id": 2, "title": m, "status": m, "disposition": m, "assignee": m, "alerts": m]]]),
            ("balances", ["asset": m, "tabs": [["code": m, "last": true]], "hasRows": true, "classes": [["value": m, "label": m, "selected": true]], "next": m, "first": m, "rows": [["id": m, "label": m, "accountClass": m, "owner": m, "balance": m]]]),
            ("incidents", ["hasIncidents": true, "statuses": [["value": m, "label": m, "selected": true]], "range": m, "first": m, "next": m,
                           "incidents": [["id": 3, "lossType": m, "losses": m, "lossJPY": m, "paid": false, "detected": m, "compensation": m, "took": m]]]),
            ("audit", ["valid": false, "entries": 1, "checkpoints": 0, "root": m, "problems": [m], "action": m, "principal": m, "result": m, "hasRows": true,
                       "rows": [["index": 1, "time": m, "principal": m, "role": m, "action": m, "result": m, "details": m]], "older": m, "newest": m]),
            ("case", ["csrf": "c", "id": 1, "title": m, "status": m, "disposition": m, "assignee": m, "unassigned": false, "openedBy": m, "openedAt": m,
                      "closedAt": m, "alerts": [["id": 2, "outcome": m, "status": m, "time": m, "rules": m, "why": m, "customers": m]],
                      "notes": [["at": m, "author": m, "text": m]], "canManage": true, "me": m, "canInvestigate": true,
                      "dispositions": [["value": m, "label": m]], "canDraft": true, "noteMax": 4_000]),
            ("str", ["id": 1, "title": m, "text": m, "subjects": 1, "alerts": 1, "preparedAt": m]),
            ("auditEntry", ["index": 1, "time": m, "principal": m, "principalID": m, "role": m, "action": m, "result": m, "digest": m,
                            "details": [["key": m, "value": m]],
                            "proof": ["size": 2, "checkpointTime": m, "keyID": m, "root": m, "checkpointsVerified": true, "leafHash": m, "path": [m],
                                      "pathLength": 1, "pathJoined": m, "entryHex": m, "script": m] as [String: Any]]),
            ("approvals", ["principal": m, "script": "/console/approve.js", "waitingCount": 1, "keys": [["id": m, "algorithm": m, "registered": m, "status": m, "state": m]],
                           "waiting": [["id": m, "action": m, "digest": m, "sentence": m, "fields": [["key": m, "value": m]], "filedBy": m, "policy": m,
                                        "expires": m, "status": m, "canonical": m]],
                           "hasOthers": true, "others": [["id": m, "action": m, "policy": m, "filedBy": m]]]),
            ("problem", ["status": 403, "title": m, "detail": m]),
            ("reports", ["csrf": "c", "hasDue": true, "hasReports": true, "canGenerate": true, "overdueCount": 1,
                         "due": [["due": m, "kind": m, "period": m, "status": m, "overdue": true, "basis": m, "title": m]],
                         "kinds": [["kind": m, "title": m, "example": m]], "kindFilter": [["value": m, "label": m, "selected": true]], "range": m, "first": m, "next": m,
                         "reports": [["kind": m, "period": m, "sha": m, "status": m, "generatedBy": m, "approvedBy": m, "filed": m, "query": m, "canApprove": true]]]),
            ("login", ["loginError": m]),
            ("surveillance", ["hasAlerts": true, "typologies": [["value": m, "label": m, "selected": true]], "market": m, "first": m, "next": m,
                              "alerts": [["id": m, "typology": m, "market": m, "customers": m, "accounts": m, "window": m, "score": m, "explanation": m,
                                                                "status": m, "queue": m]]]),
            ("surveillanceAlert", ["id": m, "typology": m, "market": m, "window": m, "ruleSet": m, "status": m, "queueAlert": m, "caseID": m, "explanation": m,
                                   "accounts": m, "tradeCount": m,
                                   "figures": [["name": m, "value": m, "threshold": m]], "svg": "", "hasFlaggedTrades": true, "hasOrders": true,
                                   "orders": [["order": m, "account": m, "side": m, "price": m, "quantity": m, "placed": m, "ended": m]]]),
            ("layout", ["title": m, "style": "", "csrf": m, "content": "", "signedIn": true, "nav": [["path": m, "label": m]], "name": m, "roles": m,
                        "notice": m, "error": m, "warning": m, "warningLink": m]),
            ("alert", ["id": 1, "outcome": m, "status": m, "time": m, "raised": m, "ruleSet": m, "event": m, "caseID": m, "marketAlert": m,
                       "customers": [["customer": 7, "name": m]], "hits": [["rule": m, "score": 1, "explanation": m, "values": [["name": m, "value": m]],
                                                                              "events": m, "eventCount": 1]],
                       "scenarios": [["name": m, "score": 1, "outcome": m]]]),
            ("reconciliation", ["day": m, "clean": false, "breakCount": 1, "cutoff": m, "lines": [["asset": m, "owed": m, "held": m, "observed": m]],
                                "breaks": [["asset": m, "kind": m, "wallet": m, "size": m, "cause": m]],
                                "runs": [["run": 1, "at": m, "by": m, "clean": false, "verdict": m, "report": m]], "hasEarlierRuns": true]),
        ]
        for (name, context) in pages {
            let html = try ConsoleTemplates.render(name, context)
            #expect(!html.contains("<script>alert"), "\(name) lets markup through")
            #expect(html.contains(Self.escaped), "\(name) shows the escaped text")
        }
    }

    @Test func postFormsCarryTheCSRFToken() throws {
        let html = try ConsoleTemplates.render("alerts", ["csrf": "tok3n", "hasAlerts": true, "alerts": [["id": 1, "outcome": "block", "event": "e", "customer": 7, "status": "open",
                                                                                      "why": "w", "canDismiss": true, "canOpen": true]], "cases": [] as [Any]])
        #expect(html.components(separatedBy: #"method="post""#).count - 1 == 2)
        #expect(html.components(separatedBy: #"<input type="hidden" name="csrf" value="tok3n">"#).count - 1 == 2)
        let approvals = try ConsoleTemplates.render("approvals", ["principal": "1", "script": "/s.js", "waitingCount": 0, "others": [] as [Any], "hasOthers": false])
        #expect(approvals.contains(#"<p id="no-other-requests">"#) && !approvals.contains(#"id="other-requests""#) && approvals.contains(#"<p id="nothing-waiting">"#))
        let overview = try ConsoleTemplates.render("overview", ["csrf": "tok3n", "nothing": true])
        #expect(overview.contains("Nothing here for your roles") && !overview.contains("<section"))
    }

    // Goal: every text colour the console uses is listed with its background and meets WCAG 2.2
    // AA's contrast of 4.5:1 for normal text (the alert-orange it used, #ef6c00, had 3.08).
    @Test func textColoursMeetTheContrastOfWCAGAA() throws {
        func luminance(_ hex: String) -> Double {
            let value = Int(hex.dropFirst(), radix: 16) ?? 0
            func linear(_ shift: Int) -> Double {
                let c = Double((value >> shift) & 0xff) / 255
                return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
            }
            let red: Double = 0.2126 * linear(16), green: Double = 0.7152 * linear(8), blue: Double = 0.0722 * linear(0)
            return red + green + blue
        }
        func contrast(_ a: String, _ b: String) -> Double {
            let (x, y) = (luminance(a), luminance(b))
            return (max(x, y) + 0.05) / (min(x, y) + 0.05)
        }
        #expect(abs(contrast("#ef6c00", "#ffffff") - 3.08) < 0.005 && abs(contrast("#000000", "#ffffff") - 21) < 0.001)
        for (name, text, background) in Console.textColours {
            #expect(contrast(text, background) >= 4.5, "\(name): \(text) on \(background) is \(contrast(text, background)):1")
        }
        let listed = Set(Console.textColours.map(\.text))
        for match in Console.style.matches(of: #/[^-]color:(#[0-9a-f]{3,6})/#) {
            var hex = String(match.output.1)
            if hex.count == 4 { hex = "#" + hex.dropFirst().map { "\($0)\($0)" }.joined() }
            #expect(listed.contains(hex), "\(hex) is used as a text colour but not checked")
        }
    }

    // Goal: the overview's adequacy chart shows each computation of the last 90 days (older ones
    // left out) against the 100% line, a short point in the alarm colour, and says its range and
    // last figure in words; with fewer than two points there is no chart.
    @Test func theAdequacyChartShowsNinetyDays() throws {
        let day: TimestampNanoseconds = 86_400_000_000_000
        let now: TimestampNanoseconds = 1_796_256_000_000_000_000  // 2026-12-03T00:00:00Z
        func point(_ daysAgo: UInt64, _ funded: UInt64) -> AdequacyPoint {
            AdequacyPoint(time: now - daysAgo * day, ruleVersion: "r", required: Amount(units: 1_000), funded: Amount(units: UInt128(funded)))
        }
        let svg = try #require(Console.adequacyChart([point(120, 500), point(80, 1_200), point(40, 900), point(1, 1_100)], now: now))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3 && svg.components(separatedBy: ##"fill="#c62828""##).count - 1 == 1)
        #expect(ConsoleLanguage.en.localize(svg).contains(#"aria-label="Reserve adequacy over the last 90 days, 3 computations: lowest 90%, highest 120%, latest 110%""#))
        #expect(svg.contains(">2026-09-04</text>") && svg.contains(">2026-12-03</text>") && svg.contains(">100%</text>"))
        #expect(Console.adequacyChart([point(120, 500), point(1, 1_100)], now: now) == nil)
        #expect(Console.adequacyChart([], now: now) == nil)
    }

    // Goal: the hot share per asset over time against the limit, broken (not drawn as 0%) where
    // a balance was missing, red above the limit, in words for a screen reader.
    @Test func theHotShareChartDrawsEachAssetAgainstTheLimit() throws {
        let day: TimestampNanoseconds = 86_400_000_000_000
        let now: TimestampNanoseconds = 1_796_256_000_000_000_000  // 2026-12-03T00:00:00Z
        let points = [
            HotSharePoint(time: now - 3 * day, basisPoints: ["BTC": 400, "ETH": 100], missing: []),
            HotSharePoint(time: now - 2 * day, basisPoints: ["BTC": 620], missing: ["ETH"]),
            HotSharePoint(time: now - day, basisPoints: ["BTC": 300, "ETH": 200], missing: []),
            HotSharePoint(time: now, basisPoints: ["BTC": 300, "ETH": 250], missing: []),
        ]
        let svg = try #require(Console.hotShareChart(points, limitBasisPoints: 500))
        // BTC: one line of four points; ETH: a lone point, then a line of two (the gap is not joined).
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2 && svg.components(separatedBy: "<circle").count - 1 == 7)
        #expect(svg.components(separatedBy: ##"fill="#c62828""##).count - 1 == 1)
        #expect(ConsoleLanguage.en.localize(svg).contains(
            "Hot share at each daily cut-off of the last 90 days and now (asset highest/latest): BTC 6.20%/3.00%, ETH 2.50%/2.50%; the limit is 5.00%"))
        #expect(svg.contains(">5%</text>") && svg.contains(">2026-11-30</text>") && svg.contains(">2026-12-03</text>"))
        #expect(Console.hotShareChart([points[0]], limitBasisPoints: 500) == nil)
        #expect(Console.hotShareChart([points[0], HotSharePoint(time: now, basisPoints: [:], missing: ["BTC"])], limitBasisPoints: 500) == nil)
    }

    // Goal: one bar per day with alerts over the last 90 JST days; days outside are not drawn.
    @Test func theAlertVolumeChartCountsPerDay() {
        let now: TimestampNanoseconds = 1_796_256_000_000_000_000  // 2026-12-03 09:00 JST
        let today = Int64(1_796_256_000 + 32_400) / 86_400
        let svg = Console.alertVolumeChart([today: 3, today - 89: 1, today - 90: 50, today - 10: 6], now: now)
        #expect(svg.components(separatedBy: "<rect").count - 1 == 1 + 3)
        #expect(ConsoleLanguage.en.localize(svg).contains("Alerts raised per day over the last 90 days: 10 in all, 6 on the busiest day, 3 today"))
        #expect(svg.contains(">2026-09-05</text>") && svg.contains(">2026-12-03</text>") && svg.contains("<title>2026-11-23 6</title>"))
        #expect(Console.alertVolumeChart([:], now: now).contains("0 in all"))
    }

    // Goal: a fan is a star in two columns, scatter-gather three columns, a cycle a ring; the
    // subject is orange; nothing to draw without a transfer between customers.
    @Test func flowsAreLaidOutByTheirShape() throws {
        func t(_ from: UInt64, _ to: UInt64) -> CustomerTransfer { CustomerTransfer(event: "e\(from)-\(to)", from: from, to: to, time: 1_796_256_000_000_000_000) }
        func xs(_ svg: String) -> Set<String> {
            Set(svg.components(separatedBy: "<circle cx=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) })
        }
        let fan = try #require(Console.flowChart([t(1, 9), t(2, 9), t(3, 9)], subject: 9, names: [9: "Hub <b>"]))
        #expect(xs(fan).count == 2 && fan.components(separatedBy: "<line class=\"flow\"").count - 1 == 3)
        #expect(fan.contains(##"data-customer="9"><circle"##) && fan.contains("fill=\"#ef6c00\"") && fan.contains("Hub &lt;b&gt;"))
        let scatterGather = try #require(Console.flowChart([t(1, 2), t(1, 3), t(2, 4), t(3, 4)], subject: 4, names: [:]))
        #expect(xs(scatterGather).count == 3)
        let cycle = try #require(Console.flowChart([t(1, 2), t(2, 3), t(3, 1)], subject: 1, names: [:]))
        #expect(ConsoleLanguage.en.localize(cycle).contains("Money flows: 3 customers, 3 transfers, going round"))
        #expect(Console.flowChart([], subject: 1, names: [:]) == nil && Console.flowChart([t(5, 5)], subject: 5, names: [:]) == nil)
    }

    // Goal: every rule the engines can raise has words in both languages (the streaming
    // rules, both watchlists, the network scan's typologies, every market typology), and so
    // do the figures the demo's alerts carry; an unknown key shows as it is.
    @Test func everyRuleAndFigureHasWords() {
        let streaming = MonitoringRules.ruleNames
        let network = ["fan_in", "fan_out", "gather_scatter"].map { Monitoring.networkRulePrefix + $0 }
        let market = SurveillanceTypology.allCases.map { MonitoringAlert.marketRulePrefix + $0.rawValue }
        for rule in streaming + network + market {
            #expect(Console.ruleLabels[rule] != nil, "no words for rule \(rule)")
        }
        #expect(ConsoleLanguage.ja.localize(Console.ruleLabel("cycle")) == "循環送金" && ConsoleLanguage.en.localize(Console.figureLabel("window_days")) == "window (days)")
        #expect(Console.ruleLabel("a_new_rule") == "a_new_rule" && Console.figureLabel("log_counterparties") == "log_counterparties")
    }

    // Goal: a page of a whole list starts anywhere from 0 to its length, and no further.
    @Test func aListPagesFromZeroToItsLength() throws {
        let items = Array(1...120)
        func query(_ from: String?) -> Parameters {
            var parameters = Parameters()
            if let from { parameters[Substring("from")] = Substring(from) }
            return parameters
        }
        let first = try Console.page(items, query: query(nil), size: 50, base: "/console/incidents?status=paid")
        #expect(Array(first.items) == Array(1...50) && first.links["next"] as? String == "/console/incidents?status=paid&from=50" && first.links["first"] as? Bool == false)
        let last = try Console.page(items, query: query("100"), size: 50, base: "/console/incidents")
        #expect(Array(last.items) == Array(101...120) && last.links["next"] as? Bool == false && last.links["first"] as? String == "/console/incidents")
        #expect(last.links["range"] as? String == "101–120 / 120")
        #expect(try Console.page(items, query: query("120"), size: 50, base: "/b").items.isEmpty)
        for bad in ["121", "-1", "x"] {
            #expect(throws: KinkoError.self) { try Console.page(items, query: query(bad), size: 50, base: "/b") }
        }
    }

    // Goal: times read in JST to the second, or to the exact millisecond (taken from the
    // integer, not rounded through a Double), midnight JST being 15:00 UTC the day before.
    @Test func timesReadInJST() {
        #expect(Console.jst(1_796_256_000_123_456_789) == "2026-12-03 09:00:00 JST")
        #expect(Console.jst(1_796_256_000_123_456_789, milliseconds: true) == "2026-12-03 09:00:00.123 JST")
        #expect(Console.jstMilliseconds(1_796_256_000_999) == "2026-12-03 09:00:00.999 JST" && Console.jstMilliseconds(1_796_256_000_007) == "2026-12-03 09:00:00.007 JST")
        #expect(Console.jst(1_796_223_600_000_000_000) == "2026-12-03 00:00:00 JST" && Console.jst(1_796_223_599_000_000_000) == "2026-12-02 23:59:59 JST")
    }

    @Test func anUnknownTemplateIsAnInternalError() {
        #expect(throws: KinkoError.self) { try ConsoleTemplates.render("no-such-page", [:]) }
    }
}
