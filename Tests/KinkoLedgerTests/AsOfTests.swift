import KinkoCore
import KinkoLedger
import Testing

/// Balances and history as they stood at a past instant: today's figures with every later
/// posted transfer taken back, exact to the unit.
@Suite("Ledger: balances and history as of a past instant")
struct AsOfTests {
    // Goal: a deposit, a trade and a pending transfer that is later posted, each a second
    // apart; as of each instant the balances are what they were then, to the unit; an account
    // created later is absent; pending amounts are never part of a past balance.
    @Test func balancesAsOfEachInstantAreWhatTheyWereThen() async throws {
        let f = try await Fixture()
        // Batches within one clock reading are stamped a nanosecond apart after it: half a
        // second later is past all of them and before the next second's.
        func settled() -> TimestampNanoseconds { f.clock.now() + 500_000_000 }
        let t0 = settled()
        f.clock.advance(seconds: 1)
        try await f.deposit(100, customer: 1, 5_000)
        let t1 = settled()
        f.clock.advance(seconds: 1)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(101, 1, 2, 1_234)]) == [.ok])
        #expect(try await f.ledger.createTransfers([Fixture.transfer(102, 1, 2, 700, flags: .pending)]) == [.ok])
        let t2 = settled()
        f.clock.advance(seconds: 1)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(103, 0, 0, 500, code: TransferCode(0), flags: .postPendingTransfer,
                                                                      pendingID: 102, ledger: 0)]) == [.ok])
        #expect(try await f.ledger.createAccounts([Fixture.customer(3, owner: 103)]) == [.ok])
        let t3 = settled()

        func posted(_ time: TimestampNanoseconds) async throws -> [UInt128: AccountBalance] {
            Dictionary(uniqueKeysWithValues: try await f.ledger.postedBalances(asOf: time).map { ($0.account.id.rawValue, $0.balance) })
        }
        let before = try await posted(t0)
        #expect(before[1] == AccountBalance() && before[10] == AccountBalance() && before[3] == nil)
        let first = try await posted(t1)
        #expect(first[1] == AccountBalance(creditsPosted: 5_000) && first[10] == AccountBalance(debitsPosted: 5_000))
        let second = try await posted(t2)
        #expect(second[1] == AccountBalance(debitsPosted: 1_234, creditsPosted: 5_000))
        #expect(second[2] == AccountBalance(creditsPosted: 1_234))
        let third = try await posted(t3)
        #expect(third[1] == AccountBalance(debitsPosted: 1_734, creditsPosted: 5_000))
        #expect(third[2] == AccountBalance(creditsPosted: 1_734))
        #expect(third[3] == AccountBalance())
        // Today's balances carry the pending part; the as-of view is posted only.
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 1_734, creditsPosted: 5_000))
    }

    // Goal: within one batch the events are stamped a nanosecond apart, and an instant between
    // them splits the batch: as of the first event's stamp only the first transfer counts.
    @Test func anInstantInsideABatchSplitsItByTheEventsStamps() async throws {
        let f = try await Fixture()
        try await f.deposit(100, customer: 1, 5_000)
        f.clock.advance(seconds: 1)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(101, 1, 2, 10), Fixture.transfer(102, 1, 2, 20)]) == [.ok, .ok])
        let stored = try await f.ledger.lookupTransfers([TransferID(101), TransferID(102)])
        #expect(stored[1].timestamp == stored[0].timestamp + 1)
        let between = try await f.ledger.postedBalances(asOf: stored[0].timestamp) { $0.id == AccountID(2) }
        #expect(between.map(\.balance) == [AccountBalance(creditsPosted: 10)])
        let location = try await f.ledger.location(asOf: stored[0].timestamp)
        let history = try await f.ledger.history(of: AccountID(2), before: location, limit: 10)
        #expect(history.transfers.map(\.transfer.id) == [TransferID(101)])
    }

    // Goal: property — random deposits, trades, pending transfers that are posted, voided or
    // expire, and accounts created along the way; after every batch the posted balances are
    // noted. Afterwards, as of every noted instant, every account's as-of balance equals the
    // noted one exactly, and the class totals equal the sums of the noted balances.
    @Test(arguments: [21, 22, 23])
    func asOfBalancesEqualTheBalancesNotedAtTheTime(seed: UInt64) async throws {
        let f = try await Fixture(checkpointEvery: 4)
        var rng = SplitMix64(seed: seed)
        var customers: [UInt128] = [1, 2]
        var nextID: UInt128 = 10_000
        var pendings: [UInt128] = []
        var noted: [(time: TimestampNanoseconds, balances: [UInt128: AccountBalance])] = []
        for step in 0..<30 {
            if step % 7 == 3 {
                let id = UInt128(300 + step)
                #expect(try await f.ledger.createAccounts([Fixture.customer(id, owner: id)]) == [.ok])
                customers.append(id)
            }
            var batch: [Transfer] = []
            for _ in 0..<Int(rng.next() % 6 + 1) {
                nextID += 1
                let a = customers[Int(rng.next() % UInt64(customers.count))]
                let b = customers[Int(rng.next() % UInt64(customers.count))]
                switch rng.next() % 4 {
                case 0: batch.append(Fixture.transfer(nextID, 10, a, UInt128(rng.next() % 10_000 + 1), code: .deposit))
                case 1:
                    batch.append(Fixture.transfer(nextID, a, b, UInt128(rng.next() % 300 + 1), flags: .pending, timeout: UInt32(rng.next() % 3)))
                    pendings.append(nextID)
                case 2 where !pendings.isEmpty:
                    let target = pendings.remove(at: Int(rng.next() % UInt64(pendings.count)))
                    let flags: TransferFlags = rng.next() % 2 == 0 ? .postPendingTransfer : .voidPendingTransfer
                    batch.append(Fixture.transfer(nextID, 0, 0, 0, code: TransferCode(0), flags: flags, pendingID: target, ledger: 0))
                default: batch.append(Fixture.transfer(nextID, a, b, UInt128(rng.next() % 500 + 1)))
                }
            }
            _ = try await f.ledger.createTransfers(batch)
            let now = f.clock.now() + 500_000_000
            let all = await f.ledger.accounts()
            noted.append((now, Dictionary(uniqueKeysWithValues: all.map {
                ($0.account.id.rawValue, AccountBalance(debitsPosted: $0.balance.debitsPosted, creditsPosted: $0.balance.creditsPosted))
            })))
            f.clock.advance(seconds: rng.next() % 2 + 1)
        }
        for (time, balances) in noted {
            let past = try await f.ledger.postedBalances(asOf: time)
            #expect(past.count == balances.count)
            for (account, balance) in past { #expect(balances[account.id.rawValue] == balance, "account \(account.id) as of \(time)") }
            let summary = try await f.ledger.postedSummary(asOf: time, accounts: [AccountID(1)])
            let liabilities = summary.totals[Fixture.btc]?[.customerLiability] ?? .init()
            let owed = past.filter { $0.account.accountClass == .customerLiability }
            #expect(liabilities.creditsPosted == WideSum(owed.reduce(UInt128(0)) { $0 + $1.balance.creditsPosted }))
            #expect(liabilities.debitsPosted == WideSum(owed.reduce(UInt128(0)) { $0 + $1.balance.debitsPosted }))
            #expect(summary.balances[AccountID(1)] == balances[1])
        }
    }
}
