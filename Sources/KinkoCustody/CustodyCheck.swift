public import KinkoCore

/// The 95%-cold and guarantee-crypto rules, per asset and in total, with every figure.
public struct CustodyCheck: Sendable, Equatable {
    public struct AssetFigures: Sendable, Equatable {
        public var asset: Asset
        public var hot: Amount
        public var cold: Amount
        public var hotJPY: Amount?
        public var totalJPY: Amount?
        /// Hot share of the customer pool, in basis points (rounded up); nil with no holdings.
        public var hotShareBasisPoints: UInt128?
        public var limitBasisPoints: UInt64
        public var guaranteeHeld: Amount
        public var guaranteeRequired: Amount
        public var hotWithinLimit: Bool
        public var guaranteeSufficient: Bool
        /// Stale or missing observations; when any, the asset cannot pass.
        public var problems: [String]

        public var total: Amount { Amount(units: hot.units + cold.units) }
        public var passed: Bool { hotWithinLimit && guaranteeSufficient && problems.isEmpty }
    }

    public var assets: [AssetFigures]
    public var totalHotJPY: Amount?
    public var totalJPY: Amount?
    public var totalShareBasisPoints: UInt128?
    public var limitBasisPoints: UInt64
    public var totalWithinLimit: Bool
    public var totalProblems: [String]
    /// Warnings that do not fail the check: wallets whose vendor has no advance notice.
    public var flags: [String]

    public var passed: Bool { assets.allSatisfy(\.passed) && totalWithinLimit && totalProblems.isEmpty }
}

/// Everything the rules look at, gathered by the service from the stores and the ledger.
public struct CustodyFacts: Sendable {
    public var assets: [Asset]
    public var wallets: [Wallet]
    public var vendors: [String: Vendor]
    /// The latest observation per wallet and asset (stale ones included: the rules reject them).
    public var balances: [BalanceObservation]
    /// The latest price per asset.
    public var prices: [PriceObservation]
    public var settings: CustodySettings
    public var now: TimestampNanoseconds

    func observation(_ wallet: String, _ asset: String) -> BalanceObservation? {
        balances.first { $0.wallet == wallet && $0.asset == asset }
    }

    /// The observed balance, or why it may not be used.
    public func freshBalance(_ wallet: Wallet, _ asset: String) -> Result<Amount, CustodyProblem> {
        guard let observation = observation(wallet.id, asset) else {
            return .failure(CustodyProblem("no balance observed for wallet \(wallet.id) (\(asset))"))
        }
        let age = now >= observation.observedAt ? (now - observation.observedAt) / 1_000_000_000 : 0
        guard age <= settings.balanceObservationAgeMaxSeconds else {
            return .failure(CustodyProblem(
                "the balance of wallet \(wallet.id) (\(asset)) observed at \(observation.observedAt.iso8601) is stale: \(age) s old, at most \(settings.balanceObservationAgeMaxSeconds) s"))
        }
        return .success(observation.amount)
    }

    /// The latest price observed for `asset`, however old.
    public func latestPrice(_ asset: String) -> PriceObservation? { prices.first { $0.asset == asset } }

    public func freshPrice(_ asset: String) -> Result<JPYPrice, CustodyProblem> {
        guard let observation = latestPrice(asset) else {
            return .failure(CustodyProblem("no JPY price observed for \(asset)"))
        }
        let age = now >= observation.observedAt ? (now - observation.observedAt) / 1_000_000_000 : 0
        guard age <= settings.priceObservationAgeMaxSeconds else {
            return .failure(CustodyProblem(
                "the \(asset) price observed at \(observation.observedAt.iso8601) is stale: \(age) s old, at most \(settings.priceObservationAgeMaxSeconds) s"))
        }
        return .success(observation.price)
    }

    /// Wallets flagged because their vendor filed no advance notice.
    var vendorFlags: [String] {
        wallets.filter { !(vendors[$0.vendor]?.hasNotice ?? false) }.map {
            "wallet \($0.id): vendor \($0.vendor) has no advance notice to the regulator on file"
        }
    }

    public init(
        assets: [Asset],
        wallets: [Wallet],
        vendors: [String: Vendor],
        balances: [BalanceObservation],
        prices: [PriceObservation],
        settings: CustodySettings,
        now: TimestampNanoseconds
    ) {
        self.assets = assets
        self.wallets = wallets
        self.vendors = vendors
        self.balances = balances
        self.prices = prices
        self.settings = settings
        self.now = now
    }
}

public struct CustodyProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension CustodyCheck {
    /// Applies the rules to the facts: per crypto asset, hot customer holdings ≤ the limit of
    /// all customer holdings (by quantity, which within one asset is the same as by value) and
    /// guarantee crypto ≥ the hot quantity; in total, hot ≤ the limit by JPY value (hot values
    /// rounded up, totals down, so rounding never helps a pass).
    public static func evaluate(_ facts: CustodyFacts) -> CustodyCheck {
        let limit = facts.settings.hotShareLimitBasisPoints
        var figures: [AssetFigures] = []
        var totalHot: UInt128 = 0, total: UInt128 = 0
        var totalProblems: [String] = []
        for asset in facts.assets where asset.kind == .crypto {
            let pool = facts.wallets.filter { $0.purpose == .customerPool && $0.assets.contains(asset.code) }
            let guarantee = facts.wallets.filter { $0.purpose == .guarantee && $0.assets.contains(asset.code) }
            guard !pool.isEmpty || !guarantee.isEmpty else { continue }
            var problems: [String] = []
            func sum(_ wallets: [Wallet]) -> UInt128 {
                wallets.reduce(into: 0) { result, wallet in
                    switch facts.freshBalance(wallet, asset.code) {
                    case .success(let amount): result += amount.units
                    case .failure(let problem): problems.append(problem.message)
                    }
                }
            }
            let hot = sum(pool.filter { $0.temperature == .hot })
            let cold = sum(pool.filter { $0.temperature == .cold })
            let held = sum(guarantee)
            var figure = AssetFigures(
                asset: asset, hot: Amount(units: hot), cold: Amount(units: cold), hotJPY: nil, totalJPY: nil,
                hotShareBasisPoints: Share.basisPoints(hot, of: hot + cold), limitBasisPoints: limit,
                guaranteeHeld: Amount(units: held), guaranteeRequired: Amount(units: facts.settings.guaranteeRequired(hot: hot)),
                hotWithinLimit: within(hot, of: hot + cold, limit: limit), guaranteeSufficient: held >= facts.settings.guaranteeRequired(hot: hot), problems: problems)
            switch facts.freshPrice(asset.code) {
            case .success(let price):
                figure.hotJPY = try? Amount(units: hot).jpyValue(of: asset, at: price, rounding: .up)
                figure.totalJPY = try? Amount(units: hot + cold).jpyValue(of: asset, at: price, rounding: .down)
                totalHot += figure.hotJPY?.units ?? 0
                total += figure.totalJPY?.units ?? 0
            case .failure(let problem):
                totalProblems.append(problem.message)
            }
            figures.append(figure)
        }
        return CustodyCheck(
            assets: figures, totalHotJPY: Amount(units: totalHot), totalJPY: Amount(units: total),
            totalShareBasisPoints: Share.basisPoints(totalHot, of: total), limitBasisPoints: limit,
            totalWithinLimit: within(totalHot, of: total, limit: limit), totalProblems: totalProblems, flags: facts.vendorFlags)
    }

    /// part × 10,000 ≤ limit × whole, exactly.
    static func within(_ part: UInt128, of whole: UInt128, limit: UInt64) -> Bool {
        let left = part.multipliedFullWidth(by: 10_000)
        let right = whole.multipliedFullWidth(by: UInt128(limit))
        return left.high < right.high || (left.high == right.high && left.low <= right.low)
    }

    /// The hot quantity that is exactly at the limit: ⌊limit × total / 10,000⌋.
    static func hotAllowed(total: UInt128, limit: UInt64) -> UInt128 {
        let product = total.multipliedFullWidth(by: UInt128(limit))
        return UInt128(10_000).dividingFullWidth((product.high, product.low)).quotient
    }
}

/// A movement the rebalancing proposal suggests.
public struct ProposedMovement: Sendable, Equatable {
    public var kind: MovementKind
    public var from: String
    public var to: String
    public var asset: String
    public var amount: Amount
    public var reason: String
}

extension CustodyCheck {
    /// The least movement that restores compliance: per asset, exactly the hot excess from the
    /// fullest hot wallets to the cold wallet with the most room (the largest), then exactly the
    /// guarantee shortfall (against the hot quantity after that) from own-funds wallets.
    public static func rebalance(_ facts: CustodyFacts) -> [ProposedMovement] {
        let check = evaluate(facts)
        var proposals: [ProposedMovement] = []
        for figure in check.assets where figure.problems.isEmpty {
            let code = figure.asset.code
            let pool = facts.wallets.filter { $0.purpose == .customerPool && $0.assets.contains(code) && !$0.isFrozen }
            let balance: (Wallet) -> UInt128 = { (try? facts.freshBalance($0, code).get())?.units ?? 0 }
            var hotAfter = figure.hot.units
            let allowed = hotAllowed(total: figure.total.units, limit: figure.limitBasisPoints)
            if figure.hot.units > allowed, let cold = pool.filter({ $0.temperature == .cold }).max(by: { balance($0) < balance($1) }) {
                var excess = figure.hot.units - allowed
                for wallet in pool.filter({ $0.temperature == .hot }).sorted(by: { balance($0) > balance($1) }) where excess > 0 {
                    let amount = min(excess, balance(wallet))
                    guard amount > 0 else { continue }
                    proposals.append(ProposedMovement(
                        kind: .hotToCold, from: wallet.id, to: cold.id, asset: code, amount: Amount(units: amount),
                        reason: "hot \(code) is \(Share.percent(basisPoints: figure.hotShareBasisPoints ?? 0)) of customer \(code); the limit is \(Share.percent(basisPoints: UInt128(figure.limitBasisPoints)))"))
                    excess -= amount
                    hotAfter -= amount
                }
            }
            let guaranteeAfter = facts.settings.guaranteeRequired(hot: hotAfter)
            if figure.guaranteeHeld.units < guaranteeAfter,
                let target = facts.wallets.first(where: { $0.purpose == .guarantee && $0.assets.contains(code) && !$0.isFrozen })
            {
                var shortfall = guaranteeAfter - figure.guaranteeHeld.units
                let own = facts.wallets.filter { $0.purpose == .ownFunds && $0.assets.contains(code) && !$0.isFrozen }
                for wallet in own.sorted(by: { balance($0) > balance($1) }) where shortfall > 0 {
                    let amount = min(shortfall, balance(wallet))
                    guard amount > 0 else { continue }
                    proposals.append(ProposedMovement(
                        kind: .guaranteeTopUp, from: wallet.id, to: target.id, asset: code, amount: Amount(units: amount),
                        reason: facts.settings.guaranteePercentOfHot == 100 ? "guarantee \(code) must equal the hot quantity after rebalancing"
                            : "guarantee \(code) must be \(facts.settings.guaranteePercentOfHot)% of the hot quantity after rebalancing"))
                    shortfall -= amount
                }
            }
        }
        return proposals
    }
}
