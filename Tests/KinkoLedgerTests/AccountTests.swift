import KinkoCore
import KinkoLedger
import Testing

@Suite("Creating accounts")
struct AccountTests {
    // Goal: a retry with the same content answers `exists`; any difference names the field.
    @Test func idempotencyAndDifferences() async throws {
        let f = try await Fixture()
        let same = Fixture.customer(1, owner: 101)
        var owner = same
        owner.owner = 999
        var code = same
        code.code = 7
        var accountClass = same
        accountClass.accountClass = .ownFunds
        var flags = same
        flags.flags = []
        var ledger = same
        ledger.ledger = 3
        let results = try await f.ledger.createAccounts([same, owner, code, accountClass, flags, ledger])
        #expect(results == [.exists, .existsWithDifferentOwner, .existsWithDifferentCode, .existsWithDifferentClass,
                            .existsWithDifferentFlags, .existsWithDifferentLedger])
    }

    @Test func validationInOrderOfPrecedence() async throws {
        let f = try await Fixture()
        var stamped = Fixture.customer(50, owner: 1)
        stamped.timestamp = 5
        var reserved = Fixture.customer(51, owner: 1)
        reserved.flags = AccountFlags(rawValue: 1 << 9)
        let zeroID = Fixture.customer(0, owner: 1)
        let maxID = Fixture.customer(.max, owner: 1)
        let bothLimits = Account(id: AccountID(52), ledger: 2, code: 1, accountClass: .ownFunds,
                                 flags: [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits])
        let noLedger = Account(id: AccountID(53), ledger: 0, code: 1, accountClass: .ownFunds)
        let noCode = Account(id: AccountID(54), ledger: 2, code: 0, accountClass: .ownFunds)
        let unknownLedger = Account(id: AccountID(55), ledger: 77, code: 1, accountClass: .ownFunds)
        let ownerless = Account(id: AccountID(56), ledger: 2, code: 1, accountClass: .customerLiability)
        // Several faults at once: the one earliest in precedence is reported.
        let manyFaults = Account(id: AccountID(0), ledger: 0, code: 0, accountClass: .customerLiability)
        let results = try await f.ledger.createAccounts([
            stamped, reserved, zeroID, maxID, bothLimits, noLedger, noCode, unknownLedger, ownerless, manyFaults,
        ])
        #expect(results == [
            .timestampMustBeZero, .reservedFlag, .idMustNotBeZero, .idMustNotBeIntMax, .flagsAreMutuallyExclusive,
            .ledgerMustNotBeZero, .codeMustNotBeZero, .ledgerNotFound, .ownerMustNotBeZero, .idMustNotBeZero,
        ])
        #expect(await f.ledger.accountCount == 5)
    }

    // Goal: a linked chain of accounts is created whole or not at all.
    @Test func linkedChainIsAllOrNothing() async throws {
        let f = try await Fixture()
        var first = Fixture.customer(60, owner: 1)
        first.flags.insert(.linked)
        let broken = Account(id: AccountID(61), ledger: 77, code: 1, accountClass: .ownFunds)
        let after = Fixture.customer(62, owner: 1)
        let results = try await f.ledger.createAccounts([first, broken, after])
        #expect(results == [.linkedEventFailed, .ledgerNotFound, .ok])
        #expect(await f.ledger.account(AccountID(60)) == nil)
        #expect(await f.ledger.account(AccountID(62)) != nil)
        var open = Fixture.customer(63, owner: 1)
        open.flags.insert(.linked)
        #expect(try await f.ledger.createAccounts([open]) == [.linkedEventChainOpen])
    }

    @Test func batchSizeLimit() async throws {
        let f = try await Fixture()
        let full = (0..<8190).map { Fixture.customer(UInt128(1000 + $0), owner: 1) }
        #expect(try await f.ledger.createAccounts(full).allSatisfy { $0 == .ok })
        let tooMany = (0..<8191).map { Fixture.customer(UInt128(20000 + $0), owner: 1) }
        let error = await #expect(throws: KinkoError.self) { try await f.ledger.createAccounts(tooMany) }
        #expect(error?.code == .limitExceeded)
        #expect(error?.message == "a batch holds at most 8190 events; got 8191")
    }
}
