import Foundation
public import KinkoCore

/// The daily segregation reconciliation: per asset, what customers are owed (ledger), what the
/// ledger says is held for them, and what the wallets (or, for JPY, the trust account) were
/// observed to hold — all as of the day's cut-off in Japan time.
public struct Reconciliation: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var asset: String
        public var liabilities: Amount
        public var ledgerHoldings: Amount
        /// Nil when an observation is missing or stale (then there is a break saying so).
        public var observed: Amount?

        public init(asset: String, liabilities: Amount, ledgerHoldings: Amount, observed: Amount? = nil) {
            self.asset = asset
            self.liabilities = liabilities
            self.ledgerHoldings = ledgerHoldings
            self.observed = observed
        }
    }

    public enum BreakKind: String, Sendable {
        /// Customer liabilities differ from customer holdings inside the ledger.
        case ledger
        /// A wallet's observed balance differs from its ledger holding.
        case wallet
        /// What is observed held for customers is below what they are owed.
        case segregation
        /// A wallet could not be reconciled: no observation, or a stale one.
        case observation
        /// The reserve fund is not backed by the reserve's holdings: in the ledger, or as observed.
        case reserve
    }

    /// The liability reserve as of the cut-off, per asset: the fund (what the exchange has set
    /// aside, a claim), what the ledger books in the reserve's accounts and what was observed
    /// there.
    public struct ReserveLine: Sendable, Equatable {
        public var asset: String
        public var fund: Amount
        public var ledgerHoldings: Amount
        /// Nil when an observation is missing or stale (then there is a break saying so).
        public var observed: Amount?

        public init(asset: String, fund: Amount, ledgerHoldings: Amount, observed: Amount? = nil) {
            self.asset = asset
            self.fund = fund
            self.ledgerHoldings = ledgerHoldings
            self.observed = observed
        }
    }

    public struct Break: Sendable, Equatable {
        public var asset: String
        public var kind: BreakKind
        public var wallet: String?
        /// How far apart the two figures are, in the asset's units (zero for observation breaks).
        public var size: Amount
        public var cause: String

        public init(asset: String, kind: BreakKind, wallet: String? = nil, size: Amount, cause: String) {
            self.asset = asset
            self.kind = kind
            self.wallet = wallet
            self.size = size
            self.cause = cause
        }
    }

    public var day: String
    public var cutoff: TimestampNanoseconds
    public var lines: [Line]
    public var reserveLines: [ReserveLine]
    public var breaks: [Break]
    public var isClean: Bool { breaks.isEmpty }

    /// The cut-off instant of a JST business day: `YYYY-MM-DD` at `hour`:00 JST (UTC+9, no DST).
    /// The day must be a real one between `CalendarDay.earliest` and `CalendarDay.latest`.
    public static func cutoff(day: String, hourJST: Int) throws(KinkoError) -> TimestampNanoseconds {
        guard (0...23).contains(hourJST) else { throw KinkoError(.invalidInput, "the cut-off hour is 0–23; got \(hourJST)", field: "hour") }
        let seconds = try CalendarDay.epochSeconds(day, field: "day") + Int64(hourJST - 9) * 3_600
        // 2000-01-01 09:00 JST … 2199-12-31 23:00 JST: always positive and far from overflow.
        return TimestampNanoseconds(seconds) * 1_000_000_000
    }

    /// The ledger and observation figures a reconciliation compares.
    public struct Inputs: Sendable {
        public var assets: [Asset]
        /// Customer-pool wallets (for JPY: the trust accounts).
        public var wallets: [Wallet]
        /// Σ customer liabilities per asset code (credits − debits, posted, as of the cut-off).
        public var liabilities: [String: Amount]
        /// Posted holding of each customer-pool wallet per asset as of the cut-off.
        public var holdings: [String: [String: Amount]]
        /// Σ customer holdings in the ledger per asset, all customer-custody accounts.
        public var totalHoldings: [String: Amount]
        /// The latest observation per wallet and asset taken at or before the cut-off.
        public var observations: [BalanceObservation]
        public var observationAgeMaxSeconds: UInt64
        /// The reserve's wallets (and, for JPY, bank accounts); their holdings are in `holdings`.
        public var reserveWallets: [Wallet]
        /// The reserve fund per asset code (the `reserve_fund` claims, as of the cut-off).
        public var reserveFund: [String: Amount]

        public init(
            assets: [Asset],
            wallets: [Wallet],
            liabilities: [String: Amount],
            holdings: [String: [String: Amount]],
            totalHoldings: [String: Amount],
            observations: [BalanceObservation],
            observationAgeMaxSeconds: UInt64,
            reserveWallets: [Wallet] = [],
            reserveFund: [String: Amount] = [:]
        ) {
            self.assets = assets
            self.wallets = wallets
            self.liabilities = liabilities
            self.holdings = holdings
            self.totalHoldings = totalHoldings
            self.observations = observations
            self.observationAgeMaxSeconds = observationAgeMaxSeconds
            self.reserveWallets = reserveWallets
            self.reserveFund = reserveFund
        }
    }

    public static func run(day: String, cutoff: TimestampNanoseconds, _ inputs: Inputs) -> Reconciliation {
        var lines: [Line] = []
        var breaks: [Break] = []
        for asset in inputs.assets {
            let wallets = inputs.wallets.filter { $0.purpose == .customerPool && $0.assets.contains(asset.code) }
            let owed = inputs.liabilities[asset.code] ?? .zero
            let held = inputs.totalHoldings[asset.code] ?? .zero
            guard !wallets.isEmpty || !owed.isZero || !held.isZero else { continue }
            let f = { (amount: Amount) in "\(asset.format(amount)) \(asset.code)" }
            if owed != held {
                breaks.append(Break(asset: asset.code, kind: .ledger, wallet: nil, size: difference(owed, held),
                                    cause: owed > held
                                        ? "customers are owed \(f(owed)) but the ledger books only \(f(held)) as held for them"
                                        : "the ledger books \(f(held)) as held for customers who are owed \(f(owed)), \(f(difference(owed, held))) more: "
                                          + "unexplained until someone finds why (fees not swept out of the customer pool, own money mixed in, a posting error)"))
            }
            let observedTotal = observe(wallets, asset: asset, cutoff: cutoff, inputs, into: &breaks)
            let observed = observedTotal.map { Amount(units: $0) }
            if let observed, observed < owed {
                breaks.append(Break(asset: asset.code, kind: .segregation, wallet: nil, size: difference(observed, owed),
                                    cause: "\(asset.kind == .fiat ? "the trust holds" : "customer wallets hold") \(f(observed)), below the \(f(owed)) customers are owed"))
            }
            lines.append(Line(asset: asset.code, liabilities: owed, ledgerHoldings: held, observed: observed))
        }
        var reserveLines: [ReserveLine] = []
        for asset in inputs.assets {
            let wallets = inputs.reserveWallets.filter { $0.assets.contains(asset.code) }
            let fund = inputs.reserveFund[asset.code] ?? .zero
            guard !wallets.isEmpty || !fund.isZero else { continue }
            let f = { (amount: Amount) in "\(asset.format(amount)) \(asset.code)" }
            let booked = Amount(units: wallets.reduce(UInt128(0)) { $0 + (inputs.holdings[$1.id]?[asset.code]?.units ?? 0) })
            if booked < fund {
                breaks.append(Break(asset: asset.code, kind: .reserve, wallet: nil, size: difference(booked, fund),
                                    cause: wallets.isEmpty
                                        ? "the reserve fund is \(f(fund)) but no reserve account or wallet holds \(asset.code): register one (purpose reserve) and move the fund's cash into it"
                                        : "the ledger books \(f(booked)) in the reserve's accounts, below the \(f(fund)) reserve fund they back"))
            }
            let observed = wallets.isEmpty ? nil : observe(wallets, asset: asset, cutoff: cutoff, inputs, into: &breaks).map { Amount(units: $0) }
            if let observed, observed < fund {
                breaks.append(Break(asset: asset.code, kind: .reserve, wallet: nil, size: difference(observed, fund),
                                    cause: "the reserve's accounts were observed holding \(f(observed)), below the \(f(fund)) reserve fund"))
            }
            reserveLines.append(ReserveLine(asset: asset.code, fund: fund, ledgerHoldings: booked, observed: observed))
        }
        return Reconciliation(day: day, cutoff: cutoff, lines: lines, reserveLines: reserveLines, breaks: breaks)
    }

    /// Compares each wallet's latest observation before the cut-off with its ledger holding,
    /// adding a break for each one missing, stale or different; returns the observed total, or
    /// nil when any observation was missing or stale.
    private static func observe(_ wallets: [Wallet], asset: Asset, cutoff: TimestampNanoseconds, _ inputs: Inputs, into breaks: inout [Break]) -> UInt128? {
        let f = { (amount: Amount) in "\(asset.format(amount)) \(asset.code)" }
        var observedTotal: UInt128? = 0
        for wallet in wallets {
            let booked = inputs.holdings[wallet.id]?[asset.code] ?? .zero
            guard let observation = inputs.observations.first(where: { $0.wallet == wallet.id && $0.asset == asset.code }) else {
                breaks.append(Break(asset: asset.code, kind: .observation, wallet: wallet.id, size: .zero,
                                    cause: "no balance of wallet \(wallet.id) was observed before the cut-off"))
                observedTotal = nil
                continue
            }
            let age = (cutoff - min(cutoff, observation.observedAt)) / 1_000_000_000
            guard age <= inputs.observationAgeMaxSeconds else {
                breaks.append(Break(asset: asset.code, kind: .observation, wallet: wallet.id, size: .zero,
                                    cause: "the last balance of wallet \(wallet.id) before the cut-off is \(age) s old (at most \(inputs.observationAgeMaxSeconds) s)"))
                observedTotal = nil
                continue
            }
            observedTotal = observedTotal.map { $0 + observation.amount.units }
            if observation.amount != booked {
                breaks.append(Break(asset: asset.code, kind: .wallet, wallet: wallet.id, size: difference(observation.amount, booked),
                                    cause: observation.amount < booked
                                        ? "wallet \(wallet.id) was observed holding \(f(observation.amount)), \(f(difference(observation.amount, booked))) less than the ledger's \(f(booked))"
                                        : "wallet \(wallet.id) was observed holding \(f(observation.amount)), \(f(difference(observation.amount, booked))) more than the ledger's \(f(booked)): "
                                          + "unexplained until someone finds why (a deposit not yet posted, a transfer in by mistake, a posting error)"))
            }
        }
        return observedTotal
    }

    static func difference(_ a: Amount, _ b: Amount) -> Amount { Amount(units: a > b ? a.units - b.units : b.units - a.units) }

    public init(day: String, cutoff: TimestampNanoseconds, lines: [Line], reserveLines: [ReserveLine] = [], breaks: [Break]) {
        self.day = day
        self.cutoff = cutoff
        self.lines = lines
        self.reserveLines = reserveLines
        self.breaks = breaks
    }
}

/// One run of a day's reconciliation as it was when it ran: who ran it, when, its verdict and
/// every figure and break in words. A rerun (after a late observation, say) adds a run; the
/// earlier ones stay, so an auditor sees what was known when.
public struct ReconciliationRun: Sendable, Equatable {
    /// 1 for the day's first run; set by the store.
    public var run: Int
    public var day: String
    public var computedAt: TimestampNanoseconds
    public var by: String
    public var breakCount: Int
    /// `Reconciliation.text(assets:)` as it was.
    public var report: String

    public var isClean: Bool { breakCount == 0 }

    public init(run: Int = 0, day: String, computedAt: TimestampNanoseconds, by: String, breakCount: Int, report: String) {
        self.run = run
        self.day = day
        self.computedAt = computedAt
        self.by = by
        self.breakCount = breakCount
        self.report = report
    }
}
