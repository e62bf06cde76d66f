import KinkoCore
@testable import KinkoLedger
import Testing

/// The `history` account flag and `get_account_balances`: an account's balances right after
/// each of its transfers, stored with the batch, read back across a reopen, checked on replay.
@Suite("Account balance history")
struct AccountHistoryTests {
    static let tracked = Account(id: AccountID(5), ledger: Fixture.btc, code: 100, accountClass: .customerLiability,
                                 flags: [.debitsMustNotExceedCredits, .history], owner: 105)

    /// Account 5 (history) gets 1,000, pays 300 to customer 2, reserves 200 that expires, then
    /// reserves 100 and posts 60 of it.
    static func populate(_ f: Fixture) async throws {
        #expect(try await f.ledger.createAccounts([tracked]) == [.ok])
        try await f.deposit(1, customer: 5, 1_000)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(2, 5, 2, 300)]) == [.ok])
        #expect(try await f.ledger.createTransfers([Fixture.transfer(3, 5, 2, 200, flags: .pending, timeout: 1)]) == [.ok])
        f.clock.advance(seconds: 2)
        // The expiry runs at the start of this batch: the next balance no longer holds the 200.
        #expect(try await f.ledger.createTransfers([Fixture.transfer(4, 5, 2, 100, flags: .pending)]) == [.ok])
        #expect(try await f.ledger.createTransfers([
            Fixture.transfer(5, 0, 0, 60, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 4, ledger: 0),
            Fixture.transfer(6, 1, 2, 1),  // not account 5: no entry
        ]) == [.ok, .exceedsCredits])
    }

    static let expected: [(UInt128, AccountBalance)] = [
        (1, AccountBalance(creditsPosted: 1_000)),
        (2, AccountBalance(debitsPosted: 300, creditsPosted: 1_000)),
        (3, AccountBalance(debitsPending: 200, debitsPosted: 300, creditsPosted: 1_000)),
        (4, AccountBalance(debitsPending: 100, debitsPosted: 300, creditsPosted: 1_000)),
        (5, AccountBalance(debitsPosted: 360, creditsPosted: 1_000)),
    ]

    static func all(_ account: UInt128 = 5, limit: UInt32 = 100, reversed: Bool = false) -> AccountFilter {
        AccountFilter(accountID: AccountID(account), limit: limit, debits: true, credits: true, reversed: reversed)
    }

    @Test func balancesAfterEachTransferSurviveAReopen() async throws {
        let f = try await Fixture(checkpointEvery: 3)
        try await Self.populate(f)
        let wanted = Self.expected.map { AccountBalanceAt(timestamp: 0, transfer: TransferID($0.0), balance: $0.1) }
        func strip(_ found: [AccountBalanceAt]) -> [AccountBalanceAt] { found.map { AccountBalanceAt(timestamp: 0, transfer: $0.transfer, balance: $0.balance) } }
        #expect(strip(try await f.ledger.accountBalances(Self.all())) == wanted)
        // Each entry is stamped with its transfer's time.
        let found = try await f.ledger.accountBalances(Self.all())
        #expect(try await found.asyncMap { try await f.ledger.transfer($0.transfer)?.timestamp } == found.map(\.timestamp))

        let reopened = try await Ledger.open(store: f.store, clock: f.clock)
        #expect(strip(try await reopened.accountBalances(Self.all())) == wanted)
        #expect(strip(try await reopened.accountBalances(Self.all(limit: 2, reversed: true))) == wanted.suffix(2).reversed())
        var debitsOnly = Self.all()
        debitsOnly.credits = false
        #expect(strip(try await reopened.accountBalances(debitsOnly)).map(\.transfer) == [2, 3, 4, 5].map { TransferID($0) })
        // No history flag, or an invalid filter: nothing, as in TigerBeetle.
        #expect(try await reopened.accountBalances(Self.all(1)) == [])
        #expect(try await reopened.accountBalances(Self.all(limit: 0)) == [])
        #expect(try await reopened.verify(full: true).problems == [])
    }

    @Test func aChangedHistoryIsCaughtOnReplay() async throws {
        let f = try await Fixture(checkpointEvery: 1_000)
        try await Self.populate(f)
        let batch = try #require(try await f.store.batches(after: 0, limit: 100).last { !$0.history.isEmpty })
        #expect(try LedgerCodec.decodeHistory(batch.history).count == 1)
        f.store.tamper(sequence: batch.sequence) { record in
            var entries = try! LedgerCodec.decodeHistory(record.history)
            entries[0].balance.debitsPosted += 1
            record.history = LedgerCodec.encodeHistory(entries)
        }
        await #expect(throws: KinkoError.self) { _ = try await Ledger.open(store: f.store, clock: f.clock) }
    }

    @Test func historyEntriesRoundTripAndRefuseBadBytes() throws {
        let entries = [AccountHistoryEntry(slot: 70_000, side: .credit, balance: AccountBalance(debitsPending: .max, creditsPosted: 7)),
                       AccountHistoryEntry(slot: 0, side: .debit, balance: .zero)]
        let bytes = LedgerCodec.encodeHistory(entries)
        #expect(bytes.count == 2 * LedgerCodec.historyEntrySize)
        #expect(try LedgerCodec.decodeHistory(bytes) == entries)
        #expect(throws: KinkoError.self) { try LedgerCodec.decodeHistory(Array(bytes.dropLast())) }
        var badSide = bytes
        badSide[4] = 2
        #expect(throws: KinkoError.self) { try LedgerCodec.decodeHistory(badSide) }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
