import Foundation
public import KinkoCore
import Mustache

/// A report's language.
public enum ReportLanguage: String, Sendable, CaseIterable {
    case ja, en

    public init(parsing text: String) throws(KinkoError) {
        guard let language = ReportLanguage(rawValue: text) else { throw KinkoError(.invalidInput, "a report's language is ja or en; got \"\(text.prefix(20))\"", field: "lang") }
        self = language
    }
}

public enum ReportFormat: String, Sendable, CaseIterable {
    case json, csv, html, pdf

    public init(parsing text: String) throws(KinkoError) {
        guard let format = ReportFormat(rawValue: text) else {
            throw KinkoError(.invalidInput, "a report's format is one of json, csv, html, pdf; got \"\(text.prefix(20))\"", field: "format")
        }
        self = format
    }
}

/// Japanese and English labels of every key a report uses. A key without a label is shown as
/// itself (a test checks there is none).
public enum ReportLabels {
    public static func title(_ kind: ReportKind, _ language: ReportLanguage) -> String {
        let titles: [ReportKind: (String, String)] = [
            .segregationDaily: ("分別管理 日次照合報告", "Daily segregation reconciliation"),
            .customerPropertyQuarterly: ("利用者財産の管理に関する報告書（四半期・第38条）", "Quarterly report on customer property (Art. 38)"),
            .cpaEvidence: ("分別管理監査 証跡一式（第28条）", "Segregation audit evidence pack (Art. 28)"),
            .tradeJournal: ("取引記録（第34条）", "Trade journal (Art. 34)"),
            .str: ("疑わしい取引の届出", "Suspicious transaction report"),
            .fefta: ("支払等の報告（外為法第55条）", "Report of cross-border payments (FEFTA Art. 55)"),
            .incidentNotice: ("事故等の届出", "Incident notice"),
            .reserve: ("責任準備金の積立状況", "Liability reserve: requirement, funding and adequacy"),
        ]
        let pair = titles[kind] ?? (kind.rawValue, kind.rawValue)
        return language == .ja ? pair.0 : pair.1
    }

    public static func label(_ key: String, _ language: ReportLanguage) -> String {
        guard let pair = labels[key] else { return key }
        return language == .ja ? pair.0 : pair.1
    }

    public static func has(_ key: String) -> Bool { labels[key] != nil }

    static let labels: [String: (String, String)] = [
        // Sections
        "summary": ("概要", "Summary"), "assets": ("資産別照合", "Per asset"), "customer_books": ("利用者別帳簿の合計", "Customer books totals"),
        "reserve": ("責任準備金の保有", "Liability reserve holdings"),
        "breaks": ("差異と解消", "Breaks and their resolution"), "holdings": ("保有状況", "Holdings"),
        "reconciliation_history": ("照合履歴", "Reconciliation history"), "customer_balances": ("利用者別残高", "Customer balances"),
        "sample": ("抽出サンプル", "Sample"), "wallets": ("ウォレット", "Wallets"), "trades": ("取引", "Trades"),
        "reporting_entity": ("届出事業者", "Reporting entity"), "subjects": ("取引の相手方", "Subjects"),
        "transactions": ("届出対象取引", "Transactions"), "grounds": ("疑わしいと判断した理由", "Grounds for suspicion"),
        "analyst_notes": ("担当者所見", "Analyst notes"), "market_activity": ("相場監視で検知した売買", "Market activity"),
        "surveillance_alert": ("相場監視アラート", "Surveillance alert"), "typology": ("類型", "Typology"), "market": ("銘柄", "Market"),
        "window": ("期間", "Window"), "customer_id": ("顧客ID", "Customer ID"), "accounts": ("口座", "Accounts"), "payments": ("支払等", "Payments"), "incident": ("事故の概要", "Incident"),
        "customers": ("利用者", "Customers"), "follow_ups": ("経過", "Follow-ups"), "fund": ("責任準備金", "Reserve fund"),
        "adequacy": ("充足状況", "Adequacy"), "incidents": ("事故", "Incidents"),
        // Tables
        "lines": ("資産別", "By asset"), "customer_totals": ("資産別合計", "Totals by asset"), "reserve_lines": ("資産別", "By asset"), "exceptions": ("例外", "Exceptions"),
        "reconciliations": ("照合結果", "Reconciliations"), "per_asset": ("資産別", "By asset"), "balances": ("残高", "Balances"),
        "sampled_balances": ("サンプル残高", "Sampled balances"), "wallet_balances": ("ウォレット残高", "Wallet balances"),
        "journal": ("取引記録", "Journal"), "persons": ("対象者", "Persons"), "events": ("取引", "Events"), "reasons": ("理由", "Reasons"),
        "notes": ("所見", "Notes"), "cross_border": ("国境を越える支払等", "Cross-border payments"), "losses": ("損失", "Losses"),
        "affected": ("影響", "Affected"), "timeline": ("経過", "Timeline"), "reserve_fund": ("準備金残高", "Reserve fund balances"),
        "computations": ("算定", "Computations"), "declared": ("届出済み事故", "Declared incidents"),
        // Facts and columns
        "day": ("基準日", "Day"), "accounts_with_balance": ("残高のある口座数", "Accounts with a balance"), "break_count": ("差異件数", "Breaks"), "cutoff": ("締め時刻", "Cut-off"), "result": ("結果", "Result"), "stored_run": ("保存済みの照合", "Stored run"),
        "quarter": ("四半期", "Quarter"), "first_day": ("初日", "First day"), "last_day": ("末日", "Last day"), "as_of": ("基準時点", "As of"),
        "due": ("提出期限", "Due"), "interim": ("中間（期中）", "Interim (quarter to date)"), "days_reconciled": ("照合日数", "Days reconciled"), "days_with_breaks": ("差異のあった日数", "Days with breaks"),
        "audit_date": ("監査基準日", "Audit date"), "customer_accounts": ("利用者口座数", "Customer accounts"),
        "sample_seed": ("抽出シード", "Sample seed"), "sample_size": ("抽出件数", "Sample size"), "history_from": ("履歴開始日", "History from"),
        "history_to": ("履歴終了日", "History to"), "rows": ("行数", "Rows"), "entity": ("事業者名", "Entity"), "case": ("事案番号", "Case"),
        "case_title": ("事案名", "Case title"), "case_status": ("事案の状態", "Case status"), "assignee": ("担当者", "Assignee"),
        "opened_at": ("開始日時", "Opened at"), "threshold_jpy": ("基準額（円）", "Threshold (JPY)"), "loss_type": ("損失の種類", "Loss type"),
        "lost_at": ("流出日時", "Lost at"), "detected_at": ("検知日時", "Detected at"), "declared_at": ("届出日時", "Declared at"),
        "status": ("状態", "Status"), "loss_jpy": ("損失額（円）", "Loss (JPY)"), "short_computations": ("不足の算定", "Short computations"),
        "latest_required_jpy": ("直近の要積立額（円）", "Latest requirement (JPY)"), "latest_funded_jpy": ("直近の積立額（円）", "Latest funded (JPY)"),
        "asset": ("資産", "Asset"), "liabilities": ("利用者への債務", "Owed to customers"), "ledger_holdings": ("帳簿上の保管額", "Held in the books"),
        "observed": ("実在高", "Observed"), "held_in_reserve_accounts": ("準備金口座の保有額", "Held in the reserve's accounts"), "guarantee_crypto": ("履行保証暗号資産", "Guarantee crypto"), "trust_balance": ("信託残高", "Trust balance"),
        "quarantined": ("保留中", "Quarantined"), "kind": ("種類", "Kind"), "wallet": ("ウォレット", "Wallet"), "size": ("差額", "Size"),
        "cause": ("原因", "Cause"), "resolution": ("解消", "Resolution"), "customer_holdings": ("利用者財産", "Customer holdings"),
        "held_for_customers": ("利用者のための保管額", "Held for customers"), "own_holdings": ("自己保有", "Own holdings"),
        "cold": ("コールド", "Cold"), "hot": ("ホット", "Hot"), "hot_share": ("ホット比率", "Hot share"), "customer": ("利用者", "Customer"),
        "account": ("口座", "Account"), "class": ("区分", "Class"), "balance": ("残高", "Balance"), "temperature": ("管理方法", "Temperature"),
        "purpose": ("用途", "Purpose"), "addresses": ("アドレス", "Addresses"), "ledger_balance": ("帳簿残高", "Ledger balance"),
        "observed_at": ("確認日時", "Observed at"), "source": ("出所", "Source"), "trade": ("取引番号", "Trade"), "time": ("日時", "Time"),
        "capacity": ("自己・媒介", "Capacity"), "side": ("売買の別", "Side"), "quantity": ("数量", "Quantity"), "price_jpy": ("単価（円）", "Price (JPY)"),
        "amount_jpy": ("金額（円）", "Amount (JPY)"), "fee": ("手数料", "Fee"), "fee_asset": ("手数料の資産", "Fee asset"),
        "counterparty": ("相手方", "Counterparty"), "name": ("氏名", "Name"), "country": ("国", "Country"), "date_of_birth": ("生年月日", "Date of birth"),
        "address": ("住所", "Address"), "occupation": ("職業", "Occupation"), "verification": ("本人確認", "Verification"),
        "declared_income_jpy": ("申告年収（円）", "Declared income (JPY)"), "declared_assets_jpy": ("申告資産（円）", "Declared assets (JPY)"),
        "event": ("取引ID", "Event"), "alert_time": ("検知日時", "Alert time"), "alert": ("アラート", "Alert"), "rule_set": ("ルールセット", "Rule set"),
        "rule": ("ルール", "Rule"), "score": ("スコア", "Score"), "explanation": ("説明", "Explanation"), "at": ("日時", "At"),
        "author": ("記入者", "Author"), "text": ("内容", "Text"), "direction": ("方向", "Direction"), "amount": ("数量", "Amount"),
        "loss": ("損失", "Loss"), "compensation": ("補償", "Compensation"), "plan_status": ("計画の状態", "Plan status"), "detail": ("詳細", "Detail"),
        "required_jpy": ("要積立額（円）", "Required (JPY)"), "funded_jpy": ("積立額（円）", "Funded (JPY)"),
    ]
}

/// Renders a document in one language and format. Deterministic: the same document gives the
/// same bytes (the PDF aside, which embeds its renderer's dates).
public struct ReportRenderer: Sendable {
    public var language: ReportLanguage

    public init(language: ReportLanguage) { self.language = language }

    func label(_ key: String) -> String { ReportLabels.label(key, language) }

    public func render(_ document: ReportDocument, as format: ReportFormat) throws -> [UInt8] {
        switch format {
        case .json: return json(document)
        case .csv: return try csv(document)
        case .html: return Array(try html(document).utf8)
        case .pdf: return try ReportPDF.render(html: try html(document))
        }
    }

    /// JSON with labels: what the API and `--format json` give.
    public func json(_ document: ReportDocument) -> [UInt8] {
        var out = JSONOut()
        out.raw("{\"format\":"); out.string(ReportDocument.format)
        out.raw(",\"kind\":"); out.string(document.kind.rawValue)
        out.raw(",\"lang\":"); out.string(language.rawValue)
        out.raw(",\"title\":"); out.string(ReportLabels.title(document.kind, language))
        out.raw(",\"period\":"); out.string(document.period.text)
        out.raw(",\"as_of\":"); out.string(document.asOf.iso8601Nanoseconds)
        out.raw(",\"as_of_jst\":"); out.string(document.asOf.jst)
        out.raw(",\"sha256\":"); out.string(document.sha256)
        out.raw(",\"sections\":[")
        for (index, section) in document.sections.enumerated() {
            if index > 0 { out.raw(",") }
            out.raw("{\"key\":"); out.string(section.key); out.raw(",\"title\":"); out.string(label(section.key))
            out.raw(",\"facts\":[")
            for (i, fact) in section.facts.enumerated() {
                out.raw(i == 0 ? "{" : ",{")
                out.raw("\"key\":"); out.string(fact.key); out.raw(",\"label\":"); out.string(label(fact.key)); out.raw(",\"value\":"); out.string(fact.value)
                out.raw("}")
            }
            out.raw("],\"tables\":[")
            for (i, table) in section.tables.enumerated() {
                if i > 0 { out.raw(",") }
                out.raw("{\"key\":"); out.string(table.key); out.raw(",\"title\":"); out.string(label(table.key))
                out.raw(",\"columns\":"); out.strings(table.columns); out.raw(",\"labels\":"); out.strings(table.columns.map(label))
                out.raw(",\"rows\":[")
                table.writeRowsJSON(into: &out)
                out.raw("]}")
            }
            out.raw("]}")
        }
        out.raw("]}\n")
        return out.bytes
    }

    /// CSV (RFC 4180; LF line ends): the title and facts as label,value rows, then each table
    /// under its title with a header of labels, a blank row between blocks. Written by hand:
    /// CSV.swift's writer makes one stream write per character, 94 s for the 5,000,000 rows of
    /// a big CPA pack; this is checked against CSV.swift's reader in the tests.
    public func csv(_ document: ReportDocument) throws -> [UInt8] {
        var out = CSVOut()
        out.row([ReportLabels.title(document.kind, language), document.period.text])
        out.row([label("as_of"), document.asOf.iso8601Nanoseconds])
        out.row(["sha256", document.sha256])
        for section in document.sections {
            out.row([""])
            out.row(["# " + label(section.key)])
            for fact in section.facts { out.row([label(fact.key), fact.value]) }
            for table in section.tables {
                out.row(["## " + label(table.key)])
                out.row(table.columns.map(label))
                switch table.storage {
                case .strings(let rows): for row in rows { out.row(row) }
                case .packed(let packed): for chunk in packed.chunks { chunk.withCells { out.row(utf8: $1) } }
                }
            }
        }
        return out.bytes
    }

    /// A standalone page (Mustache escapes every value), printable: A4, CJK fonts first.
    public func html(_ document: ReportDocument) throws -> String {
        let context: [String: Any] = [
            "lang": language.rawValue, "title": ReportLabels.title(document.kind, language), "period": document.period.text,
            "asOfLabel": label("as_of"), "asOf": document.asOf.jst, "asOfUTC": document.asOf.iso8601Nanoseconds, "sha256": document.sha256,
            "sections": document.sections.map { section -> [String: Any] in
                [
                    "title": label(section.key),
                    "facts": section.facts.map { ["label": label($0.key), "value": $0.value] },
                    "hasFacts": !section.facts.isEmpty,
                    "tables": section.tables.map { table -> [String: Any] in
                        ["title": label(table.key), "columns": table.columns.map(label), "rows": table.rows.map { ["cells": $0] },
                         "empty": table.rowCount == 0, "emptyText": language == .ja ? "該当なし" : "None"]
                    },
                ]
            },
        ]
        return try Self.template.get().render(context)
    }

    static let template: Result<MustacheTemplate, KinkoError> = {
        do {
            return .success(try MustacheTemplate(string: """
                <!DOCTYPE html>
                <html lang="{{lang}}"><head><meta charset="utf-8"><title>{{title}} {{period}}</title>
                <style>
                @page { size: A4; margin: 14mm; }
                body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", sans-serif; font-size: 10pt; color: #111; }
                h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; border-bottom: 1px solid #444; }
                h3 { font-size: 10.5pt; margin: 8pt 0 3pt; } table { border-collapse: collapse; width: 100%; }
                th, td { border: 1px solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; font-size: 8.5pt; }
                th { background: #eee; } dl { display: grid; grid-template-columns: max-content auto; gap: 2pt 12pt; }
                dt { font-weight: bold; } .meta { color: #333; } .hash { font-family: monospace; font-size: 8pt; word-break: break-all; }
                </style></head>
                <body><header><h1>{{title}}</h1><p class="meta">{{period}} — {{asOfLabel}} {{asOf}} ({{asOfUTC}})</p>
                <p class="hash">SHA-256 {{sha256}}</p></header>
                {{#sections}}<section><h2>{{title}}</h2>
                {{#hasFacts}}<dl>{{#facts}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/facts}}</dl>{{/hasFacts}}
                {{#tables}}<h3>{{title}}</h3>{{#empty}}<p>{{emptyText}}</p>{{/empty}}{{^empty}}<table><thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
                <tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody></table>{{/empty}}{{/tables}}
                </section>{{/sections}}
                </body></html>

                """))
        } catch {
            return .failure(KinkoError(.internalError, "the report template does not parse: \(error)"))
        }
    }()
}

/// PDF through headless Chromium's print-to-PDF (Debian's `chromium`), where installed.
public enum ReportPDF {
    /// Where Chromium is looked for, in order (`KINKO_CHROMIUM` first).
    public static var candidates: [String] {
        (ProcessInfo.processInfo.environment["KINKO_CHROMIUM"].map { [$0] } ?? []) + ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    }

    public static var chromium: String? { candidates.first { FileManager.default.isExecutableFile(atPath: $0) } }

    public static func render(html: String) throws -> [UInt8] {
        guard let chromium else {
            throw KinkoError(.rendererUnavailable, "PDF needs headless Chromium (apt-get install chromium fonts-noto-cjk), or set KINKO_CHROMIUM; JSON, CSV and HTML need nothing", field: "format")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("report.html"), output = directory.appendingPathComponent("report.pdf")
        try Data(html.utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(directory.path)/profile",
                             "--print-to-pdf=\(output.path)", input.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let pdf = FileManager.default.contents(atPath: output.path), pdf.starts(with: Array("%PDF".utf8)) else {
            throw KinkoError(.rendererUnavailable, "Chromium (\(chromium)) did not print the report to PDF (exit \(process.terminationStatus))", field: "format")
        }
        return Array(pdf)
    }
}

/// RFC 4180 cells: a cell with a comma, a quote, a CR or an LF is quoted, its quotes doubled.
struct CSVOut {
    var bytes: [UInt8] = []

    mutating func row(_ cells: [String]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            var cell = cell
            cell.withUTF8 { field($0) }
        }
        bytes.append(0x0A)
    }

    /// A row of cells given as UTF-8 bytes (a packed table's).
    mutating func row(utf8 cells: [UnsafeBufferPointer<UInt8>]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            field(cell)
        }
        bytes.append(0x0A)
    }

    /// One field, quoted when it holds a comma, a quote or a line end (quotes doubled).
    mutating func field(_ cell: UnsafeBufferPointer<UInt8>) {
        guard cell.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            bytes.append(contentsOf: cell)
            return
        }
        bytes.append(0x22)
        for byte in cell {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(0x22)
    }
}
