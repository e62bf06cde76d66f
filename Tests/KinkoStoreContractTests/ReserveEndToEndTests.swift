import Foundation
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
@testable import KinkoReserve
import KinkoStores
import Testing

@Suite("Reserve and incidents end to end, on every database", .serialized)
struct ReserveEndToEndTests {
    static let start: TimestampNanoseconds = 1_795_305_600_000_000_000  // 2026-11-22T00:00:00Z

    struct World {
        let f: GovernanceFixture
        let ledger: Ledger
        let custody: Custody
        let reserve: Reserve
        let finance: Caller, finance2: Caller, compliance: Caller, treasurer: Caller, exchange: Caller, administrator: Caller
        let complianceKey: LocalSigningKey, finance2Key: LocalSigningKey

        /// Moves `amount` yen from own funds into the reserve fund: finance asks, compliance approves.
        func fundReserve(_ amount: Amount) async throws {
            let funding = try await reserve.requestFunding(amount, release: false, by: finance)
            _ = try await f.approve(funding.id, by: compliance, key: complianceKey)
            _ = try await reserve.executeFunding(funding.id, by: finance)
        }
    }

    static func world(_ harness: StoreHarness) async throws -> World {
        let f = try await GovernanceFixture(harness, start: start)
        let (finance, _) = try await f.person("tanaka.finance", [.finance])
        let (finance2, _) = try await f.person("yamamoto.finance", [.finance])
        let (compliance, _) = try await f.person("takahashi.compliance", [.compliance])
        let (treasurer, _) = try await f.person("sato.treasury", [.treasurer])
        let (exchange, _) = try await f.person("matching-engine", [.operator])
        let (administrator, _) = try await f.person("court.administrator", [.administrator])
        let complianceKey = try await f.key(for: compliance), finance2Key = try await f.key(for: finance2, .p256)
        let ledger = try await Ledger.open(store: f.stores.ledger, clock: f.clock)
        try await ledger.registerAssets(Asset.standard, by: f.admin)
        let custody = Custody(governance: f.governance, ledger: ledger, store: f.stores.custody, clock: f.clock)
        let reserve = Reserve(governance: f.governance, ledger: ledger, custody: custody, store: f.stores.reserve, clock: f.clock)
        try await custody.saveVendor(Vendor(name: "acme", noticeDate: "2026-04-01", noticeReference: "N-1"), by: treasurer)
        for (id, purpose, asset) in [("btc-hot", WalletPurpose.customerPool, "BTC"), ("jpy-trust", .customerPool, "JPY"), ("jpy-own", .ownFunds, "JPY")] {
            _ = try await custody.registerWallet(Wallet(id: id, chain: "x", temperature: .hot, purpose: purpose, assets: [asset], vendor: "acme", vendorVersion: "1"), by: treasurer)
        }
        let accounts = try await ledger.createAccounts((1...3 as ClosedRange<UInt128>).flatMap { n in [
            Account(id: AccountID(n * 10 + 2), ledger: 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: n),
            Account(id: AccountID(n * 10 + 1), ledger: 1, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits, owner: n),
        ] }, by: exchange)
        #expect(accounts.allSatisfy { $0 == .ok })
        let hot = Wallet.accountID(wallet: "btc-hot", asset: "BTC")
        #expect(try await ledger.createTransfers([
            Transfer(id: TransferID(1), debitAccountID: hot, creditAccountID: AccountID(12), amount: 60_000_000, ledger: 2, code: .deposit),
            Transfer(id: TransferID(2), debitAccountID: hot, creditAccountID: AccountID(22), amount: 30_000_000, ledger: 2, code: .deposit),
            Transfer(id: TransferID(3), debitAccountID: hot, creditAccountID: AccountID(32), amount: 10_000_000, ledger: 2, code: .deposit),
            Transfer(id: TransferID(4), debitAccountID: Wallet.accountID(wallet: "jpy-own", asset: "JPY"), creditAccountID: Custody.feeAccountID(asset: "JPY"),
                     amount: 10_000_000, ledger: 1, code: .capital),
        ], by: treasurer) == [.ok, .ok, .ok, .ok])
        return World(f: f, ledger: ledger, custody: custody, reserve: reserve, finance: finance, finance2: finance2, compliance: compliance,
                     treasurer: treasurer, exchange: exchange, administrator: administrator, complianceKey: complianceKey, finance2Key: finance2Key)
    }

    // Goal (issue 21, item 6): with a reserve account registered, funding moves the cash with the
    // fund — linked, from the exchange's own yen account into the reserve's (a class of its own,
    // reserve_holding) — so it cannot move more than the own account holds; a release moves it
    // back; the day's reconciliation finds the reserve backed, then a yen short when observed so.
    @Test(arguments: Backend.configured) func fundingMovesTheCashIntoTheReserveAccount(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            _ = try await w.custody.registerWallet(Wallet(id: "jpy-reserve", chain: "bank", temperature: .cold, purpose: .reserve, assets: ["JPY"],
                                                          vendor: "acme", vendorVersion: "1"), by: w.treasurer)
            let own = Wallet.accountID(wallet: "jpy-own", asset: "JPY"), held = Wallet.accountID(wallet: "jpy-reserve", asset: "JPY")
            #expect(await w.ledger.account(held)?.account.accountClass == .reserveHolding)
            // The world's own account holds ¥10,000,000 of capital: ¥10,000,001 cannot be set aside.
            let tooMuch = await #expect(throws: KinkoError.self) { try await w.fundReserve(Amount(units: 10_000_001)) }
            #expect(tooMuch?.code == .conflict && tooMuch?.message.contains("exceeds_debits") == true, "\(String(describing: tooMuch))")
            #expect(await w.reserve.funded() == .zero)
            #expect(await w.ledger.account(held)?.balance.netPosted(claim: false) == 0)
            try await w.fundReserve(Amount(units: 2_000_000))
            #expect(await w.reserve.funded() == Amount(units: 2_000_000))
            #expect(await w.ledger.account(held)?.balance.netPosted(claim: false) == 2_000_000)
            #expect(await w.ledger.account(own)?.balance.netPosted(claim: false) == 8_000_000)

            // The day's reconciliation: backed, then one yen short as observed.
            w.f.clock.advance(seconds: 86_400)
            let day = CalendarDay.text(daysSinceEpoch: Int64((w.f.clock.now() / 1_000_000_000 + 9 * 3_600) / 86_400) - 1)
            func reconcile(observed: UInt128) async throws -> Reconciliation {
                try await w.custody.recordBalances([BalanceObservation(wallet: "jpy-reserve", asset: "JPY", amount: Amount(units: observed),
                                                                       observedAt: try Reconciliation.cutoff(day: day, hourJST: 17) - 1, source: "bank")], by: w.treasurer)
                return try await w.custody.reconcile(day: day, by: w.finance)
            }
            let backed = try await reconcile(observed: 2_000_000)
            #expect(backed.reserveLines == [.init(asset: "JPY", fund: Amount(units: 2_000_000), ledgerHoldings: Amount(units: 2_000_000), observed: Amount(units: 2_000_000))])
            #expect(!backed.breaks.contains { $0.kind == .reserve || $0.wallet == "jpy-reserve" })
            let short = try await reconcile(observed: 1_999_999)
            #expect(short.breaks.filter { $0.kind == .reserve }.map(\.size) == [Amount(units: 1)])
            #expect(try await w.custody.reconciliation(day: day, by: w.finance).breaks.contains { $0.kind == .reserve })
        }
    }

    // Goal: a rule set takes effect only once approved; funding moves yen into the reserve fund
    // under approval; the requirement is computed with every line and a shortfall raises an alert.
    @Test(arguments: Backend.configured) func rulesFundingAndRequirement(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            let (_, request) = try await w.reserve.ruleSets.propose(yaml: RuleSet.defaultYAML, by: w.finance)
            let early = await #expect(throws: KinkoError.self) { try await w.reserve.ruleSets.adopt(version: "2026.1-default", by: w.finance) }
            #expect(early?.code == .approvalRequired)
            _ = try await w.f.approve(request.id, by: w.compliance, key: w.complianceKey)
            _ = try await w.reserve.ruleSets.adopt(version: "2026.1-default", by: w.finance)
            #expect(try await w.reserve.ruleSets.current()?.version == "2026.1-default")

            let funding = try await w.reserve.requestFunding(Amount(units: 3_000_000), release: false, by: w.finance)
            await #expect(throws: KinkoError.self) { try await w.reserve.executeFunding(funding.id, by: w.finance) }
            _ = try await w.f.approve(funding.id, by: w.compliance, key: w.complianceKey)
            #expect(try await w.reserve.executeFunding(funding.id, by: w.finance) == Amount(units: 3_000_000))
            await #expect(throws: KinkoError.self) { try await w.reserve.executeFunding(funding.id, by: w.finance) }
            #expect(await w.reserve.funded() == Amount(units: 3_000_000))

            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            try await w.custody.recordBalances([BalanceObservation(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 100_000_000), observedAt: w.f.clock.now(), source: "t")], by: w.treasurer)
            let (requirement, funded) = try await w.reserve.compute(by: w.finance)
            #expect(requirement.required == Amount(units: 2_000_000_000) && funded == Amount(units: 3_000_000))
            #expect(requirement.lines.map(\.name) == ["volume.derivatives", "volume.margin", "volume.spot", "custody.cold", "custody.hot", "incidents",
                                                      "floor_and_cap", "insurance_offset", "required"])
            #expect(requirement.lines.first { $0.name == "custody.hot" }?.amount == Amount(units: 300_000))  // ¥15m hot × 2%
            let alerts = try await w.custody.store.alerts()
            #expect(alerts.map(\.kind) == ["reserve_shortfall"])
            #expect(try await w.reserve.store.adequacy().map(\.isShort) == [true])
            await #expect(throws: KinkoError.self) { try await w.reserve.compute(by: w.treasurer) }
        }
    }

    // Goal (issue 21, item 6): a release may take the fund down to the last computed requirement
    // and not a yen below it: ¥1 past the headroom is refused (audited), exactly the headroom goes.
    @Test(arguments: Backend.configured) func aReleaseStopsAtTheRequirement(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            let yaml = RuleSet.defaultYAML.replacingOccurrences(of: "floor_jpy: \"2000000000\"", with: "floor_jpy: \"5000000\"")
            let (rules, request) = try await w.reserve.ruleSets.propose(yaml: yaml, by: w.finance)
            _ = try await w.f.approve(request.id, by: w.compliance, key: w.complianceKey)
            _ = try await w.reserve.ruleSets.adopt(version: rules.version, by: w.finance)
            try await w.fundReserve(Amount(units: 5_000_010))
            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            try await w.custody.recordBalances([BalanceObservation(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 100_000_000), observedAt: w.f.clock.now(), source: "t")], by: w.treasurer)
            let (requirement, funded) = try await w.reserve.compute(by: w.finance)
            #expect(requirement.required == Amount(units: 5_000_000) && funded == Amount(units: 5_000_010))
            #expect(try await w.reserve.releaseHeadroom() == Amount(units: 10))
            let past = await #expect(throws: KinkoError.self) { try await w.reserve.requestFunding(Amount(units: 11), release: true, by: w.finance) }
            #expect(past?.code == .approvalRefused && past?.message.contains("at most ¥10 may be released") == true, "\(String(describing: past))")
            // At the limit: filed, approved, executed; the fund stands at the requirement.
            let atLimit = try await w.reserve.requestFunding(Amount(units: 10), release: true, by: w.finance)
            _ = try await w.f.approve(atLimit.id, by: w.compliance, key: w.complianceKey)
            #expect(try await w.reserve.executeFunding(atLimit.id, by: w.finance) == Amount(units: 5_000_000))
            #expect(try await w.reserve.releaseHeadroom() == .zero)
            let again = await #expect(throws: KinkoError.self) { try await w.reserve.requestFunding(Amount(units: 1), release: true, by: w.finance) }
            #expect(again?.code == .approvalRefused)
        }
    }

    // Goal (issue 21): a loss is valued at the latest price observed even when that price is
    // stale — counted as ¥0 it understated the reserve's requirement right after a hack; with no
    // price ever observed nothing is declared (and no wallet frozen), and the error says what to do.
    @Test(arguments: Backend.configured) func aLossIsValuedAtTheLatestPriceEvenWhenStale(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            let loss = [IncidentLoss(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 50_000_000))]
            w.f.clock.advance(seconds: 1)
            let unpriced = await #expect(throws: KinkoError.self) {
                try await w.reserve.declare(lossType: "hack", losses: loss, lostAt: w.f.clock.now(), detectedAt: w.f.clock.now(), by: w.finance)
            }
            #expect(unpriced?.code == .conflict && unpriced?.field == "losses" && unpriced?.message.contains("no JPY price was ever observed for BTC") == true)
            #expect(try await w.reserve.incidents(by: w.finance).isEmpty)
            let movement = try await w.custody.requestMovement(MovementDraft(kind: .hotToCold, fromWallet: "btc-hot", toWallet: "btc-hot", asset: "BTC", amount: Amount(units: 1)),
                                                               by: w.treasurer)
            if case .failure(let refusal) = movement { #expect(refusal.rule != .frozen, "a refused declaration froze the wallet") }

            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            w.f.clock.advance(seconds: 2 * 86_400)  // far past the hour a price stays fresh
            let lostAt = w.f.clock.now()
            w.f.clock.advance(seconds: 60)
            let incident = try await w.reserve.declare(lossType: "hack", losses: loss, lostAt: lostAt, detectedAt: w.f.clock.now(), by: w.finance)
            #expect(incident.lossJPY == Amount(units: 7_500_000))
            // The valuation is kept with the incident and shown in the requirement's line.
            let valuation = "BTC ¥15000000 observed \((lostAt - 2 * 86_400_000_000_000).iso8601), 2 d 0 h before declaration (stale)"
            #expect(incident.valuation == valuation)
            #expect(try await w.reserve.incidents(by: w.finance).map(\.valuation) == [valuation])
            let (_, request) = try await w.reserve.ruleSets.propose(yaml: RuleSet.defaultYAML, by: w.finance)
            _ = try await w.f.approve(request.id, by: w.compliance, key: w.complianceKey)
            _ = try await w.reserve.ruleSets.adopt(version: "2026.1-default", by: w.finance)
            // Fresh figures for today's requirement do not revalue the declared loss.
            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "9000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            try await w.custody.recordBalances([BalanceObservation(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 50_000_000), observedAt: w.f.clock.now(), source: "t")],
                                               by: w.treasurer)
            let (requirement, _) = try await w.reserve.compute(by: w.finance)
            let line = try #require(requirement.lines.first { $0.name == "incidents" })
            #expect(line.amount == Amount(units: 7_500_000) && line.inputs.hasSuffix("; incident \(incident.id) valued at \(valuation)"))
        }
    }

    // Goal (issue 21, item 6): the reserve fund pays only for the loss types the rule set
    // covers (hacks and other unauthorised outflows): an operational error is planned from own
    // funds alone, to the yen, with the reserve fund untouched.
    @Test(arguments: Backend.configured) func theReserveFundPaysOnlyForCoveredLosses(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            try await w.fundReserve(Amount(units: 3_000_000))
            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            w.f.clock.advance(seconds: 1)
            let lostAt = w.f.clock.now()
            w.f.clock.advance(seconds: 60)
            let incident = try await w.reserve.declare(lossType: "operational_error", losses: [IncidentLoss(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 10_000_000))],
                                                       lostAt: lostAt, detectedAt: w.f.clock.now(), by: w.finance)
            let plan = try await w.reserve.plan(incident: incident.id, asset: "BTC", mode: .jpy(try JPYPrice(decimal: "15000000")), by: w.finance).plan
            #expect(plan.totalPayment == Amount(units: 1_500_000))
            #expect(plan.sources.map { "\($0.kind.rawValue):\($0.amount)" } == ["own_funds:1500000"])
            #expect(plan.shortfall == .zero)
            #expect(await w.reserve.funded() == Amount(units: 3_000_000))
        }
    }

    // Goal: an incident freezes its wallet and snapshots entitlements; the JPY plan is exact to
    // the yen, needs finance and compliance, pays exactly once even after a crash mid-way, and
    // takes the sources in order (insurance only in force and covering hacks).
    @Test(arguments: Backend.configured) func incidentPaidEndToEnd(_ backend: Backend) async throws {
        try await StoreHarness.with(backend) { harness in
            let w = try await Self.world(harness)
            try await w.fundReserve(Amount(units: 3_000_000))
            for (insurer, coverage, starts, ends) in [("Tokio", "hack", "2026-04-01", "2027-03-31"), ("Sompo", "hack", "2025-04-01", "2026-03-31"), ("MS&AD", "fire", "2026-04-01", "2027-03-31")] {
                _ = try await w.reserve.addPolicy(InsurancePolicy(id: 0, insurer: insurer, coverage: [coverage], limit: Amount(units: 1_000_000),
                                                                  deductible: Amount(units: 100_000), starts: starts, ends: ends), by: w.finance)
            }
            try await w.custody.recordPrices([PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: w.f.clock.now(), source: "t")], by: w.exchange)
            try await w.custody.recordBalances([BalanceObservation(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 100_000_000), observedAt: w.f.clock.now(), source: "t")], by: w.treasurer)
            w.f.clock.advance(seconds: 1)  // the hand-moved clock stands still; the ledger's stamps run a few ns ahead
            let lostAt = w.f.clock.now()
            w.f.clock.advance(seconds: 600)
            // A trade after the loss must not change who lost what.
            #expect(try await w.ledger.createTransfers([
                Transfer(id: TransferID(9), debitAccountID: AccountID(12), creditAccountID: AccountID(32), amount: 10_000_000, ledger: 2, code: .trade),
            ], by: w.exchange) == [.ok])
            let incident = try await w.reserve.declare(lossType: "hack", losses: [IncidentLoss(wallet: "btc-hot", asset: "BTC", amount: Amount(units: 50_000_000))],
                                                       lostAt: lostAt, detectedAt: w.f.clock.now(), by: w.finance)
            #expect(incident.lossJPY == Amount(units: 7_500_000))
            let frozen = try await w.custody.requestMovement(MovementDraft(kind: .hotToCold, fromWallet: "btc-hot", toWallet: "btc-hot", asset: "BTC", amount: Amount(units: 1)), by: w.treasurer)
            guard case .failure(let refusal) = frozen else { Issue.record("a frozen wallet accepted a movement"); return }
            #expect(refusal.rule == .frozen)
            #expect(try await w.reserve.store.entitlements(incident: incident.id, asset: "BTC").map(\.amount.units) == [60_000_000, 30_000_000, 10_000_000])

            let stored = try await w.reserve.plan(incident: incident.id, asset: "BTC", mode: .jpy(try JPYPrice(decimal: "15000000")), by: w.finance)
            let plan = stored.plan
            #expect(plan.shares.map(\.units) == [30_000_000, 15_000_000, 5_000_000])
            #expect(plan.payments.map(\.units) == [4_500_000, 2_250_000, 750_000] && plan.totalPayment == Amount(units: 7_500_000))
            // The hack policy in force pays above its ¥100,000 deductible up to its ¥1,000,000 limit;
            // the lapsed one and the fire policy do not count.
            #expect(plan.sources.map { "\($0.kind.rawValue):\($0.amount)" } == ["reserve_fund:3000000", "insurance:1000000", "own_funds:3500000"])
            #expect(plan.shortfall == .zero)
            // Without quorum it is refused; finance alone is not enough (compliance must sign too).
            let refused = await #expect(throws: KinkoError.self) { try await w.reserve.pay(incident: incident.id, asset: "BTC", by: w.finance) }
            #expect(refused?.code == .approvalRequired)
            _ = try await w.f.approve(stored.requestID, by: w.finance2, key: w.finance2Key)
            await #expect(throws: KinkoError.self) { try await w.reserve.pay(incident: incident.id, asset: "BTC", by: w.finance) }
            _ = try await w.f.approve(stored.requestID, by: w.compliance, key: w.complianceKey)

            // A crash mid-way: the first half of the transfers is already posted.
            let transfers = try await w.reserve.transfers(plan, incident: incident)
            #expect(try await w.ledger.createTransfers(Array(transfers.prefix(transfers.count / 2)), by: w.finance).allSatisfy { $0 == .ok })
            let paid = try await w.reserve.pay(incident: incident.id, asset: "BTC", by: w.finance)
            #expect(paid.status == .paid && paid.secondsToCompensation == 0)
            await #expect(throws: KinkoError.self) { try await w.reserve.pay(incident: incident.id, asset: "BTC", by: w.finance) }

            // Every yen and satoshi where it should be.
            var customers: [UInt128] = []
            for id in [12, 22, 32, 11, 21, 31] as [UInt128] { customers.append(await w.ledger.account(AccountID(id))?.balance.netPosted(claim: true) ?? 0) }
            #expect(customers == [20_000_000, 15_000_000, 15_000_000, 4_500_000, 2_250_000, 750_000])
            #expect(await w.ledger.account(Reserve.compensationPayableAccountID(asset: "JPY"))?.balance.netPosted(claim: true) == 0)
            #expect(await w.reserve.funded() == .zero)
            #expect(await w.ledger.account(Wallet.accountID(wallet: "btc-hot", asset: "BTC"))?.balance.netPosted(claim: false) == 50_000_000)
            #expect(await w.ledger.account(Wallet.accountID(wallet: "jpy-trust", asset: "JPY"))?.balance.netPosted(claim: false) == 7_500_000)
            #expect(try await w.reserve.store.policies().map(\.claimed.units) == [1_000_000, 0, 0])
            let statement = try await w.reserve.statement(incident: incident.id, asset: "BTC", by: w.finance)
            #expect(statement.map(\.payment.units) == [4_500_000, 2_250_000, 750_000])
            #expect(try await w.ledger.verify(full: true).problems == [])

            // Insolvency: every wallet freezes; the schedule's totals reconcile to the ledger.
            await #expect(throws: KinkoError.self) { try await w.reserve.enterInsolvency(by: w.finance) }
            try await w.reserve.enterInsolvency(by: w.administrator)
            #expect(try await w.custody.store.wallets().allSatisfy(\.isFrozen))
            let schedule = try await w.reserve.distributionSchedule(by: w.administrator)
            let btc = try #require(schedule.totals.first { $0.asset == "BTC" })
            #expect(btc.claims == Amount(units: 50_000_000) && btc.customerHoldings == Amount(units: 50_000_000) && btc.distributed == btc.claims)
            let jpy = try #require(schedule.totals.first { $0.asset == "JPY" })
            #expect(jpy.claims == Amount(units: 7_500_000) && jpy.distributed == Amount(units: 7_500_000))
        }
    }
}
