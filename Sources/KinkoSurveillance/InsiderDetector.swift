/// Insider trading: a position built on an announcement's market between `known_from` and
/// `published_at`, in the direction the news then moved the price, and unwound after.
///
/// Each announcement is judged once its unwind window (`unwind_window_ms` after publication) has
/// passed. The news direction is read from the market: the last price before publication against
/// the last price `direction_window_ms` after. For each account, `net` is its fills in the news
/// direction minus those against it before publication, as a multiple of the larger of its own
/// median order in the market (when it has `own_history_orders`) and the market's typical order
/// at `known_from`. An account is flagged when it
/// - is on the restricted list for the market over the window, and `net` ≥ `restricted_minimum_typical`;
/// - or shares a household (a link value at most `household_accounts_max` accounts hold) with a
///   restricted account, `net` ≥ `linked_minimum_typical` and it unwound `linked_unwind_share`;
/// - or `net` ≥ `minimum_typical` over at least `minimum_fills` fills, one-sided (net ÷ gross ≥
///   `one_sided_share`), unwound `unwind_share`, and without a position already building in the
///   window of equal length before `known_from` (below `prior_position_max`): a swing trader's
///   position was there before the news existed.
struct InsiderDetector: Sendable {
    let settings: SurveillanceRules.Insider
    private let announcements: [Announcement]
    private let restricted: [RestrictedEntry]
    private let households: [Int32: Set<Int32>]
    private var typicalAtKnown: [Int: Double] = [:]
    private var judged: Set<Int> = []

    init(settings: SurveillanceRules.Insider, dataset: MarketDataset) {
        self.settings = settings
        announcements = dataset.announcements
        restricted = dataset.restricted
        households = linkNeighbours(dataset, limit: settings.householdAccountsMax)
    }

    mutating func scan(at time: Milliseconds, history: MarketHistory, typical: [TypicalSize], into alerts: inout [SurveillanceAlert]) {
        for (index, announcement) in announcements.enumerated() where !judged.contains(index) {
            if typicalAtKnown[index] == nil, announcement.knownFrom <= time, let value = typical[announcement.market].value { typicalAtKnown[index] = value }
            if time >= announcement.publishedAt + settings.unwindWindowMilliseconds {
                judge(index, history: history, typical: typical, into: &alerts)
            }
        }
    }

    mutating func finish(history: MarketHistory, typical: [TypicalSize], into alerts: inout [SurveillanceAlert]) {
        for index in announcements.indices where !judged.contains(index) { judge(index, history: history, typical: typical, into: &alerts) }
    }

    private mutating func judge(_ index: Int, history: MarketHistory, typical: [TypicalSize], into alerts: inout [SurveillanceAlert]) {
        judged.insert(index)
        let news = announcements[index]
        let market = news.market, known = news.knownFrom, published = news.publishedAt
        guard let before = history.lastPrice(market, before: published), let after = history.lastPrice(market, before: published + settings.directionWindowMilliseconds),
              let marketTypical = typicalAtKnown[index] ?? typical[market].value, marketTypical > 0 else { return }
        let direction: Double = after > before ? 1 : -1
        struct Position {
            var net = 0.0, gross = 0.0, prior = 0.0, unwound = 0.0
            var fills = 0
            var first: Milliseconds?
            var lastUnwind: Milliseconds?
            var trades: [Int64] = []
        }
        var positions: [Int32: Position] = [:]
        for fill in history.fills(market, from: known - (published - known), to: known) {
            if let buyer = fill.buyer { positions[buyer, default: Position()].prior += direction * fill.notional }
            if let seller = fill.seller { positions[seller, default: Position()].prior -= direction * fill.notional }
        }
        for fill in history.fills(market, from: known, to: published) {
            for (account, sign) in [(fill.buyer, 1.0), (fill.seller, -1.0)] {
                guard let account else { continue }
                let signed = sign * direction
                positions[account, default: Position()].net += signed * fill.notional
                positions[account]?.gross += fill.notional
                if signed > 0 {
                    positions[account]?.fills += 1
                    if positions[account]?.first == nil { positions[account]?.first = fill.time }
                    positions[account]?.trades.append(fill.id)
                }
            }
        }
        for fill in history.fills(market, from: published, to: published + settings.unwindWindowMilliseconds) {
            for (account, sign) in [(fill.buyer, 1.0), (fill.seller, -1.0)] {
                guard let account, sign * direction < 0, (positions[account]?.net ?? 0) > 0 else { continue }
                positions[account]?.unwound += fill.notional
                positions[account]?.lastUnwind = fill.time
                positions[account]?.trades.append(fill.id)
            }
        }
        let buyers = Set(positions.filter { $0.value.net > 0 }.keys)
        guard !buyers.isEmpty else { return }
        var own: [Int32: [Double]] = [:]
        for order in history.placed(market, from: .min, to: known) where buyers.contains(order.account) { own[order.account, default: []].append(order.notional) }
        let insiders = Set(restricted.filter { $0.market == market && $0.from <= published && $0.to >= known }.map(\.account))
        var flagged: [(account: Int32, tied: Bool, multiple: Double, unwound: Double, position: Position)] = []
        for account in buyers {
            guard let position = positions[account] else { continue }
            let history = own[account] ?? []
            let ownMedian = history.count >= settings.ownHistoryOrders ? history.sorted()[history.count / 2] : 0
            let reference = max(ownMedian, marketTypical)
            let multiple = position.net / reference, unwound = position.unwound / position.net
            let isRestricted = insiders.contains(account)
            let isLinked = !(households[account] ?? []).isDisjoint(with: insiders)
            let general = multiple >= settings.minimumTypical && position.fills >= settings.minimumFills && unwound >= settings.unwindShare
                && position.net / position.gross >= settings.oneSidedShare && abs(position.prior) / reference < settings.priorPositionMax
            if (isRestricted && multiple >= settings.restrictedMinimumTypical)
                || (isLinked && multiple >= settings.linkedMinimumTypical && unwound >= settings.linkedUnwindShare) || general {
                flagged.append((account, isRestricted || isLinked, multiple, unwound, position))
            }
        }
        guard !flagged.isEmpty else { return }
        let named = flagged.sorted { ($0.tied ? 1 : 0, $0.multiple, $1.account) > ($1.tied ? 1 : 0, $1.multiple, $0.account) }.prefix(settings.accountsMax)
        let top = named[named.startIndex]
        let tied = named.filter(\.tied).count
        alerts.append(SurveillanceAlert(
            typology: .insiderTrading, market: market, accounts: named.map(\.account),
            start: named.compactMap(\.position.first).min() ?? known, end: named.compactMap(\.position.lastUnwind).max() ?? published,
            score: top.multiple / settings.minimumTypical + (tied > 0 ? 1 : 0),
            explanation: "\(news.id) (\(news.kind.rawValue), \(direction > 0 ? "price up" : "price down")): \(named.count) account(s) built a position between known_from and publication and unwound it after; \(tied) on or tied to the restricted list",
            figures: [Figure("position_to_typical", top.multiple, threshold: top.tied ? settings.restrictedMinimumTypical : settings.minimumTypical),
                      Figure("unwound_share", top.unwound, threshold: top.tied ? 0 : settings.unwindShare),
                      Figure("accounts_on_or_tied_to_restricted_list", Double(tied), threshold: 0)],
            trades: named.flatMap(\.position.trades)))
    }
}
