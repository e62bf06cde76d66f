import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoReports
import KinkoStores
import Testing

/// Books, records and reports on a working exchange, on every database: each report checked
/// against figures computed independently here from `--as-of` balances and custody.
@Suite("Reports: books as of their date, approval, filing, the calendar", .serialized)
struct ReportsTests {
    static let btc = ControlWorld.btc

    /// Σ of the as-of balances of `classes` per asset, in units, read through the ledger's
    /// own paged balances (what `kinko ledger balances --as-of` prints).
    static func sums(_ w: ControlWorld, asOf: TimestampNanoseconds, _ classes: Set<AccountClass>, by caller: Caller) async throws -> [String: UInt128] {
        let assets = Dictionary(uniqueKeysWithValues: try await w.x.ledger.assets(by: caller).map { ($0.ledger, $0.code) })
        var sums: [String: UInt128] = [:]
        var after: AccountID?
        repeat {
            let page = try await w.x.ledger.balances(asset: nil, owner: nil, accountClass: nil, after: after, limit: 1_000, asOf: asOf, by: caller)
            for (account, balance) in page.accounts where classes.contains(account.accountClass) {
                sums[assets[account.ledger] ?? "?", default: 0] += balance.netPosted(claim: account.accountClass.isClaim) ?? 0
            }
            after = page.nextAfter
        } while after != nil
        return sums
    }

    static func row(_ document: ReportDocument, _ section: String, _ table: String, where column: String, is value: String) throws -> [String: String] {
        let found = try #require(document.section(section)?.tables.first { $0.key == table })
        let index = try #require(found.columns.firstIndex(of: column))
        let row = try #require(found.rows.first { $0[index] == value })
        return Dictionary(uniqueKeysWithValues: zip(found.columns, row))
    }

    // Goal: after a trade in November, the quarter's report per asset equals the sums of the
    // as-of balances at the quarter's end (customer holdings, own holdings, the hot/cold split,
    // guarantee crypto, the trust balance); the generator cannot approve it, a second person
    // can; a regeneration is bit-identical; a custody observation recorded late inside the
    // quarter makes the approved report irreproducible and a new generation is refused as a
    // finding. The CPA pack lists every customer balance (sums equal), a reproducible sample and
    // every wallet; the trade journal has both sides of the trade at its price; the daily report
    // matches the stored reconciliation.
    @Test(arguments: Backend.configured) func reportsAgreeWithTheBooksAndNeedASecondPerson(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let x = w.x, finance = w.finance.caller, compliance = w.compliance.caller
            // Customer 1 buys 0.05 BTC from customer 2 for ¥750,000 and pays a ¥750 fee.
            #expect(try await x.ledger.createTransfers([
                Transfer(id: TransferID(801), debitAccountID: ControlWorld.c1JPY, creditAccountID: ControlWorld.c2JPY, amount: 750_000, ledger: 1,
                         code: .trade, flags: .linked),
                Transfer(id: TransferID(802), debitAccountID: ControlWorld.c2BTC, creditAccountID: ControlWorld.c1BTC, amount: Self.btc("0.05"), ledger: 2,
                         code: .trade, flags: .linked),
                Transfer(id: TransferID(803), debitAccountID: ControlWorld.c1JPY, creditAccountID: ControlWorld.ownJPY, amount: 750, ledger: 1, code: .fee),
            ], by: w.ops.caller) == [.ok, .ok, .ok])
            w.f.clock.advance(seconds: 45 * 86_400)  // 2027-01-06
            // Day and quarter reports close their books at the day's 17:00 JST cut-off.
            let quarterEnd = try Reconciliation.cutoff(day: "2026-12-31", hourJST: 17)

            // The quarterly report.
            let quarter = try ReportPeriod.quarter("2026Q4")
            let generated = try await x.reports.generate(.customerPropertyQuarterly, quarter, by: finance)
            let document = generated.document
            #expect(document.asOf == quarterEnd && generated.changed && generated.record.status == .generated)
            let owed = try await Self.sums(w, asOf: quarterEnd, [.customerLiability, .quarantine], by: finance)
            let own = try await Self.sums(w, asOf: quarterEnd, [.ownHolding], by: finance)
            let btcRow = try Self.row(document, "holdings", "per_asset", where: "asset", is: "BTC")
            #expect(btcRow["customer_holdings"] == Amount(units: try #require(owed["BTC"])).decimalString(scale: 8))
            // Deposits 2 + 1.9 + 0.5 (quarantined) + 0.1; the trade moves 0.05 between customers; the
            // withdrawals are not paid out.
            #expect(btcRow["customer_holdings"] == "4.50000000")
            #expect(btcRow["own_holdings"] == Amount(units: try #require(own["BTC"])).decimalString(scale: 8))
            #expect(btcRow["guarantee_crypto"] == "0.20000000")
            let hot = try #require(try await x.engine.postedBalances(asOf: quarterEnd) { $0.id == ControlWorld.btcHot }.first?.balance.netPosted(claim: false))
            #expect(btcRow["hot"] == Amount(units: hot).decimalString(scale: 8))
            let yenRow = try Self.row(document, "holdings", "per_asset", where: "asset", is: "JPY")
            #expect(yenRow["customer_holdings"] == String(try #require(owed["JPY"])) && yenRow["customer_holdings"] == "1998750")
            #expect(yenRow["trust_balance"] == "2000000")
            #expect(document.section("summary")?.facts.first { $0.key == "due" }?.value == "2027-01-31")
            let history = try #require(document.section("reconciliation_history")?.tables.first { $0.key == "reconciliations" })
            #expect(history.rows.map { $0[0] } == [ControlWorld.day])

            // Two people: not the generator; then final. Regenerating is identical.
            let own1 = await #expect(throws: KinkoError.self) { try await x.reports.approve(.customerPropertyQuarterly, quarter, by: finance) }
            #expect(own1?.code == .forbidden && own1?.field == "approver")
            let final = try await x.reports.approve(.customerPropertyQuarterly, quarter, by: compliance)
            #expect(final.status == .final && final.approvedBy == w.compliance.caller.name && final.sha256 == document.sha256)
            let again = try await x.reports.generate(.customerPropertyQuarterly, quarter, by: finance)
            #expect(!again.changed && again.document.canonicalBytes == document.canonicalBytes)
            #expect(try await x.reports.verify(.customerPropertyQuarterly, quarter, by: w.actors[.auditor]!.caller).identical)
            let audit = try await w.governance.store.auditEntries(from: 0, limit: 100_000).map { try AuditEntry(bytes: $0.bytes) }
            #expect(audit.contains { $0.event.action == "reports.generate" && $0.event.details["sha256"] == document.sha256 })
            #expect(audit.contains { $0.event.action == "reports.approve" && $0.event.result.hasPrefix("refused") })

            // A late observation inside the quarter: the approved report no longer reproduces.
            try await x.custody.recordBalances([BalanceObservation(wallet: "btc-cold", asset: "BTC", amount: Amount(units: Self.btc("3.9")),
                                                                   observedAt: quarterEnd - 3_600_000_000_000, source: "late")], by: w.treasury.caller)
            #expect(try await !x.reports.verify(.customerPropertyQuarterly, quarter, by: finance).identical)
            let changed = await #expect(throws: KinkoError.self) { try await x.reports.generate(.customerPropertyQuarterly, quarter, by: finance) }
            #expect(changed?.code == .conflict && changed?.message.contains("changed after approval") == true)

            // An interim report of the quarter to the reconciled day; a day outside it is refused.
            let interim = try await x.reports.generate(.customerPropertyQuarterly, try ReportPeriod.quarter("2026Q4", through: ControlWorld.day), by: finance)
            let dayCutoff = try Reconciliation.cutoff(day: ControlWorld.day, hourJST: 17)
            #expect(interim.record.period == "2026Q4@2026-11-22" && interim.document.asOf == dayCutoff)
            #expect(interim.document.section("summary")?.facts.first { $0.key == "interim" }?.value == "yes")
            let outside = #expect(throws: KinkoError.self) { try ReportPeriod.quarter("2026Q4", through: "2027-01-01") }
            #expect(outside?.field == "through")

            // The CPA evidence pack for the reconciled day.
            let dayEnd = try Reconciliation.cutoff(day: ControlWorld.day, hourJST: 17)
            let pack = try await x.reports.generate(.cpaEvidence, .day(ControlWorld.day), by: finance).document
            let balances = try #require(pack.section("customer_balances")?.tables.first)
            let listed = balances.rows.reduce(into: [String: UInt128]()) { sums, row in
                sums[row[2], default: 0] += (try? Amount(decimal: row[4], scale: row[2] == "BTC" ? 8 : 0).units) ?? 0
            }
            let owedThen = try await Self.sums(w, asOf: dayEnd, [.customerLiability, .quarantine], by: finance)
            #expect(listed == owedThen.filter { $0.value > 0 })
            #expect(balances.rows.count == 5)  // two customers' yen and bitcoin, and the quarantined deposit
            let seed = Reports.seed(for: ControlWorld.day)
            #expect(pack.section("summary")?.facts.first { $0.key == "sample_seed" }?.value == String(seed))
            #expect(pack.section("sample")?.tables.first?.rows.count == 5)
            let wallets = try #require(pack.section("wallets")?.tables.first)
            // The wallets that existed at the cut-off (the vaults came after it).
            let existing = try await x.custody.wallets(by: finance).filter { $0.createdAt <= dayEnd }.map(\.id)
            #expect(Set(wallets.rows.map { $0[0] }) == Set(existing) && !existing.contains("btc-vault") && existing.contains("btc-hot"))
            let pack2 = try await x.reports.generate(.cpaEvidence, .day(ControlWorld.day), by: finance)
            #expect(!pack2.changed)

            // The trade journal: both sides at ¥15,000,000 per BTC.
            let journal = try await x.reports.generate(.tradeJournal, try ReportPeriod.dayRange(from: "2026-11-01", to: "2026-11-30"), by: finance).document
            let rows = try #require(journal.section("trades")?.tables.first)
            #expect(rows.rows.map { [$0[0], $0[2], $0[3], $0[4], $0[5], $0[6], $0[7], $0[8], $0[9]] } == [
                ["801", "1", "agency", "buy", "BTC", "0.05000000", "15000000", "750000", "750"],
                ["801", "2", "agency", "sell", "BTC", "0.05000000", "15000000", "750000", "0"],
            ])

            // The daily segregation report matches the stored reconciliation.
            let daily = try await x.reports.generate(.segregationDaily, .day(ControlWorld.day), by: finance).document
            #expect(daily.section("summary")?.facts.first { $0.key == "stored_run" }?.value == "matches")
            let stored = try await x.custody.reconciliation(day: ControlWorld.day, by: finance)
            let yenLine = try Self.row(daily, "assets", "lines", where: "asset", is: "JPY")
            #expect(yenLine["liabilities"] == stored.lines.first { $0.asset == "JPY" }.map { String($0.liabilities.units) })

            // Every key has a Japanese and an English label; renderings are deterministic.
            for report in [document, pack.self, journal, daily] {
                for section in report.sections {
                    #expect(ReportLabels.has(section.key), "section \(section.key)")
                    for fact in section.facts { #expect(ReportLabels.has(fact.key), "fact \(fact.key)") }
                    for table in section.tables {
                        #expect(ReportLabels.has(table.key), "table \(table.key)")
                        for column in table.columns { #expect(ReportLabels.has(column), "column \(column)") }
                    }
                }
                for language in ReportLanguage.allCases {
                    for format in [ReportFormat.json, .csv, .html] {
                        let renderer = ReportRenderer(language: language)
                        #expect(try renderer.render(report, as: format) == renderer.render(report, as: format))
                    }
                }
                #expect(try ReportDocument(canonical: report.canonicalBytes) == report)
            }
            let html = try ReportRenderer(language: .ja).html(document)
            #expect(html.contains("<html lang=\"ja\">") && html.contains("利用者財産の管理に関する報告書") && html.contains(document.sha256))
            let english = String(decoding: try ReportRenderer(language: .en).render(document, as: .csv), as: UTF8.self)
            #expect(english.hasPrefix("Quarterly report on customer property (Art. 38),2026Q4"))

            // Who reads: auditors and inspectors; not the operator.
            #expect(try await x.reports.list(by: w.actors[.inspector]!.caller).count == 5)
            let operatorRead = await #expect(throws: KinkoError.self) { try await x.reports.list(by: w.ops.caller) }
            #expect(operatorRead?.code == .forbidden)
            let operatorMakes = await #expect(throws: KinkoError.self) { try await x.reports.generate(.reserve, try ReportPeriod.dayRange(from: "2026-11-01", to: "2026-11-30"), by: w.ops.caller) }
            #expect(operatorMakes?.code == .forbidden)

            // The calendar on 2027-01-06: the approved quarter is done, the third quarter is overdue.
            let due = try await x.reports.calendar(today: "2027-01-06", by: finance)
            let q4 = try #require(due.first { $0.kind == .customerPropertyQuarterly && $0.period == "2026Q4" })
            #expect(q4.due == "2027-01-31" && q4.status == "final" && !q4.overdue)
            // The books began on 2026-11-20: nothing is due for the third quarter.
            #expect(!due.contains { $0.period == "2026Q3" })
            let late = try #require(due.first { $0.kind == .segregationDaily && $0.period == "2027-01-04" })
            #expect(late.status == "missing" && late.overdue && late.due == "2027-01-05")
            let today = try #require(due.first { $0.kind == .segregationDaily && $0.period == "2027-01-05" })
            #expect(today.due == "2027-01-06" && !today.overdue)
        }
    }

    // Goal: an STR is generated and approved by two compliance officers, hidden from finance,
    // filed with its reference, and only then may its case close as `str_filed`; a case closed
    // so without a filing is refused and audited. Finance may not generate one.
    @Test(arguments: Backend.configured) func anSTRIsFiledBeforeItsCaseClosesAsFiled(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let x = w.x, compliance = w.compliance.caller
            let opened = try await x.monitoring.openCase(title: "sanctioned address", alerts: [w.blockAlert], assignee: w.compliance.caller.name, by: compliance)
            let early = await #expect(throws: KinkoError.self) { try await x.monitoring.updateCase(opened.id, .close(.strFiled), by: compliance) }
            #expect(early?.code == .conflict && early?.field == "disposition")
            let byFinance = await #expect(throws: KinkoError.self) { try await x.reports.generate(.str, .caseRecord(opened.id), by: w.finance.caller) }
            #expect(byFinance?.code == .forbidden)
            let str = try await x.reports.generate(.str, .caseRecord(opened.id), by: compliance).document
            let grounds = try #require(str.section("grounds")?.tables.first)
            #expect(!grounds.rows.isEmpty && grounds.rows.allSatisfy { $0[0] == String(w.blockAlert) })
            let subjects = try #require(str.section("subjects")?.tables.first)
            #expect(subjects.rows.map { [$0[0], $0[1]] } == [["2", "Sato Hanako"]])
            let notFinal = await #expect(throws: KinkoError.self) { try await x.reports.file(case: opened.id, reference: "JAFIC-2026-0001", by: compliance) }
            #expect(notFinal?.code == .conflict)
            _ = try await x.reports.approve(.str, .caseRecord(opened.id), by: w.compliance2.caller)
            #expect(try await x.reports.list(by: w.finance.caller).allSatisfy { $0.kind != .str })
            let hidden = await #expect(throws: KinkoError.self) { try await x.reports.document(.str, .caseRecord(opened.id), by: w.finance.caller) }
            #expect(hidden?.code == .forbidden)
            let filed = try await x.reports.file(case: opened.id, reference: "JAFIC-2026-0001", by: compliance)
            #expect(filed.status == .filed && filed.filing?.reference == "JAFIC-2026-0001" && filed.filing?.filedBy == w.compliance.caller.name)
            let closed = try await x.monitoring.updateCase(opened.id, .close(.strFiled), by: compliance)
            #expect(closed.status == .closed && closed.disposition == .strFiled)
            let stored = try await x.reports.document(.str, .caseRecord(opened.id), by: w.actors[.auditor]!.caller)
            #expect(stored.canonical == str.canonicalBytes)
        }
    }

    // Goal: identity records are versioned, never overwritten; document numbers are kept only
    // salted and hashed; a large spot trade by an unverified customer raises work that the
    // verification settles; a blocked event raises a risk review; a cross-border payment of
    // ¥30,000,000 or more is noted for the FEFTA report; bad input names the field.
    @Test(arguments: Backend.configured) func kycRecordsAreVersionedAndRaiseWork(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let x = w.x, ops = w.ops.caller, compliance = w.compliance.caller
            var first = Customers.Change(reason: "account opened online")
            first.name = "Sato Hanako"
            first.country = "JP"
            first.dateOfBirth = "1990-04-01"
            let v1 = try await x.customers.change(2, first, by: ops)
            #expect(v1.version == 1 && !v1.isVerified)
            let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(x.clock.now() / 1_000_000_000)))
            _ = try await x.monitoring.ingest(ndjson: """
                {"id":"big-trade","kind":"trade","customer":2,"time":"\(time)","asset":"BTC","amount_jpy":2500000}
                {"id":"small-trade","kind":"trade","customer":1,"time":"\(time)","asset":"BTC","amount_jpy":1999999}
                {"id":"sg-in","kind":"deposit","customer":1,"time":"\(time)","asset":"BTC","amount":"3","amount_jpy":45000000,"vasp":"Example SG","vasp_country":"SG"}
                {"id":"jp-in","kind":"deposit","customer":1,"time":"\(time)","asset":"BTC","amount":"3","amount_jpy":45000000,"vasp":"bitFlyer","vasp_country":"JP"}
                """, by: ops)
            let open = try await x.customers.openWork(by: compliance)
            #expect(open.filter { $0.item.kind == .unverifiedLargeTrade }.map(\.item.customer) == [2])
            // Both deposits lack travel-rule data and are blocked: one risk review for customer 1,
            // and neither blocked event drops the batch's other follow-ups (they once did, silently).
            #expect(open.filter { $0.item.kind == .riskRaised && $0.item.customer == 1 }.count == 1)
            var verification = Customers.Change(reason: "My Number card read by the app")
            verification.method = .onlineICChip
            verification.documents = [(kind: "my_number_card", number: "1234 5678 9012")]
            let v2 = try await x.customers.change(2, verification, by: ops)
            #expect(v2.version == 2 && v2.isVerified && v2.name == "Sato Hanako" && v2.verifiedBy == w.ops.caller.name)
            let document = try #require(v2.documents.first)
            // The digest is salted at random: it is 64 hex digits and never the number (a four-digit
            // run of it, "1234", turns up in about one digest in a thousand by chance: a flaky check).
            #expect(document.numberSHA256.count == 64 && document.numberSHA256.allSatisfy(\.isHexDigit) && !document.numberSHA256.contains("123456789012"))
            #expect(document.matches("1234 5678 9012") && !document.matches("1234 5678 9013") && document.numberSalt.count > 0)
            #expect(try await x.customers.openWork(by: compliance).allSatisfy { $0.item.kind != .unverifiedLargeTrade })
            let history = try await x.customers.history(2, by: w.actors[.auditor]!.caller)
            #expect(history.map(\.version) == [1, 2] && history[0] == v1)
            // Rating is compliance's; operations may not.
            var rating = Customers.Change(reason: "sanctions hit on a withdrawal")
            rating.riskRating = .high
            let byOps = await #expect(throws: KinkoError.self) { try await x.customers.change(2, rating, by: ops) }
            #expect(byOps?.code == .forbidden)
            let v3 = try await x.customers.change(2, rating, by: compliance)
            #expect(v3.riskRating == .high && v3.version == 3)
            var bad = Customers.Change(reason: "x")
            bad.country = "Japan"
            let badCountry = await #expect(throws: KinkoError.self) { try await x.customers.change(2, bad, by: ops) }
            #expect(badCountry?.field == "country")
            // The monitoring profile follows the record.
            #expect(try await x.monitoring.store.profiles([2]).first?.name == "Sato Hanako")
            // FEFTA: only the payment from abroad at or over ¥30,000,000.
            let today = x.clock.now().jstDay
            let fefta = try await x.reports.generate(.fefta, try ReportPeriod.dayRange(from: today, to: today), by: w.finance.caller)
            #expect(fefta.document.section("payments")?.tables.first?.rows.map { [$0[0], $0[3], $0[4], $0[7]] } == [["sg-in", "inbound", "SG", "45000000"]])
        }
    }
}

extension ReportsTests {
    // Goal: retention. A former customer's verification records are kept 7 years after the
    // relationship ends: a purge before then is refused (and audited); after it, one person
    // files and another approves; a legal hold placed meanwhile stops it and only a second
    // person lifts it; the purge erases identity data in every version and keeps who changed
    // what. A policy below the law's minimum does not read.
    @Test(arguments: Backend.configured) func purgingNeedsThePeriodTwoPeopleAndNoHold(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await ControlWorld.build(harness)
            let x = w.x, compliance = w.compliance.caller, compliance2 = w.compliance2.caller
            let retention = Retention(customers: x.customers)
            var opened = Customers.Change(reason: "account opened")
            opened.name = "Ito Jiro"
            opened.method = .onlinePhotoID
            opened.documents = [(kind: "driver_license", number: "DL-123456789")]
            _ = try await x.customers.change(7, opened, by: w.ops.caller)
            var closed = Customers.Change(reason: "customer left")
            closed.closed = true
            _ = try await x.customers.change(7, closed, by: w.ops.caller)
            let early = await #expect(throws: KinkoError.self) { try await retention.requestPurge(customer: 7, by: compliance) }
            #expect(early?.code == .conflict && early?.message.contains("kept until") == true)
            w.f.clock.advance(seconds: 7 * 366 * 86_400 + 86_400)
            let request = try await retention.requestPurge(customer: 7, by: compliance)
            let alone = await #expect(throws: KinkoError.self) { try await retention.executePurge(request: request.id, by: compliance) }
            #expect(alone?.code == .approvalRequired)
            try await w.compliance2.approve(request.id, in: w.governance)
            _ = try await retention.placeHold(customer: 7, reason: "court order 2033-12", by: compliance2)
            let held = await #expect(throws: KinkoError.self) { try await retention.executePurge(request: request.id, by: compliance) }
            #expect(held?.message.contains("legal hold") == true)
            let ownLift = await #expect(throws: KinkoError.self) { try await retention.liftHold(customer: 7, by: compliance2) }
            #expect(ownLift?.code == .forbidden)
            _ = try await retention.liftHold(customer: 7, by: compliance)
            #expect(try await retention.executePurge(request: request.id, by: compliance) == 2)
            let history = try await x.customers.history(7, by: w.actors[.auditor]!.caller)
            #expect(history.count == 2 && history.allSatisfy { $0.name.isEmpty && $0.documents.isEmpty && $0.purgedAt != nil })
            #expect(history.map(\.reason) == ["account opened", "customer left"] && history.map(\.changedBy) == [w.ops.caller.name, w.ops.caller.name])
            var again = Customers.Change(reason: "back")
            again.name = "Ito Jiro"
            let back = await #expect(throws: KinkoError.self) { try await x.customers.change(7, again, by: w.ops.caller) }
            #expect(back?.code == .conflict)
            let short = #expect(throws: KinkoError.self) { try RetentionPolicy(yaml: RetentionPolicy.defaultYAML.replacingOccurrences(of: "books: 10", with: "books: 9")) }
            #expect(short?.field == "years.books")
            #expect(try RetentionPolicy(yaml: RetentionPolicy.defaultYAML) == .init(version: "2026.1", years: RetentionPolicy.statutory.years))
        }
    }
}
