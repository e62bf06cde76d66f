/// Wash trading: one beneficial owner on both sides of trades, repeatedly, at near-equal sizes and
/// with alternating direction, so that volume prints and ownership does not change.
///
/// Two accounts have one owner when they are the same account, share a customer id, or are tied
/// directly by a link the exchange observed (device, bank account, withdrawal address, or an IP
/// few enough accounts share; an office's or a carrier's IP ties no one). Trades between one
/// owner's accounts in a market form an episode until a gap of `gap_ms`; episodes that come to
/// share an account merge (a ring of three accounts is one episode). An episode is judged when it
/// closes: at least `minimum_trades` trades, sizes within `size_dispersion_max` of their median
/// (median relative deviation), and no account's net position more than `net_share_max` of its
/// gross volume with the others.
struct WashDetector: Sendable {
    struct Episode: Sendable {
        var accounts: Set<Int32>
        var trades: [Trade]
        var first: Milliseconds
        var last: Milliseconds
    }

    let settings: SurveillanceRules.Wash
    private let customers: [Int32: String]
    private let tied: Set<Pair>
    private var open: [Int: [Int32: Int]] = [:]
    private var episodes: [Int: Episode] = [:]
    private var nextEpisode = 0

    struct Pair: Hashable, Sendable {
        let low: Int32
        let high: Int32
        init(_ a: Int32, _ b: Int32) {
            low = min(a, b)
            high = max(a, b)
        }
    }

    init(settings: SurveillanceRules.Wash, dataset: MarketDataset) {
        self.settings = settings
        customers = dataset.info.mapValues(\.customer)
        var sharers: [String: Set<Int32>] = [:]
        for link in dataset.links where link.kind == .ip { sharers[link.value, default: []].formUnion([link.a, link.b]) }
        tied = Set(dataset.links.filter { $0.kind.strong || (sharers[$0.value]?.count ?? 0) <= settings.ipSharersMax }.map { Pair($0.a, $0.b) })
    }

    func sameOwner(_ a: Int32, _ b: Int32) -> Bool {
        if a == b { return true }
        if let customer = customers[a], customer == customers[b] { return true }
        return tied.contains(Pair(a, b))
    }

    mutating func observe(_ trade: Trade, into alerts: inout [SurveillanceAlert]) {
        guard sameOwner(trade.buyer, trade.seller) else { return }
        var candidates: [Int] = []
        for account in [trade.buyer, trade.seller] {
            guard let id = open[trade.market]?[account], let episode = episodes[id] else { continue }
            if trade.time - episode.last > settings.gapMilliseconds {
                close(id, market: trade.market, into: &alerts)
            } else if !candidates.contains(id) {
                candidates.append(id)
            }
        }
        let id: Int
        if let first = candidates.first {
            id = first
            for other in candidates.dropFirst() {
                guard let merged = episodes.removeValue(forKey: other), var kept = episodes[id] else { continue }
                kept.accounts.formUnion(merged.accounts)
                kept.trades = (kept.trades + merged.trades).sorted { ($0.time, $0.id) < ($1.time, $1.id) }
                kept.first = min(kept.first, merged.first)
                episodes[id] = kept
            }
        } else {
            id = nextEpisode
            nextEpisode += 1
            episodes[id] = Episode(accounts: [], trades: [], first: trade.time, last: trade.time)
        }
        guard var episode = episodes[id] else { return }
        episode.accounts.formUnion([trade.buyer, trade.seller])
        episode.trades.append(trade)
        if episode.trades.count > settings.tradesKept { episode.trades.removeFirst() }
        episode.last = trade.time
        episodes[id] = episode
        for account in episode.accounts { open[trade.market, default: [:]][account] = id }
    }

    /// Judges the episodes idle for longer than the gap.
    mutating func sweep(at time: Milliseconds, into alerts: inout [SurveillanceAlert]) {
        for (market, accounts) in open {
            for id in Set(accounts.values) where time - (episodes[id]?.last ?? time) > settings.gapMilliseconds {
                close(id, market: market, into: &alerts)
            }
        }
    }

    mutating func finish(into alerts: inout [SurveillanceAlert]) {
        for (market, accounts) in open {
            for id in Set(accounts.values) { close(id, market: market, into: &alerts) }
        }
    }

    private mutating func close(_ id: Int, market: Int, into alerts: inout [SurveillanceAlert]) {
        guard let episode = episodes.removeValue(forKey: id) else { return }
        for account in episode.accounts where open[market]?[account] == id { open[market]?[account] = nil }
        let trades = episode.trades
        guard trades.count >= settings.minimumTrades else { return }
        let sizes = trades.map { Double($0.lots) }.sorted()
        let median = sizes[sizes.count / 2]
        let deviations = sizes.map { abs($0 - median) / median }.sorted()
        let dispersion = deviations[deviations.count / 2]
        guard dispersion <= settings.sizeDispersionMax else { return }
        var net: [Int32: Double] = [:], gross: [Int32: Double] = [:]
        for trade in trades where trade.buyer != trade.seller {
            let lots = Double(trade.lots)
            net[trade.buyer, default: 0] += lots
            net[trade.seller, default: 0] -= lots
            gross[trade.buyer, default: 0] += lots
            gross[trade.seller, default: 0] += lots
        }
        let netShare = gross.map { abs(net[$0.key] ?? 0) / $0.value }.max() ?? 0
        guard netShare <= settings.netShareMax else { return }
        let selfTrades = trades.filter { $0.buyer == $0.seller }.count
        alerts.append(SurveillanceAlert(
            typology: .washTrade, market: market, accounts: episode.accounts.sorted(), start: trades[0].time, end: trades[trades.count - 1].time,
            score: Double(trades.count) / Double(settings.minimumTrades),
            explanation: "\(trades.count) trades between accounts of one owner (\(selfTrades) with itself), sizes within \(Self.percent(dispersion)) of their median, largest net position \(Self.percent(netShare)) of volume",
            figures: [Figure("trades", Double(trades.count), threshold: Double(settings.minimumTrades)),
                      Figure("size_dispersion", dispersion, threshold: settings.sizeDispersionMax),
                      Figure("net_share", netShare, threshold: settings.netShareMax)],
            trades: trades.map(\.id)))
    }

    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }
}
