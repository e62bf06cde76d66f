public import KinkoCore
public import KinkoCustody
import KinkoGovernance
public import KinkoLedger
public import KinkoReserve

/// The figures the ledger's transfer controls need from the rest of the exchange: screened
/// deposits, cleared withdrawals, and the headroom of sweeps, reserve releases and guarantee
/// releases.
public struct ExchangeFacts: TransferControlFacts {
    public let ledger: Ledger
    public let custody: Custody
    public let reserve: Reserve
    public let withdrawals: WithdrawalBook
    let screening: @Sendable ([TransferID]) async throws -> [UInt128: AccountID]

    public init(ledger: Ledger, custody: Custody, reserve: Reserve, withdrawals: WithdrawalBook,
                screening: @escaping @Sendable ([TransferID]) async throws -> [UInt128: AccountID]) {
        self.ledger = ledger
        self.custody = custody
        self.reserve = reserve
        self.withdrawals = withdrawals
        self.screening = screening
    }

    public func depositScreenings(_ ids: [TransferID]) async throws -> [UInt128: AccountID] { try await screening(ids) }

    public func withdrawalClearances(_ pendingIDs: [TransferID]) async throws -> Set<UInt128> { try await withdrawals.clearances(pendingIDs) }

    /// Per asset: the sweepable surplus is the smaller of what the books hold above what
    /// customers are owed (pending sweeps taken off) and what the latest reconciliation proved
    /// the wallets hold above it; guarantee headroom is guarantee crypto above the hot customer
    /// holdings; reserve headroom is the fund above the last computed requirement.
    public func headroom(into facts: inout TransferFacts) async throws {
        let wallets = try await custody.store.wallets()
        let assets = await ledger.assets
        let reconciliation = try await latestReconciliation()
        let settings = try await custody.settingsInForce(at: custody.clock.now())
        facts.guaranteePercentOfHot = settings.guaranteePercentOfHot
        for asset in assets {
            var holdings = WideSum(), owed = WideSum(), guarantee = WideSum(), hot = WideSum()
            for wallet in wallets where wallet.assets.contains(asset.code) {
                let id = wallet.accountID(for: asset.code)
                guard let balance = await ledger.account(id)?.balance else { continue }
                let held = Self.net(balance, claim: false)
                switch wallet.purpose {
                case .customerPool:
                    holdings.add(held)
                    if wallet.temperature == .hot {
                        hot.add(held)
                        facts.hotAccounts.insert(id)
                    }
                case .guarantee:
                    guarantee.add(held)
                default:
                    break
                }
            }
            for accountClass in [AccountClass.customerLiability, .quarantine] {
                for (_, balance) in await ledger.accounts(where: { $0.ledger == asset.ledger && $0.accountClass == accountClass }) {
                    owed.add(Self.net(balance, claim: true))
                }
            }
            let live = holdings.minus(owed)?.narrowed ?? 0
            let proven = reconciliation?.lines.first { $0.asset == asset.code }.flatMap { line in
                line.observed.map { $0.units > line.liabilities.units ? $0.units - line.liabilities.units : 0 }
            } ?? 0
            facts.sweepHeadroom[asset.ledger] = min(live, proven)
            facts.sweepProven[asset.ledger] = proven
            // Beyond 128 bits of hot coins no guarantee covers them anyway.
            let required = hot.narrowed.map { WideSum(settings.guaranteeRequired(hot: $0)) } ?? hot
            facts.guaranteeHeadroom[asset.ledger] = guarantee.minus(required)?.narrowed ?? 0
        }
        if let jpy = assets.first(where: { $0.code == "JPY" }) {
            facts.reserveHeadroom[jpy.ledger] = try await reserve.releaseHeadroom().units
        }
    }

    private func latestReconciliation() async throws -> Reconciliation? {
        guard let day = try await custody.store.latestReconciliationDay() else { return nil }
        return try await custody.store.reconciliation(day: day)
    }

    /// A balance in its natural direction with what is pending against it taken off: a holding
    /// counts neither coins already promised away (pending credits) nor coins not yet in.
    static func net(_ balance: AccountBalance, claim: Bool) -> UInt128 {
        let plus = claim ? balance.creditsPosted : balance.debitsPosted
        let minus = claim ? balance.debitsPosted : balance.creditsPosted
        let pendingOut = claim ? balance.debitsPending : balance.creditsPending
        var value = WideSum(plus)
        guard value.subtract(minus), value.subtract(pendingOut) else { return 0 }
        return value.narrowed ?? .max
    }
}
