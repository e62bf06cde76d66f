import KinkoCore
import KinkoLedger
import Testing

@Suite("Creating transfers")
struct TransferTests {
    typealias T = Fixture

    // Goal: each validation code, one event each, in one batch; nothing is applied.
    @Test func everyValidationCode() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        var stamped = T.transfer(100, 1, 2, 1)
        stamped.timestamp = 9
        let events: [(Transfer, CreateTransferResult)] = [
            (stamped, .timestampMustBeZero),
            (T.transfer(101, 1, 2, 1, flags: TransferFlags(rawValue: 1 << 9)), .reservedFlag),
            (T.transfer(0, 1, 2, 1), .idMustNotBeZero),
            (T.transfer(.max, 1, 2, 1), .idMustNotBeIntMax),
            (T.transfer(102, 1, 2, 1, flags: [.pending, .voidPendingTransfer]), .flagsAreMutuallyExclusive),
            (T.transfer(103, 0, 2, 1), .debitAccountIDMustNotBeZero),
            (T.transfer(104, .max, 2, 1), .debitAccountIDMustNotBeIntMax),
            (T.transfer(105, 1, 0, 1), .creditAccountIDMustNotBeZero),
            (T.transfer(106, 1, .max, 1), .creditAccountIDMustNotBeIntMax),
            (T.transfer(107, 1, 1, 1), .accountsMustBeDifferent),
            (T.transfer(108, 1, 2, 1, pendingID: 5), .pendingIDMustBeZero),
            (T.transfer(109, 1, 2, 1, timeout: 5), .timeoutReservedForPendingTransfer),
            (T.transfer(110, 1, 2, 1, ledger: 0), .ledgerMustNotBeZero),
            (T.transfer(111, 1, 2, 1, code: TransferCode(0)), .codeMustNotBeZero),
            (T.transfer(112, 1, 2, 0), .ok), // moves nothing, as in TigerBeetle
            (T.transfer(113, 77, 2, 1), .debitAccountNotFound),
            (T.transfer(114, 1, 77, 1), .creditAccountNotFound),
            (T.transfer(115, 1, 2, 1, ledger: 3), .transferMustHaveTheSameLedgerAsAccounts),
            (T.transfer(116, 1, 2, 1, code: TransferCode(999)), .transferCodeUnknown),
            (T.transfer(117, 1, 20, 1, code: .deposit), .accountClassesNotAllowedForCode),
            (T.transfer(118, 1, 2, 1_001), .exceedsCredits),
            (T.transfer(119, 10, 21, 1, code: .segregationSweep), .ok),
            (T.transfer(120, 21, 10, 2, code: .segregationSweep), .ok),
            (T.transfer(121, 2, 10, 1, code: .withdrawal), .exceedsCredits),
        ]
        let results = try await f.ledger.createTransfers(events.map(\.0))
        for (index, (result, expected)) in zip(results, events.map(\.1)).enumerated() {
            #expect(result == expected, "event \(index)")
        }
        #expect(try await f.balance(1) == AccountBalance(creditsPosted: 1_000))
    }

    // Goal: accounts on different ledgers cannot trade with each other.
    @Test func accountsMustShareALedger() async throws {
        let f = try await Fixture()
        #expect(try await f.ledger.createAccounts([T.customer(30, owner: 9, ledger: 3)]) == [.ok])
        #expect(try await f.ledger.createTransfers([T.transfer(1, 1, 30, 1)]) == [.accountsMustHaveTheSameLedger])
    }

    // Goal: with several faults the earliest in precedence is the one reported.
    @Test func precedenceWithSeveralFaults() async throws {
        let f = try await Fixture()
        let results = try await f.ledger.createTransfers([
            T.transfer(0, 0, 0, 0, ledger: 0),  // id before everything else
            T.transfer(1, 0, 0, 0, ledger: 0),  // then the debit account
            T.transfer(2, 1, 2, 0, ledger: 0),  // then the ledger
            T.transfer(3, 1, 77, 5, code: .fee),  // account lookup before segregation
            T.transfer(4, 1, 2, 5, code: .fee),  // segregation before balance limits
        ])
        #expect(results == [.idMustNotBeZero, .debitAccountIDMustNotBeZero, .ledgerMustNotBeZero, .creditAccountNotFound,
                            .accountClassesNotAllowedForCode])
    }

    // Goal: balance limits hold at the limit and refuse one unit past it.
    @Test func balanceLimitsAtLimitAndPast() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 500)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 2, 501)]) == [.exceedsCredits])
        #expect(try await f.ledger.createTransfers([T.transfer(3, 1, 2, 500)]) == [.ok])
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 500, creditsPosted: 500))
        // The hot wallet holding (credits must not exceed debits) holds 500 from the deposit.
        #expect(try await f.ledger.createTransfers([T.transfer(4, 2, 10, 501, code: .withdrawal)]) == [.exceedsCredits])
        #expect(try await f.ledger.createTransfers([T.transfer(5, 21, 10, 501, code: .segregationSweep)]) == [.exceedsDebits])
        #expect(try await f.ledger.createTransfers([T.transfer(6, 21, 10, 500, code: .segregationSweep)]) == [.ok])
        #expect(try await f.balance(10) == AccountBalance(debitsPosted: 500, creditsPosted: 500))
    }

    // Goal: idempotent retries, within a batch and across batches (the store is asked).
    @Test func idempotency() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 100)
        let retry = T.transfer(1, 10, 1, 100, code: .deposit)
        var otherAmount = retry
        otherAmount.amount = 99
        var otherData = retry
        otherData.userData64 = 1
        var otherCredit = retry
        otherCredit.creditAccountID = AccountID(2)
        let results = try await f.ledger.createTransfers([retry, otherAmount, otherData, otherCredit,
                                                          T.transfer(2, 10, 2, 5, code: .deposit), T.transfer(2, 10, 2, 5, code: .deposit)])
        #expect(results == [.exists, .existsWithDifferentAmount, .existsWithDifferentUserData64,
                            .existsWithDifferentCreditAccountID, .ok, .exists])
        #expect(try await f.balance(1) == AccountBalance(creditsPosted: 100))
        #expect(try await f.balance(2) == AccountBalance(creditsPosted: 5))
        #expect(try await f.ledger.transfer(TransferID(2))?.amount == 5)
    }

    // Goal: a linked chain (e.g. the two legs of a trade and its fee) is all or nothing.
    @Test func linkedChains() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 100)
        let results = try await f.ledger.createTransfers([
            T.transfer(10, 1, 2, 60, flags: .linked),
            T.transfer(11, 1, 20, 30, code: .fee, flags: .linked),
            T.transfer(12, 1, 2, 20),  // would take customer 1 to -10: the chain fails
            T.transfer(13, 1, 2, 1),  // independent, succeeds
            T.transfer(14, 1, 2, 1, flags: .linked),  // chain left open at the end of the batch
        ])
        #expect(results == [.linkedEventFailed, .linkedEventFailed, .exceedsCredits, .ok, .linkedEventChainOpen])
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 1, creditsPosted: 100))
        #expect(try await f.ledger.transfer(TransferID(10)) == nil)

        let ok = try await f.ledger.createTransfers([
            T.transfer(20, 1, 2, 60, flags: .linked), T.transfer(21, 1, 20, 30, code: .fee),
        ])
        #expect(ok == [.ok, .ok])
        #expect(try await f.balance(1) == AccountBalance(debitsPosted: 91, creditsPosted: 100))
        #expect(try await f.balance(20) == AccountBalance(creditsPosted: 30))

        // A failure in the middle fails the rest of the chain too.
        let middle = try await f.ledger.createTransfers([
            T.transfer(30, 2, 1, 1, flags: .linked), T.transfer(31, 2, 1, 1, code: TransferCode(0), flags: .linked),
            T.transfer(32, 2, 1, 1), T.transfer(33, 2, 1, 1),
        ])
        #expect(middle == [.linkedEventFailed, .codeMustNotBeZero, .linkedEventFailed, .ok])
    }
}

@Suite("Segregation of customer assets")
struct SegregationTests {
    typealias T = Fixture

    // Goal: customer liabilities cannot pay the exchange's own expenses.
    @Test func customerLiabilitiesCannotPayExpenses() async throws {
        let f = try await Fixture()
        try await f.deposit(1, customer: 1, 1_000)
        #expect(try await f.ledger.createTransfers([T.transfer(2, 1, 21, 10, code: .expense)]) == [.accountClassesNotAllowedForCode])
        #expect(try await f.ledger.createTransfers([T.transfer(3, 10, 21, 10, code: .expense)]) == [.accountClassesNotAllowedForCode])
        // Own funds can: the exchange earned a fee, then pays an expense out of it.
        #expect(try await f.ledger.createTransfers([T.transfer(4, 1, 20, 10, code: .fee)]) == [.ok])
        #expect(try await f.ledger.createTransfers([T.transfer(5, 20, 21, 10, code: .expense)]) == [.ok])
    }

    // Goal: a fee moves only from a customer to own funds — every other route is refused.
    @Test(arguments: AccountClass.allCases)
    func feeOnlyFromCustomerToOwnFunds(debitClass: AccountClass) async throws {
        let table = SegregationTable.standard
        for creditClass in AccountClass.allCases {
            let allowed = table.allows(.fee, debit: debitClass, credit: creditClass)
            #expect(allowed == (debitClass == .customerLiability && creditClass == .ownFunds), "\(debitClass) → \(creditClass)")
        }
    }

    // Goal: customer liabilities are debited only by withdrawals, trades, fees, the write-off
    // of stolen coins and a manual correction (the last two always maker-checker under the
    // transfer controls); a quarantined deposit leaves quarantine only to its customer or back
    // out of the wallet.
    @Test func customerLiabilityDebitRoutes() {
        let table = SegregationTable.standard
        let codes = TransferCode.all.filter { code in
            AccountClass.allCases.contains { table.allows(code, debit: .customerLiability, credit: $0) }
        }
        #expect(codes == [.withdrawal, .trade, .fee, .incidentLoss, .correction])
        let quarantine = TransferCode.all.flatMap { code in
            AccountClass.allCases.filter { table.allows(code, debit: .quarantine, credit: $0) }.map { "\(code)→\($0)" }
        }
        #expect(quarantine == ["quarantine_release→customer_liability", "quarantine_return→customer_custody_holding"])
        // And the reserve fund only ever pays into compensation or back to own funds.
        let reserveRoutes = TransferCode.all.flatMap { code in
            AccountClass.allCases.filter { table.allows(code, debit: .reserveFund, credit: $0) }.map { "\(code)→\($0)" }
        }
        #expect(reserveRoutes == ["reserve_release→own_funds", "reserve_draw→compensation_payable"])
    }

    @Test func resultCodeNamesAreSnakeCase() {
        #expect(CreateTransferResult.debitAccountIDMustNotBeZero.name == "debit_account_id_must_not_be_zero")
        #expect(CreateTransferResult.existsWithDifferentUserData128.name == "exists_with_different_user_data_128")
        #expect(CreateTransferResult.accountClassesNotAllowedForCode.name == "account_classes_not_allowed_for_code")
        #expect(CreateAccountResult.ownerMustNotBeZero.name == "owner_must_not_be_zero")
    }
}
