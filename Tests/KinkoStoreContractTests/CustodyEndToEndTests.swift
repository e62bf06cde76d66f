import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoStores
import Testing

@Suite("Custody end to end, on every database", .serialized)
struct CustodyEndToEndTests {
    static let start: TimestampNanoseconds = 1_795_305_600_000_000_000  // 2026-11-22T00:00:00Z, 09:00 JST

    // Goal: deposits → the check fails and proposes a rebalance → hot to cold under 2 of 3
    // signatures, guarantee topped up → the check passes → the day reconciles clean (twice,
    // identically) → a withdrawal to an address whitelisted an hour ago is refused → after 48 h
    // it is accepted.
    @Test(arguments: Backend.configured) func depositsRebalanceReconcileAndWhitelist(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness, start: Self.start)
            let (treasurer, _) = try await f.person("sato.treasury", [.treasurer])
            let (exchange, _) = try await f.person("matching-engine", [.operator])
            let (compliance, _) = try await f.person("takahashi.compliance", [.compliance])
            var signers: [(Caller, LocalSigningKey)] = []
            for name in ["signer.a", "signer.b", "signer.c"] {
                let (signer, _) = try await f.person(name, [.signer])
                signers.append((signer, try await f.key(for: signer, name == "signer.b" ? .p256 : .ed25519)))
            }
            let complianceKey = try await f.key(for: compliance)
            let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
            try await ledger.registerAssets(Asset.standard, by: f.admin)
            let custody = Custody(governance: f.governance, ledger: ledger, store: f.stores.custody, clock: f.clock)

            // Wallets and their ledger accounts.
            try await custody.saveVendor(Vendor(name: "acme-wallet", noticeDate: "2026-04-01", noticeReference: "FSA-2026-0042"), by: treasurer)
            for (id, temperature, purpose, asset) in [
                ("btc-hot", Temperature.hot, WalletPurpose.customerPool, "BTC"), ("btc-cold", .cold, .customerPool, "BTC"),
                ("btc-guarantee", .cold, .guarantee, "BTC"), ("btc-own", .hot, .ownFunds, "BTC"), ("jpy-trust", .cold, .customerPool, "JPY"),
            ] {
                let flags = try await custody.registerWallet(Wallet(id: id, chain: asset == "JPY" ? "bank-trust" : "bitcoin", temperature: temperature,
                                                                    purpose: purpose, assets: [asset], vendor: "acme-wallet", vendorVersion: "4.2"), by: treasurer)
                #expect(flags.isEmpty)
            }
            let hot = Wallet.accountID(wallet: "btc-hot", asset: "BTC"), own = Wallet.accountID(wallet: "btc-own", asset: "BTC")
            let trust = Wallet.accountID(wallet: "jpy-trust", asset: "JPY")
            let customers = try await ledger.createAccounts([1, 2].flatMap { (n: UInt128) in [
                Account(id: AccountID(n * 10 + 2), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: n),
                Account(id: AccountID(n * 10 + 1), ledger: 1, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: n),
            ] }, by: exchange)
            #expect(customers.allSatisfy { $0 == .ok })

            // Deposits: 10 BTC and ¥3,000,000 from two customers; the exchange puts 5 BTC of its own in.
            let deposits = try await ledger.createTransfers([
                Transfer(id: TransferID(1), debitAccountID: hot, creditAccountID: AccountID(12), amount: 600_000_000, ledger: 2, code: .deposit),
                Transfer(id: TransferID(2), debitAccountID: hot, creditAccountID: AccountID(22), amount: 400_000_000, ledger: 2, code: .deposit),
                Transfer(id: TransferID(3), debitAccountID: trust, creditAccountID: AccountID(11), amount: 3_000_000, ledger: 1, code: .deposit),
                Transfer(id: TransferID(4), debitAccountID: own, creditAccountID: Custody.feeAccountID(asset: "BTC"), amount: 500_000_000, ledger: 2, code: .capital),
            ], by: treasurer)
            #expect(deposits == [.ok, .ok, .ok, .ok])
            try await custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "1000000"), observedAt: f.clock.now(), source: "test")], by: exchange)
            try await observe(custody, f, treasurer, ["btc-hot": 1_000_000_000, "btc-cold": 0, "btc-guarantee": 0, "btc-own": 500_000_000])

            // Everything is hot: the check fails and proposes the least movement.
            let failing = try await custody.check(by: treasurer)
            #expect(!failing.passed)
            let proposal = try await custody.rebalancingProposal(by: treasurer)
            #expect(proposal.map { "\($0.kind.rawValue) \($0.from)→\($0.to) \($0.amount)" } == [
                "hot_to_cold btc-hot→btc-cold 950000000", "guarantee_top_up btc-own→btc-guarantee 50000000",
            ])

            // Each proposed movement: requested, approved by 2 of the 3 signers, released, broadcast, posted.
            for step in proposal {
                let draft = MovementDraft(kind: step.kind, fromWallet: step.from, toWallet: step.to, asset: step.asset, amount: step.amount)
                let movement = try await custody.requestMovement(draft, by: treasurer).get()
                let request = try #require(try await f.governance.store.request(movement.requestID))
                #expect(request.policy.approvalsRequired == 2 && request.policy.eligibleRoles == [.signer])
                let early = await #expect(throws: KinkoError.self) { try await custody.release(movement.id, by: treasurer) }
                #expect(early?.code == .approvalRequired)
                _ = try await f.approve(movement.requestID, by: signers[0].0, key: signers[0].1)
                #expect(try await f.approve(movement.requestID, by: signers[1].0, key: signers[1].1).isSatisfied)
                _ = try await custody.release(movement.id, by: treasurer)
                await #expect(throws: KinkoError.self) { try await custody.release(movement.id, by: treasurer) }
                #expect(try await custody.queue(by: exchange).map(\.id) == [movement.id])
                _ = try await custody.complete(movement.id, transactionHash: "tx-\(movement.id)", networkFee: .zero, by: exchange)
                #expect(try await custody.queue(by: exchange).isEmpty)
            }
            #expect(await ledger.account(hot)?.balance.netPosted(claim: false) == 50_000_000)
            #expect(await ledger.account(Wallet.accountID(wallet: "btc-guarantee", asset: "BTC"))?.balance.netPosted(claim: false) == 50_000_000)

            // The chain now shows what the ledger says; observed just before the 17:00 JST cut-off.
            f.clock.advance(seconds: 7 * 3600 + 59 * 60)
            try await observe(custody, f, treasurer, ["btc-hot": 50_000_000, "btc-cold": 950_000_000, "btc-guarantee": 50_000_000, "btc-own": 450_000_000])
            try await custody.recordBalances([BalanceObservation(wallet: "jpy-trust", asset: "JPY", amount: Amount(units: 3_000_000), observedAt: f.clock.now(), source: "trust bank")], by: treasurer)
            try await custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "1000000"), observedAt: f.clock.now(), source: "test")], by: exchange)
            let passing = try await custody.check(by: treasurer)
            #expect(passing.passed)
            #expect(passing.assets.first?.hotShareBasisPoints == 500)

            // A deposit after the cut-off changes nothing for the day.
            f.clock.advance(seconds: 2 * 60)
            #expect(try await ledger.createTransfers([
                Transfer(id: TransferID(5), debitAccountID: hot, creditAccountID: AccountID(12), amount: 1, ledger: 2, code: .deposit),
            ], by: exchange) == [.ok])
            // Separate duties: the treasurer who recorded the balances may not reconcile the day
            // (refused and audited); a second treasurer may.
            // The cut-off has passed and nobody has reconciled: the day is missed.
            #expect(try await custody.unreconciledDays(days: 7, by: compliance) == ["2026-11-22"])
            #expect(try await custody.unreconciledDays(days: Custody.unreconciledDaysMax, by: compliance) == ["2026-11-22"])
            for days in [0, Custody.unreconciledDaysMax + 1] {
                let refused = await #expect(throws: KinkoError.self) { try await custody.unreconciledDays(days: days, by: compliance) }
                #expect(refused?.field == "days")
            }
            let refusal = await #expect(throws: KinkoError.self) { try await custody.reconcile(day: "2026-11-22", by: treasurer) }
            #expect(refusal?.code == .forbidden && refusal?.field == "day" && refusal?.message.contains("separate duties: sato.treasury recorded the balance of wallet") == true)
            #expect(try await custody.store.reconciliation(day: "2026-11-22") == nil)
            let audit = try await f.governance.store.auditEntries(from: 0, limit: 100_000).map { try AuditEntry(bytes: $0.bytes) }
            #expect(audit.contains { $0.event.action == "custody.reconcile" && $0.event.result == "refused: forbidden" && $0.event.details["wallet"] != nil })
            let (reconciler, _) = try await f.person("ito.treasury", [.treasurer])
            let day = try await custody.reconcile(day: "2026-11-22", by: reconciler)
            #expect(day.isClean, "\(day.breaks)")
            #expect(day.lines.map { "\($0.asset) \($0.liabilities) \($0.ledgerHoldings) \($0.observed?.description ?? "-")" } == [
                "JPY 3000000 3000000 3000000", "BTC 1000000000 1000000000 1000000000",
            ])
            #expect(try await custody.reconcile(day: "2026-11-22", by: reconciler) == day)
            #expect(try await custody.unreconciledDays(days: 7, by: compliance).isEmpty)
            #expect(try await custody.store.reconciliation(day: "2026-11-22") == day)
            // Both runs are kept, numbered, with who ran them and what they found.
            let runs = try await custody.reconciliationRuns(day: "2026-11-22", by: compliance)
            #expect(runs.map(\.run) == [1, 2] && runs.allSatisfy { $0.by == "ito.treasury" && $0.isClean && $0.day == "2026-11-22" })
            #expect(runs[0].report == runs[1].report && runs[0].report.hasPrefix("Segregation reconciliation 2026-11-22") && runs[0].report.contains("BTC: owed to customers 10.00000000"))
            #expect(runs[1].computedAt == f.clock.now() && runs[0].computedAt == f.clock.now())
            #expect(try await custody.reconciliationRuns(day: "2026-11-21", by: compliance).isEmpty)
            let badDay = await #expect(throws: KinkoError.self) { try await custody.reconciliationRuns(day: "2026-02-30", by: compliance) }
            #expect(badDay?.field == "day")
            let tomorrow = await #expect(throws: KinkoError.self) { try await custody.reconcile(day: "2026-11-23", by: reconciler) }
            #expect(tomorrow?.field == "day")

            // The whitelist: approved by compliance, usable 48 h later.
            let address = "bc1qexternalexchangehotwallet"
            let entry = try await custody.requestWhitelist(asset: "BTC", address: address, label: "partner exchange", by: treasurer)
            _ = try await f.approve(entry.requestID, by: compliance, key: complianceKey)
            _ = try await custody.activateWhitelist(entry.id, by: treasurer)
            f.clock.advance(seconds: 3600)
            try await observe(custody, f, treasurer, ["btc-own": 450_000_000])
            try await custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "1000000"), observedAt: f.clock.now(), source: "test")], by: exchange)
            let withdrawal = MovementDraft(kind: .withdrawal, fromWallet: "btc-own", toAddress: address, asset: "BTC", amount: Amount(units: 100_000_000))
            guard case .failure(let refusal) = try await custody.requestMovement(withdrawal, by: treasurer) else {
                Issue.record("an address whitelisted an hour ago was accepted")
                return
            }
            #expect(refusal.rule == .whitelist && refusal.message.hasSuffix("172800 s from now") == false && refusal.message.contains("becomes usable at"))
            f.clock.advance(seconds: 47 * 3600)
            try await observe(custody, f, treasurer, ["btc-own": 450_000_000])
            try await custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "1000000"), observedAt: f.clock.now(), source: "test")], by: exchange)
            let accepted = try await custody.requestMovement(withdrawal, by: treasurer).get()
            #expect(accepted.status == .awaitingApproval)
            // Every step above is in the audit log, which verifies.
            let report = try await f.governance.verifyAudit(publicKey: f.publicKey)
            #expect(report.problems == [])
        }
    }

    // Goal: the hot share over time is the check as it stood at each 17:00 JST cut-off, from
    // the balances observed by then (a later observation never reaches back); a day whose
    // balances had gone stale is missing, not 0%; the last point is now; the number of days
    // is held to its range. (Every role may read custody figures.)
    @Test(arguments: Backend.configured) func theHotShareHistoryIsTheCheckAtEachCutoff(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let f = try await GovernanceFixture(harness, start: Self.start)  // 09:00 JST on 2026-11-22
            let (treasurer, _) = try await f.person("sato.treasury", [.treasurer])
            let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
            try await ledger.registerAssets(Asset.standard, by: f.admin)
            let custody = Custody(governance: f.governance, ledger: ledger, store: f.stores.custody, clock: f.clock)
            try await custody.saveVendor(Vendor(name: "acme-wallet", noticeDate: "2026-04-01", noticeReference: "FSA-2026-0042"), by: treasurer)
            for (id, temperature) in [("btc-hot", Temperature.hot), ("btc-cold", .cold)] {
                _ = try await custody.registerWallet(Wallet(id: id, chain: "bitcoin", temperature: temperature, purpose: .customerPool, assets: ["BTC"],
                                                            vendor: "acme-wallet", vendorVersion: "4.2"), by: treasurer)
            }
            let hour: UInt64 = 3_600
            try await observe(custody, f, treasurer, ["btc-hot": 100, "btc-cold": 900])  // 10% at 09:00 JST, day 1
            f.clock.advance(seconds: 25 * hour)
            try await observe(custody, f, treasurer, ["btc-hot": 40, "btc-cold": 960])  // 4% at 10:00 JST, day 2
            f.clock.advance(seconds: 47 * hour)  // day 3 passes unobserved: at its cut-off day 2's figures are 31 h old
            try await observe(custody, f, treasurer, ["btc-hot": 33, "btc-cold": 967])  // 09:00 JST, day 4

            let points = try await custody.hotShareHistory(days: 4, by: treasurer)
            let second: TimestampNanoseconds = 1_000_000_000
            let cutoff1 = Self.start + 8 * hour * second  // 17:00 JST, day 1
            #expect(points.map(\.time) == [cutoff1 - 24 * hour * second, cutoff1, cutoff1 + 24 * hour * second, cutoff1 + 48 * hour * second, f.clock.now()])
            #expect(points.map { $0.basisPoints["BTC"] } == [nil, 1_000, 400, nil, 330])
            #expect(points.map(\.missing) == [["BTC"], [], [], ["BTC"], []])
            #expect(try await custody.hotShareHistory(days: Custody.hotShareHistoryDaysMax, by: treasurer).count == Custody.hotShareHistoryDaysMax + 1)
            for days in [0, Custody.hotShareHistoryDaysMax + 1] {
                let refused = await #expect(throws: KinkoError.self) { try await custody.hotShareHistory(days: days, by: treasurer) }
                #expect(refused?.field == "days")
            }
        }
    }

    private func observe(_ custody: Custody, _ f: GovernanceFixture, _ caller: Caller, _ balances: [String: UInt128]) async throws {
        try await custody.recordBalances(balances.sorted { $0.key < $1.key }.map {
            BalanceObservation(wallet: $0.key, asset: "BTC", amount: Amount(units: $0.value), observedAt: f.clock.now(), source: "node")
        }, by: caller)
    }
}
