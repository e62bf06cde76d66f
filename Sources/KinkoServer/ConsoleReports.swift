import Foundation
import Hummingbird
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoLedger
import KinkoReports

/// The console's reports page: the calendar (what is due, overdue in red), generating a
/// report, approving one someone else generated, and downloading any stored one in Japanese
/// or English as HTML, CSV or JSON. Every call goes through the same domain checks as the API.
extension Console {
    func registerReports(on router: Router<BasicRequestContext>) {
        router.get("/console/reports") { request, _ in try await self.page(request) { try await self.reports($0, query: request.uri.queryParameters) } }
        router.get("/console/reports/download") { request, _ in try await self.download(request) }
        router.post("/console/actions/generate-report") { request, _ in
            try await self.action(request, back: "/console/reports", permission: .reportsGenerate) { caller, form in
                let kind = try ReportKind(parsing: form["kind"] ?? "")
                let period = try KinkoAPI.reportPeriod(form["period"] ?? "", kind: kind)
                try await services.ledger.refresh()
                let generated = try await services.exchange.reports.generate(kind, period, by: caller)
                let sha = generated.record.sha256.prefix(16)
                return Self.both("作成 \(kind.rawValue) \(period.text): SHA-256 \(sha)… (\(generated.changed ? "保存しました" : "保存済みのものと同一"))",
                                 "generated \(kind.rawValue) \(period.text): SHA-256 \(sha)… (\(generated.changed ? "stored" : "identical to the stored one"))")
            }
        }
        router.post("/console/actions/approve-report") { request, _ in
            try await self.action(request, back: "/console/reports", permission: .reportsApprove) { caller, form in
                let kind = try ReportKind(parsing: form["kind"] ?? "")
                let period = try KinkoAPI.reportPeriod(form["period"] ?? "", kind: kind)
                try await services.ledger.refresh()
                let record = try await services.exchange.reports.approve(kind, period, by: caller)
                return Self.both("確定 \(kind.rawValue) \(period.text)、承認者 \(record.approvedBy ?? "")", "final: \(kind.rawValue) \(period.text), approved by \(record.approvedBy ?? "")")
            }
        }
    }

    /// The filing calendar, the form to generate one, and the stored reports (of one kind when
    /// chosen, `listPageRows` a page).
    func reports(_ caller: Caller, query: Parameters) async throws -> (template: String, context: [String: Any]) {
        let reports = services.exchange.reports
        try await services.ledger.refresh()
        let due = try await reports.calendar(by: caller)
        let kindText = try Self.choice(query, "kind", allowed: ReportKind.allCases.map(\.rawValue))
        let all = try await reports.list(kind: ReportKind(rawValue: kindText), by: caller)
        let (stored, links) = try Self.page(all, query: query, size: Self.listPageRows, base: "/console/reports" + (kindText.isEmpty ? "" : "?kind=\(kindText)"))
        let canApprove = Self.allows(caller, .reportsApprove)
        return ("reports", links.merging([
            "kindFilter": Self.options(ReportKind.allCases.map { ($0.rawValue, Self.both(ReportLabels.title($0, .ja), ReportLabels.title($0, .en))) }, chosen: kindText),
            "due": due.map { item -> [String: Any] in
                ["due": item.due, "kind": item.kind.rawValue, "period": item.period, "status": item.status, "overdue": item.overdue,
                 "basis": item.basis, "title": ReportLabels.title(item.kind, .ja)]
            },
            "overdueCount": due.count(where: \.overdue), "hasDue": !due.isEmpty, "hasReports": !stored.isEmpty, "noneAtAll": all.isEmpty && kindText.isEmpty,
            "kinds": ReportKind.allCases.map { ["kind": $0.rawValue, "title": Self.both(ReportLabels.title($0, .ja), ReportLabels.title($0, .en)),
                                               "example": KinkoAPI.periodExample($0)] },
            "canGenerate": Self.allows(caller, .reportsGenerate),
            "reports": stored.map { record -> [String: Any] in
                let query = "kind=\(record.kind.rawValue)&period=\(record.period.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                return ["kind": record.kind.rawValue, "period": record.period, "sha": String(record.sha256.prefix(16)), "status": record.status.rawValue,
                        "generatedBy": record.generatedBy, "approvedBy": record.approvedBy ?? "", "filed": record.filing?.reference ?? "",
                        "query": query, "canApprove": canApprove && record.status == .generated && record.generatedBy != caller.name]
            },
        ]) { $1 })
    }

    /// A stored report as a file: `format` html, csv or json, `lang` ja or en.
    func download(_ request: Request) async throws -> Response {
        guard let (caller, _) = try await signedIn(request) else { return Response(status: .seeOther, headers: [.location: "/console/login"]) }
        do {
            let query = request.uri.queryParameters
            let kind = try ReportKind(parsing: query["kind"].map(String.init) ?? "")
            let period = try KinkoAPI.reportPeriod(query["period"].map(String.init) ?? "", kind: kind)
            let format = try ReportFormat(parsing: query["format"].map(String.init) ?? "html")
            let language = try ReportLanguage(parsing: query["lang"].map(String.init) ?? "ja")
            guard format != .pdf else { throw KinkoError(.invalidInput, "the console offers html, csv and json; print the HTML to PDF", field: "format") }
            try await services.ledger.refresh()
            let found = try await services.exchange.reports.document(kind, period, by: caller)
            let document = try found.document ?? ReportDocument(canonical: found.canonical)
            let bytes = try ReportRenderer(language: language).render(document, as: format)
            var headers = HTTPFields()
            headers[.contentType] = ["html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "json": "application/json"][format.rawValue]
            headers[.contentDisposition] = "attachment; filename=\"\(kind.rawValue)-\(period.text.replacingOccurrences(of: "..", with: "_"))-\(language.rawValue).\(format.rawValue)\""
            headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        } catch let error as KinkoError {
            let problem = Problem(error)
            return Self.html(try ConsoleTemplates.render("problem", ["status": problem.status.code, "title": problem.title, "detail": problem.fieldAndDetail]),
                             status: problem.status, language: ConsoleLanguage.of(request))
        }
    }
}
