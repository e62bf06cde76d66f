import KinkoCore
@testable import KinkoLedger
import Testing

/// Imported events: another ledger's history, with its own timestamps, into a fresh ledger —
/// stored at those timestamps, replayed after a reopen, and read as of a past instant.
@Suite("Imported history")
struct ImportTests {
    static let day: TimestampNanoseconds = 86_400 * 1_000_000_000
    /// 2020-01-01T00:00:00Z, long before the fixture's clock.
    static let start: TimestampNanoseconds = 1_577_836_800 * 1_000_000_000

    private func account(_ id: UInt128, at time: TimestampNanoseconds, owner: UInt128) -> Account {
        Account(id: AccountID(id), ledger: Fixture.btc, code: 100, accountClass: .customerLiability,
                flags: [.debitsMustNotExceedCredits, .imported], owner: owner, timestamp: time)
    }

    private func transfer(_ id: UInt128, _ debit: UInt128, _ credit: UInt128, _ amount: UInt128, at time: TimestampNanoseconds,
                          code: TransferCode = .trade) -> Transfer {
        Transfer(id: TransferID(id), debitAccountID: AccountID(debit), creditAccountID: AccountID(credit), amount: amount,
                 ledger: Fixture.btc, code: code, flags: .imported, timestamp: time)
    }

    @Test func historyKeepsItsTimestampsAcrossAReopenAndReadsAsOfThen() async throws {
        let store = InMemoryLedgerStore()
        let clock = ManualWallClock(Fixture.start)
        let ledger = try await Ledger.open(store: store, clock: clock)
        try await ledger.registerAssets(Asset.standard)
        let wallet = Account(id: AccountID(10), ledger: Fixture.btc, code: 200, accountClass: .customerCustodyHolding,
                             flags: .imported, timestamp: Self.start)
        #expect(try await ledger.createAccounts([wallet, account(1, at: Self.start + 1, owner: 101), account(2, at: Self.start + 2, owner: 102)])
            == [.ok, .ok, .ok])
        #expect(try await ledger.createTransfers([
            transfer(1, 10, 1, 1_000, at: Self.start + Self.day, code: .deposit),
            transfer(2, 1, 2, 300, at: Self.start + 2 * Self.day),
            transfer(3, 1, 2, 200, at: Self.start + 2 * Self.day),  // not after the previous one
            transfer(4, 1, 2, 2_000, at: Self.start + 3 * Self.day),  // more than account 1 holds
            transfer(5, 2, 1, 1, at: Self.start + 1),  // an account's own timestamp
            transfer(6, 1, 2, 50, at: Fixture.start + 1_000 * 1_000_000_000),  // not before the batch (now)
        ]) == [.ok, .ok, .importedEventTimestampMustNotRegress, .exceedsCredits, .importedEventTimestampMustNotRegress,
               .importedEventTimestampMustNotAdvance])
        // A batch is imported or not; an imported account may not come before the transfers.
        #expect(try await ledger.createTransfers([transfer(7, 1, 2, 1, at: Self.start + 4 * Self.day), Fixture.transfer(8, 1, 2, 1)])
            == [.ok, .importedEventExpected])
        #expect(try await ledger.createAccounts([account(3, at: Self.start + 3 * Self.day, owner: 103)]) == [.importedEventTimestampMustNotRegress])

        let reopened = try await Ledger.open(store: store, clock: clock)
        #expect(try await reopened.transfer(TransferID(2))?.timestamp == Self.start + 2 * Self.day)
        #expect(try await reopened.verify(full: true).problems == [])
        let asOf = try await reopened.postedBalances(asOf: Self.start + Self.day + 5) { $0.id == AccountID(1) }
        #expect(asOf.first?.balance == AccountBalance(creditsPosted: 1_000))
        #expect(try #require(await reopened.account(AccountID(1))).balance == AccountBalance(debitsPosted: 301, creditsPosted: 1_000))
        // The id that failed for want of money is used up, imported or not.
        #expect(try await reopened.createTransfers([transfer(4, 1, 2, 1, at: Self.start + 5 * Self.day)]) == [.idAlreadyFailed])
        // Once live transfers are in the log, history can no longer be imported before them.
        #expect(try await reopened.createTransfers([Fixture.transfer(9, 1, 2, 1)]) == [.ok])
        #expect(try await reopened.createTransfers([transfer(10, 1, 2, 1, at: Self.start + 6 * Self.day)]) == [.importedEventTimestampMustNotRegress])
    }
}

/// The end of time: TigerBeetle's timestamps are 63-bit, and so are the ledger's.
@Suite("Timestamps at the limit")
struct TimestampLimitTests {
    // Goal: a pending transfer whose expiry would pass 2⁶³ − 1 ns is refused, at the limit and
    // one past it, and a batch stamped past the limit refuses rather than traps.
    @Test func timeoutsEndBefore2262() throws {
        let engine = LedgerEngine(segregation: SegregationTable(routes: [.trade: [.init(.ownFunds, .ownFunds)]]))
        engine.markTransferIndexBuilt()
        _ = try engine.executeAssets(Asset.standard, sequence: 1)
        engine.commitBatch(sequence: 1, timestamp: 0)
        let accounts = [1, 2].map { Account(id: AccountID(UInt128($0)), ledger: Fixture.btc, code: 1, accountClass: .ownFunds) }
        #expect(engine.executeAccounts(accounts, sequence: 2, timestamp: 2).results == [.ok, .ok])
        engine.commitBatch(sequence: 2, timestamp: 2)
        let limit = UInt64(Int64.max)
        func pending(_ id: UInt128, timeout: UInt32) -> Transfer {
            Transfer(id: TransferID(id), debitAccountID: AccountID(1), creditAccountID: AccountID(2), amount: 1, ledger: Fixture.btc,
                     code: .trade, flags: .pending, timeoutSeconds: timeout)
        }
        // Stamped 3 s before the limit: a 3 s timeout ends exactly at it, 4 s one second past.
        let stamped = limit - 3_000_000_000
        let atLimit = engine.executeTransfers([pending(10, timeout: 3), pending(11, timeout: 4)], sequence: 3, timestamp: stamped + 1,
                                              prefetch: LedgerPrefetch())
        #expect(atLimit.results == [.ok, .overflowsTimeout])
        engine.commitBatch(sequence: 3, timestamp: stamped + 1)
        let past = engine.executeTransfers([pending(12, timeout: 0)], sequence: 4, timestamp: limit + 10, prefetch: LedgerPrefetch())
        #expect(past.results == [.overflowsTimeout])
        engine.rollbackBatch()
    }
}
