import KinkoCore
import KinkoLedger
import Testing

@Suite("Two-phase transfers")
struct PendingTests {
    typealias T = Fixture

    // Goal: a pending transfer reserves; a partial post moves part and releases the rest.
    @Test func partialPostReleasesTheRest() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 400, flags: .pending, timeout: 60)]) == [.ok])
        #expect(try await f.balance(1) == AccountBalance(debitsPending: 400, creditsPosted: 1_000))
        #expect(try await f.balance(2) == AccountBalance(creditsPending: 400))
        // The reservation counts against the limit: 601 more would exceed credits.
        #expect(try await f.ledger.createTransfers([T.transfer(3, 1, 2, 601)]) == [.exceedsCredits])
        let post = T.transfer(4, 0, 0, 150, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 2, ledger: 0)
        #expect(try await f.ledger.createTransfers([post]) == [.ok])
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 150, creditsPosted: 1_000))
        #expect(try await f.balance(2) == AccountBalance(creditsPosted: 150))
        let stored = try #require(try await f.ledger.transfer(TransferID(4)))
        #expect(stored.debitAccountID == AccountID(1) && stored.creditAccountID == AccountID(2) && stored.amount == 150)
        // A retry of the post answers exists; posting again with a new id: already posted.
        #expect(try await f.ledger.createTransfers([post]) == [.exists])
        let again = T.transfer(5, 0, 0, 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 2, ledger: 0)
        #expect(try await f.ledger.createTransfers([again]) == [.pendingTransferAlreadyPosted])
        let void = T.transfer(6, 0, 0, 0, code: TransferCode(0), flags: .voidPendingTransfer, pendingID: 2, ledger: 0)
        #expect(try await f.ledger.createTransfers([void]) == [.pendingTransferAlreadyPosted])
    }

    @Test func voidReleasesEverything() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        let results = try await f.ledger.createTransfers([
            T.transfer(2, 1, 2, 400, flags: .pending),
            T.transfer(3, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 2),
        ])
        #expect(results == [.ok, .ok])
        #expect(try await f.balance(1) == AccountBalance(creditsPosted: 1_000))
        #expect(try await f.balance(2) == .zero)
        let post = T.transfer(4, 1, 2, 0, flags: .postPendingTransfer, pendingID: 2)
        #expect(try await f.ledger.createTransfers([post]) == [.pendingTransferAlreadyVoided])
    }

    // Goal: every post/void validation code, each at its limit where it has one.
    @Test func postAndVoidValidation() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 400, flags: .pending)]) == [.ok])
        let post = TransferFlags.postPendingTransfer
        let results = try await f.ledger.createTransfers([
            T.transfer(10, 1, 2, 0, flags: post, pendingID: 0),
            T.transfer(11, 1, 2, 0, flags: post, pendingID: .max),
            T.transfer(12, 1, 2, 0, flags: post, pendingID: 12),
            T.transfer(13, 1, 2, 0, flags: post, pendingID: 2, timeout: 1),
            T.transfer(14, 1, 2, 0, flags: post, pendingID: 999),
            T.transfer(15, 1, 2, 0, flags: post, pendingID: 1),  // the deposit is not pending
            T.transfer(16, 2, 2, 0, flags: post, pendingID: 2),
            T.transfer(17, 1, 1, 0, flags: post, pendingID: 2),
            T.transfer(18, 1, 2, 0, flags: post, pendingID: 2, ledger: 3),
            T.transfer(19, 1, 2, 0, code: .fee, flags: post, pendingID: 2),
            T.transfer(20, 1, 2, 401, flags: post, pendingID: 2),
            T.transfer(21, 1, 2, 399, flags: .voidPendingTransfer, pendingID: 2),
            T.transfer(22, 1, 2, 400, flags: post, pendingID: 2),  // at the limit: the whole amount
        ])
        #expect(results == [
            .pendingIDMustNotBeZero, .pendingIDMustNotBeIntMax, .pendingIDMustBeDifferent, .timeoutReservedForPendingTransfer,
            .pendingTransferNotFound, .pendingTransferNotPending, .pendingTransferHasDifferentDebitAccountID,
            .pendingTransferHasDifferentCreditAccountID, .pendingTransferHasDifferentLedger, .pendingTransferHasDifferentCode,
            .exceedsPendingTransferAmount, .pendingTransferHasDifferentAmount, .ok,
        ])
        #expect(try await f.balance(2) == AccountBalance(creditsPosted: 400))
    }

    // Goal: a pending transfer expires after its timeout — at the timeout, not a moment before.
    @Test func expiryAfterTimeout() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 400, flags: .pending, timeout: 60)]) == [.ok])
        f.clock.advance(seconds: 59)
        #expect(try await f.ledger.pulse() == [])
        #expect(try await f.balance(1) == AccountBalance(debitsPending: 400, creditsPosted: 1_000))
        f.clock.advance(seconds: 2)  // the timeout runs from the transfer's own timestamp
        #expect(try await f.ledger.pulse() == [TransferID(2)])
        #expect(try await f.balance(1) == AccountBalance(creditsPosted: 1_000))
        #expect(try await f.balance(2) == .zero)
        let post = T.transfer(3, 1, 2, 0, flags: .postPendingTransfer, pendingID: 2)
        #expect(try await f.ledger.createTransfers([post]) == [.pendingTransferExpired])
        #expect(await f.ledger.pendingTransfer(TransferID(2)) == nil)
    }

    // Goal: a batch expires what is due before it runs, so a late post sees the expiry.
    @Test func expiryInsideABatch() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 1_000, flags: .pending, timeout: 1)]) == [.ok])
        f.clock.advance(seconds: 2)
        let results = try await f.ledger.createTransfers([
            T.transfer(3, 1, 2, 0, flags: .postPendingTransfer, pendingID: 2),
            T.transfer(4, 1, 2, 1_000),  // the released reservation is available again
        ])
        #expect(results == [.pendingTransferExpired, .ok])
    }

    // Goal: statuses survive a restart (checkpointed and not), so a retry after a restart
    // still answers correctly.
    @Test func pendingStateSurvivesReopen() async throws {
        let store = InMemoryLedgerStore()
        let f = try await Fixture(checkpointEvery: 3, store: store)
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([
            T.transfer(2, 1, 2, 100, flags: .pending), T.transfer(3, 1, 2, 100, flags: .pending, timeout: 3600),
            T.transfer(4, 1, 2, 100, flags: .pending),
        ]) == [.ok, .ok, .ok])
        #expect(try await f.ledger.createTransfers([T.transfer(5, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 2)]) == [.ok])
        for round in 0..<4 { try await f.deposit(UInt128(100 + round), customer: 2, 1) }
        #expect(try await f.ledger.createTransfers([T.transfer(6, 1, 2, 50, flags: .postPendingTransfer, pendingID: 4)]) == [.ok])

        let reopened = try await Ledger.open(store: store, clock: f.clock)
        #expect(try await reopened.createTransfers([T.transfer(7, 1, 2, 0, flags: .postPendingTransfer, pendingID: 2)]) == [.pendingTransferAlreadyVoided])
        #expect(try await reopened.createTransfers([T.transfer(8, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 4)]) == [.pendingTransferAlreadyPosted])
        #expect(try await reopened.createTransfers([T.transfer(5, 1, 2, 0, flags: .voidPendingTransfer, pendingID: 2)]) == [.exists])
        #expect(await reopened.pendingTransfer(TransferID(3)) != nil)
        #expect(try #require(await reopened.account(AccountID(1))).balance == AccountBalance(debitsPending: 100, debitsPosted: 50, creditsPosted: 1_000))
        f.clock.advance(seconds: 3601)
        #expect(try await reopened.pulse() == [TransferID(3)])
        #expect(try await reopened.verify(full: true).problems == [])
    }

    // Goal: a post's amount as in TigerBeetle: the whole pending amount is 2¹²⁸ − 1, 0 posts
    // nothing (and still releases the reservation), more than pending is refused.
    @Test func postAmountsWholeZeroAndTooMuch() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([
            T.transfer(2, 1, 2, 400, flags: .pending), T.transfer(3, 1, 2, 300, flags: .pending),
        ]) == [.ok, .ok])
        #expect(try await f.ledger.createTransfers([
            T.transfer(4, 1, 2, 401, flags: .postPendingTransfer, pendingID: 2),
            T.transfer(5, 0, 0, Transfer.amountWholePending, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 2, ledger: 0),
            T.transfer(6, 0, 0, 0, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 3, ledger: 0),
        ]) == [.exceedsPendingTransferAmount, .ok, .ok])
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 400, creditsPosted: 1_000))
        #expect(try await f.balance(2) == AccountBalance(creditsPosted: 400))
        #expect(try await f.ledger.transfer(TransferID(5))?.amount == 400)
        #expect(try await f.ledger.transfer(TransferID(6))?.amount == 0)
        // A retry of "the whole amount" matches the post that took all of it.
        #expect(try await f.ledger.createTransfers([
            T.transfer(5, 0, 0, Transfer.amountWholePending, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 2, ledger: 0),
            T.transfer(5, 0, 0, 399, code: TransferCode(0), flags: .postPendingTransfer, pendingID: 2, ledger: 0),
        ]) == [.exists, .existsWithDifferentAmount])
    }

    // Goal: a balancing transfer moves at most what levels its account, and what it moved is
    // what is stored; a retry with at least that amount answers exists.
    @Test func balancingTransfersMoveAtMostTheBalance() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 250, flags: .pending)]) == [.ok])
        let sweep = T.transfer(3, 1, 2, 10_000, flags: .balancingDebit)
        #expect(try await f.ledger.createTransfers([sweep]) == [.ok])
        #expect(try await f.ledger.transfer(TransferID(3))?.amount == 750)
        #expect(try await f.balance(1) == AccountBalance(debitsPending: 250, debitsPosted: 750, creditsPosted: 1_000))
        #expect(try await f.ledger.createTransfers([
            sweep, T.transfer(3, 1, 2, 750, flags: .balancingDebit), T.transfer(3, 1, 2, 749, flags: .balancingDebit),
            T.transfer(4, 1, 2, 5, flags: .balancingDebit),
            T.transfer(5, 0, 0, 0, code: TransferCode(0), flags: [.voidPendingTransfer, .balancingDebit], pendingID: 2, ledger: 0),
        ]) == [.exists, .exists, .existsWithDifferentAmount, .ok, .flagsAreMutuallyExclusive])
        #expect(try await f.ledger.transfer(TransferID(4))?.amount == 0)
    }
}
