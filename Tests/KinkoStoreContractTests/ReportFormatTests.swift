import Foundation
import CSV
import KinkoCore
import KinkoLedger
@testable import KinkoReports
import Testing

/// Report periods, canonical bytes and renderings, without a database.
@Suite("Reports: periods, canonical bytes, renderings")
struct ReportFormatTests {
    static let document = ReportDocument(
        kind: .reserve, period: .range(from: "2026-10-01", to: "2026-12-31"), asOf: 1_798_729_199_999_999_999,
        sections: [.init("summary", facts: [.init("first_day", "2026-10-01"), .init("latest_required_jpy", "5000000")],
                         tables: [.init("computations", columns: ["time", "rule_set", "required_jpy", "funded_jpy", "result"],
                                        rows: [["2026-12-01T08:00:00.000000000Z", "2026.1 \"demo\"", "5000000", "3000000", "short"],
                                               ["2026-12-02T08:00:00.000000000Z", "a, b", "line\nbreak", "", "adequate"]])])])

    // Goal: periods read and write back; a range of 366 days is the limit and 367 is refused;
    // quarters, interim days, cases and incidents parse; bad ones name the field.
    @Test func periodsReadBackAndTheirLimitsHold() throws {
        for text in ["2026-12-01", "2026Q4", "2026Q4@2026-11-15", "2026-01-01..2026-12-31", "case-3", "incident-12"] {
            #expect(try ReportPeriod(parsing: text).text == text)
        }
        #expect(try ReportPeriod.dayRange(from: "2024-01-01", to: "2024-12-31").days?.last == "2024-12-31")  // 366 days (leap year)
        let long = #expect(throws: KinkoError.self) { try ReportPeriod.dayRange(from: "2024-01-01", to: "2025-01-01") }
        #expect(long?.code == .limitExceeded && long?.field == "to")
        #expect(throws: KinkoError.self) { try ReportPeriod.quarter("2026Q5") }
        #expect((#expect(throws: KinkoError.self) { try ReportPeriod(parsing: "2026-02-30") })?.field == "period")
        let first = try #require(try ReportPeriod.quarter("2026Q1").days)
        #expect(first.first == "2026-01-01" && first.last == "2026-03-31")
        #expect(try ReportPeriod.quarter("2026Q4", through: "2026-12-31") == .quarter(year: 2026, quarter: 4))
        #expect(try TimestampNanoseconds.endOfDayJST("2026-12-31", field: "d").iso8601Nanoseconds == "2026-12-31T14:59:59.999999999Z")
        #expect(try TimestampNanoseconds.endOfDayJST("2026-12-31", field: "d").jst == "2026-12-31 23:59:59 JST")
        #expect(TimestampNanoseconds(iso8601Nanoseconds: "2026-12-31T14:59:59.999999999Z") == 1_798_729_199_999_999_999)
    }

    // Goal: the canonical bytes are ASCII JSON that reads back to the same document and hash; the
    // renderings are deterministic, the CSV reads back with CSV.swift, quotes survive, and the
    // HTML escapes every value.
    @Test func canonicalBytesAndRenderingsAreStable() throws {
        let document = Self.document
        let bytes = document.canonicalBytes
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(try ReportDocument(canonical: bytes) == document)
        #expect(document.sha256 == (try ReportDocument(canonical: bytes)).sha256)
        let csv = String(decoding: try ReportRenderer(language: .en).csv(document), as: UTF8.self)
        let table = try CSVTable.read("a,b,c,d,e\n" + csv.split(separator: "\n").filter { $0.contains("2026-12-01T08") }.joined(separator: "\n"), name: "csv")
        #expect(table.rows.first?.cells == ["2026-12-01T08:00:00.000000000Z", "2026.1 \"demo\"", "5000000", "3000000", "short"])
        // The whole document through CSV.swift's reader: every block reads back cell for cell.
        let reader = try CSVReader(string: csv)
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        #expect(rows.suffix(3) == [["Time", "Rule set", "Required (JPY)", "Funded (JPY)", "Result"],
                                   ["2026-12-01T08:00:00.000000000Z", "2026.1 \"demo\"", "5000000", "3000000", "short"],
                                   ["2026-12-02T08:00:00.000000000Z", "a, b", "line\nbreak", "", "adequate"]])
        #expect(rows.first == ["Liability reserve: requirement, funding and adequacy", "2026-10-01..2026-12-31"])
        let html = try ReportRenderer(language: .ja).html(document)
        #expect(html.contains("2026.1 &quot;demo&quot;") && html.contains("責任準備金の積立状況") && html.contains("要積立額（円）"))
        #expect(try ReportRenderer(language: .ja).html(document) == html)
    }

    // Goal: PDF comes from headless Chromium where it is installed, and is refused naming the
    // format where it is not.
    @Test func pdfComesFromChromiumWhereInstalled() throws {
        if ReportPDF.chromium == nil {
            let refused = #expect(throws: KinkoError.self) { try ReportRenderer(language: .ja).render(Self.document, as: .pdf) }
            #expect(refused?.code == .rendererUnavailable && refused?.field == "format")
        } else {
            let pdf = try ReportRenderer(language: .ja).render(Self.document, as: .pdf)
            #expect(pdf.starts(with: Array("%PDF".utf8)) && pdf.count > 1_000)
        }
    }
}

extension ReportFormatTests {
    // Goal: the fast decimal of ids agrees with Swift's own conversion at the 64-bit edge, the
    // 10¹⁹ boundary and the 128-bit maximum.
    @Test(arguments: [UInt128(0), 9, UInt128(UInt64.max), UInt128(UInt64.max) + 1, 10_000_000_000_000_000_000, 10_000_000_000_000_000_000_000_000_000,
                      UInt128(2) << 64 | 1, UInt128.max])
    func decimalsMatchSwiftsOwn(_ value: UInt128) {
        #expect(Reports.decimal(value) == String(value))
    }
}

extension ReportFormatTests {
    // Goal: rows written on every core in parts are the same bytes as rows written in one pass,
    // for 0, 1, 2, 3 and 1,001 rows (parts of unequal and empty length).
    @Test(arguments: [0, 1, 2, 3, 1_001])
    func rowsWrittenInPartsAreTheSameBytes(_ count: Int) {
        let rows = (0..<count).map { [String($0), "a\"b,\($0)", "日本 \($0)"] }
        #expect(ReportDocument.assemble([.rows(rows)], parallelFrom: 1) == ReportDocument.assemble([.rows(rows)], parallelFrom: .max))
    }

    // Goal: customer rows formatted in parallel parts are the rows of one pass, in order.
    @Test func customerRowsInPartsAreTheRowsOfOnePass() async throws {
        let asset = try #require(Asset.standard.first { $0.code == "BTC" })
        let accounts = (0..<1_001).map { n in
            (account: Account(id: AccountID(UInt128(n) << 64 | 7), ledger: asset.ledger, code: 100, accountClass: .customerLiability, owner: UInt128(n / 3 + 1)),
             balance: AccountBalance(creditsPosted: UInt128(n) * 1_000))
        }
        let order = Array((0..<1_001).reversed())
        let parallel = await Reports.customerRows(order, accounts: accounts, byLedger: [asset.ledger: asset], parallelFrom: 1)
        let single = await Reports.customerRows(order, accounts: accounts, byLedger: [asset.ledger: asset], parallelFrom: .max)
        #expect(parallel.allRows == single.allRows && parallel.count == 1_001 && parallel.chunks.count == min(ProcessInfo.processInfo.activeProcessorCount, 8)
                && parallel.row(0) == ["334", "18446744073709551616007", "BTC", "customer_liability", "0.01000000"])
    }

    // Goal: a document that remembers its hash gives the bytes and SHA-256 of one written from
    // scratch, and forgets the hash when it is changed.
    @Test func rememberedBytesAndHashMatchAFreshDocument() {
        let rows = (0..<5).map { [String($0), "x\($0)"] }
        var remembered = ReportDocument(kind: .cpaEvidence, period: .day("2026-11-30"), asOf: 1_000, sections: [
            .init("s", tables: [.init("t", columns: ["a", "b"], rows: rows)]),
        ])
        let fresh = ReportDocument(kind: .cpaEvidence, period: .day("2026-11-30"), asOf: 1_000, sections: [.init("s", tables: [.init("t", columns: ["a", "b"], rows: rows)])])
        let (bytes, hash) = remembered.hashed()
        #expect(bytes == fresh.canonicalBytes && hash == fresh.sha256 && remembered == fresh)
        remembered.sections[0].tables[0].rows.append(["5", "x5"])
        #expect(remembered.sha256 != hash && remembered.canonicalBytes != fresh.canonicalBytes)
    }
}

extension ReportFormatTests {
    /// Rows with every kind of cell the writers treat apart: plain, quoted, escaped, non-ASCII, empty.
    static let awkwardRows = (0..<7).map { n in [String(n), "a\"b,\(n)", "日本 \(n)", "line\nbreak\\", n % 2 == 0 ? "" : "x"] }

    static func packed(_ rows: [[String]], chunkBytesMax: Int) -> PackedRows {
        var packed = PackedRows(width: 5, chunkBytesMax: chunkBytesMax)
        for row in rows { packed.append(row) }
        return packed
    }

    // Goal: a packed table is the same document as the table of strings it holds: the same
    // canonical bytes and SHA-256, the same JSON, CSV and HTML, in one chunk or in many.
    @Test(arguments: [PackedRows.chunkBytesLimit, 0, 40])
    func aPackedTableIsTheSameDocument(_ chunkBytesMax: Int) throws {
        let packed = Self.packed(Self.awkwardRows, chunkBytesMax: chunkBytesMax)
        func document(_ table: ReportDocument.Table) -> ReportDocument {
            ReportDocument(kind: .cpaEvidence, period: .day("2026-11-30"), asOf: 1_796_025_600_000_000_000, sections: [.init("s", facts: [.init("k", "v")], tables: [table])])
        }
        let text = document(.init("balances", columns: ["customer", "account", "asset", "class", "balance"], rows: Self.awkwardRows))
        let compact = document(.init("balances", columns: ["customer", "account", "asset", "class", "balance"], packed: packed))
        #expect(compact.canonicalBytes == text.canonicalBytes && compact.sha256 == text.sha256 && compact == text)
        #expect(compact.sections[0].tables[0].rowCount == 7 && compact.sections[0].tables[0].rows == Self.awkwardRows)
        for language in [ReportLanguage.ja, .en] {
            let renderer = ReportRenderer(language: language)
            #expect(renderer.json(compact) == renderer.json(text))
            #expect(try renderer.csv(compact) == renderer.csv(text))
            #expect(try renderer.html(compact) == renderer.html(text))
        }
        // The canonical bytes read back to the same document.
        #expect(try ReportDocument(canonical: compact.canonicalBytes) == text)
    }

    // Goal: a chunk takes rows until it holds chunkBytesMax bytes; the row that begins at the
    // limit begins the next chunk (a row is never split), and the limit is capped at 32 bits.
    @Test func chunksEndAtTheirLimitAndRowsAreFoundAcrossThem() {
        let rows = (0..<4).map { n in ["a\(n)", "bb", "cc", "dd", "ee"] }  // 10 bytes a row
        #expect(Self.packed(rows, chunkBytesMax: 20).chunks.map(\.count) == [2, 2])  // at the limit after two rows
        #expect(Self.packed(rows, chunkBytesMax: 21).chunks.map(\.count) == [3, 1])  // one past: a third row fits in
        #expect(Self.packed(rows, chunkBytesMax: 0).chunks.map(\.count) == [1, 1, 1, 1])
        #expect(PackedRows(width: 5, chunkBytesMax: .max).chunkBytesMax == PackedRows.chunkBytesLimit)
        let packed = Self.packed(rows, chunkBytesMax: 20)
        #expect(packed.row(-1) == nil && packed.row(4) == nil)
        #expect((0..<4).map { packed.row($0) } == rows && packed.allRows == rows && packed.count == 4)
        #expect(PackedRows(joining: [packed, PackedRows(width: 5), packed], width: 5).allRows == rows + rows)
    }
}
