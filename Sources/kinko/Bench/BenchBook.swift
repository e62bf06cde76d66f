import ArgumentParser
import Foundation
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoPlaybook
import KinkoSQLite
import KinkoStores

/// The books of a big exchange, for the benchmarks that read them (`reconcile`, `reports`): on
/// a fresh SQLite database, a liability account per customer and asset with a deposit before
/// the day's cut-off, a hot and a cold customer wallet per asset observed at the cut-off, and
/// `afterCutoff` more deposits after it (so every as-of read has work to take back). Not timed.
struct BenchBook {
    let directory: URL
    let day: String
    let cutoff: TimestampNanoseconds
    let clock: ManualWallClock
    let exchange: Exchange
    let treasurer: Caller
    let finance: Caller
    let assets: [Asset]
    /// Seconds the setup took.
    let setupSeconds: Double

    var ledger: Ledger { exchange.engine }
    var custody: Custody { exchange.custody }

    /// How big the book is.
    struct Size: ParsableArguments {
        @Option(help: "Customers (1–2,000,000).") var customers: Int = 1_000_000
        @Option(help: "Assets (1–5): JPY, BTC, ETH, XRP and SOL.") var assets: Int = 5
        @Option(help: "Transfers posted after the cut-off (every as-of read takes them back out).") var afterCutoff: Int = 100_000

        func validate() throws {
            guard (1...2_000_000).contains(customers) else { throw ValidationError("--customers must be 1–2000000") }
            guard (1...5).contains(assets) else { throw ValidationError("--assets must be 1–5") }
            guard (0...10_000_000).contains(afterCutoff) else { throw ValidationError("--after-cutoff must be 0–10000000") }
        }
    }

    static func build(_ size: Size, name: String) async throws -> BenchBook {
        let (customers, assets, afterCutoff) = (size.customers, size.assets, size.afterCutoff)
            let directory = try benchDirectory()
            let day = "2026-11-20"
            let cutoff = try Reconciliation.cutoff(day: day, hourJST: 17)
            let clock = ManualWallClock(cutoff - 3_600_000_000_000)
            let path = directory.appendingPathComponent("\(name).sqlite").path
            _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
            let database = try KinkoDatabase(path: path, clock: clock)
            let stores = KinkoStores(sqlite: database)
            let governance = Governance(store: stores.governance, clock: clock)
            let staff = try await Staff.found(governance, admins: ["bench.admin", "bench.second-admin"])
            let admin = staff.admins[0].caller
            let treasurer = try await staff.hire("bench.treasury", kind: .client, roles: [.treasurer], key: nil).caller
            let finance = try await staff.hire("bench.finance", kind: .client, roles: [.finance], key: nil).caller
            let ledger = try await Ledger.open(store: stores.ledger, clock: clock)
            let exchange = Exchange(governance: governance, ledger: ledger, custodyStore: stores.custody, reserveStore: stores.reserve,
                                    monitoringStore: stores.monitoring, clock: clock)
            let custody = exchange.custody

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
                    return Transfer(id: TransferID(id), debitAccountID: hot, creditAccountID: AccountID(id), amount: UInt128(index % 1_000 + 1),
                                    ledger: asset.ledger, code: .deposit)
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
        return BenchBook(directory: directory, day: day, cutoff: cutoff, clock: clock, exchange: exchange, treasurer: treasurer, finance: finance,
                         assets: chosen, setupSeconds: (ContinuousClock.now - started).milliseconds / 1000)
    }
}
