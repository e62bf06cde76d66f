import Foundation
import HTTPTypes
import Hummingbird
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoReserve

/// The web console: server-rendered HTML, inline CSS and SVG, nothing loaded from elsewhere.
/// Sign-in with an API token opens a server-side session (`ConsoleSessions`; the browser holds
/// only the session id); the caller's roles decide which panels appear. Every POST needs this
/// console's Origin and the session's CSRF token. One language at a time (`ConsoleLanguage`):
/// Japanese unless the visitor switched to English.
struct Console: Sendable {
    let services: Services
    let sessions: ConsoleSessions
    let settings: ConsoleSettings

    func register(on router: Router<BasicRequestContext>) {
        registerApprovals(on: router)
        registerReports(on: router)
        registerAudit(on: router)
        registerCases(on: router)
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console"]) }
        router.get("/console/login") { request, _ in try Self.html(Self.loginPage(error: nil, request: request), language: ConsoleLanguage.of(request)) }
        router.get("/console/language") { request, _ in
            // Only a preference cookie changes: the switch is a plain link on every page.
            let language = ConsoleLanguage(rawValue: request.uri.queryParameters.get("to") ?? "") ?? .ja
            var headers = HTTPFields()
            headers[.location] = ConsoleLanguage.back(request.uri.queryParameters.get("back"))
            headers[.setCookie] = Cookie(name: ConsoleLanguage.cookie, value: language.rawValue, maxAge: ConsoleLanguage.cookieMaxAgeSeconds, path: "/",
                                         secure: settings.secure(request), httpOnly: true, sameSite: .lax).description
            return Response(status: .seeOther, headers: headers)
        }
        router.post("/console/login") { request, _ in try await self.login(request) }
        router.post("/console/logout") { request, _ in
            guard ConsoleSettings.sameOrigin(request) else { return Self.html("<p>cross-site request refused</p>", status: .forbidden, language: .en) }
            // Ends the session on the server, whatever the browser does with its cookie.
            if let id = ConsoleSessions.id(from: request) { sessions.close(id) }
            var headers = HTTPFields()
            headers[.location] = "/console/login"
            headers[.setCookie] = settings.cookie("", request: request, maxAge: 0)
            return Response(status: .seeOther, headers: headers)
        }
        router.get("/console") { request, _ in try await self.page(request) { try await self.overview($0) } }
        router.get("/console/balances") { request, _ in try await self.page(request) { try await self.balances($0, request: request) } }
        router.get("/console/alerts") { request, _ in try await self.page(request) { try await self.alerts($0, query: request.uri.queryParameters) } }
        router.get("/console/approvals") { request, _ in try await self.page(request) { try await self.approvals($0) } }
        router.get("/console/incidents") { request, _ in try await self.page(request) { try await self.incidents($0, query: request.uri.queryParameters) } }
        router.get("/console/surveillance") { request, _ in try await self.page(request) { try await self.surveillance($0, query: request.uri.queryParameters) } }
        router.get("/console/surveillance/alert") { request, _ in
            try await self.page(request) { try await self.surveillanceAlert($0, id: request.uri.queryParameters.get("id") ?? "") }
        }
        router.post("/console/actions/compute-requirement") { request, _ in
            try await self.action(request, back: "/console", permission: .reserveCompute) { caller, _ in
                try await services.ledger.refresh()
                let (requirement, funded) = try await services.reserve.compute(by: caller)
                return Self.both("必要額 ¥\(Self.yen(requirement.required))、積立額 ¥\(Self.yen(funded)) (ルール \(requirement.ruleVersion))",
                                 "required ¥\(Self.yen(requirement.required)), funded ¥\(Self.yen(funded)) (rule set \(requirement.ruleVersion))")
            }
        }
        router.post("/console/actions/reconcile") { request, _ in
            try await self.action(request, back: "/console", permission: .custodyReconcile) { caller, form in
                let day = form["day"] ?? ""
                try KinkoAPI.checkDay(day, field: "day")
                try await services.ledger.refresh()
                let result = try await services.custody.reconcile(day: day, by: caller)
                guard result.isClean else {
                    throw ConsoleWarning(text: Self.both("照合 \(result.day): 差異 \(result.breaks.count) 件 — 未解決", "reconciled \(result.day): \(result.breaks.count) breaks — unresolved"),
                                         link: "/console/reconciliation?day=\(result.day)")
                }
                return Self.both("照合 \(result.day): 差異なし", "reconciled \(result.day): clean")
            }
        }
        router.get("/console/alert") { request, _ in
            try await self.page(request) { try await self.alert($0, id: request.uri.queryParameters.get("id") ?? "") }
        }
        router.get("/console/reconciliation") { request, _ in
            try await self.page(request) { try await self.reconciliation($0, day: request.uri.queryParameters.get("day") ?? "") }
        }
        router.post("/console/actions/dismiss-alert") { request, _ in
            try await self.action(request, back: "/console/alerts", permission: .monitorAlertsManage) { caller, form in
                let id = try KinkoAPI.uint64(form["alert"] ?? "", field: "alert")
                switch try await services.monitoring.dismiss(id, reason: form["reason"] ?? "", by: caller) {
                case .dismissed:
                    return Self.both("アラート \(id) を却下しました", "alert \(id) dismissed")
                case .awaitingApproval(let request):
                    return Self.both("阻止アラート \(id) の却下は二人目のコンプライアンス担当者の承認待ちです (申請 \(request.id))",
                                     "dismissing blocking alert \(id) waits for a second compliance officer (request \(request.id))")
                }
            }
        }
        router.post("/console/actions/open-case") { request, _ in
            try await self.action(request, back: "/console/alerts", permission: .monitorCasesManage) { caller, form in
                let id = try KinkoAPI.uint64(form["alert"] ?? "", field: "alert")
                let record = try await services.monitoring.openCase(title: form["title"] ?? "", alerts: [id], assignee: caller.name, by: caller)
                return Self.both("案件 \(record.id) を開始しました", "case \(record.id) opened")
            }
        }
    }

    // MARK: Session

    /// The caller of the request's live session and the session's CSRF token; nil when there
    /// is none (no cookie, ended, or its token revoked or expired, which ends it).
    func signedIn(_ request: Request) async throws -> (caller: Caller, csrf: String)? {
        guard let id = ConsoleSessions.id(from: request), let session = sessions.session(id) else { return nil }
        do {
            return (try await services.governance.authenticate(token: session.token), session.csrf)
        } catch let error as KinkoError where error.code == .unauthenticated {
            sessions.close(id)
            return nil
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body (at most `formBytesMax`),
    /// decoded by Hummingbird's form decoder, each value trimmed.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: formBytesMax))
        guard !body.isEmpty else { return [:] }
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: body).mapValues { $0.trimmingCharacters(in: .whitespaces) }
        } catch {
            throw KinkoError(.invalidInput, "the form is not application/x-www-form-urlencoded name=value pairs", field: "body")
        }
    }

    static let formBytesMax = 4_096

    /// Signs in: only from this console's own page (a cross-site or Origin-less POST is
    /// refused), then a new session; any session the browser had is ended.
    func login(_ request: Request) async throws -> Response {
        guard ConsoleSettings.sameOrigin(request) else {
            return try Self.html(Self.loginPage(error: Self.both("別サイトからのサインインは拒否されます。", "Sign-in from another site is refused."), request: request),
                                 status: .forbidden, language: ConsoleLanguage.of(request))
        }
        let token = try await Self.form(request)["token"] ?? ""
        do {
            _ = try await services.governance.authenticate(token: token)
        } catch {
            return try Self.html(Self.loginPage(error: Self.both("トークンが無効です。", "The token is not valid."), request: request), status: .unauthorized,
                                 language: ConsoleLanguage.of(request))
        }
        if let previous = ConsoleSessions.id(from: request) { sessions.close(previous) }
        let session = sessions.open(token: token)
        var headers = HTTPFields()
        headers[.location] = "/console"
        headers[.setCookie] = settings.cookie(session.id, request: request)
        return Response(status: .seeOther, headers: headers)
    }

    /// Authenticates the cookie and renders a page (its template and context), or sends the
    /// visitor to sign in.
    func page(_ request: Request, _ body: (Caller) async throws -> (template: String, context: [String: Any])) async throws -> Response {
        guard let (caller, csrf) = try await signedIn(request) else {
            return Response(status: .seeOther, headers: [.location: "/console/login"])
        }
        let (status, content): (HTTPResponse.Status, String)
        do {
            let (template, context) = try await body(caller)
            (status, content) = (.ok, try ConsoleTemplates.render(template, context.merging(["csrf": csrf]) { $1 }))
        } catch let error as KinkoError {
            // A page the role may not read (or a bad query) is an HTML page too, with the status.
            let problem = Problem(error)
            (status, content) = (problem.status, try ConsoleTemplates.render("problem", ["status": problem.status.code, "title": problem.title, "detail": problem.fieldAndDetail]))
        }
        return Self.html(try Self.layout(caller: caller, csrf: csrf, content: content, flash: Self.flash(request), request: request), status: status,
                         language: ConsoleLanguage.of(request))
    }

    /// A console action: a form POST from our own pages (this console's Origin required, the
    /// session's CSRF token in the form, the cookie SameSite=Strict), run as the signed-in
    /// caller with the same checks as the API, then back to the page with what happened (or
    /// why not) in the URL.
    func action(_ request: Request, back: String, permission: Permission, _ run: (Caller, [String: String]) async throws -> String) async throws -> Response {
        guard ConsoleSettings.sameOrigin(request) else { return Self.html("<p>cross-site request refused</p>", status: .forbidden, language: .en) }
        guard let (caller, csrf) = try await signedIn(request) else {
            return Response(status: .seeOther, headers: [.location: "/console/login"])
        }
        let outcome: (key: String, text: String)
        do {
            // Authorized before the form is read: a caller without the permission gets nothing
            // of this action's code to exercise.
            _ = try await services.governance.authorize(caller, permission)
            let form = try await Self.form(request)
            guard ConsoleSessions.same(form["csrf"] ?? "", csrf) else {
                return Self.html("<p>the form's CSRF token does not match this session; reload the page</p>", status: .forbidden, language: .en)
            }
            outcome = ("notice", try await run(caller, form))
        } catch let warning as ConsoleWarning {
            // Done, but what it found needs work: shown in the alarm colour, with a link to it.
            return Self.redirect(back, [("warning", warning.text), ("link", warning.link)])
        } catch let error as KinkoError {
            outcome = ("error", Problem(error).fieldAndDetail)
        }
        return Self.redirect(back, [outcome])
    }

    /// A 303 to `back` (which may carry a query of its own) with `items` added to its query.
    static func redirect(_ back: String, _ items: [(String, String)]) -> Response {
        let query = items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return Response(status: .seeOther, headers: [.location: back + (back.contains("?") ? "&" : "?") + query])
    }

    /// The outcome of the last action, from the query string the action redirected to.
    static func flash(_ request: Request) -> [String: Any] {
        var flash: [String: Any] = [:]
        for key in ["notice", "error", "warning"] {
            if let text = request.uri.queryParameters[Substring(key)].flatMap({ String($0).removingPercentEncoding }) { flash[key] = text }
        }
        // Only a link into the console itself.
        if let link = request.uri.queryParameters["link"].flatMap({ String($0).removingPercentEncoding }), link.hasPrefix("/console/"), !link.contains("//") {
            flash["warningLink"] = link
        }
        return flash
    }

    static func allows(_ caller: Caller, _ permission: Permission) -> Bool {
        caller.roles.contains { PermissionTable.standard.allows($0, permission) }
    }

    // MARK: Pages

    func overview(_ caller: Caller) async throws -> (template: String, context: [String: Any]) {
        var context: [String: Any] = [:]
        try await services.ledger.refresh()
        if Self.allows(caller, .reserveRead) {
            var reserve: [String: Any] = ["canCompute": Self.allows(caller, .reserveCompute)]
            let points = try await services.reserve.adequacy(by: caller)
            reserve["chart"] = Self.adequacyChart(points, now: services.clock.now()) ?? false
            if let latest = points.last {
                let ratio = latest.required.units == 0 ? 1 : Double(latest.funded.units) / Double(latest.required.units)
                reserve["computed"] = [
                    "required": Self.yen(latest.required), "funded": Self.yen(latest.funded), "adequacy": String(format: "%.0f%%", ratio * 100),
                    "ruleVersion": latest.ruleVersion, "time": Self.jst(latest.time),
                    "bar": Self.bar(value: min(ratio, 2), limit: 1, maximum: 2, label: "funded / required", good: ratio >= 1),
                ] as [String: Any]
            }
            context["reserve"] = reserve
        }
        if Self.allows(caller, .custodyRead) {
            let check = try await services.custody.check(by: caller)
            // The limit the check applied: the regulatory figure in force, never one in the page.
            let limit = Double(check.limitBasisPoints) / 10_000
            var custody: [String: Any] = [
                "limit": Share.percent(basisPoints: UInt128(check.limitBasisPoints)),
                "assets": check.assets.map { figures -> [String: Any] in
                    let share = figures.hotShareBasisPoints.map { Double($0) / 10_000 }
                    return ["code": figures.asset.code, "share": share.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a",
                            "bar": share.map { Self.bar(value: $0, limit: limit, maximum: max(2 * limit, $0, 0.0001), label: "hot share", good: $0 <= limit) } ?? "",
                            "mark": figures.passed ? "✓" : "✗"]
                },
            ]
            let history = try await services.custody.hotShareHistory(days: Self.chartDays, by: caller)
            custody["chart"] = Self.hotShareChart(history, limitBasisPoints: check.limitBasisPoints) ?? false
            let missed = try await services.custody.unreconciledDays(days: ServerSettings.reconcileLookbackDays, by: caller)
            custody["hasMissed"] = !missed.isEmpty
            custody["missed"] = missed.map { ["day": $0] }
            if let day = try await services.custody.latestReconciliation(by: caller) {
                custody["last"] = ["day": day.day, "clean": String(day.isClean), "summaryClass": day.isClean ? "good" : "bad",
                                   "summary": day.isClean ? Self.both("差異なし", "clean") : Self.both("差異 \(day.breaks.count) 件・未解決", "\(day.breaks.count) unresolved breaks")]
            }
            if Self.allows(caller, .custodyReconcile) {
                custody["canReconcile"] = true
                let now = services.clock.now()
                custody["yesterday"] = Self.lastCutoffDay(now: now, hourJST: try await services.custody.settingsInForce(at: now).reconciliationCutoffHourJST)
            }
            context["custody"] = custody
        }
        if Self.allows(caller, .monitorRead) {
            let counts = try await services.monitoring.alertCounts(by: caller)
            let now = services.clock.now()
            let volume = try await services.monitoring.alertsRaisedPerDay(days: Self.chartDays, now: now, by: caller)
            context["monitoring"] = ["open": counts["open"] ?? 0, "inCase": counts["in_case"] ?? 0, "chart": Self.alertVolumeChart(volume, now: now)] as [String: Any]
        }
        if Self.allows(caller, .reserveRead) {
            let incidents = try await services.reserve.incidents(by: caller)
            context["incidents"] = ["open": incidents.filter { $0.paidAt == nil }.count, "total": incidents.count]
        }
        context["nothing"] = context.isEmpty
        return ("overview", context)
    }

    /// A time as people in Japan read it: `2026-12-03 17:42:05 JST` (with `.123` when
    /// `milliseconds`).
    static func jst(_ time: TimestampNanoseconds, milliseconds: Bool = false) -> String { JST.time(of: time, milliseconds: milliseconds) + " JST" }

    /// One alert with its evidence: each rule that fired, what it saw against what it allows,
    /// the events and customers behind it, and where the alert stands.
    func alert(_ caller: Caller, id: String) async throws -> (template: String, context: [String: Any]) {
        let number = try KinkoAPI.uint64(id, field: "id")
        let (alert, flows) = try await services.monitoring.alertFlows(number, by: caller)
        // Names only for those who may read customers' records.
        let readable = Self.allows(caller, .customersRead)
        let names = readable ? try await services.monitoring.customerNames(Array(alert.customers.prefix(Monitoring.namesPerReadMax)), by: caller) : [:]
        let eventsShown = 100
        return ("alert", [
            "flows": Self.flowChart(flows, subject: alert.hits.first?.subject ?? alert.customer, names: names) ?? false,
            "flowCount": flows.count,
            "id": alert.id, "outcome": alert.outcome.rawValue, "status": alert.status.rawValue, "time": Self.jst(alert.time), "raised": Self.jst(alert.raisedAt),
            "ruleSet": alert.ruleSetVersion, "event": alert.event, "caseID": alert.caseID.map { $0 as Any } ?? false,
            "marketAlert": alert.marketActivity.map { $0.surveillanceAlert as Any } ?? false,
            "customers": alert.customers.filter { $0 != 0 }.map { c -> [String: Any] in
                ["customer": c, "name": names[c] ?? (readable ? Self.both("KYC 未登録", "no KYC profile") : "")]
            },
            "hits": alert.hits.map { hit -> [String: Any] in
                ["rule": Self.ruleLabel(hit.rule), "ruleKey": hit.rule, "score": hit.score, "explanation": hit.explanation,
                 "values": hit.values.sorted { $0.key < $1.key }.map { ["name": Self.figureLabel($0.key), "key": $0.key, "value": $0.value] },
                 "events": hit.events.prefix(eventsShown).joined(separator: ", ") + (hit.events.count > eventsShown ? " … (\(hit.events.count))" : ""),
                 "eventCount": hit.events.count]
            },
            "scenarios": alert.scenarios.map { ["name": $0.name, "score": $0.score, "outcome": $0.outcome.rawValue] as [String: Any] },
        ])
    }

    /// The business day whose cut-off passed last: today once today's cut-off (17:00 JST) is
    /// past, else yesterday — the day a treasurer reconciles.
    static func lastCutoffDay(now: TimestampNanoseconds, hourJST: Int) -> String {
        let today = JST.day(of: now)
        if let cutoff = try? Reconciliation.cutoff(day: today, hourJST: hourJST), now >= cutoff { return today }
        return JST.day(of: now - 86_400_000_000_000)
    }

    /// A stored day's reconciliation with every break: what, where, how large, why.
    func reconciliation(_ caller: Caller, day: String) async throws -> (template: String, context: [String: Any]) {
        try KinkoAPI.checkDay(day, field: "day")
        let result = try await services.custody.reconciliation(day: day, by: caller)
        let runs = try await services.custody.reconciliationRuns(day: day, by: caller)
        var assets: [String: Asset] = [:]
        for asset in try await services.ledgerService.assets(by: caller) { assets[asset.code] = asset }
        func amount(_ value: Amount, _ code: String) -> String { (assets[code].map { Self.grouped($0.format(value)) } ?? value.description) + " " + code }
        return ("reconciliation", [
            "day": result.day, "clean": result.isClean, "breakCount": result.breaks.count, "cutoff": Self.jst(result.cutoff),
            "runs": runs.reversed().map { run -> [String: Any] in
                ["run": run.run, "at": Self.jst(run.computedAt), "by": run.by, "clean": run.isClean, "report": run.report,
                 "verdict": run.isClean ? Self.both("差異なし", "clean") : Self.both("差異 \(run.breakCount) 件", "\(run.breakCount) breaks")]
            },
            "hasEarlierRuns": runs.count > 1,
            "lines": result.lines.map { line -> [String: Any] in
                ["asset": line.asset, "owed": amount(line.liabilities, line.asset), "held": amount(line.ledgerHoldings, line.asset),
                 "observed": line.observed.map { amount($0, line.asset) } ?? "—"]
            },
            "breaks": result.breaks.map { b -> [String: Any] in
                ["asset": b.asset, "kind": b.kind.rawValue, "wallet": b.wallet ?? "—", "size": amount(b.size, b.asset), "cause": b.cause]
            },
        ])
    }

    /// A decimal with thousands separators in its whole part (`1234567.5` → `1,234,567.5`).
    static func grouped(_ decimal: String) -> String {
        let sign = decimal.hasPrefix("-") ? "-" : ""
        let parts = decimal.dropFirst(sign.count).split(separator: ".", maxSplits: 1)
        var whole = Array(parts.first ?? "")
        var index = whole.count - 3
        while index > 0 {
            whole.insert(",", at: index)
            index -= 3
        }
        return sign + String(whole) + (parts.count == 2 ? "." + parts[1] : "")
    }

    /// Accounts a page of balances shows.
    static let balancesPageRows = 100

    /// One asset's accounts, `balancesPageRows` a page by id after `after`, of one class when
    /// `class` is given.
    func balances(_ caller: Caller, request: Request) async throws -> (template: String, context: [String: Any]) {
        let query = request.uri.queryParameters
        let code = query["asset"].map(String.init) ?? "JPY"
        let asset = try await services.ledgerService.asset(code: code, by: caller)
        var classFilter: AccountClass?
        if let name = query.get("class"), !name.isEmpty {
            guard let found = AccountClass(name: name) else {
                throw KinkoError(.invalidInput, "must be one of \(AccountClass.allCases.map(\.name).joined(separator: ", "))", field: "class")
            }
            classFilter = found
        }
        let after = try query.get("after").map { try AccountID(parsing: $0, field: "after") }
        let page = try await services.ledgerService.balances(asset: asset.code, owner: nil, accountClass: classFilter, after: after,
                                                             limit: Self.balancesPageRows, by: caller)
        let classQuery = classFilter.map { "&class=\($0.name)" } ?? ""
        let assets = try await services.ledgerService.assets(by: caller)
        // System accounts by name; customers by name for those who may read customers' records.
        var labels: [AccountID: String] = [Custody.feeAccountID(asset: asset.code): Self.both("自己資金・手数料", "own funds (fees)")]
        if Self.allows(caller, .custodyRead) {
            for wallet in try await services.custody.wallets(by: caller) {
                for held in wallet.assets { labels[Wallet.accountID(wallet: wallet.id, asset: held)] = Self.both("ウォレット \(wallet.id)", "wallet \(wallet.id)") }
            }
        }
        let owners = Array(Set(page.accounts.compactMap { UInt64(exactly: $0.account.owner) }.filter { $0 != 0 }))
        let found = Self.allows(caller, .customersRead) ? try await services.monitoring.customerNames(owners, by: caller) : [:]
        let names = Dictionary(uniqueKeysWithValues: found.map { (UInt128($0.key), $0.value) })
        return ("balances", [
            "asset": asset.code,
            "classes": [["value": "", "label": Self.both("すべて", "all"), "selected": classFilter == nil] as [String: Any]]
                + AccountClass.allCases.map { ["value": $0.name, "label": Self.classLabel($0), "selected": $0 == classFilter] as [String: Any] },
            "next": page.nextAfter.map { "/console/balances?asset=\(asset.code)\(classQuery)&after=\($0)" as Any } ?? false,
            "first": after != nil ? "/console/balances?asset=\(asset.code)\(classQuery)" as Any : false,
            "tabs": assets.enumerated().map { ["code": $1.code, "last": $0 == assets.count - 1] as [String: Any] },
            "hasRows": !page.accounts.isEmpty,
            "rows": page.accounts.map { entry -> [String: Any] in
                let id = entry.account.id.description
                let owner = entry.account.owner
                return ["id": id, "label": labels[entry.account.id] ?? Self.shortID(id), "accountClass": Self.classLabel(entry.account.accountClass),
                        "owner": owner == 0 ? "" : names[owner].map { "\($0) (\(owner))" } ?? String(owner),
                        "balance": Self.grouped(entry.balance.netPostedDescription(claim: entry.account.accountClass.isClaim, scale: asset.scale)) + " " + asset.code]
            },
        ])
    }

    /// An id people can read: up to 20 digits as it is, longer ones by their last 12 (the whole
    /// id stays in the cell's title).
    static func shortID(_ id: String) -> String { id.count <= 20 ? id : "…" + id.suffix(12) }

    /// One page of a list the domain returns whole (incidents, reports, market alerts): `size`
    /// items from the query's `from` (0 to the list's length), and links to the first and the
    /// next page; `base` is the page's path with its filters (`/console/incidents?status=paid`).
    static func page<T>(_ items: [T], query: Parameters, size: Int, base: String) throws(KinkoError) -> (items: ArraySlice<T>, links: [String: Any]) {
        let from = try query.get("from").map { text throws(KinkoError) in try KinkoAPI.int(text, field: "from", in: 0...items.count) } ?? 0
        let shown = items.dropFirst(from).prefix(size)
        let joiner = base.contains("?") ? "&" : "?"
        return (shown, [
            "first": from > 0 ? base as Any : false,
            "next": from + shown.count < items.count ? base + joiner + "from=\(from + shown.count)" as Any : false,
            "range": items.isEmpty ? "" : "\(from + 1)–\(from + shown.count) / \(items.count)",
        ])
    }

    /// Rows a page of a list shows (incidents, reports, cases, market alerts).
    static let listPageRows = 50

    /// A filter's value from the query: one of `allowed`, or "" (no filter) when absent or empty.
    static func choice(_ query: Parameters, _ name: String, allowed: [String]) throws(KinkoError) -> String {
        let value = query.get(name) ?? ""
        guard value.isEmpty || allowed.contains(value) else { throw KinkoError(.invalidInput, "must be one of \(allowed.joined(separator: ", "))", field: name) }
        return value
    }

    /// Options of a filter's `<select>`: "all" first, the chosen one selected.
    static func options(_ values: [(value: String, label: String)], chosen: String) -> [[String: Any]] {
        ([("", both("すべて", "all"))] + values).map { ["value": $0.value, "label": $0.label, "selected": $0.value == chosen] as [String: Any] }
    }

    /// `name (number)` for customers whose names the caller may read, else the number alone.
    func customerLabels(_ customers: [UInt64], caller: Caller) async throws -> [UInt64: String] {
        let numbers = Array(Set(customers.filter { $0 != 0 })).prefix(Monitoring.namesPerReadMax)
        let names = Self.allows(caller, .customersRead) ? try await services.monitoring.customerNames(Array(numbers), by: caller) : [:]
        return Dictionary(uniqueKeysWithValues: numbers.map { ($0, names[$0].map { [number = $0] name in "\(name) (\(number))" } ?? String($0)) })
    }

    /// An account class in both languages instead of its snake_case name.
    static func classLabel(_ accountClass: AccountClass) -> String {
        switch accountClass {
        case .customerLiability: both("顧客預り", "customer liability")
        case .customerCustodyHolding: both("分別保管", "customer custody holding")
        case .ownFunds: both("自己資金", "own funds")
        case .ownHolding: both("自己保有", "own holding")
        case .reserveFund: both("責任準備金", "liability reserve")
        case .guaranteeCrypto: both("履行保証暗号資産", "guarantee crypto")
        case .insuranceReceivable: both("保険金請求権", "insurance receivable")
        case .compensationPayable: both("補償債務", "compensation payable")
        case .externalSettlement: both("外部決済", "external settlement")
        case .quarantine: both("隔離", "quarantine")
        case .reserveHolding: both("責任準備金保有", "reserve holding")
        }
    }

    /// Alerts a page of the queue shows.
    static let alertsPageRows = 50

    /// The alert queue, oldest first, `alertsPageRows` a page after `after`, filtered by status
    /// (open by default: the work waiting); and the cases.
    func alerts(_ caller: Caller, query: Parameters) async throws -> (template: String, context: [String: Any]) {
        let statusText = query.get("status") ?? AlertStatus.open.rawValue
        var status: AlertStatus?
        if statusText != "all" {
            guard let chosen = AlertStatus(rawValue: statusText) else {
                throw KinkoError(.invalidInput, "must be all, " + AlertStatus.allCases.map(\.rawValue).joined(separator: ", "), field: "status")
            }
            status = chosen
        }
        let after = try query.get("after").map { try KinkoAPI.uint64($0, field: "after") } ?? 0
        let alerts = try await services.monitoring.alerts(status: status, after: after, limit: Self.alertsPageRows + 1, by: caller)
        let shown = alerts.prefix(Self.alertsPageRows)
        let canDismiss = Self.allows(caller, .monitorAlertsManage), canOpen = Self.allows(caller, .monitorCasesManage)
        let caseStatus = try Self.choice(query, "case_status", allowed: CaseStatus.allCases.map(\.rawValue))
        let caseAfter = try query.get("case_after").map { try KinkoAPI.uint64($0, field: "case_after") } ?? 0
        let casePage = try await casesPage(status: caseStatus, after: caseAfter, by: caller)
        let cases = casePage.cases
        let labels = try await customerLabels(shown.map(\.customer), caller: caller)
        let caseQuery = "status=\(statusText)" + (after > 0 ? "&after=\(after)" : "") + (caseStatus.isEmpty ? "" : "&case_status=\(caseStatus)")
        let statuses = ["all"] + AlertStatus.allCases.map(\.rawValue)
        return ("alerts", [
            "statuses": statuses.map { ["value": $0, "label": Self.alertStatusLabel($0), "selected": $0 == statusText] as [String: Any] },
            "hasAlerts": !shown.isEmpty,
            "next": alerts.count > Self.alertsPageRows ? "/console/alerts?status=\(statusText)&after=\(shown.last?.id ?? 0)" as Any : false,
            "first": after > 0 ? "/console/alerts?status=\(statusText)" as Any : false,
            "alerts": shown.map { a -> [String: Any] in
                ["id": a.id, "outcome": a.outcome.rawValue, "event": a.event, "customer": a.customer == 0 ? "—" : labels[a.customer] ?? String(a.customer),
                 "status": Self.alertStatusLabel(a.status.rawValue), "statusKey": a.status.rawValue,
                 "why": a.hits.map(\.explanation).joined(separator: "; "), "canDismiss": a.status == .open && canDismiss, "canOpen": a.status == .open && canOpen,
                 "marketAlert": a.marketActivity.map { $0.surveillanceAlert as Any } ?? false]
            },
            "caseStatuses": Self.options(CaseStatus.allCases.map { ($0.rawValue, Self.caseStatusLabel($0)) }, chosen: caseStatus),
            "alertStatus": statusText, "hasCases": !cases.isEmpty,
            "casesNext": casePage.next.map { "/console/alerts?\(caseQuery)&case_after=\($0)#cases" as Any } ?? false,
            "casesFirst": caseAfter > 0 ? "/console/alerts?\(caseQuery)#cases" as Any : false,
            "cases": cases.map { c -> [String: Any] in
                ["id": c.id, "title": c.title, "status": Self.caseStatusLabel(c.status), "disposition": c.disposition?.rawValue ?? "", "assignee": c.assignee ?? "",
                 "alerts": c.alerts.map { "#\($0)" }.joined(separator: ", ")]
            },
        ])
    }

    /// A page of cases (`listPageRows`) with ids above `after`, of one status when given. The
    /// store pages by id; a status filter reads further pages until the page is full.
    func casesPage(status: String, after: UInt64, by caller: Caller) async throws -> (cases: [MonitoringCase], next: UInt64?) {
        var found: [MonitoringCase] = []
        var cursor = after
        while found.count < Self.listPageRows {
            let page = try await services.monitoring.cases(after: cursor, limit: Governance.pageMax, by: caller)
            for record in page.cases where status.isEmpty || record.status.rawValue == status {
                found.append(record)
                if found.count == Self.listPageRows { return (found, record.id) }
            }
            guard let next = page.next else { break }
            cursor = next
        }
        return (found, nil)
    }

    static func caseStatusLabel(_ status: CaseStatus) -> String {
        switch status {
        case .open: both("未着手", "open")
        case .investigating: both("調査中", "investigating")
        case .closed: both("終了", "closed")
        }
    }

    static func alertStatusLabel(_ status: String) -> String {
        switch status {
        case "open": both("未処理", "open")
        case "in_case": both("案件中", "in a case")
        case "dismissed": both("却下", "dismissed")
        case "closed": both("終了", "closed")
        default: both("すべて", "all")
        }
    }

    /// Incidents, newest first, by compensation status, `listPageRows` a page; each with what
    /// was lost in the asset's units and in yen.
    func incidents(_ caller: Caller, query: Parameters) async throws -> (template: String, context: [String: Any]) {
        let status = try Self.choice(query, "status", allowed: ["unpaid", "paid"])
        let all = try await services.reserve.incidents(by: caller).sorted { $0.id > $1.id }
        let chosen = all.filter { status.isEmpty || ($0.paidAt != nil) == (status == "paid") }
        let (shown, links) = try Self.page(chosen, query: query, size: Self.listPageRows, base: "/console/incidents" + (status.isEmpty ? "" : "?status=\(status)"))
        var assets: [String: Asset] = [:]
        for asset in try await services.ledgerService.assets(by: caller) { assets[asset.code] = asset }
        return ("incidents", links.merging([
            "statuses": Self.options([("unpaid", Self.both("未払", "unpaid")), ("paid", Self.both("支払済", "paid"))], chosen: status),
            "hasIncidents": !shown.isEmpty,
            "incidents": shown.map { incident -> [String: Any] in
                let minutes = incident.paidAt.map { ($0 - min($0, incident.detectedAt)) / 60_000_000_000 }
                let losses = incident.losses.map { loss in
                    (assets[loss.asset].map { Self.grouped($0.format(loss.amount)) } ?? loss.amount.description) + " \(loss.asset) (\(loss.wallet))"
                }
                return ["id": incident.id, "lossType": incident.lossType, "detected": Self.jst(incident.detectedAt), "losses": losses.joined(separator: ", "),
                        "lossJPY": "¥" + Self.yen(incident.lossJPY), "valuation": incident.valuation, "paid": incident.paidAt != nil,
                        "compensation": incident.paidAt.map { Self.both("支払済 \(Self.jst($0))", "paid \(Self.jst($0))") } ?? Self.both("未払", "unpaid"),
                        "took": minutes.map { Self.both("\($0) 分", "\($0) min") } ?? ""]
            },
        ]) { $1 })
    }

    // MARK: HTML

    /// Scripts only from this origin (approve.js), fetches only to it, no frames, no plug-ins.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    /// `text` as an HTML response, in `language` (`ConsoleLanguage.localize`).
    static func html(_ text: String, status: HTTPResponse.Status = .ok, language: ConsoleLanguage) -> Response {
        let text = language.localize(text)
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.frameOptions] = "DENY"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Text for an attribute or element the server writes itself (the SVG bars' labels).
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func yen(_ amount: Amount) -> String { grouped(amount.decimalString(scale: 0)) }

    /// A horizontal bar with a vertical line at `limit` (inline SVG).
    static func bar(value: Double, limit: Double, maximum: Double, label: String, good: Bool) -> String {
        let width = 240.0
        let x = max(0, min(1, value / maximum)) * width
        let line = max(0, min(1, limit / maximum)) * width
        return """
            <svg width="\(Int(width))" height="16" role="img" aria-label="\(escape(label))"><rect width="\(Int(width))" height="16" fill="#eee"/>\
            <rect width="\(String(format: "%.1f", x))" height="16" fill="\(good ? "#2e7d32" : "#c62828")"/>\
            <line x1="\(String(format: "%.1f", line))" x2="\(String(format: "%.1f", line))" y1="0" y2="16" stroke="#000" stroke-width="2"/></svg>
            """
    }

    static let style = """
        body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#222}nav{background:#1a237e;color:#fff;padding:8px 16px;display:flex;align-items:center;gap:12px}
        nav .links{flex:1 1 auto;min-width:0;display:flex;flex-wrap:wrap;gap:4px 14px}nav .me{flex:0 0 auto;white-space:nowrap}
        nav a{color:#fff;text-decoration:none}nav #language{margin-right:10px;padding:1px 6px;border:1px solid #9fa8da;border-radius:4px}main{padding:16px;overflow-x:auto}section{border:1px solid #ddd;border-radius:6px;padding:8px 16px;margin:12px 0}
        table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}.n{text-align:right}
        .good{color:#2e7d32}.bad,.block{color:#c62828}.review{color:#b45309}form.inline{display:inline}a{color:#1a4fb5}
        :focus-visible{outline:3px solid #f9a825;outline-offset:2px}.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;color:#1a237e;padding:4px 8px;z-index:1}
        @media (max-width:900px){nav{flex-wrap:wrap}nav .me{white-space:normal}main{padding:8px}section{padding:6px 10px}}
        """

    /// Text colours against the background they are drawn on, each held to WCAG 2.2 AA's 4.5:1
    /// (checked by a test from these figures, so a new colour cannot slip below it).
    static let textColours: [(name: String, text: String, background: String)] = [
        ("body", "#222222", "#ffffff"), ("navigation", "#ffffff", "#1a237e"), ("good", "#2e7d32", "#ffffff"), ("bad", "#c62828", "#ffffff"),
        ("review", "#b45309", "#ffffff"), ("link", "#1a4fb5", "#ffffff"), ("skip link", "#1a237e", "#ffffff"),
    ]

    /// A signed-in page: navigation for the caller's roles, who is signed in, the outcome of
    /// the last action, and `content` (a rendered template).
    static func layout(caller: Caller, csrf: String, content: String, flash: [String: Any], request: Request) throws(KinkoError) -> String {
        try ConsoleTemplates.render("layout", flash.merging(languageSwitch(request)) { $1 }.merging([
            "title": "Kinko 金庫", "style": style, "csrf": csrf, "content": content, "signedIn": true,
            "nav": pages.filter { $0.permission.map { allows(caller, $0) } ?? true }.map { ["path": $0.path, "label": $0.label] },
            "name": caller.name, "roles": caller.roles.sorted().map(\.rawValue).joined(separator: ", "),
        ]) { $1 })
    }

    /// The pages the caller's roles may read.
    static let pages: [(path: String, label: String, permission: Permission?)] = [
        ("/console", both("概要", "Overview"), nil), ("/console/balances", both("残高", "Balances"), .ledgerRead),
        ("/console/approvals", both("承認", "Approvals"), .approvalsRead), ("/console/alerts", both("アラート", "Alerts"), .monitorRead),
        ("/console/surveillance", both("相場監視", "Surveillance"), .monitorRead), ("/console/incidents", both("インシデント", "Incidents"), .reserveRead),
        ("/console/reports", both("報告書", "Reports"), .reportsRead), ("/console/audit", both("監査", "Audit"), .auditRead),
    ]

    static func loginPage(error: String?, request: Request) throws(KinkoError) -> String {
        var login: [String: Any] = [:]
        if let error { login["loginError"] = error }
        return try ConsoleTemplates.render("layout", languageSwitch(request).merging([
            "title": both("Kinko 金庫 — サインイン", "Kinko 金庫 — sign in"), "style": style, "content": try ConsoleTemplates.render("login", login),
        ]) { $1 })
    }

    /// The page's language and the link that switches to the other one and back to this page.
    static func languageSwitch(_ request: Request) -> [String: Any] {
        let language = ConsoleLanguage.of(request)
        let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let back = ConsoleLanguage.back(here).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2Fconsole"
        return ["lang": language.rawValue, "switchLang": language.other.rawValue, "switchName": language.other.name,
                "switchHref": "/console/language?to=\(language.other.rawValue)&back=\(back)"]
    }

    /// Text in both languages, shown in the page's (`ConsoleLanguage.both`).
    static func both(_ ja: String, _ en: String) -> String { ConsoleLanguage.both(ja, en) }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

/// An action that was carried out but found something that needs work (a reconciliation with
/// breaks): the console shows it in the alarm colour with a link to what it found.
struct ConsoleWarning: Error {
    let text: String
    let link: String
}
