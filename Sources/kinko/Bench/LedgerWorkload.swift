import Foundation
import KinkoControls
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoLedger
import KinkoPostgres
import KinkoSQLite
import KinkoStores

/// A ledger benchmark workload: the accounts, the funding (not timed) and the transfers (timed),
/// generated up front so the clock measures only the ledger.
struct LedgerWorkload {
    /// A PostgreSQL server to run the ledger on instead of SQLite (`kinko bench ledger --database`).
    var postgres: String?
    var name: String
    var accounts: [Account]
    var funding: [Transfer]
    var transfers: [Transfer]
    var batchSize: Int
    /// How the baseline picks its transfers: (debit index, credit index, amount).
    var baselinePick: (inout SplitMix64) -> (Int, Int, Int64)
    var baselineLimited: Bool
    var baselineOpeningBalance: Int64
    var seed: UInt64
    /// Posted through `LedgerService` under the default transfer-control policy (the shape is
    /// one the controls accept: linked two-leg trades, pending withdrawals, fees within the
    /// schedule, customer accounts that cannot overdraw); otherwise straight to the engine, as
    /// before the controls existed.
    var controlled = false
    /// With `controlled`: post through `LedgerService` (false: the same transfers straight to
    /// the engine, to see what the review itself costs).
    var throughControls = true

    static let ledger: UInt32 = 2
    /// The other asset of a controlled workload's trades (a trade pays the customer back in it).
    static let counterLedger: UInt32 = 1

    /// Linked two-leg trades: `a` pays `b` in bitcoin and `b` pays `a` back in yen. Accounts
    /// `id` (BTC) and `id + offset` (JPY).
    static func tradePair(_ id: UInt128, a: Int, b: Int, offset: Int, amount: UInt128, counterAmount: UInt128) -> [Transfer] {
        [Transfer(id: TransferID(id), debitAccountID: AccountID(UInt128(a + 1)), creditAccountID: AccountID(UInt128(b + 1)), amount: amount,
                  ledger: ledger, code: .trade, flags: .linked),
         Transfer(id: TransferID(id + 1), debitAccountID: AccountID(UInt128(b + 1 + offset)), creditAccountID: AccountID(UInt128(a + 1 + offset)),
                  amount: counterAmount, ledger: counterLedger, code: .trade)]
    }

    /// Customer accounts in both assets for a controlled workload: BTC `1…n`, JPY `n+1…2n`.
    static func customerAccounts(_ count: Int, flags: AccountFlags) -> [Account] {
        (0..<count).map { index in
            Account(id: AccountID(UInt128(index + 1)), ledger: ledger, code: 1, accountClass: .customerLiability, flags: flags, owner: UInt128(index + 1))
        } + (0..<count).map { index in
            Account(id: AccountID(UInt128(count + index + 1)), ledger: counterLedger, code: 1, accountClass: .customerLiability, flags: flags,
                    owner: UInt128(index + 1))
        }
    }

    /// The TigerBeetle workload under the controls: 10,000 accounts — 5,000 customers holding
    /// bitcoin and yen (no overdraft, funded generously so nothing fails for want of money) —
    /// each transfer one leg of a linked trade between two uniformly random customers.
    static func tigerBeetleControlled(transfers count: Int, batchSize: Int, seed: UInt64) -> LedgerWorkload {
        let customers = 5_000
        let custody = UInt128(2 * customers + 1)
        var accounts = customerAccounts(customers, flags: .debitsMustNotExceedCredits)
        for (offset, ledger) in [(0, ledger), (1, counterLedger)] {
            accounts.append(Account(id: AccountID(custody + UInt128(offset)), ledger: ledger, code: 2, accountClass: .customerCustodyHolding))
        }
        var rng = SplitMix64(seed: seed)
        let fundingBase = UInt128(rng.next()) << 64
        let funding = (0..<(2 * customers)).map { index in
            Transfer(id: TransferID(fundingBase + UInt128(index) + 1), debitAccountID: AccountID(custody + (index < customers ? 0 : 1)),
                     creditAccountID: AccountID(UInt128(index + 1)), amount: 1_000_000_000_000, ledger: index < customers ? ledger : counterLedger,
                     code: .deposit)
        }
        let base = UInt128(rng.next()) << 64
        var transfers: [Transfer] = []
        transfers.reserveCapacity(count + 1)
        while transfers.count < count {
            let a = Int(rng.next() % UInt64(customers))
            var b = Int(rng.next() % UInt64(customers - 1))
            if b >= a { b += 1 }
            transfers += tradePair(base + UInt128(transfers.count) + 1, a: a, b: b, offset: customers,
                                   amount: UInt128(rng.next() % 1_000 + 1), counterAmount: UInt128(rng.next() % 1_000 + 1))
        }
        if transfers.count > count { transfers.removeLast(2) }
        return LedgerWorkload(
            name: "tigerbeetle", accounts: accounts, funding: funding, transfers: transfers, batchSize: batchSize,
            baselinePick: { rng in
                let debit = Int(rng.next() % UInt64(customers))
                var credit = Int(rng.next() % UInt64(customers - 1))
                if credit >= debit { credit += 1 }
                return (debit, credit, Int64(rng.next() % 1_000 + 1))
            },
            baselineLimited: false, baselineOpeningBalance: 0, seed: seed, controlled: true)
    }

    /// The exchange workload under the controls: 100,000 customer accounts — 50,000 customers
    /// holding bitcoin and yen (no overdraft; the last 1% never funded) — with 20% of activity
    /// among the 1% busiest; of every 20 steps 17 are linked two-leg trades, 2 fees to own funds
    /// within the published schedule and 1 a pending (two-phase) withdrawal.
    static func exchangeControlled(transfers count: Int, batchSize: Int, seed: UInt64) -> LedgerWorkload {
        let customers = 50_000
        let hotCount = customers / 100
        let unfundedFrom = customers - customers / 100
        let custody = UInt128(2 * customers + 1), ownFunds = UInt128(2 * customers + 3)
        let openingBalance: UInt128 = 50_000
        var accounts = customerAccounts(customers, flags: .debitsMustNotExceedCredits)
        for (offset, ledger) in [(0, ledger), (1, counterLedger)] {
            accounts.append(Account(id: AccountID(custody + UInt128(offset)), ledger: ledger, code: 2, accountClass: .customerCustodyHolding,
                                    flags: .creditsMustNotExceedDebits))
            accounts.append(Account(id: AccountID(ownFunds + UInt128(offset)), ledger: ledger, code: 3, accountClass: .ownFunds))
        }
        var rng = SplitMix64(seed: seed)
        let fundingBase = UInt128(rng.next()) << 64
        let funded = (0..<unfundedFrom).map { $0 } + (0..<unfundedFrom).map { customers + $0 }
        let funding = funded.enumerated().map { index, account in
            Transfer(id: TransferID(fundingBase + UInt128(index) + 1), debitAccountID: AccountID(custody + (account < customers ? 0 : 1)),
                     creditAccountID: AccountID(UInt128(account + 1)), amount: openingBalance, ledger: account < customers ? ledger : counterLedger,
                     code: .deposit)
        }
        let pick = { (rng: inout SplitMix64) in Self.pair(&rng, hot: hotCount, all: customers) }
        let base = UInt128(rng.next()) << 64
        var transfers: [Transfer] = []
        transfers.reserveCapacity(count + 1)
        while transfers.count < count {
            let (a, b) = pick(&rng)
            let kind = rng.next() % 20
            let amount = UInt128(rng.next() % 2_000 + 1)
            let id = base + UInt128(transfers.count) + 1
            switch kind {
            case 0:
                transfers.append(Transfer(id: TransferID(id), debitAccountID: AccountID(UInt128(a + 1)), creditAccountID: AccountID(custody), amount: amount,
                                          ledger: ledger, code: .withdrawal, flags: .pending, timeoutSeconds: 86_400))
            case 1, 2:
                transfers.append(Transfer(id: TransferID(id), debitAccountID: AccountID(UInt128(a + 1)), creditAccountID: AccountID(ownFunds),
                                          amount: amount / 100 + 1, ledger: ledger, code: .fee))
            default:
                if transfers.count + 2 > count {
                    transfers.append(Transfer(id: TransferID(id), debitAccountID: AccountID(UInt128(a + 1)), creditAccountID: AccountID(ownFunds),
                                              amount: amount / 100 + 1, ledger: ledger, code: .fee))
                } else {
                    transfers += tradePair(id, a: a, b: b, offset: customers, amount: amount, counterAmount: UInt128(rng.next() % 2_000 + 1))
                }
            }
        }
        return LedgerWorkload(
            name: "exchange", accounts: accounts, funding: funding, transfers: transfers, batchSize: batchSize,
            baselinePick: { rng in
                let (debit, credit) = pick(&rng)
                return (debit, credit, Int64(rng.next() % 2_000 + 1))
            },
            baselineLimited: true, baselineOpeningBalance: Int64(openingBalance), seed: seed, controlled: true)
    }

    /// Batches of at most `batchSize` that never split a linked chain.
    func batches() -> [[Transfer]] {
        var batches: [[Transfer]] = []
        var start = 0
        while start < transfers.count {
            var end = Swift.min(start + batchSize, transfers.count)
            while end < transfers.count && end > start + 1 && transfers[end - 1].flags.contains(.linked) { end -= 1 }
            batches.append(Array(transfers[start..<end]))
            start = end
        }
        return batches
    }

    /// TigerBeetle's `tigerbeetle benchmark`: 10,000 accounts, both sides uniformly random,
    /// no balance limits.
    static func tigerBeetle(transfers count: Int, batchSize: Int, seed: UInt64) -> LedgerWorkload {
        let accountCount = 10_000
        let accounts = (0..<accountCount).map { index in
            Account(id: AccountID(UInt128(index + 1)), ledger: ledger, code: 1, accountClass: .customerLiability, owner: UInt128(index + 1))
        }
        var rng = SplitMix64(seed: seed)
        let base = UInt128(rng.next()) << 64
        let transfers = (0..<count).map { index -> Transfer in
            let debit = Int(rng.next() % UInt64(accountCount))
            var credit = Int(rng.next() % UInt64(accountCount - 1))
            if credit >= debit { credit += 1 }
            return Transfer(
                id: TransferID(base + UInt128(index) + 1), debitAccountID: AccountID(UInt128(debit + 1)),
                creditAccountID: AccountID(UInt128(credit + 1)), amount: UInt128(rng.next() % 1_000 + 1),
                ledger: ledger, code: .trade)
        }
        return LedgerWorkload(
            name: "tigerbeetle", accounts: accounts, funding: [], transfers: transfers, batchSize: batchSize,
            baselinePick: { rng in
                let debit = Int(rng.next() % UInt64(accountCount))
                var credit = Int(rng.next() % UInt64(accountCount - 1))
                if credit >= debit { credit += 1 }
                return (debit, credit, Int64(rng.next() % 1_000 + 1))
            },
            baselineLimited: false, baselineOpeningBalance: 0, seed: seed)
    }

    /// An exchange: 100,000 customer accounts that may not go below zero, 20% of transfers
    /// between the 1% busiest accounts (market makers), 85% trades, 10% fees, 5% withdrawals;
    /// the last 1% of customers are never funded, so transfers they would pay fail.
    static func exchange(transfers count: Int, batchSize: Int, seed: UInt64) -> LedgerWorkload {
        let customerCount = 100_000
        let hotCount = customerCount / 100
        let unfundedFrom = customerCount - customerCount / 100
        let custody = UInt128(customerCount + 1), ownFunds = UInt128(customerCount + 2)
        let openingBalance: UInt128 = 50_000
        var accounts = (0..<customerCount).map { index in
            Account(id: AccountID(UInt128(index + 1)), ledger: ledger, code: 1, accountClass: .customerLiability,
                    flags: .debitsMustNotExceedCredits, owner: UInt128(index + 1))
        }
        accounts.append(Account(id: AccountID(custody), ledger: ledger, code: 2, accountClass: .customerCustodyHolding,
                                flags: .creditsMustNotExceedDebits))
        accounts.append(Account(id: AccountID(ownFunds), ledger: ledger, code: 3, accountClass: .ownFunds))
        var rng = SplitMix64(seed: seed)
        let fundingBase = UInt128(rng.next()) << 64
        let funding = (0..<unfundedFrom).map { index in
            Transfer(id: TransferID(fundingBase + UInt128(index) + 1), debitAccountID: AccountID(custody),
                     creditAccountID: AccountID(UInt128(index + 1)), amount: openingBalance, ledger: ledger, code: .deposit)
        }
        let pick = { (rng: inout SplitMix64) in Self.pair(&rng, hot: hotCount, all: customerCount) }
        let base = UInt128(rng.next()) << 64
        let transfers = (0..<count).map { index -> Transfer in
            let (debit, credit) = pick(&rng)
            let kind = rng.next() % 20
            let amount = UInt128(rng.next() % 2_000 + 1)
            let id = TransferID(base + UInt128(index) + 1)
            let debitID = AccountID(UInt128(debit + 1))
            switch kind {
            case 0: return Transfer(id: id, debitAccountID: debitID, creditAccountID: AccountID(custody), amount: amount, ledger: ledger, code: .withdrawal)
            case 1, 2: return Transfer(id: id, debitAccountID: debitID, creditAccountID: AccountID(ownFunds), amount: amount / 100 + 1, ledger: ledger, code: .fee)
            default: return Transfer(id: id, debitAccountID: debitID, creditAccountID: AccountID(UInt128(credit + 1)), amount: amount, ledger: ledger, code: .trade)
            }
        }
        return LedgerWorkload(
            name: "exchange", accounts: accounts, funding: funding, transfers: transfers, batchSize: batchSize,
            baselinePick: { rng in
                let (debit, credit) = pick(&rng)
                return (debit, credit, Int64(rng.next() % 2_000 + 1))
            },
            baselineLimited: true, baselineOpeningBalance: Int64(openingBalance), seed: seed)
    }

    func run(in directory: URL, baselineTransfers: Int, auditing: Bool = true, round: Int = 0) async throws -> BenchResult {
        let path = directory.appendingPathComponent("\(name)\(controlled ? "-controlled" : "")\(auditing ? "" : "-unaudited")-\(round).sqlite").path
        let session: (admin: Caller, operator: Caller)
        let ledger: Ledger
        let stores: KinkoStores
        var cleanup: () async -> Void = {}
        let mode = "\(controlled ? "c" : "e")\(auditing ? "a" : "u")"
        if let postgres {
            let opened = try await PostgresBench.open(server: postgres, name: "kinko_bench_\(name)_\(mode)_\(round)", directory: directory)
            session = (opened.admin, opened.operator)
            ledger = try await Ledger.open(store: PostgresLedgerStore(database: opened.database, auditing: auditing))
            stores = KinkoStores(postgres: opened.database)
            cleanup = opened.close
        } else {
            let tool = try await ToolSession.open(path: path)
            session = (tool.admin, tool.operator)
            ledger = try await Ledger.open(store: SQLiteLedgerStore(database: tool.database, auditing: auditing))
            stores = KinkoStores(sqlite: tool.database)
        }
        // The WAL checkpointer runs alongside, as under `kinko serve`.
        let (latencies, failed, seconds) = try await stores.withBackgroundServices { () async throws -> ([Double], Int, Double) in
            // The production wiring: the ledger behind the transfer controls (the default policy).
            let exchange = Exchange(governance: Governance(store: stores.governance), ledger: ledger, custodyStore: stores.custody,
                                    reserveStore: stores.reserve, monitoringStore: stores.monitoring, clock: SystemWallClock())
            try await ledger.registerAssets(Asset.standard, by: session.admin)
            for chunk in accounts.chunked(batchSize) {
                let results = controlled
                    ? try await exchange.ledger.createAccounts(chunk, by: session.operator) : try await ledger.createAccounts(chunk, by: session.operator)
                guard results.allSatisfy({ $0 == .ok }) else { throw BenchError.setupFailed("accounts: \(Set(results.map(\.name)))") }
            }
            // Opening balances are set up straight in the engine, as a migration from the previous
            // system would be (deposits otherwise come through screening); not timed.
            for chunk in funding.chunked(batchSize) {
                let results = try await ledger.createTransfers(chunk, by: session.operator)
                guard results.allSatisfy({ $0 == .ok }) else { throw BenchError.setupFailed("funding: \(Set(results.map(\.name)))") }
            }
            let batches = batches()
            var latencies: [Double] = []
            var failed = 0
            let clock = ContinuousClock()
            let started = clock.now
            for chunk in batches {
                let batchStarted = clock.now
                let results = controlled && throughControls
                    ? try await exchange.ledger.createTransfers(chunk, by: session.operator) : try await ledger.createTransfers(chunk, by: session.operator)
                latencies.append((clock.now - batchStarted).milliseconds)
                failed += results.count { $0 != .ok }
            }
            let seconds = (clock.now - started).milliseconds / 1000
            return (latencies, failed, seconds)
        }
        // Free the disk before the next run (the files are large; the figures are taken).
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        await cleanup()
        let (baselineCount, baselineSeconds) = try runBaseline(in: directory, count: baselineTransfers)
        return BenchResult(
            workload: name, accounts: accounts.count, transfers: transfers.count, failed: failed, seconds: seconds,
            batchLatenciesMilliseconds: latencies, baselineTransfers: baselineCount, baselineSeconds: baselineSeconds,
            batchSize: batchSize, audited: auditing, controlled: controlled && throughControls)
    }

    private func runBaseline(in directory: URL, count: Int) throws -> (Int, Double) {
        guard count > 0 else { return (0, 0) }
        let path = directory.appendingPathComponent("\(name)-baseline.sqlite").path
        let baseline = try SQLiteTransferBaseline(
            path: path, accounts: accounts.count, limited: baselineLimited, openingBalance: baselineOpeningBalance)
        var rng = SplitMix64(seed: seed &+ 1)
        let picks = (0..<count).map { _ in baselinePick(&rng) }
        let clock = ContinuousClock()
        let started = clock.now
        for (index, pick) in picks.enumerated() {
            _ = try baseline.apply(id: UInt128(index + 1), debit: pick.0, credit: pick.1, amount: pick.2)
        }
        return (count, (clock.now - started).milliseconds / 1000)
    }

    /// Two different customers, one in five drawn from the `hot` first ones (TigerBeetle's
    /// skew), the rest from all `all`.
    static func pair(_ rng: inout SplitMix64, hot: Int, all: Int) -> (Int, Int) {
        let range = rng.next() % 5 == 0 ? UInt64(hot) : UInt64(all)
        let debit = Int(rng.next() % range)
        var credit = Int(rng.next() % (range - 1))
        if credit >= debit { credit += 1 }
        return (debit, credit)
    }
}

enum BenchError: Error, CustomStringConvertible {
    case setupFailed(String)
    var description: String {
        switch self {
        case .setupFailed(let what): "benchmark setup failed: \(what)"
        }
    }
}


extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}


/// A fresh PostgreSQL database for one benchmark run, with a bootstrapped admin and operator.
enum PostgresBench {
    static func open(server: String, name: String, directory: URL) async throws
        -> (database: KinkoPostgresDatabase, admin: Caller, operator: Caller, close: @Sendable () async -> Void)
    {
        try await KinkoPostgresDatabase.execute(url: server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try await KinkoPostgresDatabase.execute(url: server, "CREATE DATABASE \(name)")
        guard var components = URLComponents(string: server) else { throw BenchError.setupFailed("--database \(server)") }
        components.path = "/" + name
        let keyPath = directory.appendingPathComponent("\(name).audit-key").path
        if !FileManager.default.fileExists(atPath: keyPath) { _ = try AuditSigner.create(path: keyPath) }
        let database = try await KinkoPostgresDatabase.open(url: components.string ?? server, auditKeyPath: keyPath)
        let governance = Governance(store: PostgresGovernanceStore(database: database))
        let staff = try await Staff.found(governance, admins: ["tool.admin", "tool.second-admin"])
        let admin = staff.admins[0].caller
        let operatorCaller = try await staff.hire("tool.operator", kind: .client, roles: [.operator], key: nil).caller
        return (database, admin, operatorCaller, {
            await database.close()
            try? await KinkoPostgresDatabase.execute(url: server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        })
    }
}
