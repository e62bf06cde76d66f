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
/// console's Origin and the session's CSRF token. Labels are Japanese and English.
struct Console: Sendable {
    let services: Services
    let sessions: ConsoleSessions
    let settings: ConsoleSettings

    func register(on router: Router<BasicRequestContext>) {
        registerApprovals(on: router)
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/console"]) }
        router.get("/console/login") { request, _ in Self.html(Self.loginPage(error: nil)) }
        router.post("/console/login") { request, _ in try await self.login(request) }
        router.post("/console/logout") { request, _ in
            guard ConsoleSettings.sameOrigin(request) else { return Self.html("<p>cross-site request refused</p>", status: .forbidden) }
            // Ends the session on the server, whatever the browser does with its cookie.
            if let id = ConsoleSessions.id(from: request) { sessions.close(id) }
            var headers = HTTPFields()
            headers[.location] = "/console/login"
            headers[.setCookie] = settings.cookie("", request: request, maxAge: 0)
            return Response(status: .seeOther, headers: headers)
        }
        router.get("/console") { request, _ in try await self.page(request) { try await self.overview($0) } }
        router.get("/console/balances") { request, _ in try await self.page(request) { try await self.balances($0, request: request) } }
        router.get("/console/alerts") { request, _ in try await self.page(request) { try await self.alerts($0) } }
        router.get("/console/approvals") { request, _ in try await self.page(request) { try await self.approvals($0) } }
        router.get("/console/incidents") { request, _ in try await self.page(request) { try await self.incidents($0) } }
        router.get("/console/audit") { request, _ in try await self.page(request) { try await self.audit($0) } }
        router.post("/console/actions/compute-requirement") { request, _ in
            try await self.action(request, back: "/console", permission: .reserveCompute) { caller, _ in
                try await services.ledger.refresh()
                let (requirement, funded) = try await services.reserve.compute(by: caller)
                return "必要額 / required ¥\(Self.yen(requirement.required)), 積立額 / funded ¥\(Self.yen(funded)) (rule set \(requirement.ruleVersion))"
            }
        }
        router.post("/console/actions/reconcile") { request, _ in
            try await self.action(request, back: "/console", permission: .custodyReconcile) { caller, form in
                let day = form["day"] ?? ""
                try KinkoAPI.checkDay(day, field: "day")
                try await services.ledger.refresh()
                let result = try await services.custody.reconcile(day: day, by: caller)
                return "照合 / reconciled \(result.day): " + (result.isClean ? "差異なし / clean" : "\(result.breaks.count) 差異 / breaks")
            }
        }
        router.post("/console/actions/dismiss-alert") { request, _ in
            try await self.action(request, back: "/console/alerts", permission: .monitorAlertsManage) { caller, form in
                let id = try KinkoAPI.uint64(form["alert"] ?? "", field: "alert")
                switch try await services.monitoring.dismiss(id, reason: form["reason"] ?? "", by: caller) {
                case .dismissed:
                    return "アラート \(id) を却下 / alert \(id) dismissed"
                case .awaitingApproval(let request):
                    return "阻止アラート \(id) の却下は承認待ち / dismissing blocking alert \(id) waits for a second compliance officer (request \(request.id))"
                }
            }
        }
        router.post("/console/actions/open-case") { request, _ in
            try await self.action(request, back: "/console/alerts", permission: .monitorCasesManage) { caller, form in
                let id = try KinkoAPI.uint64(form["alert"] ?? "", field: "alert")
                let record = try await services.monitoring.openCase(title: form["title"] ?? "", alerts: [id], assignee: caller.name, by: caller)
                return "案件 \(record.id) を開始 / case \(record.id) opened"
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

    /// Every POST form of `html` with the session's CSRF token as a hidden field, and the token
    /// in a meta tag for approve.js (which sends it as `X-CSRF-Token`).
    static func withCSRF(_ html: String, token: String) -> String {
        var output = ""
        var rest = Substring(html)
        while let start = rest.range(of: "<form") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.lowerBound...].firstIndex(of: ">") else { break }
            let tag = rest[start.lowerBound...end]
            output += tag
            if tag.contains("method=\"post\"") { output += "<input type=\"hidden\" name=\"csrf\" value=\"\(token)\">" }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return output.replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"><meta name=\"csrf-token\" content=\"\(token)\">")
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
            return Self.html(Self.loginPage(error: "別サイトからのサインインは拒否されます / Sign-in from another site is refused."), status: .forbidden)
        }
        let token = try await Self.form(request)["token"] ?? ""
        do {
            _ = try await services.governance.authenticate(token: token)
        } catch {
            return Self.html(Self.loginPage(error: "トークンが無効です / The token is not valid."), status: .unauthorized)
        }
        if let previous = ConsoleSessions.id(from: request) { sessions.close(previous) }
        let session = sessions.open(token: token)
        var headers = HTTPFields()
        headers[.location] = "/console"
        headers[.setCookie] = settings.cookie(session.id, request: request)
        return Response(status: .seeOther, headers: headers)
    }

    /// Authenticates the cookie and renders a page, or sends the visitor to sign in.
    func page(_ request: Request, _ body: (Caller) async throws -> String) async throws -> Response {
        guard let (caller, csrf) = try await signedIn(request) else {
            return Response(status: .seeOther, headers: [.location: "/console/login"])
        }
        do {
            return Self.html(Self.withCSRF(Self.layout(caller: caller, content: Self.flash(request) + (try await body(caller))), token: csrf))
        } catch let error as KinkoError {
            // A page the role may not read (or a bad query) is an HTML page too, with the status.
            let problem = Problem(error)
            return Self.html(Self.withCSRF(Self.layout(caller: caller, content: """
                <h1>\(problem.status.code) \(Self.escape(problem.title))</h1><p id="page-error" class=bad>\(Self.escape(problem.detail))</p>
                """), token: csrf), status: problem.status)
        }
    }

    /// A console action: a form POST from our own pages (this console's Origin required, the
    /// session's CSRF token in the form, the cookie SameSite=Strict), run as the signed-in
    /// caller with the same checks as the API, then back to the page with what happened (or
    /// why not) in the URL.
    func action(_ request: Request, back: String, permission: Permission, _ run: (Caller, [String: String]) async throws -> String) async throws -> Response {
        guard ConsoleSettings.sameOrigin(request) else { return Self.html("<p>cross-site request refused</p>", status: .forbidden) }
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
                return Self.html("<p>the form's CSRF token does not match this session; reload the page</p>", status: .forbidden)
            }
            outcome = ("notice", try await run(caller, form))
        } catch let error as KinkoError {
            outcome = ("error", error.field.map { "\($0): \(error.message)" } ?? error.message)
        }
        let query = outcome.text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return Response(status: .seeOther, headers: [.location: "\(back)?\(outcome.key)=\(query)"])
    }

    /// The outcome of the last action, from the query string the action redirected to.
    static func flash(_ request: Request) -> String {
        if let notice = request.uri.queryParameters["notice"].flatMap({ String($0).removingPercentEncoding }) {
            return "<p id=\"notice\" class=good>\(escape(notice))</p>"
        }
        if let error = request.uri.queryParameters["error"].flatMap({ String($0).removingPercentEncoding }) {
            return "<p id=\"error\" class=bad>\(escape(error))</p>"
        }
        return ""
    }

    static func allows(_ caller: Caller, _ permission: Permission) -> Bool {
        caller.roles.contains { PermissionTable.standard.allows($0, permission) }
    }

    // MARK: Pages

    func overview(_ caller: Caller) async throws -> String {
        var sections: [String] = []
        try await services.ledger.refresh()
        if Self.allows(caller, .reserveRead) {
            if let latest = try await services.reserve.adequacy(by: caller).last {
                let ratio = latest.required.units == 0 ? 1 : Double(latest.funded.units) / Double(latest.required.units)
                sections.append(Self.card("reserve", title: "責任準備金 / Liability reserve", body: """
                    <p>必要額 / required <b id="reserve-required">¥\(Self.yen(latest.required))</b> · 積立額 / funded <b id="reserve-funded">¥\(Self.yen(latest.funded))</b>
                    · 充足率 / adequacy <b>\(String(format: "%.0f%%", ratio * 100))</b> (rule set \(Self.escape(latest.ruleVersion)), \(latest.time.iso8601))</p>
                    \(Self.bar(value: min(ratio, 2), limit: 1, maximum: 2, label: "funded / required", good: ratio >= 1))
                    """))
            } else {
                sections.append(Self.card("reserve", title: "責任準備金 / Liability reserve", body: "<p>未計算 / not computed yet</p>"))
            }
            if Self.allows(caller, .reserveCompute) {
                sections[sections.count - 1] = sections[sections.count - 1].replacingOccurrences(of: "</section>", with: """
                    <form method="post" action="/console/actions/compute-requirement"><button id="compute-requirement">必要額を計算 / Compute the requirement</button></form></section>
                    """)
            }
        }
        if Self.allows(caller, .custodyRead) {
            let check = try await services.custody.check(by: caller)
            let rows = check.assets.map { figures -> String in
                let share = figures.hotShareBasisPoints.map { Double($0) / 10_000 }
                return "<tr><td>\(figures.asset.code)</td><td class=\"n hot-share\" data-asset=\"\(figures.asset.code)\">\(share.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a")</td><td>\(share.map { Self.bar(value: $0, limit: 0.05, maximum: max(0.1, $0), label: "hot share", good: $0 <= 0.05) } ?? "")</td><td>\(figures.passed ? "✓" : "✗")</td></tr>"
            }.joined()
            var body = "<table><tr><th>資産 / asset</th><th>ホット比率 / hot share</th><th>5% 上限 / the 5% line</th><th>OK</th></tr>\(rows)</table>"
            if let day = try await services.custody.latestReconciliation(by: caller) {
                body += "<p>最終照合 / last reconciliation: <b id=\"last-reconciliation\" data-clean=\"\(day.isClean)\">\(Self.escape(day.day))</b> — \(day.isClean ? "差異なし / clean" : "\(day.breaks.count) 差異 / breaks")</p>"
            }
            if Self.allows(caller, .custodyReconcile) {
                let yesterday = JST.day(of: services.clock.now() - 86_400_000_000_000)
                body += """
                    <form method="post" action="/console/actions/reconcile"><label>営業日 / business day <input name="day" id="reconcile-day" value="\(yesterday)" size="10"></label>
                    <button id="reconcile">照合 / Reconcile</button></form>
                    """
            }
            sections.append(Self.card("custody", title: "分別管理 / Custody (95% cold)", body: body))
        }
        if Self.allows(caller, .monitorRead) {
            let counts = try await services.monitoring.alertCounts(by: caller)
            sections.append(Self.card("monitoring", title: "取引モニタリング / Monitoring", body: """
                <p>未処理アラート / open alerts <b id="open-alerts">\(counts["open"] ?? 0)</b> · 調査中 / in cases \(counts["in_case"] ?? 0) · <a href="/console/alerts">一覧 / list</a></p>
                """))
        }
        if Self.allows(caller, .reserveRead) {
            let incidents = try await services.reserve.incidents(by: caller)
            let open = incidents.filter { $0.paidAt == nil }.count
            sections.append(Self.card("incidents", title: "インシデント / Incidents", body: "<p>未完了 / open <b id=\"open-incidents\">\(open)</b> of <span id=\"incidents-total\">\(incidents.count)</span> · <a href=\"/console/incidents\">一覧 / list</a></p>"))
        }
        if sections.isEmpty { sections.append("<p>この役割で表示できる項目はありません / Nothing here for your roles.</p>") }
        return "<h1>概要 / Overview</h1>" + sections.joined()
    }

    func balances(_ caller: Caller, request: Request) async throws -> String {
        let code = request.uri.queryParameters["asset"].map(String.init) ?? "JPY"
        let asset = try await services.ledgerService.asset(code: code, by: caller)
        let page = try await services.ledgerService.balances(asset: asset.code, owner: nil, accountClass: nil, after: nil, limit: 500, by: caller)
        let rows = page.accounts.map { entry in
            "<tr><td>\(entry.account.id)</td><td>\(entry.account.accountClass.name)</td><td>\(entry.account.owner == 0 ? "" : String(entry.account.owner))</td><td class=n>\(entry.balance.netPostedDescription(claim: entry.account.accountClass.isClaim, scale: asset.scale))</td></tr>"
        }.joined()
        let tabs = try await services.ledgerService.assets(by: caller).map { "<a href=\"/console/balances?asset=\($0.code)\">\($0.code)</a>" }.joined(separator: " · ")
        return "<h1>残高 / Balances — \(asset.code)</h1><p>\(tabs)</p><table><tr><th>口座 / account</th><th>区分 / class</th><th>顧客 / owner</th><th>残高 / balance</th></tr>\(rows)</table>"
    }

    func alerts(_ caller: Caller) async throws -> String {
        let alerts = try await services.monitoring.alerts(status: nil, limit: 200, by: caller)
        let canDismiss = Self.allows(caller, .monitorAlertsManage), canOpen = Self.allows(caller, .monitorCasesManage)
        let rows = alerts.map { a in
            var actions = ""
            if a.status == .open && canDismiss {
                actions += """
                    <form class="inline" method="post" action="/console/actions/dismiss-alert"><input type="hidden" name="alert" value="\(a.id)">\
                    <input name="reason" placeholder="理由 / reason" size="18" required><button>却下 / Dismiss</button></form>
                    """
            }
            if a.status == .open && canOpen {
                actions += """
                    <form class="inline" method="post" action="/console/actions/open-case"><input type="hidden" name="alert" value="\(a.id)">\
                    <input name="title" placeholder="件名 / title" size="18" required><button>案件化 / Open case</button></form>
                    """
            }
            return "<tr id=\"alert-\(a.id)\"><td>\(a.id)</td><td class=\(a.outcome.rawValue)>\(a.outcome.rawValue)</td><td>\(Self.escape(a.event))</td><td>\(a.customer)</td><td class=status>\(a.status.rawValue)</td><td>\(Self.escape(a.hits.map(\.explanation).joined(separator: "; ")))</td><td>\(actions)</td></tr>"
        }.joined()
        let cases = try await services.monitoring.cases(by: caller).map {
            "<tr><td>\($0.id)</td><td>\(Self.escape($0.title))</td><td>\($0.status.rawValue)</td><td>\($0.disposition?.rawValue ?? "")</td><td>\(Self.escape($0.assignee ?? ""))</td></tr>"
        }.joined()
        return """
            <h1>アラート / Alerts</h1><table><tr><th>#</th><th>判定 / outcome</th><th>イベント / event</th><th>顧客 / customer</th><th>状態 / status</th><th>理由 / why</th><th></th></tr>\(rows)</table>
            <h2>案件 / Cases</h2><table><tr><th>#</th><th>件名 / title</th><th>状態 / status</th><th>処分 / disposition</th><th>担当 / assignee</th></tr>\(cases)</table>
            """
    }

    func incidents(_ caller: Caller) async throws -> String {
        let rows = try await services.reserve.incidents(by: caller).map { incident in
            let minutes = incident.paidAt.map { ($0 - min($0, incident.detectedAt)) / 60_000_000_000 }
            return "<tr><td>\(incident.id)</td><td>\(Self.escape(incident.lossType))</td><td>\(incident.detectedAt.iso8601)</td><td>\(incident.paidAt.map { "支払済 / paid \($0.iso8601)" } ?? "未払 / unpaid")</td><td class=n>\(minutes.map { "\($0) min" } ?? "")</td></tr>"
        }.joined()
        return "<h1>インシデントと補償 / Incidents and compensation</h1><table><tr><th>#</th><th>種類 / type</th><th>検知 / detected</th><th>補償 / compensation</th><th>所要 / took</th></tr>\(rows)</table>"
    }

    func audit(_ caller: Caller) async throws -> String {
        let report = try await AuditStatus.verify(services, by: caller)
        let status = report.isValid ? "<b id=\"audit-status\" class=good>検証済 / verified</b>" : "<b id=\"audit-status\" class=bad>改ざん検出 / TAMPERED</b>"
        return "<h1>監査ログ / Audit log</h1><p>\(status): \(report.entries) entries, \(report.checkpoints) signed checkpoints, root <code>\(Hex.encode(report.root))</code></p>"
            + report.problems.prefix(10).map { "<p class=bad>\(Self.escape($0.message))</p>" }.joined()
    }

    // MARK: HTML

    /// Scripts only from this origin (approve.js), fetches only to it, no frames, no plug-ins.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.frameOptions] = "DENY"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func yen(_ amount: Amount) -> String {
        var digits = Array(amount.decimalString(scale: 0))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }

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

    static func card(_ panel: String, title: String, body: String) -> String { "<section data-panel=\"\(panel)\"><h2>\(title)</h2>\(body)</section>" }

    static let style = """
        body{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#222}nav{background:#1a237e;color:#fff;padding:8px 16px}
        nav a{color:#fff;margin-right:14px;text-decoration:none}main{padding:16px}section{border:1px solid #ddd;border-radius:6px;padding:8px 16px;margin:12px 0}
        table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left}.n{text-align:right}
        .good{color:#2e7d32}.bad,.block{color:#c62828}.review{color:#ef6c00}form.inline{display:inline}
        """

    static func layout(caller: Caller, content: String) -> String {
        """
        <!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Kinko 金庫</title><style>\(style)</style></head><body>
        <nav><b>金庫 Kinko</b> · \(navigation(caller))
        <span id="whoami">\(escape(caller.name)) (\(caller.roles.sorted().map(\.rawValue).joined(separator: ", ")))</span>
        <form class="inline" method="post" action="/console/logout"><button id="sign-out">ログアウト / Sign out</button></form></nav><main>\(content)</main></body></html>
        """
    }

    /// The pages the caller's roles may read.
    static let pages: [(path: String, label: String, permission: Permission?)] = [
        ("/console", "概要 Overview", nil), ("/console/balances", "残高 Balances", .ledgerRead), ("/console/approvals", "承認 Approvals", .approvalsRead),
        ("/console/alerts", "アラート Alerts", .monitorRead), ("/console/incidents", "インシデント Incidents", .reserveRead), ("/console/audit", "監査 Audit", .auditRead),
    ]

    static func navigation(_ caller: Caller) -> String {
        pages.filter { $0.permission.map { allows(caller, $0) } ?? true }.map { "<a href=\"\($0.path)\">\($0.label)</a>" }.joined()
    }

    static func loginPage(error: String?) -> String {
        """
        <!doctype html><html lang="ja"><head><meta charset="utf-8"><title>Kinko 金庫 — sign in</title><style>\(style)</style></head><body>
        <nav><b>金庫 Kinko</b></nav><main><h1>サインイン / Sign in</h1>\(error.map { "<p id=\"login-error\" class=bad>\(escape($0))</p>" } ?? "")
        <form method="post" action="/console/login"><label>API トークン / API token <input type="password" name="token" id="token" size="60" autocomplete="off"></label>
        <button type="submit" id="sign-in">サインイン / Sign in</button></form>
        <p>トークンは <code>kinko init</code> または <code>kinko demo</code> が発行します / Tokens come from <code>kinko init</code> or <code>kinko demo</code> (demo-tokens.json).</p></main></body></html>
        """
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
