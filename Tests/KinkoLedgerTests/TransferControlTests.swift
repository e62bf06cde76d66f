import KinkoCore
import KinkoGovernance
import KinkoLedger
import Testing

@Suite("Transfer-control policy")
struct TransferControlPolicyTests {
    // Goal: the built-in policy reads, with every control on and the maker-checker codes the
    // issue names (sweeps, reserve funding, release and draw, guarantee release, write-offs,
    // corrections).
    @Test func builtInPolicyReads() throws {
        let policy = try TransferControlPolicy(yaml: TransferControlPolicy.defaultYAML)
        #expect(policy.version == "2026.1-default")
        #expect(policy.makerCheckerCodes.isSuperset(of: [.segregationSweep, .reserveFunding, .reserveRelease, .reserveDraw, .guaranteeRelease,
                                                         .incidentLoss, .correction]))
        #expect(policy.tradeNeedsCounterLeg && policy.customerAccountsNoOverdraft && policy.depositsScreenedOnly && policy.withdrawalsTwoPhase)
        #expect(policy.approvers(for: .segregationSweep) == [.finance, .treasurer])
        #expect(policy.approvers(for: .quarantineRelease) == [.compliance])
        #expect(policy.approvers(for: .fee) == [.finance, .compliance])
        #expect(policy.approvalExpirySeconds == 72 * 3_600)
        #expect(policy.feeLine(asset: "BTC") == .init(ratePPM: 3000, flatMax: "0.0005"))
        #expect(policy.feeLine(asset: "SOL") == .init(ratePPM: 3000, flatMax: "0"))
    }
}

@Suite("Transfer controls: the counter-leg rule in the engine")
struct CounterLegRuleTests {
    static let jpy: UInt32 = 1
    let review = TransferReview(policy: .standard, facts: TransferFacts(), factsAvailable: false)

    /// Customers 101 (BTC 1, JPY 31), 102 (BTC 2, JPY 32) and 103 (JPY 33); 101 holds 100 BTC
    /// units and 102 1,000 yen.
    func fixture() async throws -> Fixture {
        let f = try await Fixture()
        #expect(try await f.ledger.createAccounts([
            Fixture.customer(31, owner: 101, ledger: Self.jpy), Fixture.customer(32, owner: 102, ledger: Self.jpy),
            Fixture.customer(33, owner: 103, ledger: Self.jpy),
            Account(id: AccountID(30), ledger: Self.jpy, code: 200, accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits),
        ]) == [.ok, .ok, .ok, .ok])
        try await f.deposit(900, customer: 1, 100)
        #expect(try await f.ledger.createTransfers([Fixture.transfer(901, 30, 32, 1_000, code: .deposit, ledger: Self.jpy)]) == [.ok])
        return f
    }

    func post(_ f: Fixture, _ events: [Transfer]) async throws -> [CreateTransferResult] {
        try await f.ledger.createTransfers(events, by: testCaller, review: review).results
    }

    // Goal: a trade leg debiting a customer posts only in a linked chain with a trade leg in
    // another asset crediting the same customer; the leg without one answers
    // trade_counter_leg_missing and its chain fails with it, nothing applied; the engine's own
    // answers come first; a retry answers exists; a replay reproduces the balances.
    @Test func tradeLegsNeedACounterLeg() async throws {
        let f = try await fixture()
        #expect(try await post(f, [Fixture.transfer(1, 1, 2, 10)]) == [.tradeCounterLegMissing])
        let untouched = try await f.balance(1)
        #expect(untouched.creditsPosted == 100 && untouched.debitsPosted == 0)

        let pair = [Fixture.transfer(2, 1, 2, 10, flags: .linked), Fixture.transfer(3, 32, 31, 500, ledger: Self.jpy)]
        #expect(try await post(f, pair) == [.ok, .ok])
        let (b1, b31, b32) = (try await f.balance(1), try await f.balance(31), try await f.balance(32))
        #expect(b1.debitsPosted == 10 && b31.creditsPosted == 500 && b32.debitsPosted == 500)
        let retried = try await post(f, pair)
        #expect(retried == [.exists, .linkedEventFailed], "\(retried)")

        // The yen goes to someone else: customer 101 is not paid back.
        #expect(try await post(f, [Fixture.transfer(4, 1, 2, 10, flags: .linked), Fixture.transfer(5, 32, 33, 100, ledger: Self.jpy)])
                == [.tradeCounterLegMissing, .linkedEventFailed])
        // Paid back in the same asset is no counter-leg.
        #expect(try await post(f, [Fixture.transfer(6, 1, 2, 10, flags: .linked), Fixture.transfer(7, 2, 1, 5)])
                == [.tradeCounterLegMissing, .linkedEventFailed])
        // The engine's own refusal comes first.
        #expect(try await post(f, [Fixture.transfer(8, 1, 2, 1_000, flags: .linked), Fixture.transfer(9, 32, 31, 1, ledger: Self.jpy)])
                == [.exceedsCredits, .linkedEventFailed])
        // A fee in the chain is not a trade leg and needs no counter-leg; a lone trade after a
        // good chain in the same batch is still refused, and the chain still posts.
        #expect(try await post(f, [
            Fixture.transfer(10, 1, 2, 10, flags: .linked), Fixture.transfer(11, 32, 31, 100, flags: .linked, ledger: Self.jpy),
            Fixture.transfer(12, 1, 20, 1, code: .fee), Fixture.transfer(13, 2, 1, 1),
        ]) == [.ok, .ok, .ok, .tradeCounterLegMissing])
        let (c1, c2, c31) = (try await f.balance(1), try await f.balance(2), try await f.balance(31))
        #expect(c1.debitsPosted == 21 && c2.creditsPosted == 20 && c2.debitsPosted == 0 && c31.creditsPosted == 600)

        // Without the review the engine keeps TigerBeetle's semantics: a lone leg posts.
        #expect(try await f.ledger.createTransfers([Fixture.transfer(14, 1, 2, 1)]) == [.ok])
        let reopened = try await Ledger.open(store: f.store, clock: f.clock)
        let before = try await f.balance(1)
        #expect(await reopened.account(AccountID(1))?.balance == before)
        #expect(try await reopened.verify(full: true).isValid)
    }
}

@Suite("Transfer controls: the guarantee headroom follows the guarantee share")
struct GuaranteeHeadroomTests {
    // Goal (issue 21): with guarantee crypto required at 150% of the hot coins and 15 units of
    // guarantee above what the hot coins require, a cold-to-hot transfer of 10 units (needing
    // ⌈10 × 1.5⌉ = 15 more) is parked for approval, and one of 11 (needing 17) is refused
    // exceeds_guarantee_headroom; at the law's 100% the 15 units allow exactly 15.
    @Test func coldToHotTakesTheShareOfHeadroom() async throws {
        let f = try await Fixture()
        #expect(try await f.ledger.createAccounts([
            Account(id: AccountID(11), ledger: Fixture.btc, code: 200, accountClass: .customerCustodyHolding, flags: .creditsMustNotExceedDebits),
        ]) == [.ok])
        #expect(try await f.ledger.createTransfers([Fixture.transfer(900, 11, 1, 100, code: .deposit)]) == [.ok])
        func review(percent: UInt64) -> TransferReview {
            var facts = TransferFacts()
            facts.hotAccounts = [AccountID(10)]
            facts.guaranteeHeadroom = [Fixture.btc: 15]
            facts.guaranteePercentOfHot = percent
            return TransferReview(policy: .standard, facts: facts, factsAvailable: true)
        }
        func post(_ id: UInt128, _ amount: UInt128, percent: UInt64) async throws -> CreateTransferResult? {
            try await f.ledger.createTransfers([Fixture.transfer(id, 10, 11, amount, code: .custodyTransfer)], by: testCaller, review: review(percent: percent))
                .results.first
        }
        #expect(try await post(1, 11, percent: 150) == .exceedsGuaranteeHeadroom)
        #expect(try await post(2, 10, percent: 150) == .ok)  // parked: pending until approved
        #expect(try await post(3, 16, percent: 100) == .exceedsGuaranteeHeadroom)
        #expect(try await post(4, 15, percent: 100) == .ok)
        let parked = try #require(await f.ledger.transfer(TransferID(2)))
        #expect(parked.flags.contains(.pending))
    }
}
