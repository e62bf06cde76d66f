/// One person with many accounts: accounts tied by link values few accounts share (a device, a
/// bank account, a withdrawal address, an IP at most `household_accounts_max` accounts use) that
/// trade together — in the same market, on the same side, at sizes within
/// `notional_ratio_max` of each other, within `session_ms`.
///
/// Every new order is compared with its linked accounts' orders of the last `session_ms`; a match
/// ties the two accounts. Tied accounts form clusters (so a chain of links is one person, not a
/// pair), and a cluster is an alert when at least `minimum_accounts` of its accounts placed at least
/// `matched_share_min` of their orders in step with the others ("mostly quiet otherwise"), in at
/// least `minimum_sessions` sessions (matched orders more than `session_ms` apart start a new one).
/// Families who share a home and a device but do not trade in step are not alerted; accounts that
/// only wash-trade each other form one continuous session and are left to the wash detector.
struct MultiAccountDetector: Sendable {
    struct Note: Sendable {
        let time: Milliseconds
        let order: Int64
        let market: Int
        let side: OrderSide
        let notional: Double
        var matched = false
    }

    let settings: SurveillanceRules.MultiAccount
    private let neighbours: [Int32: Set<Int32>]
    private var notes: [Int32: [Note]] = [:]
    private var edges: Set<WashDetector.Pair> = []
    private var alerted: [Set<Int32>] = []
    private var nextScan: Milliseconds?

    init(settings: SurveillanceRules.MultiAccount, dataset: MarketDataset) {
        self.settings = settings
        neighbours = linkNeighbours(dataset, limit: settings.householdAccountsMax)
    }

    mutating func placed(_ event: OrderEvent, notional: Double?, into alerts: inout [SurveillanceAlert]) {
        if event.time >= nextScan ?? .min {
            if nextScan != nil { scan(into: &alerts) }
            nextScan = event.time + settings.scanEveryMilliseconds
        }
        guard let notional, let linked = neighbours[event.account] else { return }
        var matched = false
        for other in linked {
            guard var theirs = notes[other] else { continue }
            var index = theirs.count - 1, touched = false
            while index >= 0, event.time - theirs[index].time <= settings.sessionMilliseconds {
                let note = theirs[index]
                if note.market == event.market, note.side == event.side, max(note.notional, notional) <= settings.notionalRatioMax * min(note.notional, notional) {
                    theirs[index].matched = true
                    touched = true
                    matched = true
                    edges.insert(WashDetector.Pair(event.account, other))
                }
                index -= 1
            }
            if touched { notes[other] = theirs }
        }
        notes[event.account, default: []].append(Note(time: event.time, order: event.order, market: event.market, side: event.side, notional: notional, matched: matched))
        let horizon = event.time - settings.windowMilliseconds
        if let first = notes[event.account]?.first, first.time < horizon { notes[event.account]?.removeAll { $0.time < horizon } }
    }

    var notesCount: Int { notes.values.reduce(0) { $0 + $1.count } }

    mutating func finish(into alerts: inout [SurveillanceAlert]) { scan(into: &alerts) }

    /// Clusters the tied accounts and alerts the clusters that trade in step, once per cluster
    /// (a later scan alerts a cluster again only when it has grown).
    private mutating func scan(into alerts: inout [SurveillanceAlert]) {
        var parent: [Int32: Int32] = [:]
        func root(_ account: Int32) -> Int32 {
            var node = account
            while let up = parent[node], up != node { node = up }
            return node
        }
        for edge in edges {
            if parent[edge.low] == nil { parent[edge.low] = edge.low }
            if parent[edge.high] == nil { parent[edge.high] = edge.high }
            let a = root(edge.low), b = root(edge.high)
            if a != b { parent[max(a, b)] = min(a, b) }
        }
        var clusters: [Int32: [Int32]] = [:]
        for account in parent.keys { clusters[root(account), default: []].append(account) }
        for members in clusters.values {
            let kept = members.sorted().filter { account in
                let mine = notes[account] ?? []
                return !mine.isEmpty && Double(mine.filter(\.matched).count) / Double(mine.count) >= settings.matchedShareMin
            }
            guard (settings.minimumAccounts...settings.accountsMax).contains(kept.count) else { continue }
            let matched = kept.flatMap { (notes[$0] ?? []).filter(\.matched) }.sorted { $0.time < $1.time }
            guard let first = matched.first, let last = matched.last else { continue }
            var sessions = 1
            for (earlier, later) in zip(matched, matched.dropFirst()) where later.time - earlier.time > settings.sessionMilliseconds { sessions += 1 }
            guard sessions >= settings.minimumSessions else { continue }
            let keptSet = Set(kept)
            guard !alerted.contains(where: { keptSet.isSubset(of: $0) }) else { continue }
            alerted.append(keptSet)
            var perMarket: [Int: Int] = [:]
            for account in kept { for note in notes[account] ?? [] { perMarket[note.market, default: 0] += 1 } }
            let market = perMarket.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? first.market
            let share = kept.map { account in
                let mine = notes[account] ?? []
                return Double(mine.filter(\.matched).count) / Double(max(mine.count, 1))
            }.min() ?? 0
            alerts.append(SurveillanceAlert(
                typology: .multiAccount, market: market, accounts: kept, start: first.time, end: last.time,
                score: Double(sessions) / Double(settings.minimumSessions) + Double(kept.count) / Double(settings.minimumAccounts),
                explanation: "\(kept.count) linked accounts placed \(matched.count) orders in step (same market and side, similar size, within \(settings.sessionMilliseconds / 60_000) minutes) in \(sessions) sessions",
                figures: [Figure("accounts", Double(kept.count), threshold: Double(settings.minimumAccounts)),
                          Figure("sessions", Double(sessions), threshold: Double(settings.minimumSessions)),
                          Figure("least_matched_share", share, threshold: settings.matchedShareMin)],
                orders: matched.map(\.order)))
        }
    }
}
