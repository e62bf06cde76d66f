/// Pump-and-dump: a coordinator buys a small cap quietly, a crowd of accounts buys in a burst, the
/// price rises, and the coordinator (with accounts tied to it) sells into the rise.
///
/// On a grid of `grid_ms`, each market counts the distinct accounts that placed a buy of at least
/// `participant_minimum_typical` × the typical order in the last `burst_window_ms`. A grid point is
/// a burst when the count is at least `minimum_buyers` and `burst_multiple` × its median over the
/// last `baseline_window_ms` (the market's own baseline; nothing is judged before
/// `baseline_samples_min` samples). Bursts are judged once `dump_window_ms` has passed:
/// - not within `announcement_exclusion_ms` after good news (the public's reaction is no pump);
/// - a coordinator: an account net long at least `coordinator_minimum_typical` × typical over the
///   `pre_window_ms` before the burst, that sold at least `dump_share` of it in the burst and the
///   dump window (none: an organic rally);
/// - the rise and the coordinator's average selling price above the price before the burst both
///   at least `rise_minimum_multiple` × the market's median 30-minute move.
/// The alert names the coordinators, their households that sold, and the burst's buyers.
struct PumpDetector: Sendable {
    struct Burst: Sendable {
        let market: Int
        let start: Milliseconds
        var end: Milliseconds
        let typical: Double
        let typicalMove: Double
        var peakBuyers: Int
        let baselineBuyers: Double
    }

    struct Market: Sendable {
        var nextGrid: Milliseconds?
        var baseline = Baseline()
        var open: Burst?
    }

    /// The grid samples of the baseline window, with the buyer counts tallied so the median costs a
    /// walk over the counts seen (tens), not a sort of the window (a day of minutes).
    struct Baseline: Sendable {
        private var samples: [(time: Milliseconds, buyers: Int, move: Double)] = []
        private var head = 0
        private var tally: [Int] = []

        var count: Int { samples.count - head }
        var moves: [Double] { samples[head...].map(\.move) }

        mutating func drop(atOrBefore time: Milliseconds) {
            while head < samples.count, samples[head].time <= time {
                tally[samples[head].buyers] -= 1
                head += 1
            }
            if head > 1_024, head * 2 > samples.count {
                samples.removeFirst(head)
                head = 0
            }
        }

        mutating func append(time: Milliseconds, buyers: Int, move: Double) {
            samples.append((time, buyers, move))
            if buyers >= tally.count { tally += Array(repeating: 0, count: buyers - tally.count + 1) }
            tally[buyers] += 1
        }

        /// The median buyer count (the mean of the two middle ones for an even count).
        var medianBuyers: Double {
            func nth(_ rank: Int) -> Int {
                var seen = 0
                for (buyers, times) in tally.enumerated() {
                    seen += times
                    if seen > rank { return buyers }
                }
                return tally.count - 1
            }
            let n = count
            return n.isMultiple(of: 2) ? Double(nth(n / 2 - 1) + nth(n / 2)) / 2 : Double(nth(n / 2))
        }
    }

    let settings: SurveillanceRules.Pump
    private let announcements: [Announcement]
    private let households: [Int32: Set<Int32>]
    private var markets: [Market]
    private var closed: [Burst] = []

    init(settings: SurveillanceRules.Pump, dataset: MarketDataset) {
        self.settings = settings
        announcements = dataset.announcements
        households = linkNeighbours(dataset, limit: settings.householdAccountsMax)
        markets = Array(repeating: Market(), count: dataset.markets.count)
    }

    mutating func scan(at time: Milliseconds, history: MarketHistory, typical: [TypicalSize], into alerts: inout [SurveillanceAlert]) {
        advance(through: time - 1, history: history, typical: typical)
        let due = closed.filter { time >= $0.end + max(settings.dumpWindowMilliseconds, settings.burstWindowMilliseconds) }
        closed.removeAll { time >= $0.end + max(settings.dumpWindowMilliseconds, settings.burstWindowMilliseconds) }
        for burst in due { judge(burst, history: history, into: &alerts) }
    }

    mutating func finish(at time: Milliseconds, history: MarketHistory, typical: [TypicalSize], into alerts: inout [SurveillanceAlert]) {
        advance(through: time + settings.gridMilliseconds, history: history, typical: typical)
        for index in markets.indices {
            if let burst = markets[index].open { closed.append(burst) }
            markets[index].open = nil
        }
        for burst in closed { judge(burst, history: history, into: &alerts) }
        closed = []
    }

    /// Evaluates every grid point up to `time` (all events at or before it seen).
    private mutating func advance(through time: Milliseconds, history: MarketHistory, typical: [TypicalSize]) {
        let grid = settings.gridMilliseconds, window = settings.burstWindowMilliseconds
        for index in markets.indices {
            guard let unit = typical[index].value else { continue }
            var state = markets[index]
            var point = state.nextGrid ?? (time / grid + 1) * grid
            while point <= time {
                var buyers: Set<Int32> = []
                for order in history.placed(index, from: point - window + 1, to: point + 1)
                where order.side == .buy && order.notional >= settings.participantMinimumTypical * unit { buyers.insert(order.account) }
                var move = 0.0
                let recent = history.fills(index, from: point - window + 1, to: point + 1)
                if let base = history.lastPrice(index, before: point - window + 1), let high = recent.map(\.price).max() { move = abs(high / base - 1) }
                state.baseline.drop(atOrBefore: point - settings.baselineWindowMilliseconds)
                let median = state.baseline.count >= settings.baselineSamplesMin ? state.baseline.medianBuyers : nil
                state.baseline.append(time: point, buyers: buyers.count, move: move)
                if let median, buyers.count >= settings.minimumBuyers, Double(buyers.count) >= settings.burstMultiple * median {
                    if var open = state.open, point - open.end <= window {
                        open.end = point
                        open.peakBuyers = max(open.peakBuyers, buyers.count)
                        state.open = open
                    } else {
                        if let open = state.open { closed.append(open) }
                        let moves = state.baseline.moves.sorted()
                        state.open = Burst(market: index, start: point, end: point, typical: unit, typicalMove: moves[moves.count / 2],
                                           peakBuyers: buyers.count, baselineBuyers: median)
                    }
                } else if let open = state.open, point - open.end > window {
                    closed.append(open)
                    state.open = nil
                }
                point += grid
            }
            state.nextGrid = point
            markets[index] = state
        }
    }

    private func judge(_ burst: Burst, history: MarketHistory, into alerts: inout [SurveillanceAlert]) {
        let market = burst.market, windowStart = burst.start - settings.burstWindowMilliseconds
        for news in announcements where news.market == market {
            guard let before = history.lastPrice(market, before: news.publishedAt),
                  let after = history.lastPrice(market, before: news.publishedAt + settings.directionWindowMilliseconds), after > before else { continue }
            let since = windowStart - news.publishedAt
            if (0..<settings.announcementExclusionMilliseconds).contains(since) || (windowStart...burst.end).contains(news.publishedAt) { return }
        }
        var net: [Int32: Double] = [:], lowest: [Int32: Double] = [:], firstBuy: [Int32: Milliseconds] = [:]
        for fill in history.fills(market, from: windowStart - settings.preWindowMilliseconds, to: windowStart) {
            if let buyer = fill.buyer { net[buyer, default: 0] += fill.notional }
            if let seller = fill.seller {
                net[seller, default: 0] -= fill.notional
                if net[seller, default: 0] < lowest[seller, default: 0] {
                    lowest[seller] = net[seller]
                    firstBuy[seller] = nil
                }
            }
            if let buyer = fill.buyer, firstBuy[buyer] == nil { firstBuy[buyer] = fill.time }
        }
        var sold: [Int32: Double] = [:], soldQuantity: [Int32: Double] = [:], lastSale: [Int32: Milliseconds] = [:]
        var dumpTrades: [Int64] = []
        for fill in history.fills(market, from: windowStart, to: burst.end + settings.dumpWindowMilliseconds) {
            guard let seller = fill.seller else { continue }
            sold[seller, default: 0] += fill.notional
            soldQuantity[seller, default: 0] += fill.quantity
            lastSale[seller] = fill.time
        }
        guard let priceBefore = history.lastPrice(market, before: windowStart) else { return }
        let high = history.fills(market, from: windowStart, to: burst.end + 1).map(\.price).max() ?? priceBefore
        let rise = high / priceBefore - 1
        let coordinators = net.filter { $0.value >= settings.coordinatorMinimumTypical * burst.typical && (sold[$0.key] ?? 0) >= settings.dumpShare * $0.value }
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        guard !coordinators.isEmpty else { return }
        let premium = coordinators.map { (sold[$0] ?? 0) / (soldQuantity[$0] ?? 1) / priceBefore - 1 }.max() ?? 0
        let move = max(burst.typicalMove, 1e-9)
        guard rise >= settings.riseMinimumMultiple * burst.typicalMove, premium >= settings.premiumMinimumMultiple * burst.typicalMove else { return }
        let coordinatorSet = Set(coordinators)
        let puppets = coordinators.flatMap { (households[$0] ?? []).sorted() }.filter { (sold[$0] ?? 0) > 0 && !coordinatorSet.contains($0) }
        var buyers: [Int32] = [], seenBuyers: Set<Int32> = []
        for order in history.placed(market, from: windowStart + 1, to: burst.end + 1) where order.side == .buy && seenBuyers.insert(order.account).inserted {
            buyers.append(order.account)
        }
        var named: [Int32] = [], seen: Set<Int32> = []
        for account in coordinators + puppets + buyers where seen.insert(account).inserted { named.append(account) }
        var prior: [Int32: Int] = [:]
        for order in history.placed(market, from: .min, to: windowStart) where seenBuyers.contains(order.account) { prior[order.account, default: 0] += 1 }
        let fresh = Double(buyers.filter { (prior[$0] ?? 0) <= settings.freshPriorOrdersMax }.count) / Double(max(buyers.count, 1))
        guard fresh >= settings.freshShareMin else { return }
        let sellers = Set(coordinators + puppets)
        for fill in history.fills(market, from: windowStart, to: burst.end + settings.dumpWindowMilliseconds) where fill.seller.map(sellers.contains) ?? false {
            dumpTrades.append(fill.id)
        }
        let topNet = (net[coordinators[0]] ?? 0) / burst.typical
        alerts.append(SurveillanceAlert(
            typology: .pumpAndDump, market: market, accounts: Array(named.prefix(settings.accountsMax)),
            start: coordinators.compactMap { firstBuy[$0] }.min() ?? windowStart,
            end: max(burst.end, sellers.compactMap { lastSale[$0] }.max() ?? burst.end),
            score: min(rise / move / settings.riseMinimumMultiple, 10) + min(premium / move / settings.premiumMinimumMultiple, 10),
            explanation: "\(burst.peakBuyers) accounts bought within \(settings.burstWindowMilliseconds / 60_000) minutes (baseline \(Self.twoPlaces(burst.baselineBuyers))); the price rose \(Self.twoPlaces(rise * 100))%; \(coordinators.count) coordinator(s) who had bought \(Self.twoPlaces(topNet))× the typical order beforehand sold into it at \(Self.twoPlaces(premium * 100))% above the earlier price",
            figures: [Figure("burst_buyers", Double(burst.peakBuyers), threshold: max(Double(settings.minimumBuyers), settings.burstMultiple * burst.baselineBuyers)),
                      Figure("coordinator_position_to_typical", topNet, threshold: settings.coordinatorMinimumTypical),
                      Figure("rise_to_typical_move", rise / move, threshold: settings.riseMinimumMultiple),
                      Figure("dump_premium_to_typical_move", premium / move, threshold: settings.premiumMinimumMultiple),
                      Figure("fresh_buyer_share", fresh, threshold: settings.freshShareMin)],
            trades: dumpTrades))
    }

    static func twoPlaces(_ value: Double) -> String { SpoofDetector.twoPlaces(value) }
}
