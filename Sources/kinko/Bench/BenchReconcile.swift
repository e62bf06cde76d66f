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

    @Option(help: "Customers (1–2,000,000).") var customers: Int = 1_000_000
    @Option(help: "Assets (1–5): JPY, BTC, ETH, XRP and SOL.") var assets: Int = 5
    @Option(help: "Transfers posted after the cut-off (the reconciliation takes them back out).") var afterCutoff: Int = 100_000
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...2_000_000).contains(customers) else { throw ValidationError("--customers must be 1–2000000") }
        guard (1...5).contains(assets) else { throw ValidationError("--assets must be 1–5") }
        guard (0...10_000_000).contains(afterCutoff) else { throw ValidationError("--after-cutoff must be 0–10000000") }
    }

    func run() async throws {
        let directory = try benchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let day = "2026-11-20"
        let cutoff = try Reconciliation.cutoff(day: day, hourJST: 17)
        let clock = ManualWallClock(cutoff - 3_600_000_000_000)
        let path = directory.appendingPathComponent("reconcile.sqlite").path
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
        let database = try KinkoDatabase(path: path, clock: clock)
        let governance = Governance(store: SQLiteGovernanceStore(database: database), clock: clock)
        let staff = try await Staff.found(governance, admins: ["bench.admin", "bench.second-admin"])
        let admin = staff.admins[0].caller
        let treasurer = try await staff.hire("bench.treasury", kind: .client, roles: [.treasurer], key: nil).caller
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database), clock: clock)
        let custody = Custody(governance: governance, ledger: ledger, store: SQLiteCustodyStore(database: database), clock: clock)

        let chosen = Array((Asset.standard + [try Asset(code: "SOL", scale: 9, kind: .crypto, ledger: 5)]).prefix(assets))
        try await ledger.registerAssets(chosen, by: admin)
        try await custody.saveVendor(Vendor(name: "bench-vendor", noticeDate: "2026-04-01", noticeReference: "B-1"), by: treasurer)
        let started = ContinuousClock.now
        for asset in chosen {
            for temperature in [Temperature.hot, .cold] {
                _ = try await custody.registerWallet(Wallet(id: "\(asset.code.lowercased())-\(temperature.rawValue)", chain: "bench", temperature: temperature,
                                                            purpose: .customerPool, assets: [asset.code], vendor: "bench-vendor", vendorVersion: "1"), by: treasurer)
            }
        }
        let batch = ledger.limits.batchSizeMax
        for asset in chosen {
            let base = UInt128(asset.ledger) << 64
            let accounts = (0..<customers).map { (index: Int) -> Account in
                Account(id: AccountID(base | UInt128(index + 1)), ledger: asset.ledger, code: 100,
                        accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: UInt128(index + 1))
            }
            for start in stride(from: 0, to: accounts.count, by: batch) {
                _ = try await ledger.createAccounts(Array(accounts[start..<min(start + batch, accounts.count)]), by: treasurer)
            }
            let hot = Wallet.accountID(wallet: "\(asset.code.lowercased())-hot", asset: asset.code)
            let deposits = (0..<customers).map { (index: Int) -> Transfer in
                let id = base | UInt128(index + 1)
                let amount = UInt128(index % 1_000 + 1)
                return Transfer(id: TransferID(id), debitAccountID: hot, creditAccountID: AccountID(id), amount: amount, ledger: asset.ledger, code: .deposit)
            }
            for start in stride(from: 0, to: deposits.count, by: batch) {
                _ = try await ledger.createTransfers(Array(deposits[start..<min(start + batch, deposits.count)]), by: treasurer)
            }
            let total = deposits.reduce(UInt128(0)) { $0 + $1.amount }
            try await custody.recordBalances([
                BalanceObservation(wallet: "\(asset.code.lowercased())-hot", asset: asset.code, amount: Amount(units: total), observedAt: clock.now(), source: "bench"),
                BalanceObservation(wallet: "\(asset.code.lowercased())-cold", asset: asset.code, amount: .zero, observedAt: clock.now(), source: "bench"),
            ], by: treasurer)
        }
        clock.advance(seconds: 2 * 3600)
        let first = chosen[0]
        let hot = Wallet.accountID(wallet: "\(first.code.lowercased())-hot", asset: first.code)
        let firstBase = UInt128(first.ledger) << 64
        let late = (0..<afterCutoff).map { (index: Int) -> Transfer in
            Transfer(id: TransferID(UInt128(99) << 64 | UInt128(index + 1)), debitAccountID: hot,
                     creditAccountID: AccountID(firstBase | UInt128(index % customers + 1)), amount: 1, ledger: first.ledger, code: .deposit)
        }
        for start in stride(from: 0, to: late.count, by: batch) {
            _ = try await ledger.createTransfers(Array(late[start..<min(start + batch, late.count)]), by: treasurer)
        }
        let setup = (ContinuousClock.now - started).milliseconds / 1000
        let timer = ContinuousClock.now
        let result = try await custody.reconcile(day: day, by: treasurer)
        let seconds = (ContinuousClock.now - timer).milliseconds / 1000
        guard result.isClean else { throw BenchError.setupFailed("the reconciliation found breaks: \(result.breaks.first?.cause ?? "")") }
        if json {
            print(#"{"workload":"reconcile","customers":\#(customers),"assets":\#(assets),"accounts":\#(customers * assets),"transfers_after_cutoff":\#(afterCutoff),"seconds":\#(String(format: "%.3f", seconds))}"#)
        } else {
            print("reconcile: \(customers) customers × \(assets) assets (\(customers * assets) accounts, \(afterCutoff) transfers after the cut-off taken back) in \(String(format: "%.3f", seconds)) s — clean; setup took \(String(format: "%.0f", setup)) s")
        }
    }
}
