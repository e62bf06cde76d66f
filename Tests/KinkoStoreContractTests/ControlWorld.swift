import Foundation
import KinkoBitcoin
import KinkoControls
import KinkoCore
import KinkoCustody
import KinkoGovernance
import KinkoLedger
import KinkoMonitoring
import KinkoPlaybook
import KinkoReserve
import KinkoStores
import Testing

/// A small exchange in full working order, on one database: two admins; one person per role
/// (the actors the "one person" suite tries every attempt as) and the staff who set the scene
/// (their own operator, treasurer, finance and compliance officers, three signers); customers 1
/// and 2 with yen and bitcoin; monitoring live with a sanctions list; the day reconciled; and
/// standing situations to attack — a blocked, a held and a cleared withdrawal, a quarantined
/// deposit, a blocking alert, a movement waiting for signers, a frozen wallet, a parked
/// correction, a whitelisted address.
struct ControlWorld {
    let f: GovernanceFixture
    let x: Exchange
    let actors: [Role: Member]
    let ops: Member, treasury: Member, finance: Member, compliance: Member, compliance2: Member
    let signers: [Member]

    var governance: Governance { f.governance }
    var second: Member { f.staff.admins[1] }

    // Accounts.
    static let c1JPY = AccountID(11), c1BTC = AccountID(12), c2JPY = AccountID(21), c2BTC = AccountID(22)
    static let trust = Wallet.accountID(wallet: "jpy-trust", asset: "JPY")
    static let btcHot = Wallet.accountID(wallet: "btc-hot", asset: "BTC")
    static let btcCold = Wallet.accountID(wallet: "btc-cold", asset: "BTC")
    static let btcGuarantee = Wallet.accountID(wallet: "btc-guarantee", asset: "BTC")
    static let btcOwnHolding = Wallet.accountID(wallet: "btc-own", asset: "BTC")
    static let jpyOwnHolding = Wallet.accountID(wallet: "jpy-own", asset: "JPY")
    static let ownJPY = Custody.feeAccountID(asset: "JPY"), ownBTC = Custody.feeAccountID(asset: "BTC")
    static let reserveJPY = Reserve.reserveFundAccountID(asset: "JPY")
    static let payableJPY = Reserve.compensationPayableAccountID(asset: "JPY")
    static let c2Quarantine = Deposits.quarantineAccountID(for: c2BTC)

    static let sanctioned = "bc1qsanctioned0ofac0address"
    static let whitelisted = "bc1qexchange0settlement"
    static let frozenWallet = "xrp-hot"
    static let day = "2026-11-22"
    /// 2026-11-20T00:00:00Z; the whitelist's 48 hours later it is the 22nd, reconciled at 17:00 JST.
    static let start: TimestampNanoseconds = 1_795_132_800_000_000_000

    // Standing situations.
    static let blockedWithdrawal = TransferID(501), heldWithdrawal = TransferID(502), clearedWithdrawal = TransferID(503)
    static let quarantinedDeposit = TransferID(405)
    static let parkedCorrection = TransferID(601)
    let blockAlert: UInt64
    let pendingMovement: UInt64
    let parkedCorrectionRequest: ApprovalRequestID
    /// Bitcoin: the setup signers' registered keys (account 0 of each, then a second key of
    /// the first signer), and a challenge issued to the second signer, not yet answered.
    let vaultKeys: [String]
    let foreignChallenge: String

    static func btc(_ text: String) -> UInt128 { (try? Amount(decimal: text, scale: 8).units) ?? 0 }

    static func build(_ harness: StoreHarness) async throws -> ControlWorld {
        // Every refusal of the suite is checked for its own audit entry: no refusal limit here
        // (the limit has its own tests).
        let f = try await GovernanceFixture(harness, start: start, refusals: try RefusalLimiter.Settings(refusalsPerWindowMax: 10_000, windowSeconds: 60))
        let x = Exchange(governance: f.governance, ledger: try await Ledger.open(store: f.stores.ledger, clock: f.clock),
                         custodyStore: f.stores.custody, reserveStore: f.stores.reserve, monitoringStore: f.stores.monitoring, clock: f.clock)
        let staff = f.staff
        var actors: [Role: Member] = [.admin: staff.admins[0]]
        for role in Role.allCases where role != .admin { actors[role] = try await staff.hire("\(role.rawValue).actor", roles: [role]) }
        let ops = try await staff.hire("ops.setup", roles: [.operator]), treasury = try await staff.hire("treasury.setup", roles: [.treasurer])
        let finance = try await staff.hire("finance.setup", roles: [.finance])
        let compliance = try await staff.hire("compliance.setup", roles: [.compliance])
        let compliance2 = try await staff.hire("compliance.setup2", roles: [.compliance])
        var signers: [Member] = []
        for n in 1...3 { signers.append(try await staff.hire("signer.setup\(n)", roles: [.signer])) }
        let g = f.governance

        try await x.ledger.registerAssets(Asset.standard, by: staff.admins[0].caller)
        try await x.custody.saveVendor(Vendor(name: "acme", noticeDate: "2026-04-01", noticeReference: "N-1"), by: treasury.caller)
        for (id, temperature, purpose, asset) in [
            ("jpy-trust", Temperature.cold, WalletPurpose.customerPool, "JPY"), ("jpy-own", .cold, .ownFunds, "JPY"),
            ("btc-hot", .hot, .customerPool, "BTC"), ("btc-cold", .cold, .customerPool, "BTC"), ("btc-guarantee", .cold, .guarantee, "BTC"),
            ("btc-own", .hot, .ownFunds, "BTC"), (frozenWallet, .hot, .customerPool, "XRP"),
        ] {
            _ = try await x.custody.registerWallet(Wallet(id: id, chain: asset.lowercased(), temperature: temperature, purpose: purpose, assets: [asset],
                                                          vendor: "acme", vendorVersion: "1"), by: treasury.caller)
        }
        try await x.reserve.ensureAccounts(asset: "JPY", by: finance.caller)
        let customers = [(c1JPY, 1), (c1BTC, 1), (c2JPY, 2), (c2BTC, 2)].map { id, owner in
            Account(id: id, ledger: id.rawValue % 10 == 1 ? 1 : 2, code: 100, accountClass: .customerLiability, flags: .debitsMustNotExceedCredits,
                    owner: UInt128(owner))
        }
        #expect(try await x.ledger.createAccounts(customers, by: ops.caller) == [.ok, .ok, .ok, .ok])

        // The withdrawal address whitelisted (compliance approves; 48 hours to wait).
        let entry = try await x.custody.requestWhitelist(asset: "BTC", address: whitelisted, label: "settlement", by: treasury.caller)
        try await compliance.approve(entry.requestID, in: g)
        _ = try await x.custody.activateWhitelist(entry.id, by: treasury.caller)
        f.clock.advance(seconds: 49 * 3_600)  // 2026-11-22T01:00Z

        // Monitoring live: the default rules, KYC profiles, a BTC sanctions list.
        let (rules, rulesRequest) = try await x.monitoring.ruleSets.propose(yaml: MonitoringRules.defaultYAML, by: compliance.caller)
        try await compliance2.approve(rulesRequest.id, in: g)
        _ = try await x.monitoring.ruleSets.adopt(version: rules.version, by: compliance.caller)
        _ = try await x.monitoring.importProfiles(
            csv: "customer,name,country,declared_income_jpy,declared_assets_jpy\n1,Tanaka Taro,JP,6000000,4000000\n2,Sato Hanako,JP,6000000,4000000",
            by: compliance.caller)
        let list = try AddressList(kind: .sanctioned, asset: "BTC", version: "ofac-2026-11-20", text: sanctioned + "\n")
        let listRequest = try await x.monitoring.proposeList(list, by: compliance.caller)
        try await compliance2.approve(listRequest.id, in: g)
        try await x.monitoring.activateList(list, request: listRequest.id, by: compliance.caller)

        // Own capital, customer deposits (screened; one from the sanctioned address quarantined), a fee.
        #expect(try await x.ledger.createTransfers([
            Transfer(id: TransferID(301), debitAccountID: jpyOwnHolding, creditAccountID: ownJPY, amount: 50_000_000, ledger: 1, code: .capital),
            Transfer(id: TransferID(302), debitAccountID: btcOwnHolding, creditAccountID: ownBTC, amount: btc("10"), ledger: 2, code: .capital),
        ], by: treasury.caller) == [.ok, .ok])
        let deposits = try await x.deposits.record([
            Deposits.Request(id: TransferID(401), account: c1JPY, wallet: trust, amount: 1_000_000, amountJPY: 1_000_000, address: "mizuho-0001"),
            Deposits.Request(id: TransferID(402), account: c2JPY, wallet: trust, amount: 1_000_000, amountJPY: 1_000_000, address: "mufg-0002"),
            Deposits.Request(id: TransferID(403), account: c1BTC, wallet: btcCold, amount: btc("2"), amountJPY: 30_000_000, address: "bc1qtanaka"),
            Deposits.Request(id: TransferID(404), account: c2BTC, wallet: btcCold, amount: btc("1.9"), amountJPY: 28_500_000, address: "bc1qsato"),
            Deposits.Request(id: quarantinedDeposit, account: c2BTC, wallet: btcCold, amount: btc("0.5"), amountJPY: 7_500_000, address: sanctioned),
            Deposits.Request(id: TransferID(406), account: c2BTC, wallet: btcHot, amount: btc("0.1"), amountJPY: 1_500_000, address: "bc1qsato"),
        ], by: ops.caller)
        #expect(deposits.map(\.status) == [.credited, .credited, .credited, .credited, .quarantined, .credited])
        #expect(try await x.ledger.createTransfers([
            Transfer(id: TransferID(310), debitAccountID: c1JPY, creditAccountID: ownJPY, amount: 500, ledger: 1, code: .fee),
        ], by: ops.caller) == [.ok])

        // Guarantee crypto: 0.2 BTC, parked by treasury and approved by finance.
        #expect(try await x.ledger.createTransfers([
            Transfer(id: TransferID(320), debitAccountID: btcGuarantee, creditAccountID: btcOwnHolding, amount: btc("0.2"), ledger: 2, code: .guaranteeTopUp),
        ], by: treasury.caller) == [.pendingApproval])
        let topUp = try #require(try await x.ledger.parkedTransfer(TransferID(320)))
        let topUpRequest = ApprovalRequestID(try #require(UInt128(topUp.requestID)))
        try await finance.approve(topUpRequest, in: g)
        _ = try await x.ledger.postApproved(topUpRequest, by: treasury.caller)

        // The reserve funded with ¥1,000,000 (finance asks, compliance approves).
        let funding = try await x.reserve.requestFunding(Amount(units: 1_000_000), release: false, by: finance.caller)
        try await compliance.approve(funding.id, in: g)
        _ = try await x.reserve.executeFunding(funding.id, by: finance.caller)

        // Withdrawals: one to the sanctioned address (blocked), one to an unassessed unhosted
        // wallet (held for review), one with full travel-rule data (cleared).
        let party = TravelRuleParty(name: "Sato Hanako", account: "2", geographicAddress: "1-1 Marunouchi, Tokyo")
        let blocked = try await x.withdrawals.request(Withdrawals.Request(
            id: blockedWithdrawal, account: c2BTC, wallet: btcHot, amount: btc("0.01"), amountJPY: 150_000, address: sanctioned), by: ops.caller)
        let held = try await x.withdrawals.request(Withdrawals.Request(
            id: heldWithdrawal, account: c2BTC, wallet: btcHot, amount: btc("0.02"), amountJPY: 300_000, address: "bc1qunhosted", unhosted: true), by: ops.caller)
        let cleared = try await x.withdrawals.request(Withdrawals.Request(
            id: clearedWithdrawal, account: c2BTC, wallet: btcHot, amount: btc("0.02"), amountJPY: 300_000, address: "bc1qsato0at0bitflyer",
            vasp: "bitFlyer", vaspCountry: "JP", originator: party, beneficiary: party), by: ops.caller)
        #expect([blocked.status, held.status, cleared.status] == [.blocked, .held, .cleared])
        let blockAlert = try #require(try await x.monitoring.alerts(status: .open, by: compliance.caller).first { $0.outcome == .block }).id

        // A correction parked by treasury, nobody has approved.
        #expect(try await x.ledger.createTransfers([
            Transfer(id: parkedCorrection, debitAccountID: ownJPY, creditAccountID: c1JPY, amount: 10_000, ledger: 1, code: .correction),
        ], by: treasury.caller) == [.pendingApproval])
        let correction = try #require(try await x.ledger.parkedTransfer(parkedCorrection))

        // The chain and the banks agree with the books just before the 17:00 JST cut-off.
        f.clock.advance(seconds: 6 * 3_600 + 30 * 60)  // 07:30Z
        try await observe(x, treasury: treasury.caller)
        f.clock.advance(seconds: 35 * 60)  // 08:05Z
        _ = try await x.custody.reconcile(day: day, by: finance.caller)  // treasury recorded the balances
        try await observe(x, treasury: treasury.caller)

        // A movement waiting for its signers; a frozen wallet.
        let movement = try await x.custody.requestMovement(
            MovementDraft(kind: .hotToCold, fromWallet: "btc-hot", toWallet: "btc-cold", asset: "BTC", amount: Amount(units: btc("0.01"))),
            by: treasury.caller).get()
        try await x.custody.freeze(frozenWallet, reason: "suspected key compromise", by: finance.caller)

        // Bitcoin: two cold wallets on chain-to-be, the setup signers' xpubs (one vendor each),
        // a second key of the first signer, and a challenge the second signer has not answered.
        for (index, vendor) in ["vendor-a", "vendor-b", "vendor-c"].enumerated() {
            try await x.custody.saveVendor(Vendor(name: vendor, noticeDate: "2026-04-01", noticeReference: "N-\(index + 2)"), by: treasury.caller)
        }
        for id in ["btc-vault", "btc-vault2"] {
            _ = try await x.custody.registerWallet(Wallet(id: id, chain: "bitcoin", temperature: .cold, purpose: .customerPool, assets: ["BTC"],
                                                          vendor: "acme", vendorVersion: "1"), by: treasury.caller)
        }
        var vaultKeys: [String] = []
        for (signer, account, vendor) in [(0, UInt32(0), "vendor-a"), (1, 0, "vendor-b"), (2, 0, "vendor-c"), (0, 1, "vendor-a")] {
            let master = try ExtendedKey.master(seed: [UInt8](repeating: UInt8(signer + 1), count: 32), network: .regtest)
            let challenge = try await x.bitcoin.issueChallenge(by: signers[signer].caller)
            let proof = try XpubProof.sign(master: master, path: try DerivationPath(parsing: "m/48'/1'/\(account)'/2'"), challenge: challenge.challenge)
            vaultKeys.append(try await x.bitcoin.registerXpub(key: proof.keyExpression, challenge: challenge.challenge, signature: proof.signature,
                                                              vendor: vendor, by: signers[signer].caller).key)
        }
        let foreignChallenge = try await x.bitcoin.issueChallenge(by: signers[1].caller).challenge
        try await observe(x, treasury: treasury.caller)  // the new wallets too: the custody check stays assessable

        return ControlWorld(f: f, x: x, actors: actors, ops: ops, treasury: treasury, finance: finance, compliance: compliance,
                            compliance2: compliance2, signers: signers, blockAlert: blockAlert, pendingMovement: movement.id,
                            parkedCorrectionRequest: ApprovalRequestID(try #require(UInt128(correction.requestID))), vaultKeys: vaultKeys,
                            foreignChallenge: foreignChallenge)
    }

    /// Records every wallet's booked holding as observed now, and prices.
    static func observe(_ x: Exchange, treasury: Caller) async throws {
        let now = x.clock.now()
        let balances = try await x.custody.positions(by: treasury).map {
            BalanceObservation(wallet: $0.wallet.id, asset: $0.asset, amount: $0.booked, observedAt: now, source: "node")
        }
        try await x.custody.recordBalances(balances, by: treasury)
        try await x.custody.recordPrices([
            PriceObservation(asset: "BTC", price: try JPYPrice(decimal: "15000000"), observedAt: now, source: "feed"),
            PriceObservation(asset: "XRP", price: try JPYPrice(decimal: "90"), observedAt: now, source: "feed"),
        ], by: treasury)
    }

    /// Net posted balances of every account whose value one person must not be able to move:
    /// customers' claims, own funds and holdings, the reserve, guarantee crypto, compensation.
    func guardedBalances() async -> [AccountID: [UInt128]] {
        let guarded: Set<AccountClass> = [.customerLiability, .ownFunds, .ownHolding, .reserveFund, .guaranteeCrypto, .compensationPayable]
        var figures: [AccountID: [UInt128]] = [:]
        for (account, balance) in await x.engine.accounts(where: { guarded.contains($0.accountClass) }) {
            figures[account.id] = [balance.debitsPosted, balance.creditsPosted]
        }
        return figures
    }
}
