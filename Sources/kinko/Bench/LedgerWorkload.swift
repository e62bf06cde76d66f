import Foundation
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import KinkoLedger
import KinkoPostgres
import KinkoSQLite

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

    static let ledger: UInt32 = 2

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
        let pick: (inout SplitMix64) -> (Int, Int) = { rng in
            let range = rng.next() % 5 == 0 ? UInt64(hotCount) : UInt64(customerCount)
            let debit = Int(rng.next() % range)
            var credit = Int(rng.next() % (range - 1))
            if credit >= debit { credit += 1 }
            return (debit, credit)
        }
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
        let path = directory.appendingPathComponent("\(name)\(auditing ? "" : "-unaudited")-\(round).sqlite").path
        let session: (admin: Caller, operator: Caller)
        let ledger: Ledger
        var cleanup: () async -> Void = {}
        if let postgres {
            let opened = try await PostgresBench.open(server: postgres, name: "kinko_bench_\(name)_\(auditing ? "a" : "u")_\(round)", directory: directory)
            session = (opened.admin, opened.operator)
            ledger = try await Ledger.open(store: PostgresLedgerStore(database: opened.database, auditing: auditing))
            cleanup = opened.close
        } else {
            let tool = try await ToolSession.open(path: path)
            session = (tool.admin, tool.operator)
            ledger = try await Ledger.open(store: SQLiteLedgerStore(database: tool.database, auditing: auditing))
        }
        try await ledger.registerAssets(Asset.standard, by: session.admin)
        for chunk in accounts.chunked(batchSize) {
            let results = try await ledger.createAccounts(chunk, by: session.operator)
            guard results.allSatisfy({ $0 == .ok }) else { throw BenchError.setupFailed("accounts: \(Set(results.map(\.name)))") }
        }
        for chunk in funding.chunked(batchSize) {
            let results = try await ledger.createTransfers(chunk, by: session.operator)
            guard results.allSatisfy({ $0 == .ok }) else { throw BenchError.setupFailed("funding: \(Set(results.map(\.name)))") }
        }
        let batches = transfers.chunked(batchSize)
        var latencies: [Double] = []
        var failed = 0
        let clock = ContinuousClock()
        let started = clock.now
        for chunk in batches {
            let batchStarted = clock.now
            let results = try await ledger.createTransfers(chunk, by: session.operator)
            latencies.append((clock.now - batchStarted).milliseconds)
            failed += results.count { $0 != .ok }
        }
        let seconds = (clock.now - started).milliseconds / 1000
        // Free the disk before the next run (the files are large; the figures are taken).
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        await cleanup()
        let (baselineCount, baselineSeconds) = try runBaseline(in: directory, count: baselineTransfers)
        return BenchResult(
            workload: name, accounts: accounts.count, transfers: transfers.count, failed: failed, seconds: seconds,
            batchLatenciesMilliseconds: latencies, baselineTransfers: baselineCount, baselineSeconds: baselineSeconds,
            batchSize: batchSize, audited: auditing)
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
