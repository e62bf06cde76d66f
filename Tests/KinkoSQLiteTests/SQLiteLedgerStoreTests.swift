import Foundation
import GRDB
import KinkoCore
@testable import KinkoGovernance
import KinkoLedger
import KinkoSQLite
import Testing

/// A fresh database file in its own temporary directory, removed when the test ends.
final class TemporaryDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("kinko.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kinko-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try AuditSigner.create(path: KinkoDatabase.defaultAuditKeyPath(for: path))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func open(checkpointEvery: UInt64 = 64, clock: any WallClock = SystemWallClock()) async throws -> (KinkoDatabase, Ledger) {
        let database = try KinkoDatabase(path: path)
        var limits = Ledger.Limits()
        limits.checkpointIntervalBatches = checkpointEvery
        let ledger = try await Ledger.open(store: SQLiteLedgerStore(database: database), clock: clock, limits: limits)
        return (database, ledger)
    }
}

/// The tests act as one principal holding every role the ledger asks for.
let testCaller = Caller(principal: Principal(
    id: PrincipalID(1), name: "test", kind: .client, roles: [.admin, .operator, .treasurer, .finance], createdAt: 0))

extension Ledger {
    func registerAssets(_ assets: [Asset]) async throws { try await registerAssets(assets, by: testCaller) }
    func createAccounts(_ events: [Account]) async throws -> [CreateAccountResult] { try await createAccounts(events, by: testCaller) }
    func createTransfers(_ events: [Transfer]) async throws -> [CreateTransferResult] { try await createTransfers(events, by: testCaller) }
}

func customer(_ id: UInt128) -> Account {
    Account(id: AccountID(id), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: id)
}

func transfer(_ id: UInt128, _ debit: UInt128, _ credit: UInt128, _ amount: UInt128, code: TransferCode = .trade, flags: TransferFlags = [], pendingID: UInt128 = 0) -> Transfer {
    Transfer(id: TransferID(id), debitAccountID: AccountID(debit), creditAccountID: AccountID(credit), amount: amount,
             ledger: 2, code: code, flags: flags, pendingID: TransferID(pendingID))
}

/// Assets, two customers (1, 2), the hot wallet holding (10) and own funds (20), and a deposit
/// of 1,000 for customer 1.
func seed(_ ledger: Ledger) async throws {
    try await ledger.registerAssets(Asset.standard)
    let accounts = try await ledger.createAccounts([
        customer(1), customer(2),
        Account(id: AccountID(10), ledger: 2, code: 200, accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits),
        Account(id: AccountID(20), ledger: 2, code: 300, accountClass: .ownFunds),
    ])
    #expect(accounts.allSatisfy { $0 == .ok })
    #expect(try await ledger.createTransfers([transfer(1, 10, 1, 1_000, code: .deposit)]) == [.ok])
}

@Suite("SQLite ledger store")
struct SQLiteLedgerStoreTests {
    // Goal: everything written survives closing and reopening the file, before and after a
    // checkpoint, including idempotency and pending state.
    @Test(arguments: [1, 64] as [UInt64])
    func survivesReopen(checkpointEvery: UInt64) async throws {
        let temp = try TemporaryDatabase()
        do {
            let (_, ledger) = try await temp.open(checkpointEvery: checkpointEvery)
            try await seed(ledger)
            #expect(try await ledger.createTransfers([
                transfer(2, 1, 2, 300), transfer(3, 1, 2, 200, flags: .pending), transfer(4, 1, 20, 5, code: .fee),
            ]) == [.ok, .ok, .ok])
        }
        let (database, ledger) = try await temp.open(checkpointEvery: checkpointEvery)
        #expect(await ledger.account(AccountID(1))?.balance == AccountBalance(debitsPending: 200, debitsPosted: 305, creditsPosted: 1_000))
        #expect(await ledger.account(AccountID(2))?.balance == AccountBalance(creditsPending: 200, creditsPosted: 300))
        #expect(await ledger.assets.map(\.code) == ["JPY", "BTC", "ETH", "XRP"])
        #expect(try await ledger.createTransfers([transfer(2, 1, 2, 300), transfer(2, 1, 2, 301)]) == [.exists, .existsWithDifferentAmount])
        #expect(try await ledger.createTransfers([transfer(5, 1, 2, Transfer.amountWholePending, flags: .postPendingTransfer, pendingID: 3)]) == [.ok])
        #expect(try await ledger.createTransfers([transfer(6, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 3)]) == [.pendingTransferAlreadyPosted])
        let history = try await ledger.history(of: AccountID(1), limit: 10)
        #expect(history.transfers.map(\.transfer.id.rawValue) == [5, 4, 3, 2, 1])
        #expect(try await ledger.verify(full: true).problems == [])
        #expect(try database.writerSynchronousMode() == 2, "every commit is synced (synchronous = FULL), not only checkpoints")
        #expect(try database.appliedMigrations() == [
            "2026-11-22 ledger", "2026-11-22 governance", "2026-11-22 ledger batch times", "2026-11-22 approval policies", "2026-11-22 custody",
            "2026-11-22 reserve",
            "2026-11-22 monitoring", "2026-12-01 credentials and records", "2026-12-01 quarantine class", "2026-12-02 rule sets as settings",
            "2026-12-02 transfers between customers", "2026-12-03 alerts by time raised", "2026-12-03 incident valuations", "2026-12-03 reconciliation runs",
            "2026-12-03 who recorded each balance", "2026-12-03 travel-rule messages", "2026-12-03 reserve holdings",
            "2026-12-04 failed transfer ids", "2026-12-04 account history", "2026-12-04 account user_data_32",
        ])
    }

    // Goal: a balance edited in the file (an UPDATE behind Kinko's back) stops the next open,
    // with a message naming the account.
    @Test func editedBalanceRefusesToOpen() async throws {
        let temp = try TemporaryDatabase()
        do {
            let (_, ledger) = try await temp.open(checkpointEvery: 1)
            try await seed(ledger)
        }
        let raw = try DatabaseQueue(path: temp.path)
        try await raw.write { db in
            // Account 1 was created first: its credits_posted are bytes 48–63 of page 0.
            var page = try [UInt8](#require(try Data.fetchOne(db, sql: "SELECT balances FROM ledger_balance_pages WHERE page = 0")))
            page.replaceSubrange(48..<64, with: LedgerCodec.encodeBalances([AccountBalance(creditsPosted: 10_000)][...])[48..<64])
            try db.execute(sql: "UPDATE ledger_balance_pages SET balances = ? WHERE page = 0", arguments: [Data(page)])
        }
        try raw.close()
        let error = await #expect(throws: KinkoError.self) { try await temp.open() }
        #expect(error?.code == .storageCorrupted)
        #expect(error?.message == """
            refusing to open the ledger: account 1: credits_posted is 10000 but its transfers sum to 1000; \
            ledger 2 (BTC): total debits differ from total credits: debits posted 1000 ≠ credits posted 10000. \
            Nothing was changed; the ledger can still be opened read-only for inspection and export
            """)
    }

    // Goal: a deleted batch (a gap in the log) is found by the full check.
    @Test func deletedBatchIsFound() async throws {
        let temp = try TemporaryDatabase()
        do {
            let (_, ledger) = try await temp.open(checkpointEvery: 1)
            try await seed(ledger)
            #expect(try await ledger.createTransfers([transfer(2, 1, 2, 10)]) == [.ok])
        }
        let raw = try DatabaseQueue(path: temp.path)
        try await raw.write { db in try db.execute(sql: "DELETE FROM ledger_batches WHERE sequence = 3") }
        try raw.close()
        let (_, ledger) = try await temp.open()
        let report = try await ledger.verify(full: true)
        #expect(report.problems.first == "batch 4 follows batch 2: the log has a gap or is out of order")
    }

    // Goal: the account rows SQL readers see carry user_data_32, and a batch's account history.
    @Test func sqlRowsCarryUserData32AndHistory() async throws {
        let temp = try TemporaryDatabase()
        do {
            let (_, ledger) = try await temp.open()
            try await seed(ledger)
            var tracked = customer(3)
            tracked.userData32 = 392
            tracked.flags.insert(.history)
            #expect(try await ledger.createAccounts([tracked]) == [.ok])
            #expect(try await ledger.createTransfers([transfer(2, 1, 3, 10)]) == [.ok])
        }
        let raw = try DatabaseQueue(path: temp.path)
        let (userData32, history) = try await raw.read { db in
            (try Int.fetchOne(db, sql: "SELECT user_data_32 FROM ledger_accounts WHERE id = ?", arguments: [Data(LedgerCodec.bigEndianBytes(3))]),
             try Data.fetchOne(db, sql: "SELECT history FROM ledger_batches ORDER BY sequence DESC LIMIT 1"))
        }
        try raw.close()
        #expect(userData32 == 392)
        #expect(try LedgerCodec.decodeHistory([UInt8](try #require(history))) == [AccountHistoryEntry(slot: 0, side: .credit,
                                                                                                       balance: AccountBalance(creditsPosted: 10))])
    }

    // Goal: two connections (as two processes) on one file: no double spend.
    @Test func twoWritersOnOneFile() async throws {
        let temp = try TemporaryDatabase()
        let (_, first) = try await temp.open()
        try await seed(first)
        let (_, second) = try await temp.open()
        var results: [CreateTransferResult] = []
        for round in 0..<10 {
            async let a = first.createTransfers([transfer(UInt128(100 + round), 1, 2, 60)])
            async let b = second.createTransfers([transfer(UInt128(200 + round), 1, 2, 60)])
            results += try await a + b
        }
        // 1,000 available, 60 each: 16 succeed, the rest exceed credits — never more.
        #expect(results.filter { $0 == .ok }.count == 16)
        #expect(results.filter { $0 == .exceedsCredits }.count == 4)
        #expect(await first.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 960, creditsPosted: 1_000))
        #expect(try await second.verify(full: true).problems == [])
    }

    // Goal: many callers of one ledger at once (as the HTTP server has) queue for the write
    // path: no batch opens while another is being appended, reads in between see committed
    // state, and the balance limit holds exactly.
    @Test func concurrentCallersOfOneLedger() async throws {
        let temp = try TemporaryDatabase()
        let (_, ledger) = try await temp.open(checkpointEvery: 4)
        try await seed(ledger)
        let results = try await withThrowingTaskGroup(of: [CreateTransferResult].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var results: [CreateTransferResult] = []
                    for round in 0..<10 {
                        let id = UInt128(1_000 + task * 100 + round * 10)
                        results += try await ledger.createTransfers([transfer(id, 1, 2, 7), transfer(id + 1, 2, 1, 3)])
                        _ = try await ledger.history(of: AccountID(1), limit: 5)
                        _ = try await ledger.transfer(TransferID(id))
                    }
                    return results
                }
            }
            var all: [CreateTransferResult] = []
            for try await batch in group { all += batch }
            return all
        }
        #expect(results.count == 160 && results.allSatisfy { $0 == .ok })
        // 80 × 7 out, 80 × 3 back: 1,000 − 560 + 240.
        #expect(await ledger.account(AccountID(1))?.balance.creditsPosted == 1_000 + 240)
        #expect(await ledger.account(AccountID(1))?.balance.debitsPosted == 560)
        #expect(try await ledger.verify(full: true).problems == [])
    }
}
