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
        #expect(error?.message == "refusing to open the ledger: account 1: credits_posted is 5000 but its transfers sum to 500")
    }
}
