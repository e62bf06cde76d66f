import KinkoCore
@testable import KinkoLedger
import Testing

/// Closing accounts, as in TigerBeetle: a pending transfer with `closing_debit` or
/// `closing_credit` closes its account while it stays pending; a closed account takes no
/// transfer but the void of a pending one; the void or the expiry of the closing transfer
/// reopens it. Closed state lives in the open pending transfers, so it survives a reopen.
@Suite("Closing accounts")
struct ClosingTests {
    static func closing(_ id: UInt128, _ debit: UInt128, _ credit: UInt128, flags: TransferFlags = [.pending, .closingDebit],
                        code: TransferCode = .fee, timeout: UInt32 = 0) -> Transfer {
        Fixture.transfer(id, debit, credit, 0, code: code, flags: flags, timeout: timeout)
    }

    /// A post or void of pending transfer `pending`, inheriting everything else.
    static func resolve(_ id: UInt128, _ flags: TransferFlags, pending: UInt128, amount: UInt128 = Transfer.amountWholePending) -> Transfer {
        Fixture.transfer(id, 0, 0, amount, code: TransferCode(0), flags: flags, pendingID: pending, ledger: 0)
    }

    @Test func aClosingTransferClosesUntilVoidedAcrossAReopen() async throws {
        let f = try await Fixture(checkpointEvery: 1)
        try await f.deposit(1, customer: 1, 500)
        // Closing needs a pending transfer; a post or void may not carry it.
        #expect(try await f.ledger.createTransfers([Self.closing(2, 1, 20, flags: .closingDebit)]) == [.closingTransferMustBePending])
        #expect(try await f.ledger.createTransfers([Self.closing(3, 1, 20)]) == [.ok])
        #expect(try #require(await f.ledger.account(AccountID(1))).account.flags.contains(.closed))
        #expect(try await f.ledger.createTransfers([
            Fixture.transfer(4, 10, 1, 5, code: .deposit),
            Fixture.transfer(5, 1, 2, 5),
            Self.resolve(6, [.postPendingTransfer, .closingDebit], pending: 3),
            Self.resolve(7, .postPendingTransfer, pending: 3),
            Fixture.transfer(8, 2, 20, 0, code: .fee, flags: [.pending, .closingCredit]),
        ]) == [.creditAccountAlreadyClosed, .debitAccountAlreadyClosed, .flagsAreMutuallyExclusive, .debitAccountAlreadyClosed, .ok])
        // Closing the credit side closed own funds (20) too; the other accounts are open.
        #expect(try #require(await f.ledger.account(AccountID(20))).account.flags.contains(.closed))
        #expect(try #require(await f.ledger.account(AccountID(2))).account.flags.contains(.closed) == false)

        // Reopened from the store (a checkpoint after every batch): still closed, and the ids
        // refused for a closed account are used up.
        let reopened = try await Ledger.open(store: f.store, clock: f.clock)
        #expect(try #require(await reopened.account(AccountID(1))).account.flags.contains(.closed))
        #expect(try await reopened.createTransfers([Fixture.transfer(4, 10, 1, 5, code: .deposit)]) == [.idAlreadyFailed])
        // A void is the one movement a closed account takes; it reopens the account.
        #expect(try await reopened.createTransfers([Self.resolve(9, .voidPendingTransfer, pending: 3, amount: 0)]) == [.ok])
        #expect(try #require(await reopened.account(AccountID(1))).account.flags.contains(.closed) == false)
        #expect(try await reopened.createTransfers([Fixture.transfer(10, 10, 1, 5, code: .deposit)]) == [.ok])
        #expect(try await reopened.account(AccountID(1))?.balance == AccountBalance(creditsPosted: 505))
        #expect(try await reopened.verify(full: true).problems == [])
    }

    @Test func anExpiredClosingTransferReopensItsAccount() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 500)
        #expect(try await f.ledger.createTransfers([Self.closing(2, 1, 20, timeout: 60)]) == [.ok])
        f.clock.advance(seconds: 59)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(3, 1, 2, 1)]) == [.debitAccountAlreadyClosed])
        f.clock.advance(seconds: 2)
        #expect(try await f.ledger.pulse() == [TransferID(2)])
        #expect(try #require(await f.ledger.account(AccountID(1))).account.flags.contains(.closed) == false)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(4, 1, 2, 1)]) == [.ok])
        // The expiry is replayed the same way.
        let reopened = try await Ledger.open(store: f.store, clock: f.clock)
        #expect(try #require(await reopened.account(AccountID(1))).account.flags.contains(.closed) == false)
        #expect(try await reopened.verify(full: true).problems == [])
    }

    @Test func aFailedChainLeavesTheAccountOpen() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 500)
        var closing = Self.closing(2, 1, 20)
        closing.flags.insert(.linked)
        // The chain's second event pays into the account its first one closed.
        #expect(try await f.ledger.createTransfers([closing, Fixture.transfer(3, 2, 1, 1)]) == [.linkedEventFailed, .creditAccountAlreadyClosed])
        #expect(try #require(await f.ledger.account(AccountID(1))).account.flags.contains(.closed) == false)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(4, 1, 2, 1)]) == [.ok])
    }

    @Test func anAccountCreatedClosedTakesNoTransfer() async throws {
        let f = try await Fixture()
        let closed = Account(id: AccountID(30), ledger: Fixture.btc, code: 300, accountClass: .ownFunds, flags: .closed)
        #expect(try await f.ledger.createAccounts([closed]) == [.ok])
        #expect(try await f.ledger.createAccounts([closed]) == [.exists])
        #expect(try await f.ledger.createTransfers([Fixture.transfer(1, 1, 30, 0, code: .fee)]) == [.creditAccountAlreadyClosed])
        // An account a transfer closed answers a retry of its creation as TigerBeetle does: its
        // flags now include `closed`.
        try await f.deposit(2, customer: 1, 5)
        #expect(try await f.ledger.createTransfers([Self.closing(3, 20, 1, code: .correction)]) == [.ok])
        #expect(try await f.ledger.createAccounts([Account(id: AccountID(20), ledger: Fixture.btc, code: 300, accountClass: .ownFunds)])
            == [.existsWithDifferentFlags])
    }

    @Test func closingFlagsHaveTheirNames() throws {
        #expect(try TransferFlags(names: ["pending", "closing_debit", "closing_credit"]).names == ["pending", "closing_debit", "closing_credit"])
        #expect(try AccountFlags(names: ["closed"]) == .closed)
        #expect(throws: KinkoError.self) { try TransferFlags(names: ["closing"]) }
    }
}
