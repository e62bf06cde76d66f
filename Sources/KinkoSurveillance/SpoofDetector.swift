/// Spoofing and layering: large orders behind the touch on one side, an execution of the same
/// account on the other side within seconds, then the large orders cancelled within seconds,
/// repeated.
///
/// 1. A *candidate* is a new limit order of at least `order_minimum_typical` × the market's typical
///    order, at least `minimum_ticks_behind` behind its side's touch (read before it joins the
///    book), not placed within `quote_pair_ms` of an order of the same account on the other side
///    (a two-sided quote is market making, not a lure).
/// 2. A *genuine* order is the account's next order on the other side, placed more than
///    `genuine_after_min_ms` and at most `genuine_after_max_ms` after a candidate; its first fill
///    (or, for a passive order never filled, its cancellation) is the *anchor*, at most
///    `anchor_max_ms` after the candidate.
/// 3. A candidate cancelled at most `cancel_max_ms` after its anchor is a *leg*. Legs placed within
///    `repetition_group_ms` of each other on one side are one *repetition*, which counts when its
///    legs total `repetition_minimum_typical` × typical and stand out — `standout_minimum` × the
///    genuine order, or × the account's own median order.
/// 4. Repetitions of one account in one market less than `episode_gap_ms` apart are an *episode*;
///    one of `minimum_repetitions` or more is an alert, layering when most repetitions spread over
///    `layering_minimum_levels` prices or more.
struct SpoofDetector: Sendable {
    struct Key: Hashable, Sendable {
        let account: Int32
        let market: Int
    }

    struct SideKey: Hashable, Sendable {
        let account: Int32
        let market: Int
        let side: OrderSide
    }

    struct Candidate: Sendable {
        let order: Int64
        let account: Int32
        let market: Int
        let side: OrderSide
        let priceTicks: Int64
        let placedAt: Milliseconds
        let ownMedian: Double?
        let typicalMultiple: Double
        let notional: Double
        var anchoredAt: Milliseconds?
        var genuineNotional = 0.0
        var genuineOrder: Int64 = 0
    }

    struct Repetition: Sendable {
        var placedAt: Milliseconds
        var cancelledAt: Milliseconds
        let side: OrderSide
        var typicalMultiple: Double
        var notional: Double
        var legs: Int
        var prices: Set<Int64>
        let genuineNotional: Double
        let ownMedian: Double?
        var orders: [Int64]
        var toGenuine = 0.0
        var toOwn = 0.0
    }

    struct Episode: Sendable {
        var start: Milliseconds
        var end: Milliseconds
        var repetitions: [Repetition] = []
    }

    let settings: SurveillanceRules.Spoof
    private var candidates: [Int64: Candidate] = [:]
    private var candidatesOf: [Key: Set<Int64>] = [:]
    private var genuine: [Int64: (linked: [Int64], notional: Double)] = [:]
    private var lastGenuine: [Key: (order: Int64, time: Milliseconds, side: OrderSide)] = [:]
    private var lastNew: [SideKey: Milliseconds] = [:]
    private var pending: [Key: Repetition] = [:]
    private var episodes: [Key: Episode] = [:]

    init(settings: SurveillanceRules.Spoof) {
        self.settings = settings
    }

    /// A new order of an account the detectors watch, valued at `notional` (nil: a market order
    /// before the market's first trade), with the touch on its side before it joined the book.
    mutating func placed(_ event: OrderEvent, notional: Double?, touch: Int64?, typical: Double?, ownMedian: Double?) {
        if let notional { linkGenuine(event, notional: notional) }
        lastNew[SideKey(account: event.account, market: event.market, side: event.side)] = event.time
        guard event.type == .limit, let notional, let typical, let touch else { return }
        let multiple = notional / typical
        guard multiple >= settings.orderMinimumTypical else { return }
        let behind = event.side == .buy ? touch - event.priceTicks : event.priceTicks - touch
        guard behind >= settings.minimumTicksBehind else { return }
        if let other = lastNew[SideKey(account: event.account, market: event.market, side: event.side.opposite)],
           event.time - other <= settings.quotePairMilliseconds { return }
        candidates[event.order] = Candidate(order: event.order, account: event.account, market: event.market, side: event.side, priceTicks: event.priceTicks,
                                            placedAt: event.time, ownMedian: ownMedian, typicalMultiple: multiple, notional: notional)
        candidatesOf[Key(account: event.account, market: event.market), default: []].insert(event.order)
    }

    /// Any other event of an order: a fill or cancellation anchors the candidates its order was
    /// genuine for; a candidate's cancellation after its anchor is a leg.
    mutating func changed(_ event: OrderEvent, into alerts: inout [SurveillanceAlert]) {
        anchor(event.order, at: event.time)
        guard event.kind.ends, let candidate = candidates.removeValue(forKey: event.order) else { return }
        candidatesOf[Key(account: candidate.account, market: candidate.market)]?.remove(event.order)
        if event.kind == .cancel, let anchored = candidate.anchoredAt, (0...settings.cancelMaxMilliseconds).contains(event.time - anchored) {
            leg(candidate, cancelledAt: event.time, into: &alerts)
        }
    }

    private mutating func linkGenuine(_ event: OrderEvent, notional: Double) {
        let key = Key(account: event.account, market: event.market)
        guard let mine = candidatesOf[key], !mine.isEmpty else { return }
        // A candidate on the other side placed just before is half of a two-sided quote.
        let paired = mine.filter { candidates[$0].map { $0.side != event.side && event.time - $0.placedAt <= settings.quotePairMilliseconds } ?? false }
        for order in paired { candidates[order] = nil }
        var remaining = mine.subtracting(paired)
        remaining = remaining.filter { candidates[$0] != nil }
        candidatesOf[key] = remaining
        if let last = lastGenuine[key], last.side != event.side, event.time - last.time <= settings.quotePairMilliseconds { genuine[last.order] = nil }
        if let other = lastNew[SideKey(account: event.account, market: event.market, side: event.side.opposite)],
           event.time - other <= settings.quotePairMilliseconds { return }
        let linked = remaining.filter { order in
            guard let candidate = candidates[order], candidate.side != event.side else { return false }
            let after = event.time - candidate.placedAt
            return after > settings.genuineAfterMinMilliseconds && after <= settings.genuineAfterMaxMilliseconds
        }
        guard !linked.isEmpty else { return }
        genuine[event.order] = (linked.sorted(), notional)
        lastGenuine[key] = (event.order, event.time, event.side)
    }

    private mutating func anchor(_ order: Int64, at time: Milliseconds) {
        guard let (linked, notional) = genuine.removeValue(forKey: order) else { return }
        for candidate in linked {
            guard var large = candidates[candidate], large.anchoredAt == nil, time - large.placedAt <= settings.anchorMaxMilliseconds else { continue }
            large.anchoredAt = time
            large.genuineNotional = notional
            large.genuineOrder = order
            candidates[candidate] = large
        }
    }

    private mutating func leg(_ candidate: Candidate, cancelledAt: Milliseconds, into alerts: inout [SurveillanceAlert]) {
        let key = Key(account: candidate.account, market: candidate.market)
        if var repetition = pending[key] {
            if candidate.placedAt - repetition.placedAt <= settings.repetitionGroupMilliseconds, candidate.side == repetition.side {
                repetition.typicalMultiple += candidate.typicalMultiple
                repetition.notional += candidate.notional
                repetition.legs += 1
                repetition.prices.insert(candidate.priceTicks)
                repetition.cancelledAt = max(repetition.cancelledAt, cancelledAt)
                repetition.orders.append(candidate.order)
                pending[key] = repetition
                return
            }
            finish(repetition, key, into: &alerts)
        }
        pending[key] = Repetition(placedAt: candidate.placedAt, cancelledAt: cancelledAt, side: candidate.side, typicalMultiple: candidate.typicalMultiple,
                                  notional: candidate.notional, legs: 1, prices: [candidate.priceTicks], genuineNotional: candidate.genuineNotional,
                                  ownMedian: candidate.ownMedian, orders: [candidate.genuineOrder, candidate.order])
    }

    private mutating func finish(_ repetition: Repetition, _ key: Key, into alerts: inout [SurveillanceAlert]) {
        guard repetition.typicalMultiple >= settings.repetitionMinimumTypical else { return }
        var counted = repetition
        counted.toGenuine = repetition.genuineNotional > 0 ? repetition.notional / repetition.genuineNotional : .infinity
        if let own = repetition.ownMedian, own > 0 { counted.toOwn = repetition.notional / Double(repetition.legs) / own } else { counted.toOwn = .infinity }
        guard max(counted.toGenuine, counted.toOwn) >= settings.standoutMinimum else { return }
        if let episode = episodes[key], counted.placedAt - episode.end > settings.episodeGapMilliseconds { close(key, into: &alerts) }
        var episode = episodes[key] ?? Episode(start: counted.placedAt, end: counted.cancelledAt)
        episode.repetitions.append(counted)
        episode.end = max(episode.end, counted.cancelledAt)
        episodes[key] = episode
    }

    private mutating func close(_ key: Key, into alerts: inout [SurveillanceAlert]) {
        guard let episode = episodes.removeValue(forKey: key), episode.repetitions.count >= settings.minimumRepetitions else { return }
        let repetitions = episode.repetitions
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let toGenuine = median(repetitions.map(\.toGenuine)), toOwn = median(repetitions.map(\.toOwn))
        let multiple = median(repetitions.map(\.typicalMultiple))
        let layered = repetitions.filter { $0.prices.count >= settings.layeringMinimumLevels }.count
        let typology: SurveillanceTypology = 2 * layered > repetitions.count ? .layering : .spoofing
        let sides = Set(repetitions.map(\.side)).count == 2 ? "alternating sides" : "\(repetitions[0].side.rawValue) side"
        let standout = min(max(toGenuine, toOwn), 1_000)
        alerts.append(SurveillanceAlert(
            typology: typology, market: key.market, accounts: [key.account], start: episode.start, end: episode.end,
            score: Double(repetitions.count) / Double(settings.minimumRepetitions) * min(standout / settings.standoutMinimum, 10),
            explanation: "\(repetitions.count) times: large orders behind the touch (\(sides), median \(Self.twoPlaces(multiple))× the market's typical order, \(layered) on several prices) cancelled within seconds of an execution on the other side",
            figures: [Figure("repetitions", Double(repetitions.count), threshold: Double(settings.minimumRepetitions)),
                      Figure("large_to_typical", multiple, threshold: settings.repetitionMinimumTypical),
                      Figure("large_to_genuine", min(toGenuine, 1_000), threshold: settings.standoutMinimum),
                      Figure("large_to_own_median", min(toOwn, 1_000), threshold: settings.standoutMinimum),
                      Figure("layered_repetitions", Double(layered), threshold: Double(repetitions.count + 1) / 2)],
            orders: repetitions.flatMap(\.orders)))
    }

    mutating func sweep(at time: Milliseconds, into alerts: inout [SurveillanceAlert]) {
        let horizon = settings.repetitionGroupMilliseconds + settings.anchorMaxMilliseconds + settings.cancelMaxMilliseconds
        for (key, repetition) in pending where time > repetition.placedAt + horizon {
            pending[key] = nil
            finish(repetition, key, into: &alerts)
        }
        for (key, episode) in episodes where time - episode.end > settings.episodeGapMilliseconds && pending[key] == nil {
            close(key, into: &alerts)
        }
    }

    mutating func finish(into alerts: inout [SurveillanceAlert]) {
        for (key, repetition) in pending { finish(repetition, key, into: &alerts) }
        pending = [:]
        for key in Array(episodes.keys) { close(key, into: &alerts) }
    }

    static func twoPlaces(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
