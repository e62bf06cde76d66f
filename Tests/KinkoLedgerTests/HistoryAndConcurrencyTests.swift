import KinkoCore
import KinkoLedger
import Testing

@Suite("Account history")
struct HistoryTests {
    // Goal: pages are newest first, exact, cross checkpoint boundaries, and end with no cursor.
    @Test func pagesAcrossCheckpoints() async throws {
        let f = try await Fixture(checkpointEvery: 4)
        try await f.deposit(1, customer: 1, 1_000)
        for id in 2...11 as ClosedRange<UInt128> {
            #expect(try await f.ledger.createTransfers([Fixture.transfer(id, 1, 2, id), Fixture.transfer(id + 100, 2, 20, 1, code: .fee)]) == [.ok, .ok])
        }
        var seen: [UInt128] = []
        var cursor = TransferLocation.end
        var pages = 0
        while true {
            let page = try await f.ledger.history(of: AccountID(1), before: cursor, limit: 3)
            seen.append(contentsOf: page.transfers.map(\.transfer.id.rawValue))
            pages += 1
            guard let next = page.next else { break }
            cursor = next
        }
        #expect(seen == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        #expect(pages == 4)
        let fees = try await f.ledger.history(of: AccountID(20), limit: 1000)
        #expect(fees.transfers.count == 10 && fees.next == nil)
        #expect(fees.transfers.first?.transfer.id == TransferID(111))
    }

    @Test func pageSizeLimit() async throws {
        let f = try await Fixture()
        _ = try await f.ledger.history(of: AccountID(1), limit: 1000)
        let over = await #expect(throws: KinkoError.self) { try await f.ledger.history(of: AccountID(1), limit: 1001) }
        #expect(over?.field == "limit")
        await #expect(throws: KinkoError.self) { try await f.ledger.history(of: AccountID(1), limit: 0) }
    }
}

@Suite("Several writers on one store")
struct ConcurrencyTests {
    // Goal: two ledgers (two processes) on one store never double-spend: the loser of each
    // race replays the winner's batch and re-checks its own against the new balances.
    @Test func noDoubleSpendAcrossWriters() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(store: store)
        try await f.deposit(1, customer: 1, 100)
        let other = try await Ledger.open(store: store, clock: f.clock)
        // Each writer tries to move 60 of the 100 out of customer 1: only one may succeed.
        async let a = f.ledger.createTransfers([Fixture.transfer(50, 1, 2, 60)])
        async let b = other.createTransfers([Fixture.transfer(51, 1, 2, 60)])
        let results = try await [a, b]
        #expect(results.flatMap { $0 }.sorted { $0.rawValue < $1.rawValue } == [.ok, .exceedsCredits])
        // Both see the same state afterwards, and the same id retried on the other answers exists.
        let winner: UInt128 = results[0] == [.ok] ? 50 : 51
        let loserLedger = results[0] == [.ok] ? other : f.ledger
        #expect(try await loserLedger.createTransfers([Fixture.transfer(winner, 1, 2, 60)]) == [.exists])
        #expect(await other.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 60, creditsPosted: 100))
        #expect(await f.ledger.account(AccountID(1))?.balance == AccountBalance(debitsPosted: 60, creditsPosted: 100))
        #expect(try await other.verify(full: true).problems == [])
    }
}
