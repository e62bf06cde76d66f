import KinkoCore
import KinkoLedger
import Testing

private typealias T = Fixture

/// TigerBeetle's queries on the stored ledger: the account's postings (across checkpoints)
/// and the log, not only what the engine holds.
@Suite("Queries")
struct QueryTests {
    /// Customer 1 gets 1,000 from the hot wallet (10), then trades and fees with user data.
    private func seeded() async throws -> Fixture {
        let f = try await Fixture(checkpointEvery: 2)
        try await f.deposit(1, customer: 1, 1_000)
        for (id, debit, credit, amount, code, data) in [
            (2, 1, 2, 10, TransferCode.trade, 7), (3, 1, 20, 1, .fee, 7), (4, 1, 2, 20, .trade, 8), (5, 2, 1, 5, .trade, 7),
        ] as [(UInt128, UInt128, UInt128, UInt128, TransferCode, UInt32)] {
            var transfer = T.transfer(id, debit, credit, amount, code: code)
            transfer.userData32 = data
            #expect(try await f.ledger.createTransfers([transfer]) == [.ok])
        }
        return f
    }

    @Test func accountTransfersFilterAndOrder() async throws {
        let f = try await seeded()
        let all = try await f.ledger.accountTransfers(AccountFilter(accountID: AccountID(1), limit: 10))
        #expect(all.map(\.id.rawValue) == [1, 2, 3, 4, 5])
        var newest = AccountFilter(accountID: AccountID(1), limit: 2, reversed: true)
        #expect(try await f.ledger.accountTransfers(newest).map(\.id.rawValue) == [5, 4])
        newest.debits = false
        #expect(try await f.ledger.accountTransfers(newest).map(\.id.rawValue) == [5, 1])
        var narrowed = AccountFilter(accountID: AccountID(1), limit: 10, credits: false)
        narrowed.userData32 = 7
        narrowed.code = TransferCode.trade.rawValue
        #expect(try await f.ledger.accountTransfers(narrowed).map(\.id.rawValue) == [2])
        var window = AccountFilter(accountID: AccountID(1), limit: 10)
        window.timestampMin = all[1].timestamp
        window.timestampMax = all[3].timestamp
        #expect(try await f.ledger.accountTransfers(window).map(\.id.rawValue) == [2, 3, 4])
        // TigerBeetle's invalid filters find nothing.
        #expect(try await f.ledger.accountTransfers(AccountFilter(accountID: AccountID(1), limit: 0)).isEmpty)
        #expect(try await f.ledger.accountTransfers(AccountFilter(accountID: AccountID(1), limit: 1, debits: false, credits: false)).isEmpty)
        window.timestampMin = window.timestampMax + 1
        #expect(window.invalidReason?.field == "timestamp_min")
        #expect(try await f.ledger.accountTransfers(window).isEmpty)
    }

    @Test func queryTransfersAndAccounts() async throws {
        let f = try await seeded()
        var filter = QueryFilter(limit: 10)
        filter.userData32 = 7
        #expect(try await f.ledger.queryTransfers(filter).map(\.id.rawValue) == [2, 3, 5])
        filter.reversed = true
        filter.limit = 2
        #expect(try await f.ledger.queryTransfers(filter).map(\.id.rawValue) == [5, 3])
        var byCode = QueryFilter(limit: 10)
        byCode.code = TransferCode.deposit.rawValue
        byCode.ledger = Fixture.btc
        #expect(try await f.ledger.queryTransfers(byCode).map(\.id.rawValue) == [1])
        // Limit 1,000 at most, whatever is asked.
        #expect(LedgerQuery.select(Array(0..<5_000), limit: .max, reversed: false) { _ in true }.count == LedgerQuery.resultsMax)
        var owners = QueryFilter(limit: 10)
        owners.userData128 = 102
        let accounts = await f.ledger.queryAccounts(owners)
        #expect(accounts.map(\.account.id.rawValue) == [2])
        #expect(accounts.first?.balance == AccountBalance(debitsPosted: 5, creditsPosted: 30))
    }
}
