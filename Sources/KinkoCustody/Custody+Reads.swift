public import KinkoCore
public import KinkoGovernance
import KinkoLedger

/// What front ends read from custody, each read authorized here (a refusal is audited), lists
/// paged.
extension Custody {
    public func wallets(by caller: Caller) async throws -> [Wallet] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.wallets()
    }

    public func wallet(_ id: String, by caller: Caller) async throws -> Wallet {
        guard let wallet = try await wallets(by: caller).first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no wallet \(id)", field: "wallet")
        }
        return wallet
    }

    public func vendors(by caller: Caller) async throws -> [Vendor] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.vendors()
    }

    /// Movements, newest first, before id `before`, at most `limit`.
    public func movements(status: MovementStatus? = nil, before: UInt64? = nil, limit: Int?, by caller: Caller) async throws -> [Movement] {
        _ = try await governance.authorize(caller, .custodyRead)
        let size = try Governance.page(limit)
        return Array(try await store.movements().filter { movement in
            (status.map { movement.status == $0 } ?? true) && (before.map { movement.id < $0 } ?? true)
        }.sorted { $0.id > $1.id }.prefix(size))
    }

    public func movement(_ id: UInt64, by caller: Caller) async throws -> Movement {
        _ = try await governance.authorize(caller, .custodyRead)
        guard let movement = try await store.movements().first(where: { $0.id == id }) else {
            throw KinkoError(.notFound, "no movement \(id)", field: "id")
        }
        return movement
    }

    public func whitelist(by caller: Caller) async throws -> [WhitelistEntry] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.whitelist()
    }

    public func reconciliation(day: String, by caller: Caller) async throws -> Reconciliation {
        _ = try await governance.authorize(caller, .custodyRead)
        _ = try TimestampNanoseconds.startOfDayJST(day, field: "day")
        guard let reconciliation = try await store.reconciliation(day: day) else {
            throw KinkoError(.notFound, "no reconciliation for \(day)", field: "day")
        }
        return reconciliation
    }

    /// Every run of a day's reconciliation, oldest first (empty for a day never reconciled).
    public func reconciliationRuns(day: String, by caller: Caller) async throws -> [ReconciliationRun] {
        _ = try await governance.authorize(caller, .custodyRead)
        _ = try TimestampNanoseconds.startOfDayJST(day, field: "day")
        return try await store.reconciliationRuns(day: day)
    }

    /// The latest reconciliation, if any day was reconciled.
    public func latestReconciliation(by caller: Caller) async throws -> Reconciliation? {
        _ = try await governance.authorize(caller, .custodyRead)
        guard let day = try await store.latestReconciliationDay() else { return nil }
        return try await store.reconciliation(day: day)
    }

    /// One wallet's holding of one asset: what the ledger books and what was last observed.
    public struct Position: Sendable {
        public var wallet: Wallet
        public var asset: String
        /// Nil for an asset the ledger does not know.
        public var assetDefinition: Asset?
        public var booked: Amount
        public var observed: BalanceObservation?
        public var vendorHasNotice: Bool
    }

    /// Every wallet's holding of each of its assets.
    public func positions(by caller: Caller) async throws -> [Position] {
        _ = try await governance.authorize(caller, .custodyRead)
        try await ledger.refresh()
        let facts = try await facts()
        var positions: [Position] = []
        for wallet in facts.wallets {
            for code in wallet.assets {
                let booked = await ledger.account(wallet.accountID(for: code))?.balance.netPosted(claim: false) ?? 0
                positions.append(Position(
                    wallet: wallet, asset: code, assetDefinition: facts.assets.first { $0.code == code }, booked: Amount(units: booked),
                    observed: facts.balances.first { $0.wallet == wallet.id && $0.asset == code },
                    vendorHasNotice: facts.vendors[wallet.vendor]?.hasNotice ?? false))
            }
        }
        return positions
    }

    public func alerts(by caller: Caller) async throws -> [CustodyAlert] {
        _ = try await governance.authorize(caller, .custodyRead)
        return try await store.alerts()
    }
}

/// The hot share of each crypto asset's customer holdings at one moment, as the custody check
/// would have computed it then from the balances observed by then.
public struct HotSharePoint: Sendable, Equatable {
    public var time: TimestampNanoseconds
    /// Hot over all customer holdings, in basis points, per asset whose every customer wallet
    /// had a fresh balance observed then.
    public var basisPoints: [String: UInt128]
    /// Assets whose share could not be computed then (a wallet's balance missing or stale).
    public var missing: [String]

    public init(time: TimestampNanoseconds, basisPoints: [String: UInt128], missing: [String]) {
        self.time = time
        self.basisPoints = basisPoints
        self.missing = missing
    }
}

extension Custody {
    /// The days of hot-share history one read returns at most.
    public static let hotShareHistoryDaysMax = 366

    /// The hot share per crypto asset at each of the last `days` daily cut-offs
    /// (`reconciliationCutoffHourJST`, the time the FSA's daily figures are taken), oldest first,
    /// then at `now`. Each point is the check as it stood then: the balances observed by then
    /// (no later observation) and the wallets registered now; an asset with a balance missing
    /// or stale then is listed as missing, never drawn as 0%.
    public func hotShareHistory(days: Int, now: TimestampNanoseconds? = nil, by caller: Caller) async throws -> [HotSharePoint] {
        try await authorizeDayRange(days, max: Self.hotShareHistoryDaysMax, by: caller)
        let now = now ?? clock.now()
        let assets = await ledger.assets
        let wallets = try await store.wallets()
        let vendors = Dictionary(try await store.vendors().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let regulatory = try await self.regulatory.current()
        var times = Self.cutoffs(before: now, days: days, hourJST: settings.applying(regulatory, at: now).reconciliationCutoffHourJST)
        if times.last != now { times.append(now) }
        var points: [HotSharePoint] = []
        for time in times {
            let facts = CustodyFacts(assets: assets, wallets: wallets, vendors: vendors, balances: try await store.latestBalances(asOf: time),
                                     prices: [], settings: settings.applying(regulatory, at: time), now: time)
            var point = HotSharePoint(time: time, basisPoints: [:], missing: [])
            for asset in assets where asset.kind == .crypto {
                let pool = wallets.filter { $0.purpose == .customerPool && $0.assets.contains(asset.code) }
                guard !pool.isEmpty else { continue }
                // A share from some wallets only would be a figure nobody observed.
                var (hot, total, complete): (UInt128, UInt128, Bool) = (0, 0, true)
                for wallet in pool {
                    guard case .success(let amount) = facts.freshBalance(wallet, asset.code) else { complete = false; break }
                    let sum = total.addingReportingOverflow(amount.units)
                    guard !sum.overflow else { complete = false; break }
                    total = sum.partialValue
                    if wallet.temperature == .hot { hot += amount.units }
                }
                if complete, let share = Share.basisPoints(hot, of: total) { point.basisPoints[asset.code] = share } else { point.missing.append(asset.code) }
            }
            points.append(point)
        }
        return points
    }

    /// The last `days` daily cut-offs at `hourJST` at or before `now`, oldest first.
    static func cutoffs(before now: TimestampNanoseconds, days: Int, hourJST: Int) -> [TimestampNanoseconds] {
        let second: TimestampNanoseconds = 1_000_000_000
        let offset = TimestampNanoseconds(((hourJST - 9) % 24 + 24) % 24) * 3_600  // the cut-off's second of the UTC day
        let seconds = now / second
        guard seconds >= offset else { return [] }
        let last = (seconds - offset) / 86_400 * 86_400 + offset
        return (0..<days).reversed().compactMap { back in
            let past = TimestampNanoseconds(back) * 86_400
            return last >= past ? (last - past) * second : nil
        }
    }
}

extension Custody {
    /// The most days `unreconciledDays` looks back over.
    public static let unreconciledDaysMax = 31

    /// The JST business days among the last `days` whose cut-off has passed by `now`, on which
    /// a customer-pool wallet existed, and which have no reconciliation stored: the days
    /// someone missed, oldest first.
    public func unreconciledDays(days: Int, now: TimestampNanoseconds? = nil, by caller: Caller) async throws -> [String] {
        try await authorizeDayRange(days, max: Self.unreconciledDaysMax, by: caller)
        guard let first = try await store.wallets().filter({ $0.purpose == .customerPool }).map(\.createdAt).min() else { return [] }
        var missed: [String] = []
        let now = now ?? clock.now()
        for cutoff in Self.cutoffs(before: now, days: days, hourJST: try await settingsInForce(at: now).reconciliationCutoffHourJST) where cutoff >= first {
            let day = cutoff.jstDay
            if try await store.reconciliation(day: day) == nil { missed.append(day) }
        }
        return missed
    }
}

extension Custody {
    /// A read over the last `days` days: custody's readers only, 1 to `max` days.
    func authorizeDayRange(_ days: Int, max: Int, by caller: Caller) async throws {
        _ = try await governance.authorize(caller, .custodyRead)
        guard (1...max).contains(days) else { throw KinkoError(.invalidInput, "must be 1–\(max)", field: "days") }
    }
}
