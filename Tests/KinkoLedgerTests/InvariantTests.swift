import KinkoCore
import KinkoLedger
import Testing

@Suite("Ledger invariants")
struct InvariantTests {
    // Goal: property — random batches (trades, fees, withdrawals, pending/post/void, linked
    // chains, failures) never break an invariant: debits equal credits on every ledger, no
    // balance limit is ever exceeded, and a replay of the log reproduces every balance.
    @Test(arguments: [1, 2, 3, 4])
    func randomBatchesKeepInvariants(seed: UInt64) async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 5, store: store)
        var rng = SplitMix64(seed: seed)
        let customers: [UInt128] = Array(1_000..<1_040)
        let created = try await f.ledger.createAccounts(customers.map { Fixture.customer($0, owner: $0) })
        #expect(created.allSatisfy { $0 == .ok })
        for customer in customers { try await f.deposit(customer, customer: customer, UInt128(rng.next() % 10_000)) }
        var nextID: UInt128 = 1_000_000
        var pendings: [UInt128] = []
        var accepted = 0
        for _ in 0..<40 {
            var batch: [Transfer] = []
            for _ in 0..<Int(rng.next() % 60 + 1) {
                nextID += 1
                let a = customers[Int(rng.next() % 40)], b = customers[Int(rng.next() % 40)]
                let amount = UInt128(rng.next() % 3_000)
                let linked: TransferFlags = rng.next() % 5 == 0 ? .linked : []
                switch rng.next() % 6 {
                case 0: batch.append(Fixture.transfer(nextID, a, 20, amount, code: .fee, flags: linked))
                case 1: batch.append(Fixture.transfer(nextID, a, 10, amount, code: .withdrawal, flags: linked))
                case 2:
                    batch.append(Fixture.transfer(nextID, a, b, amount, flags: linked.union(.pending), timeout: UInt32(rng.next() % 3)))
                    pendings.append(nextID)
                case 3 where !pendings.isEmpty:
                    let target = pendings[Int(rng.next() % UInt64(pendings.count))]
                    let flags: TransferFlags = rng.next() % 2 == 0 ? .postPendingTransfer : .voidPendingTransfer
                    batch.append(Fixture.transfer(nextID, 0, 0, flags == .postPendingTransfer ? amount % 50 : 0,
                                                  code: TransferCode(0), flags: flags.union(linked), pendingID: target, ledger: 0))
                case 4: batch.append(Fixture.transfer(nextID - UInt128(rng.next() % 20), a, b, amount, flags: linked))  // retries
                default: batch.append(Fixture.transfer(nextID, a, b, amount, flags: linked))
                }
            }
            let results = try await f.ledger.createTransfers(batch)
            accepted += results.filter { $0 == .ok }.count
            f.clock.advance(seconds: rng.next() % 2)
            let check = try await f.ledger.verify(full: false)
            #expect(check.problems == [])
        }
        #expect(accepted > 100)
        let full = try await f.ledger.verify(full: true)
        #expect(full.problems == [])
        // A process opening the same store afresh sees the same balances.
        let reopened = try await Ledger.open(store: store, clock: f.clock)
        for customer in customers + [10, 20] {
            #expect(await reopened.account(AccountID(customer))?.balance == f.ledger.account(AccountID(customer))?.balance)
        }
    }

    // Goal: a changed byte in the log is found by the full check and named.
    @Test func tamperedLogIsFoundByTheFullCheck() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 1, store: store)
        try await f.deposit(1, customer: 1, 500)
        try await f.deposit(2, customer: 2, 700)
        let head = await f.ledger.headSequence
        // 700 = 0x2BC; its low byte becomes 0xFF: the log now says 767.
        store.tamper(sequence: head) { record in record.body[48] = 0xFF }
        let report = try await f.ledger.verify(full: true)
        #expect(report.problems == [
            "account 2: credits_posted is 700 but its transfers sum to 767",
            "account 10: debits_posted is 1200 but its transfers sum to 1267",
        ])
    }

    // Goal: a checkpointed balance changed behind the ledger's back breaks the cheap check on
    // open; the full check then names the account and opening is refused.
    @Test func tamperedBalanceRefusesToOpen() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 1, store: store)
        try await f.deposit(1, customer: 1, 500)
        try store.tamperBalance(ordinal: 0) { $0.creditsPosted = 5_000 }  // account 1 was created first
        let error = await #expect(throws: KinkoError.self) { try await Ledger.open(store: store, clock: f.clock) }
        #expect(error?.code == .storageCorrupted)
        #expect(error?.message == """
            refusing to open the ledger: account 1: credits_posted is 5000 but its transfers sum to 500; \
            ledger 2 (BTC): total debits differ from total credits: debits posted 500 ≠ credits posted 5000. \
            Nothing was changed; the ledger can still be opened read-only for inspection and export
            """)
    }

    // Goal: a ledger that fails its open-time check opens for inspection: reads and the full
    // check work and name the fault, and every write is refused without touching the store.
    @Test func corruptedLedgerOpensReadOnlyForInspection() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 1, store: store)
        try await f.deposit(1, customer: 1, 500)
        try store.tamperBalance(ordinal: 0) { $0.creditsPosted = 5_000 }
        let inspected = try await Ledger.open(store: store, clock: f.clock, mode: .inspection)
        #expect(await inspected.readOnlyReason?.contains("account 1: credits_posted is 5000 but its transfers sum to 500") == true)
        #expect(await inspected.account(AccountID(1))?.balance.creditsPosted == 5_000)
        #expect(try await inspected.transfer(TransferID(1))?.amount == 500)
        #expect(try await inspected.verify(full: true).problems.first == "account 1: credits_posted is 5000 but its transfers sum to 500")
        let head = await inspected.headSequence
        let refused = await #expect(throws: KinkoError.self) {
            try await inspected.createTransfers([Fixture.transfer(2, 10, 2, 1, code: .deposit)])
        }
        #expect(refused?.code == .storageCorrupted)
        #expect(refused?.message.hasPrefix("refusing to write: the ledger failed its open-time check") == true)
        #expect(await inspected.headSequence == head)
        #expect(try await store.batches(after: head, limit: 10).isEmpty)
    }
}

@Suite("Ledger sums beyond 128 bits")
struct WideLedgerSumTests {
    static func looseCustomer(_ id: UInt128) -> Account {
        Account(id: AccountID(id), ledger: Fixture.btc, code: 100, accountClass: .customerLiability, owner: id)
    }

    // Goal: the transfer that once made a database unopenable (issue 22: UInt128.max between
    // two customer liabilities without limit flags) is accepted and harmless: the ledger
    // reopens, both checks pass, and the as-of summary and balances are exact.
    @Test func maximalTradeBetweenLooseCustomersKeepsTheLedgerOpenable() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 64, store: store)
        let created = try await f.ledger.createAccounts([Self.looseCustomer(900_001), Self.looseCustomer(900_002), Self.looseCustomer(900_003)])
        #expect(created == [.ok, .ok, .ok])
        let results = try await f.ledger.createTransfers([Fixture.transfer(910_001, 900_001, 900_002, .max)])
        #expect(results == [.ok])
        let reopened = try await Ledger.open(store: store, clock: f.clock)
        #expect(await reopened.readOnlyReason == nil)
        #expect(try await reopened.verify(full: true).problems == [])
        #expect(await reopened.account(AccountID(900_002))?.balance.creditsPosted == .max)
        // At the start the account did not exist yet: a past balance names only accounts that did.
        let before = try await reopened.postedSummary(asOf: Fixture.start, accounts: [AccountID(900_001)])
        #expect(before.balances[AccountID(900_001)] == nil)
        let openedAt = try #require(await reopened.account(AccountID(900_001))?.account.timestamp)
        #expect(try await reopened.postedSummary(asOf: openedAt, accounts: [AccountID(900_001)]).balances[AccountID(900_001)] == AccountBalance())
        let now = try await reopened.postedSummary(asOf: .max, accounts: [])
        let liabilities = try #require(now.totals[Fixture.btc]?[.customerLiability])
        #expect(liabilities.debitsPosted == WideSum(.max))
        #expect(liabilities.creditsPosted == WideSum(.max))
    }

    // Goal: totals that no longer fit 128 bits are summed exactly: three customers each
    // credited UInt128.max from three holdings. The ledger reopens and verifies; the class
    // total is 3 × (2¹²⁸ − 1), and turning it into one amount is a clear error, not a trap.
    @Test func classTotalsBeyond128BitsAreExactAndReportedNotWrapped() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(store: store)
        var accounts: [Account] = []
        for index in UInt128(0)..<3 {
            accounts.append(Self.looseCustomer(800 + index))
            accounts.append(Account(id: AccountID(700 + index), ledger: Fixture.btc, code: 200, accountClass: .customerCustodyHolding))
        }
        #expect(try await f.ledger.createAccounts(accounts).allSatisfy { $0 == .ok })
        let deposits = (UInt128(0)..<3).map { Fixture.transfer(600 + $0, 700 + $0, 800 + $0, .max, code: .deposit) }
        #expect(try await f.ledger.createTransfers(deposits) == [.ok, .ok, .ok])
        let reopened = try await Ledger.open(store: store, clock: f.clock)
        #expect(try await reopened.verify(full: true).problems == [])
        let total = try #require(try await reopened.postedSummary(asOf: .max, accounts: []).totals[Fixture.btc]?[.customerLiability])
        #expect(total.creditsPosted.description == "1020847100762815390390123822295304634365")
        let error = #expect(throws: KinkoError.self) { try total.netAmount(claim: true, what: "BTC customer liabilities") }
        #expect(error?.code == .amountOverflow)
        #expect(error?.message == """
            BTC customer liabilities total 1020847100762815390390123822295304634365 units, \
            more than one amount holds (340282366920938463463374607431768211455)
            """)
    }

    // Goal: property — random transfers, pending ones and their posts and voids with amounts
    // within a few thousand units of UInt128.max, between accounts with and without limits,
    // across checkpoints: whatever the ledger accepts, a fresh open accepts and verifies.
    @Test(arguments: [11, 12, 13, 14, 15])
    func randomNearMaximalAmountsAlwaysReopen(seed: UInt64) async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 3, store: store)
        var rng = SplitMix64(seed: seed)
        let loose: [UInt128] = Array(500..<508)
        let holdings: [UInt128] = Array(600..<604)
        var accounts = loose.map(Self.looseCustomer)
        accounts += holdings.map { Account(id: AccountID($0), ledger: Fixture.btc, code: 200, accountClass: .customerCustodyHolding) }
        #expect(try await f.ledger.createAccounts(accounts).allSatisfy { $0 == .ok })
        let everyone = loose + holdings + [1, 2, 10, 20]
        var nextID: UInt128 = 5_000
        var pendings: [UInt128] = []
        var accepted = 0
        for _ in 0..<25 {
            var batch: [Transfer] = []
            for _ in 0..<Int(rng.next() % 12 + 1) {
                nextID += 1
                let amount = UInt128.max - UInt128(rng.next() % 5_000)
                let a = everyone[Int(rng.next() % UInt64(everyone.count))]
                let b = everyone[Int(rng.next() % UInt64(everyone.count))]
                switch rng.next() % 5 {
                case 0:
                    batch.append(Fixture.transfer(nextID, holdings[Int(rng.next() % 4)], loose[Int(rng.next() % 8)], amount, code: .deposit))
                case 1:
                    batch.append(Fixture.transfer(nextID, a, b, amount, flags: .pending, timeout: UInt32(rng.next() % 3)))
                    pendings.append(nextID)
                case 2 where !pendings.isEmpty:
                    let target = pendings[Int(rng.next() % UInt64(pendings.count))]
                    let flags: TransferFlags = rng.next() % 2 == 0 ? .postPendingTransfer : .voidPendingTransfer
                    batch.append(Fixture.transfer(nextID, 0, 0, 0, code: TransferCode(0), flags: flags, pendingID: target, ledger: 0))
                default:
                    batch.append(Fixture.transfer(nextID, a, b, amount % (UInt128(rng.next() % 3) + 1)))
                }
            }
            accepted += try await f.ledger.createTransfers(batch).count { $0 == .ok }
            f.clock.advance(seconds: rng.next() % 2)
        }
        #expect(accepted > 10)
        let reopened = try await Ledger.open(store: store, clock: f.clock)
        #expect(await reopened.readOnlyReason == nil)
        #expect(try await reopened.verify(full: true).problems == [])
        for id in everyone {
            #expect(await reopened.account(AccountID(id))?.balance == f.ledger.account(AccountID(id))?.balance)
        }
        _ = try await reopened.postedSummary(asOf: Fixture.start + 5_000_000_000, accounts: Set(everyone.map { AccountID($0) }))
    }
}
