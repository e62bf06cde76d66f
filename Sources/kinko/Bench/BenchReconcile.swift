import ArgumentParser
import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoPlaybook
import KinkoLedger
import KinkoSQLite

/// `kinko bench reconcile`: the daily segregation reconciliation over many customers and
/// assets. Setup (not timed): a liability account per customer and asset, a hot and a cold
/// wallet per asset, one deposit per account before the cut-off, more transfers after it (so the
/// as-of walk-back has work), and matching observations. Timed: `Custody.reconcile`.
struct BenchReconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reconcile", abstract: "Segregation reconciliation of N customers × M assets.")

    @OptionGroup var size: BenchBook.Size
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let book = try await BenchBook.build(size, name: "reconcile")
        let (customers, assets, afterCutoff) = (size.customers, size.assets, size.afterCutoff)
        defer { try? FileManager.default.removeItem(at: book.directory) }
        // The treasurer recorded the balances, so finance reconciles (separate duties).
        let (custody, finance, day, setup) = (book.custody, book.finance, book.day, book.setupSeconds)
        let timer = ContinuousClock.now
        let result = try await custody.reconcile(day: day, by: finance)
        let seconds = (ContinuousClock.now - timer).milliseconds / 1000
        guard result.isClean else { throw BenchError.setupFailed("the reconciliation found breaks: \(result.breaks.first?.cause ?? "")") }
        if json {
            print(#"{"workload":"reconcile","customers":\#(customers),"assets":\#(assets),"accounts":\#(customers * assets),"transfers_after_cutoff":\#(afterCutoff),"seconds":\#(String(format: "%.3f", seconds))}"#)
        } else {
            print("reconcile: \(customers) customers × \(assets) assets (\(customers * assets) accounts, \(afterCutoff) transfers after the cut-off taken back) in \(String(format: "%.3f", seconds)) s — clean; setup took \(String(format: "%.0f", setup)) s")
        }
    }
}
