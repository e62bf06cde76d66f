import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoReports
import KinkoSQLite
import KinkoStores

/// `kinko bench reports`: the books of a big exchange. Setup (not timed): a liability account
/// per customer and asset with a deposit before the day's cut-off, a hot and a cold wallet per
/// asset observed, and more transfers after the cut-off (so every as-of read has work to take
/// back). Timed, each on its own: the `--as-of` balances of every account, the interim quarterly
/// report, the CPA evidence pack (document and SHA-256), and the pack rendered as CSV.
struct BenchReports: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reports", abstract: "As-of balances, the quarterly report and the CPA pack for N customers × M assets.")

    @OptionGroup var size: BenchBook.Size
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let book = try await BenchBook.build(size, name: "reports")
        let (customers, assets, afterCutoff) = (size.customers, size.assets, size.afterCutoff)
        defer { try? FileManager.default.removeItem(at: book.directory) }
        let (ledger, exchange, finance, cutoff, day, setup) = (book.ledger, book.exchange, book.finance, book.cutoff, book.day, book.setupSeconds)
        let first = book.assets[0]

        func timed<T>(_ body: () async throws -> T) async throws -> (T, Double) {
            let timer = ContinuousClock.now
            let value = try await body()
            return (value, (ContinuousClock.now - timer).milliseconds / 1000)
        }
        // The as-of balances of the first asset's accounts (one per customer), and of all.
        let firstLedger = first.ledger
        let (oneAsset, asOfOne) = try await timed { try await ledger.postedBalances(asOf: cutoff) { $0.ledger == firstLedger } }
        let (everything, asOfAll) = try await timed { try await ledger.postedBalances(asOf: cutoff) }
        guard oneAsset.count >= customers, everything.count >= customers * assets else {
            throw BenchError.setupFailed("as-of balances missed accounts: \(oneAsset.count) of the first asset, \(everything.count) in all")
        }
        let reports = exchange.reports
        let quarter = try ReportPeriod.quarter("2026Q4", through: day)
        let (quarterly, quarterlySeconds) = try await timed { try await reports.generate(.customerPropertyQuarterly, quarter, by: finance) }
        let (pack, packSeconds) = try await timed { try await reports.generate(.cpaEvidence, .day(day), by: finance) }
        let (csv, csvSeconds) = try await timed { try ReportRenderer(language: .ja).csv(pack.document) }
        let rows = pack.document.section("customer_balances")?.tables.first?.rowCount ?? 0
        guard rows == customers * assets else { throw BenchError.setupFailed("the CPA pack lists \(rows) balances, not \(customers * assets)") }
        func f(_ seconds: Double) -> String { String(format: "%.3f", seconds) }
        if json {
            print(#"{"workload":"reports","customers":\#(customers),"assets":\#(assets),"accounts":\#(everything.count),"transfers_after_cutoff":\#(afterCutoff),"as_of_one_asset_seconds":\#(f(asOfOne)),"as_of_all_seconds":\#(f(asOfAll)),"quarterly_seconds":\#(f(quarterlySeconds)),"cpa_pack_seconds":\#(f(packSeconds)),"cpa_csv_seconds":\#(f(csvSeconds)),"cpa_bytes":\#(pack.record.bytes),"csv_bytes":\#(csv.count)}"#)
        } else {
            print("""
                reports: \(customers) customers × \(assets) assets (\(everything.count) accounts, \(afterCutoff) transfers after the cut-off taken back); setup took \(String(format: "%.0f", setup)) s
                  as-of balances, \(oneAsset.count) accounts (one asset): \(f(asOfOne)) s
                  as-of balances, all \(everything.count) accounts: \(f(asOfAll)) s
                  customer-property-quarterly \(quarter.text): \(f(quarterlySeconds)) s (SHA-256 \(quarterly.record.sha256.prefix(16))…)
                  cpa-evidence \(day): \(f(packSeconds)) s for \(rows) balances, \(pack.record.bytes) canonical bytes (SHA-256 \(pack.record.sha256.prefix(16))…)
                  cpa-evidence as CSV: \(f(csvSeconds)) s, \(csv.count) bytes
                """)
        }
    }
}
